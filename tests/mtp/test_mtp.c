/* MTP heads: finite-difference gradients of the CE + self-distillation loss
 * through K chained heads (every arch), freezing, save/load round trips and
 * every load/extend/batch error. Not the PyTorch reference (test_mtp_ref.c)
 * and not the CLI (test_mtp_cli.sh).
 *
 * Gradient method: central differences with eps = 1e-2 on fp32 parameters of
 * the loss skl_mtp_step returns (double sums of fp32 terms); tolerance per
 * tensor |analytic - numeric| <= 3e-2 * max|numeric| + 2e-4. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "harness.h"
#include "hf/hf_config.h"
#include "model/checkpoint.h"
#include "mtp/mtp.h"
#include "mtp/mtp_train.h"
#include "mtp_testutil.h"

typedef struct {
  skl_model m;
  skl_acts ma;
  skl_mtp_heads h;
  skl_mtp_acts a;
  skl_mtp_loss_config lc;
  int32_t tok[64], len[4];
  skl_mtp_batch b;
} fixture;

static void fx_init(fixture *f, skl_arch arch, int K, uint64_t seed) {
  skl_error err;
  memset(f, 0, sizeof *f);
  skl_model_config c = mu_config(arch, 40, 16, 1, 2, 1, 8, 24);
  CHECK(skl_model_init(&f->m, &c, &err) == SKL_OK);
  CHECK(skl_mtp_init(&f->h, &c, K, &err) == SKL_OK);
  skl_rng r;
  skl_rng_seed(&r, seed);
  mu_fill(f->m.param_mem, f->m.tensors, f->m.n_tensors, &r, 0.4f);
  mu_fill(f->h.param_mem, f->h.tensors, f->h.n_tensors, &r, 0.3f);
  int B = 2, T = 9;
  CHECK(skl_acts_init(&f->ma, &c, B, T, false, &err) == SKL_OK);
  CHECK(skl_mtp_acts_init(&f->a, &c, K, B, T, 8, &err) == SKL_OK);
  CHECK(skl_mtp_grads_alloc(&f->h, &err) == SKL_OK);
  mu_tokens(f->tok, (size_t)B * T, c.vocab_size, seed + 1);
  f->len[0] = 9;
  f->len[1] = 7;
  f->b = (skl_mtp_batch){B, T, f->tok, f->len};
  f->lc = (skl_mtp_loss_config){0.7, 1.3, 5, 1.5};
}

static void fx_free(fixture *f) {
  skl_model_free(&f->m);
  skl_acts_free(&f->ma);
  skl_mtp_free(&f->h);
  skl_mtp_acts_free(&f->a);
}

static double fx_loss(fixture *f) {
  skl_error err;
  skl_mtp_stats st;
  skl_status s = skl_mtp_step(&f->h, &f->m, &f->ma, &f->a, &f->b, &f->lc, false, &st, &err);
  CHECK_MSG(s == SKL_OK, "%s", err.msg);
  return st.loss;
}

static void gradcheck(skl_arch arch, int K) {
  fixture f;
  fx_init(&f, arch, K, 11 + (uint64_t)arch);
  skl_error err;
  skl_mtp_stats st;
  skl_mtp_zero_grad(&f.h);
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, true, &st, &err) == SKL_OK);
  CHECK(st.n[0] == 7 + 5 && (K < 2 || st.n[1] == 6 + 4)); /* targets: len - k - 1 per row */
  for (int k = 0; k < K; k++) CHECK_MSG(st.kl[k] >= 0 && st.ce[k] > 0, "head %d kl %g ce %g", k + 1, st.kl[k], st.ce[k]);
  double want = 0;
  for (int k = 0; k < K; k++) want += f.lc.alpha * st.ce[k] + f.lc.beta * f.lc.tau * f.lc.tau * st.kl[k];
  CHECK_NEAR(st.loss, want, 1e-5 * fabs(want));
  float *grad = malloc(f.h.n_params * sizeof(float));
  memcpy(grad, f.h.grad_mem, f.h.n_params * sizeof(float));
  const float eps = 1e-2f;
  for (int i = 0; i < f.h.n_tensors; i++) {
    const skl_tensor_info *t = &f.h.tensors[i];
    size_t n = t->numel, stride = n > 12 ? n / 12 : 1;
    double maxnum = 0, maxerr = 0;
    for (size_t j = 0; j < n; j += stride) {
      float *x = f.h.param_mem + t->offset + j, keep = *x;
      *x = keep + eps;
      double lp = fx_loss(&f);
      *x = keep - eps;
      double lm = fx_loss(&f);
      *x = keep;
      double num = (lp - lm) / (2.0 * eps), ana = grad[t->offset + j];
      if (fabs(num) > maxnum) maxnum = fabs(num);
      if (fabs(num - ana) > maxerr) maxerr = fabs(num - ana);
    }
    CHECK_MSG(maxnum > 0, "%s %s: numeric gradient all zero", skl_arch_name(arch), t->name);
    CHECK_MSG(maxerr <= 3e-2 * maxnum + 2e-4, "%s %s: max |analytic-numeric| %.3g vs max|numeric| %.3g",
              skl_arch_name(arch), t->name, maxerr, maxnum);
  }
  /* the main model is frozen: it never got gradients */
  CHECK(f.m.grad_mem == NULL);
  /* frozen head 1 (extend): no gradient there, while heads 2.. see exactly
   * the gradient they had (freezing only stops the flow into head 1) */
  if (K >= 2) {
    f.h.n_frozen = 1;
    skl_mtp_zero_grad(&f.h);
    CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, true, &st, &err) == SKL_OK);
    double z = 0, d = 0, mx = 0;
    for (size_t j = 0; j < f.h.per_head; j++) z = fmax(z, fabs(f.h.grad_mem[j]));
    for (size_t j = f.h.per_head; j < f.h.n_params; j++) {
      d = fmax(d, fabs(f.h.grad_mem[j] - grad[j]));
      mx = fmax(mx, fabs(grad[j]));
    }
    CHECK_MSG(z == 0, "frozen head 1 got gradient %g", z);
    CHECK_MSG(d <= 1e-5 * mx, "head 2 gradient changed by freezing head 1: %g (scale %g)", d, mx);
  }
  free(grad);
  fx_free(&f);
}

