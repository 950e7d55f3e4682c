/* MTP-D vs plain MTP on the same budget (slow suite): a small main model is
 * trained on an order-2 Markov corpus, then K = 3 heads are trained with CE
 * only and with CE + self-distillation from identical inits, and the held-out
 * acceptance proxy (head argmax == main argmax at the matching position) is
 * printed as one JSON line. Checks only that both sets learned (acceptance
 * well above untrained heads); which wins is reported, not asserted.
 * SKL_SLOW_SIZE=small scales the step counts down. Not a unit test. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/optim.h"
#include "mtp/mtp.h"
#include "mtp/mtp_train.h"
#include "mtp_testutil.h"

enum { V = 32, SUCC = 4 };

/* order-2 chain: context (a, b) -> one of SUCC successors, probs .55 .25 .12 .08 */
static void corpus(int32_t *out, int n, const int32_t *succ, uint64_t seed) {
  static const double cum[SUCC] = {0.55, 0.80, 0.92, 1.0};
  skl_rng r;
  skl_rng_seed(&r, seed);
  out[0] = (int32_t)skl_rng_below(&r, V);
  out[1] = (int32_t)skl_rng_below(&r, V);
  for (int i = 2; i < n; i++) {
    double u = skl_rng_uniform(&r);
    int j = 0;
    while (j < SUCC - 1 && u > cum[j]) j++;
    out[i] = succ[(out[i - 2] * V + out[i - 1]) * SUCC + j];
  }
}

int main(void) {
  /* small matrices: one thread (results do not depend on it, see test_mtp) */
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
  const char *size = getenv("SKL_SLOW_SIZE");
  bool small = size && !strcmp(size, "small");
  int main_steps = small ? 150 : 400, head_steps = small ? 80 : 250, B = 8, T = 64, K = 3;
  skl_error err;
  skl_model_config c = mu_config(SKL_ARCH_LLAMA, V, 64, 2, 4, 2, 16, 128);
  skl_model m;
  CHECK(skl_model_init(&m, &c, &err) == SKL_OK);
  skl_rng r;
  skl_rng_seed(&r, 1);
  skl_model_init_weights(&m, &r, 0.02f);
  int32_t *succ = malloc(sizeof(int32_t) * V * V * SUCC);
  for (int i = 0; i < V * V * SUCC; i++) succ[i] = (int32_t)skl_rng_below(&r, V);
  int n_train = 200000, n_held = 8 * T * 16;
  int32_t *train = malloc(sizeof(int32_t) * n_train), *held = malloc(sizeof(int32_t) * n_held);
  corpus(train, n_train, succ, 2);
  corpus(held, n_held, succ, 3);

  /* 1. the main model */
  skl_acts a;
  CHECK(skl_acts_init(&a, &c, B, T, false, &err) == SKL_OK);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  skl_adamw opt;
  skl_adamw_config oc = {3e-3, 0.9, 0.95, 1e-8, 0.0, 1.0, 20, main_steps, 0.1};
  CHECK(skl_adamw_init(&opt, &m, &oc, &err) == SKL_OK);
  int32_t *tok = malloc(sizeof(int32_t) * B * T), *tgt = malloc(sizeof(int32_t) * B * T);
  skl_step_stats ss = {0};
  for (int s = 0; s < main_steps; s++) {
    for (int b = 0; b < B; b++) {
      int off = (int)skl_rng_below(&r, (uint64_t)(n_train - T - 1));
      memcpy(tok + b * T, train + off, sizeof(int32_t) * T);
      memcpy(tgt + b * T, train + off + 1, sizeof(int32_t) * T);
    }
    skl_batch bt = {B, T, tok, tgt, NULL, NULL, NULL, NULL, 0, 0};
    skl_model_zero_grad(&m);
    CHECK(skl_model_step(&m, &a, &bt, true, &ss, &err) == SKL_OK);
    CHECK(skl_adamw_step(&opt, &m, skl_lr_at(&oc, s), NULL, &err) == SKL_OK);
  }
  double main_ce = ss.loss;
  skl_adamw_free(&opt);
  skl_acts_free(&a);
  free(m.grad_mem); /* frozen from here on */
  m.grad_mem = NULL;
  memset(&m.g, 0, sizeof m.g);

  /* 2. heads: same init, same data order, CE-only vs distilled */
  skl_mtp_windows w = {0}, hw = {0};
  CHECK(skl_mtp_windows_add(&w, train, n_train, T, K + 2, &err) == SKL_OK);
  CHECK(skl_mtp_windows_add(&hw, held, n_held, T, K + 2, &err) == SKL_OK);
  skl_mtp_heads h0;
  CHECK(skl_mtp_init(&h0, &c, K, &err) == SKL_OK);
  skl_mtp_init_weights(&h0, &r, 0.02f);
  skl_mtp_train_config tc;
  skl_mtp_train_defaults(&tc);
  tc.steps = head_steps;
  tc.B = B;
  tc.T = T;
  tc.lr = 2e-3;
  skl_mtp_stats ev[3];
  const char *name[3] = {"untrained", "ce_only", "distilled"};
  for (int run = 0; run < 3; run++) {
    skl_mtp_heads h;
    CHECK(skl_mtp_init(&h, &c, K, &err) == SKL_OK);
    memcpy(h.param_mem, h0.param_mem, h.n_params * sizeof(float));
    tc.loss.beta = run == 2 ? 1.0 : 0.0;
    if (run > 0) CHECK_MSG(skl_mtp_train(&h, &m, &w, &tc, NULL, NULL, &err) == SKL_OK, "%s", err.msg);
    CHECK(skl_mtp_evaluate(&h, &m, &hw, B, &tc.loss, &ev[run], &err) == SKL_OK);
    skl_mtp_free(&h);
  }
  printf("{\"bench\":\"mtp_distill\",\"main_steps\":%d,\"head_steps\":%d,\"main_train_ce\":%.4f,\"K\":%d",
         main_steps, head_steps, main_ce, K);
  for (int run = 0; run < 3; run++) {
    printf(",\"%s\":[", name[run]);
    for (int k = 0; k < K; k++) printf("%s%.4f", k ? "," : "", ev[run].agree[k] / ev[run].n[k]);
    printf("]");
  }
  printf("}\n");
  for (int k = 0; k < K; k++)
    for (int run = 1; run < 3; run++) {
      double acc = ev[run].agree[k] / ev[run].n[k], base = ev[0].agree[k] / ev[0].n[k];
      CHECK_MSG(acc > base + 0.15, "%s head %d acceptance %.3f vs untrained %.3f", name[run], k + 1, acc, base);
    }
  skl_mtp_free(&h0);
  skl_mtp_windows_free(&w);
  skl_mtp_windows_free(&hw);
  free(succ), free(train), free(held), free(tok), free(tgt);
  skl_model_free(&m);
  return test_report();
}
