/* MTP heads against a float64 PyTorch reference (ref_mtp.py): loss, per-head
 * CE and KL, and every head tensor's gradient, for one head (qwen2: biases,
 * untied lm_head), two chained heads (qwen3: q/k norms, GQA), CE only and the
 * defaults (tau = 1) on llama. Not the finite-difference checks (test_mtp.c). */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "hf/safetensors.h"
#include "mtp/mtp.h"
#include "mtp_testutil.h"

static void run_case(skl_arch arch, int K, int B, int T, const skl_mtp_loss_config *lc, uint64_t seed) {
  skl_error err;
  skl_model_config c = mu_config(arch, 50, 24, 2, 4, 2, 8, 40);
  skl_model m;
  skl_mtp_heads h;
  skl_acts ma;
  skl_mtp_acts a;
  CHECK(skl_model_init(&m, &c, &err) == SKL_OK);
  CHECK(skl_mtp_init(&h, &c, K, &err) == SKL_OK);
  skl_rng r;
  skl_rng_seed(&r, seed);
  mu_fill(m.param_mem, m.tensors, m.n_tensors, &r, 0.3f);
  mu_fill(h.param_mem, h.tensors, h.n_tensors, &r, 0.2f);
  CHECK(skl_acts_init(&ma, &c, B, T, false, &err) == SKL_OK);
  CHECK(skl_mtp_acts_init(&a, &c, K, B, T, lc->topn, &err) == SKL_OK);
  CHECK(skl_mtp_grads_alloc(&h, &err) == SKL_OK);
  int N = B * T;
  int32_t *tok = malloc((size_t)N * sizeof(int32_t)), *len = malloc((size_t)B * sizeof(int32_t));
  mu_tokens(tok, (size_t)N, c.vocab_size, seed + 3);
  for (int b = 0; b < B; b++) len[b] = T - 3 * b;
  skl_mtp_batch bt = {B, T, tok, len};
  skl_mtp_stats st;
  CHECK_MSG(skl_mtp_step(&h, &m, &ma, &a, &bt, lc, true, &st, &err) == SKL_OK, "%s", err.msg);

  /* exchange file */
  skl_st_writer *w = NULL;
  CHECK(skl_st_writer_init(&w, &err) == SKL_OK);
  int64_t shp[2];
  float *ftok = malloc((size_t)N * sizeof(float)), flen[16], loss = (float)st.loss, ce[16], kl[16];
  for (int i = 0; i < N; i++) ftok[i] = (float)tok[i];
  for (int b = 0; b < B; b++) flen[b] = (float)len[b];
  for (int k = 0; k < K; k++) {
    ce[k] = (float)st.ce[k];
    kl[k] = (float)st.kl[k];
  }
  for (int i = 0; i < m.n_tensors; i++) {
    const skl_tensor_info *t = &m.tensors[i];
    if (strstr(t->name, "layers.")) continue;
    CHECK(skl_st_writer_add(w, t->name, SKL_DTYPE_F32, t->ndim, t->shape, m.param_mem + t->offset, &err) == SKL_OK);
  }
  char gname[160];
  for (int i = 0; i < h.n_tensors; i++) {
    const skl_tensor_info *t = &h.tensors[i];
    CHECK(skl_st_writer_add(w, t->name, SKL_DTYPE_F32, t->ndim, t->shape, h.param_mem + t->offset, &err) == SKL_OK);
    snprintf(gname, sizeof gname, "grad.%s", t->name);
    CHECK(skl_st_writer_add(w, gname, SKL_DTYPE_F32, t->ndim, t->shape, h.grad_mem + t->offset, &err) == SKL_OK);
  }
  shp[0] = N;
  shp[1] = c.hidden_size;
  CHECK(skl_st_writer_add(w, "in.h0", SKL_DTYPE_F32, 2, shp, ma.x + (size_t)c.n_layers * ma.N * c.hidden_size, &err) == SKL_OK);
  CHECK(skl_st_writer_add(w, "batch.tokens", SKL_DTYPE_F32, 1, shp, ftok, &err) == SKL_OK);
  shp[0] = B;
  CHECK(skl_st_writer_add(w, "batch.len", SKL_DTYPE_F32, 1, shp, flen, &err) == SKL_OK);
  shp[0] = 1;
  CHECK(skl_st_writer_add(w, "out.loss", SKL_DTYPE_F32, 1, shp, &loss, &err) == SKL_OK);
  shp[0] = K;
  CHECK(skl_st_writer_add(w, "out.ce", SKL_DTYPE_F32, 1, shp, ce, &err) == SKL_OK);
  CHECK(skl_st_writer_add(w, "out.kl", SKL_DTYPE_F32, 1, shp, kl, &err) == SKL_OK);
  char cfg[512], sB[16], sT[16], sK[16], sa[32], sb[32], sn[16], stau[32];
  snprintf(cfg, sizeof cfg,
           "{\"hidden_size\":%d,\"num_attention_heads\":%d,\"num_key_value_heads\":%d,\"head_dim\":%d,"
           "\"rms_norm_eps\":%.9g,\"rope_theta\":%.9g,\"qk_norm\":%s}",
           c.hidden_size, c.n_heads, c.n_kv_heads, c.head_dim, (double)c.rms_eps, (double)c.rope_theta,
           c.qk_norm ? "true" : "false");
  snprintf(sB, sizeof sB, "%d", B);
  snprintf(sT, sizeof sT, "%d", T);
  snprintf(sK, sizeof sK, "%d", K);
  snprintf(sa, sizeof sa, "%.17g", lc->alpha);
  snprintf(sb, sizeof sb, "%.17g", lc->beta);
  snprintf(sn, sizeof sn, "%d", lc->topn);
  snprintf(stau, sizeof stau, "%.17g", lc->tau);
  const char *meta[] = {"config", cfg, "B", sB, "T", sT, "K", sK, "alpha", sa, "beta", sb,
                        "topn", sn, "tau", stau, NULL};
  char path[128];
  snprintf(path, sizeof path, "/tmp/skl_test_mtp_ref_%d_%s.safetensors", (int)getpid(), skl_arch_name(arch));
  CHECK_MSG(skl_st_writer_save(w, path, meta, &err) == SKL_OK, "%s", err.msg);
  skl_st_writer_free(w);
  const char *py = getenv("PYTHON"), *src = getenv("SKL_SOURCE_ROOT");
  CHECK_MSG(py && src, "PYTHON and SKL_SOURCE_ROOT must be set (run through meson test)");
  if (py && src) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/mtp/ref_mtp.py' '%s'", py, src, path);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "%s K=%d: PyTorch reference disagrees (rc %d)", skl_arch_name(arch), K, rc);
  }
  unlink(path);
  free(ftok);
  free(tok);
  free(len);
  skl_acts_free(&ma);
  skl_mtp_acts_free(&a);
  skl_mtp_free(&h);
  skl_model_free(&m);
}

int main(void) {
  /* tiny tensors: extra threads only add barrier waits on a shared machine */
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  skl_mtp_loss_config one = {0.8, 1.2, 7, 2.0};
  run_case(SKL_ARCH_QWEN2, 1, 2, 12, &one, 21);
  skl_mtp_loss_config two = {1.0, 0.5, 10, 0.7};
  run_case(SKL_ARCH_QWEN3, 2, 3, 10, &two, 33);
  skl_mtp_loss_config ce_only = {1.0, 0.0, 4, 1.0};
  run_case(SKL_ARCH_LLAMA, 2, 2, 8, &ce_only, 45);
  skl_mtp_loss_config defaults;
  skl_mtp_loss_defaults(&defaults); /* tau = 1: the untempered path */
  run_case(SKL_ARCH_LLAMA, 1, 2, 8, &defaults, 57);
  return test_report();
}
