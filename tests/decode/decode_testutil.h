/* Shared helpers of the decode tests: tiny random models of each arch, token
 * streams and the full-forward reference logits. Not a test by itself. */
#ifndef SKL_TEST_DECODE_UTIL_H
#define SKL_TEST_DECODE_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "hf/hf_config.h"

/* Logits tolerance: the cached path runs the same float32 math in a
 * different GEMM grouping, so sums differ in the last bits only. */
#define TOL 2e-4

static inline void tiny_config(skl_model_config *c, skl_arch arch) {
  skl_hf_config_default(c, arch);
  c->vocab_size = 64;
  c->hidden_size = 32;
  c->n_layers = 2;
  c->n_heads = 4;
  c->n_kv_heads = 2;
  c->head_dim = arch == SKL_ARCH_QWEN3 ? 16 : 8; /* qwen3: NH*HD != C */
  c->intermediate_size = 48;
  c->max_position = 4096;
  c->rope_theta = 10000.0f;
  c->n_eos = 0;
  c->bos_token_id = -1;
  if (arch == SKL_ARCH_LLAMA) { /* llama-3 style scaling exercised too */
    c->rope_type = SKL_ROPE_LLAMA3;
    c->rope_factor = 8.0f;
    c->rope_low_freq_factor = 1.0f;
    c->rope_high_freq_factor = 4.0f;
    c->rope_orig_max_position = 64;
  }
  if (arch == SKL_ARCH_QWEN2) c->tie_embeddings = true;
}

/* Random weights (std 0.25) and random norm weights / biases around 1 for cfg. */
static inline int make_model_cfg(skl_model *m, const skl_model_config *cfg, uint64_t seed) {
  skl_model_config c = *cfg;
  skl_error err = {0};
  if (skl_model_init(m, &c, &err)) { fprintf(stderr, "model init: %s\n", err.msg); return 0; }
  skl_rng r;
  skl_rng_seed(&r, seed);
  skl_model_init_weights(m, &r, 0.25f);
  /* random norms and biases so those paths matter */
  for (int i = 0; i < m->n_tensors; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    if (t->ndim == 1)
      for (size_t j = 0; j < t->numel; j++) m->param_mem[t->offset + j] = 1.0f + 0.3f * (float)skl_rng_normal(&r);
  }
  return 1;
}

static inline int make_model(skl_model *m, skl_arch arch, uint64_t seed) {
  skl_model_config c;
  tiny_config(&c, arch);
  return make_model_cfg(m, &c, seed);
}

static inline void gen_tokens(int32_t *t, int n, int V, uint64_t seed) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  for (int i = 0; i < n; i++) t[i] = (int32_t)skl_rng_below(&r, (uint64_t)V);
}

/* Full forward logits [T, V] of one sequence. */
static inline float *full_logits(skl_model *m, const int32_t *tok, int T) {
  skl_acts a;
  skl_error err = {0};
  if (skl_acts_init(&a, &m->cfg, 1, T, false, &err)) { fprintf(stderr, "%s\n", err.msg); return NULL; }
  float *lg = malloc(sizeof(float) * (size_t)T * m->cfg.vocab_size);
  skl_batch b = {0};
  b.B = 1;
  b.T = T;
  b.tokens = tok;
  if (skl_model_logits(m, &a, &b, lg, &err)) { fprintf(stderr, "%s\n", err.msg); free(lg); lg = NULL; }
  skl_acts_free(&a);
  return lg;
}

static inline double max_diff(const float *a, const float *b, int n) {
  double d = 0;
  for (int i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
  return d;
}

#endif
