/* Test helpers for tests/model: small configs, random packed batches, and
 * the exchange file read by ref_model.py. Not part of the library. */
#ifndef SKL_TEST_MODEL_UTIL_H
#define SKL_TEST_MODEL_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"

static inline skl_model_config tu_config(skl_arch arch, int V, int C, int L, int NH, int NKV, int HD,
                                         int FF) {
  skl_model_config c;
  memset(&c, 0, sizeof c);
  c.arch = arch;
  c.vocab_size = V;
  c.hidden_size = C;
  c.n_layers = L;
  c.n_heads = NH;
  c.n_kv_heads = NKV;
  c.head_dim = HD;
  c.intermediate_size = FF;
  c.max_position = 4096;
  c.rms_eps = 1e-6f;
  c.rope_theta = 10000.0f;
  c.rope_type = SKL_ROPE_DEFAULT;
  c.bos_token_id = -1;
  c.qkv_bias = arch == SKL_ARCH_QWEN2;
  c.qk_norm = arch == SKL_ARCH_QWEN3;
  return c;
}

/* Random weights with non-trivial norms and biases, so every gradient is
 * exercised (HF init would make norms exactly 1 and biases 0). */
static inline void tu_randomize(skl_model *m, uint64_t seed, float std) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  skl_model_init_weights(m, &r, std);
  for (int i = 0; i < m->n_tensors; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    if (t->ndim != 1) continue;
    float *d = m->param_mem + t->offset;
    bool norm = strstr(t->name, "norm") != NULL;
    for (size_t j = 0; j < t->numel; j++)
      d[j] = norm ? 1.0f + 0.2f * (float)skl_rng_normal(&r) : 0.1f * (float)skl_rng_normal(&r);
  }
}

/* A packed batch: row b holds documents of random lengths (doc ids restart
 * per row, positions restart per document), ~1/4 of tokens are masked
 * "prompt", the last token of each document has no target, weights random. */
typedef struct {
  int B, T;
  int32_t *tokens, *targets, *pos, *doc;
  float *mask, *weight;
  skl_batch b;
} tu_batch;

static inline void tu_batch_make(tu_batch *tb, int B, int T, int V, int max_doc, uint64_t seed) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  size_t N = (size_t)B * T;
  tb->B = B;
  tb->T = T;
  tb->tokens = malloc(N * sizeof(int32_t));
  tb->targets = malloc(N * sizeof(int32_t));
  tb->pos = malloc(N * sizeof(int32_t));
  tb->doc = malloc(N * sizeof(int32_t));
  tb->mask = malloc(N * sizeof(float));
  tb->weight = malloc(N * sizeof(float));
  for (int b = 0; b < B; b++) {
    int d = 0, p = 0, len = 1 + (int)skl_rng_below(&r, (uint64_t)max_doc);
    for (int t = 0; t < T; t++) {
      size_t n = (size_t)b * T + t;
      if (p == len) {
        d++;
        p = 0;
        len = 1 + (int)skl_rng_below(&r, (uint64_t)max_doc);
      }
      tb->tokens[n] = (int32_t)skl_rng_below(&r, (uint64_t)V);
      tb->pos[n] = p;
      tb->doc[n] = d;
      tb->targets[n] = (p == len - 1 || t == T - 1) ? -1 : (int32_t)skl_rng_below(&r, (uint64_t)V);
      tb->mask[n] = p < len / 4 ? 0.0f : 1.0f;
      tb->weight[n] = (float)(0.5 + skl_rng_uniform(&r));
      p++;
    }
  }
  memset(&tb->b, 0, sizeof tb->b);
  tb->b.B = B;
  tb->b.T = T;
  tb->b.tokens = tb->tokens;
  tb->b.targets = tb->targets;
  tb->b.pos = tb->pos;
  tb->b.doc = tb->doc;
  tb->b.mask = tb->mask;
  tb->b.weight = tb->weight;
}

static inline void tu_batch_free(tu_batch *tb) {
  free(tb->tokens);
  free(tb->targets);
  free(tb->pos);
  free(tb->doc);
  free(tb->mask);
  free(tb->weight);
}

/* The exchange file read by ref_*.py: a safetensors file of F32 tensors
 * (ints stored as floats) with string metadata. */
typedef struct {
  char name[192];
  int ndim;
  int64_t shape[2];
  const float *data;
  float *owned;
} xentry;

typedef struct {
  xentry e[512];
  int n;
} xfile;

static inline void xadd(xfile *x, const char *name, int ndim, int64_t d0, int64_t d1, const float *data) {
  xentry *e = &x->e[x->n++];
  snprintf(e->name, sizeof e->name, "%.180s", name);
  e->ndim = ndim;
  e->shape[0] = d0;
  e->shape[1] = d1;
  e->data = data;
  e->owned = NULL;
}

static inline void xadd_ints(xfile *x, const char *name, const int32_t *v, size_t n) {
  float *f = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
  xadd(x, name, 1, (int64_t)n, 0, f);
  x->e[x->n - 1].owned = f;
}

static inline int xwrite(xfile *x, const char *path, const char *config_json, int B, int T) {
  char *hdr = malloc(1 << 20);
  if (!hdr) return -1;
  size_t len = 0, off = 0;
  len += (size_t)snprintf(hdr + len, ((size_t)1 << 20) - len, "{\"__metadata__\":{\"config\":\"");
  for (const char *c = config_json; *c; c++) {
    if (*c == '"') hdr[len++] = '\\';
    hdr[len++] = *c;
  }
  len += (size_t)snprintf(hdr + len, ((size_t)1 << 20) - len, "\",\"B\":\"%d\",\"T\":\"%d\"}", B, T);
  for (int i = 0; i < x->n; i++) {
    xentry *e = &x->e[i];
    size_t numel = (size_t)e->shape[0] * (e->ndim > 1 ? (size_t)e->shape[1] : 1);
    if (e->ndim == 1)
      len += (size_t)snprintf(hdr + len, ((size_t)1 << 20) - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],", e->name,
                             (long long)e->shape[0]);
    else
      len += (size_t)snprintf(hdr + len, ((size_t)1 << 20) - len, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],", e->name,
                             (long long)e->shape[0], (long long)e->shape[1]);
    len += (size_t)snprintf(hdr + len, ((size_t)1 << 20) - len, "\"data_offsets\":[%zu,%zu]}", off, off + numel * 4);
    off += numel * 4;
  }
  hdr[len++] = '}';
  while (len % 8) hdr[len++] = ' ';
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  uint64_t n = len;
  fwrite(&n, 8, 1, f);
  fwrite(hdr, 1, len, f);
  for (int i = 0; i < x->n; i++) {
    xentry *e = &x->e[i];
    size_t numel = (size_t)e->shape[0] * (e->ndim > 1 ? (size_t)e->shape[1] : 1);
    fwrite(e->data, 4, numel, f);
  }
  fclose(f);
  free(hdr);
  for (int i = 0; i < x->n; i++) free(x->e[i].owned);
  return 0;
}

#endif