/* CE-only (beta 0) loss is alpha * CE, KL is reported as 0; the teacher's
 * top-N is sorted and KL grows as the student is pushed away. */
static void test_loss_modes(void) {
  fixture f;
  fx_init(&f, SKL_ARCH_LLAMA, 2, 5);
  skl_error err;
  skl_mtp_stats st, st2;
  f.lc.beta = 0;
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, false, &st, &err) == SKL_OK);
  CHECK(st.kl[0] == 0 && st.kl[1] == 0);
  CHECK_NEAR(st.loss, 0.7 * (st.ce[0] + st.ce[1]), 1e-6 * st.loss);
  f.lc.beta = 1;
  f.lc.topn = 8;
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, false, &st2, &err) == SKL_OK);
  CHECK_NEAR(st2.ce[0], st.ce[0], 1e-6);
  for (int n = 0; n < 18; n++)
    for (int j = 1; j < 8; j++) CHECK(f.a.top_logit[n * 8 + j] <= f.a.top_logit[n * 8 + j - 1]);
  /* agreement counts are integers within [0, n] */
  CHECK(st2.agree[0] >= 0 && st2.agree[0] <= st2.n[0] && st2.agree[0] == floor(st2.agree[0]));
  /* larger topn than the activations were sized for is refused */
  f.lc.topn = 9;
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "topn 9");
  f.lc.topn = 5;
  f.lc.tau = 0;
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "tau");
  f.lc.tau = 1;
  /* bad token names row and column */
  f.tok[9 + 3] = 40;
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "row 1 column 3: token id 40");
  f.tok[9 + 3] = 1;
  /* backward without gradients */
  skl_mtp_heads h2;
  CHECK(skl_mtp_init(&h2, &f.m.cfg, 2, &err) == SKL_OK);
  CHECK(skl_mtp_step(&h2, &f.m, &f.ma, &f.a, &f.b, &f.lc, true, &st, &err) == SKL_ERR_STATE);
  CHECK_CONTAINS(err.msg, "skl_mtp_grads_alloc");
  skl_mtp_free(&h2);
  CHECK(skl_mtp_init(&h2, &f.m.cfg, 0, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "0 heads");
  fx_free(&f);
}

static char *tmpdir(const char *tag) {
  char *d = malloc(256);
  snprintf(d, 256, "/tmp/skl_test_mtp_%s_XXXXXX", tag);
  if (!mkdtemp(d)) abort();
  return d;
}

static void rmrf(const char *d) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", d);
}

static void test_files(void) {
  fixture f;
  fx_init(&f, SKL_ARCH_QWEN3, 2, 7);
  skl_error err;
  char *dir = tmpdir("io"), sub[400], bare[400];
  snprintf(sub, sizeof sub, "%s/with", dir);
  snprintf(bare, sizeof bare, "%s/bare", dir);
  CHECK_MSG(skl_mtp_save_model(&f.m, &f.h, sub, SKL_DTYPE_F32, NULL, &err) == SKL_OK, "%s", err.msg);
  /* the main loader (knows nothing of MTP) still loads the directory, strictly */
  skl_model m2;
  CHECK_MSG(skl_ckpt_load_model(&m2, sub, false, &err) == SKL_OK, "%s", err.msg);
  CHECK(m2.cfg.n_mtp_heads == 2);
  CHECK(memcmp(m2.param_mem, f.m.param_mem, f.m.n_params * sizeof(float)) == 0);
  skl_mtp_heads h2;
  CHECK_MSG(skl_mtp_load(&h2, sub, &m2.cfg, &err) == SKL_OK, "%s", err.msg);
  CHECK(h2.K == 2 && h2.n_params == f.h.n_params);
  CHECK(memcmp(h2.param_mem, f.h.param_mem, f.h.n_params * sizeof(float)) == 0);
  skl_mtp_free(&h2);
  /* BF16 round trip: within bf16 rounding */
  char bf[400];
  snprintf(bf, sizeof bf, "%s/bf16", dir);
  CHECK(skl_mtp_save_model(&f.m, &f.h, bf, SKL_DTYPE_BF16, NULL, &err) == SKL_OK);
  CHECK_MSG(skl_mtp_load(&h2, bf, &m2.cfg, &err) == SKL_OK, "%s", err.msg);
  double md = 0;
  for (size_t j = 0; j < h2.n_params; j++)
    md = fmax(md, fabs(h2.param_mem[j] - f.h.param_mem[j]) / (fabs(f.h.param_mem[j]) + 1e-30));
  CHECK_MSG(md <= 1.0 / 256, "bf16 relative error %g", md);
  skl_mtp_free(&h2);
  skl_model_free(&m2);

  /* a model saved without heads: loads everywhere, has no heads */
  CHECK(skl_ckpt_save_model(&f.m, bare, SKL_DTYPE_F32, NULL, &err) == SKL_OK);
  CHECK(skl_ckpt_load_model(&m2, bare, false, &err) == SKL_OK);
  CHECK(m2.cfg.n_mtp_heads == 0);
  CHECK(skl_mtp_load(&h2, bare, &m2.cfg, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "no MTP heads");
  CHECK_CONTAINS(err.msg, "mtp train");
  skl_model_free(&m2);

  /* config says 3 heads, file holds 2 */
  skl_model_config c3 = f.m.cfg;
  c3.n_mtp_heads = 3;
  CHECK(skl_hf_config_save(&c3, sub, &err) == SKL_OK);
  CHECK(skl_ckpt_load_model(&m2, sub, false, &err) == SKL_OK);
  CHECK(skl_mtp_load(&h2, sub, &m2.cfg, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "num_nextn_predict_layers = 3 but mtp.safetensors holds heads 1..2");
  skl_model_free(&m2);
  /* config says 0 heads but the file is there */
  c3.n_mtp_heads = 0;
  CHECK(skl_hf_config_save(&c3, sub, &err) == SKL_OK);
  CHECK(skl_ckpt_load_model(&m2, sub, false, &err) == SKL_OK);
  CHECK(skl_mtp_load(&h2, sub, &m2.cfg, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "although mtp.safetensors exists");
  skl_model_free(&m2);
  /* heads made for another model size */
  skl_model_config big = f.m.cfg;
  big.intermediate_size = 32;
  big.n_mtp_heads = 2;
  CHECK(skl_mtp_load(&h2, sub, &big, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "mtp.1.block.mlp.");
  CHECK_CONTAINS(err.msg, "shape");
  /* mtp.safetensors missing */
  char p[512];
  snprintf(p, sizeof p, "%s/mtp.safetensors", sub);
  unlink(p);
  c3.n_mtp_heads = 2;
  CHECK(skl_mtp_load(&h2, sub, &c3, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "mtp.safetensors is missing");

  /* extend: copies the last head, freezes the old ones; --to must grow */
  skl_mtp_heads e;
  CHECK(skl_mtp_extend(&e, &f.h, 2, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--to 2 must be larger than the current 2 heads");
  CHECK(skl_mtp_extend(&e, &f.h, 4, &err) == SKL_OK);
  CHECK(e.K == 4 && e.n_frozen == 2);
  CHECK(memcmp(e.param_mem, f.h.param_mem, f.h.n_params * sizeof(float)) == 0);
  CHECK(memcmp(e.param_mem + 3 * e.per_head, f.h.param_mem + f.h.per_head, e.per_head * sizeof(float)) == 0);
  CHECK(skl_mtp_find_tensor(&e, "mtp.4.eh_proj.weight") != NULL);
  CHECK(skl_mtp_find_tensor(&e, "mtp.5.eh_proj.weight") == NULL);
  skl_mtp_free(&e);
  rmrf(dir);
  free(dir);
  fx_free(&f);
}

/* Training lowers the loss and moves only the trainable heads. */
static void test_train_small(void) {
  fixture f;
  fx_init(&f, SKL_ARCH_LLAMA, 2, 9);
  skl_error err;
  skl_mtp_windows w = {0}, held;
  int32_t seq[400];
  for (int i = 0; i < 400; i++) seq[i] = (int32_t)((i * 7 + (i / 5)) % 40); /* a learnable pattern */
  CHECK(skl_mtp_windows_add(&w, seq, 400, 16, 4, &err) == SKL_OK);
  CHECK(w.n == 25);
  CHECK(skl_mtp_windows_add(&w, seq, 3, 16, 4, &err) == SKL_OK && w.n == 25); /* too short */
  CHECK(skl_mtp_windows_add(&w, seq, 10, 8, 4, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "differs");
  CHECK(skl_mtp_windows_split(&w, &held, 25, 1, &err) == SKL_ERR_RANGE);
  CHECK(skl_mtp_windows_split(&w, &held, 5, 1, &err) == SKL_OK);
  CHECK(w.n == 20 && held.n == 5);
  skl_mtp_train_config tc;
  skl_mtp_train_defaults(&tc);
  tc.steps = 30;
  tc.B = 4;
  tc.lr = 3e-3;
  tc.loss.topn = 8;
  skl_mtp_stats before, after;
  skl_mtp_heads h;
  CHECK(skl_mtp_extend(&h, &f.h, 3, &err) == SKL_OK);
  float *old = malloc(2 * h.per_head * sizeof(float));
  memcpy(old, h.param_mem, 2 * h.per_head * sizeof(float));
  CHECK(skl_mtp_evaluate(&h, &f.m, &w, 4, &tc.loss, &before, &err) == SKL_OK);
  CHECK_MSG(skl_mtp_train(&h, &f.m, &w, &tc, NULL, NULL, &err) == SKL_OK, "%s", err.msg);
  CHECK(skl_mtp_evaluate(&h, &f.m, &w, 4, &tc.loss, &after, &err) == SKL_OK);
  CHECK_MSG(after.ce[2] < before.ce[2] - 0.1, "head 3 CE %g -> %g", before.ce[2], after.ce[2]);
  CHECK(memcmp(old, h.param_mem, 2 * h.per_head * sizeof(float)) == 0);
  /* deterministic: same config, same weights */
  skl_mtp_heads h2;
  CHECK(skl_mtp_extend(&h2, &f.h, 3, &err) == SKL_OK);
  CHECK(skl_mtp_train(&h2, &f.m, &w, &tc, NULL, NULL, &err) == SKL_OK);
  CHECK(memcmp(h2.param_mem, h.param_mem, h.n_params * sizeof(float)) == 0);
  skl_mtp_free(&h2);
  h.n_frozen = 3;
  CHECK(skl_mtp_train(&h, &f.m, &w, &tc, NULL, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "all 3 heads are frozen");
  free(old);
  skl_mtp_free(&h);
  skl_mtp_windows_free(&w);
  skl_mtp_windows_free(&held);
  fx_free(&f);
}

/* Same gradients and loss, bit for bit, with 1 or 2 threads. */
static void test_threads(void) {
  fixture f;
  fx_init(&f, SKL_ARCH_QWEN3, 2, 3);
  skl_error err;
  skl_mtp_stats s1, s2;
  skl_mtp_zero_grad(&f.h);
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, true, &s1, &err) == SKL_OK);
  float *g1 = malloc(f.h.n_params * sizeof(float));
  memcpy(g1, f.h.grad_mem, f.h.n_params * sizeof(float));
  omp_set_num_threads(2);
  openblas_set_num_threads(2);
  skl_mtp_zero_grad(&f.h);
  CHECK(skl_mtp_step(&f.h, &f.m, &f.ma, &f.a, &f.b, &f.lc, true, &s2, &err) == SKL_OK);
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  CHECK(s1.loss == s2.loss);
  CHECK(memcmp(g1, f.h.grad_mem, f.h.n_params * sizeof(float)) == 0);
  free(g1);
  fx_free(&f);
}

int main(void) {
  /* tiny tensors: extra threads only add barrier waits on a shared machine */
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  gradcheck(SKL_ARCH_LLAMA, 2);
  gradcheck(SKL_ARCH_QWEN2, 2);
  gradcheck(SKL_ARCH_QWEN3, 3);
  test_loss_modes();
  test_files();
  test_train_small();
  test_threads();
  return test_report();
}
