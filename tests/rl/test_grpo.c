/* Tests for rl/grpo: advantages, dynamic sampling, overlong penalty, the
 * clipped surrogate (finite differences and a PyTorch reference), KL.
 * Not a training test. */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/rng.h"
#include "harness.h"
#include "rl/grpo.h"

static void test_advantages(void) {
  float r[4] = {1, 0, 0, 1}, a[4];
  rl_group_advantages(r, 4, false, 1e-6f, a);
  CHECK_NEAR(a[0], 0.5, 1e-7); CHECK_NEAR(a[1], -0.5, 1e-7);
  rl_group_advantages(r, 4, true, 0.0f, a);
  CHECK_NEAR(a[0], 1.0, 1e-6); CHECK_NEAR(a[1], -1.0, 1e-6);
  CHECK(rl_group_has_signal(r, 4));
  float same[3] = {0.5f, 0.5f, 0.5f};
  CHECK(!rl_group_has_signal(same, 3));
  rl_group_advantages(same, 3, true, 1e-6f, a);
  CHECK(a[0] == 0 && a[2] == 0);
}

static void test_overlong(void) {
  CHECK_NEAR(rl_overlong_penalty(100, 512, 128), 0, 0);
  CHECK_NEAR(rl_overlong_penalty(384, 512, 128), 0, 0);
  CHECK_NEAR(rl_overlong_penalty(448, 512, 128), -0.5, 1e-7);
  CHECK_NEAR(rl_overlong_penalty(512, 512, 128), -1, 1e-7);
  CHECK_NEAR(rl_overlong_penalty(600, 512, 128), -1, 0);
}

static void test_kl(void) {
  skl_rng g;
  skl_rng_seed(&g, 3);
  for (int i = 0; i < 200; i++) {
    float lp = (float)(-3 * skl_rng_uniform(&g)), lr = (float)(-3 * skl_rng_uniform(&g));
    CHECK(rl_kl_value(RL_KL_K3, lp, lr) >= -1e-7f);
    CHECK(rl_kl_value(RL_KL_K2, lp, lr) >= 0);
    for (int e = RL_KL_K1; e <= RL_KL_K3; e++) {
      double h = 1e-3;
      double fd = (rl_kl_value(e, lp + (float)h, lr) - rl_kl_value(e, lp - (float)h, lr)) / (2 * h);
      CHECK_NEAR(rl_kl_grad(e, lp, lr), fd, 2e-3);
    }
  }
}

/* Random batch; loss gradient by central differences in double precision
 * (the loss is piecewise smooth; random points avoid the kinks). */
static void test_policy_fd(rl_agg_mode agg, float kl_coef) {
  enum { S = 5, N = 40 };
  int starts[S + 1] = {0, 3, 12, 12, 30, 40}; /* one empty sequence */
  float adv[S], lp[N], lpo[N], lpr[N], mask[N], grad[N], g2[N];
  skl_rng g;
  skl_rng_seed(&g, 11 + agg);
  for (int s = 0; s < S; s++) adv[s] = (float)skl_rng_normal(&g);
  for (int t = 0; t < N; t++) {
    lpo[t] = (float)(-2 * skl_rng_uniform(&g) - 0.1);
    lp[t] = lpo[t] + (float)(0.4 * skl_rng_normal(&g)); /* ratios in and out of the clip range */
    lpr[t] = lpo[t] + (float)(0.2 * skl_rng_normal(&g));
    mask[t] = (t % 7 == 3) ? 0.0f : 1.0f;
  }
  rl_loss_opts o = {.clip_low = 0.2f, .clip_high = 0.28f, .kl_coef = kl_coef, .kl_estimator = RL_KL_K3, .agg = agg};
  rl_loss_batch b = {.n_seqs = S, .seq_start = starts, .adv = adv, .logp = lp, .logp_old = lpo,
                     .logp_ref = lpr, .mask = mask};
  rl_loss_stats st;
  skl_error e;
  CHECK(rl_policy_loss(&o, &b, grad, &st, &e) == SKL_OK);
  CHECK(st.n_tokens == N - 6);
  CHECK(st.clip_frac > 0 && st.clip_frac < 1);
  int bad = 0;
  for (int t = 0; t < N; t++) {
    float keep = lp[t];
    float h = 1e-2f;
    rl_loss_stats sp, sm;
    lp[t] = keep + h; rl_policy_loss(&o, &b, g2, &sp, &e);
    lp[t] = keep - h; rl_policy_loss(&o, &b, g2, &sm, &e);
    lp[t] = keep;
    double fd = (sp.loss - sm.loss) / (2 * h);
    /* near a clip boundary the difference straddles the kink: skip those */
    double r = exp((double)lp[t] - lpo[t]);
    if (fabs(r - 0.8) < 0.03 || fabs(r - 1.28) < 0.03) continue;
    if (fabs(fd - grad[t]) > 2e-3 * (1 + fabs(fd))) {
      bad++;
      fprintf(stderr, "agg %d token %d: grad %g fd %g\n", agg, t, grad[t], fd);
    }
    if (mask[t] == 0) CHECK(grad[t] == 0);
  }
  CHECK(bad == 0);
}

/* The same batch through verl's formulas in PyTorch (autograd): loss and
 * dLoss/dlogp must match to float precision. */
static void test_policy_torch(rl_agg_mode agg, const char *agg_name) {
  enum { S = 6, N = 60 };
  int starts[S + 1] = {0, 5, 14, 14, 33, 41, 60};
  float adv[S], lp[N], lpo[N], lpr[N], mask[N], grad[N];
  skl_rng g;
  skl_rng_seed(&g, 99 + agg);
  for (int s = 0; s < S; s++) adv[s] = (float)skl_rng_normal(&g);
  for (int t = 0; t < N; t++) {
    lpo[t] = (float)(-2 * skl_rng_uniform(&g) - 0.1);
    lp[t] = lpo[t] + (float)(0.4 * skl_rng_normal(&g));
    lpr[t] = lpo[t] + (float)(0.2 * skl_rng_normal(&g));
    mask[t] = (t % 5 == 2) ? 0.0f : 1.0f;
  }
  rl_loss_opts o = {.clip_low = 0.2f, .clip_high = 0.28f, .kl_coef = 0.05f, .kl_estimator = RL_KL_K3, .agg = agg};
  rl_loss_batch b = {.n_seqs = S, .seq_start = starts, .adv = adv, .logp = lp, .logp_old = lpo,
                     .logp_ref = lpr, .mask = mask};
  rl_loss_stats st;
  CHECK(rl_policy_loss(&o, &b, grad, &st, NULL) == SKL_OK);
  json_t *j = json_object(), *a;
  json_object_set_new(j, "agg", json_string(agg_name));
  json_object_set_new(j, "clip_low", json_real(o.clip_low));
  json_object_set_new(j, "clip_high", json_real(o.clip_high));
  json_object_set_new(j, "kl_coef", json_real(o.kl_coef));
  a = json_array(); for (int s = 0; s <= S; s++) json_array_append_new(a, json_integer(starts[s]));
  json_object_set_new(j, "seq_start", a);
  a = json_array(); for (int s = 0; s < S; s++) json_array_append_new(a, json_real(adv[s]));
  json_object_set_new(j, "adv", a);
  const char *names[4] = {"logp", "logp_old", "logp_ref", "mask"};
  const float *arrs[4] = {lp, lpo, lpr, mask};
  for (int k = 0; k < 4; k++) {
    a = json_array();
    for (int t = 0; t < N; t++) json_array_append_new(a, json_real(arrs[k][t]));
    json_object_set_new(j, names[k], a);
  }
  char path[] = "/tmp/skl_grpo_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  json_dump_file(j, path, JSON_REAL_PRECISION(17));
  json_decref(j);
  const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
  const char *src = getenv("SKL_SOURCE_ROOT") ? getenv("SKL_SOURCE_ROOT") : ".";
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s/tests/rl/ref_grpo.py %s", py, src, path);
  FILE *p = popen(cmd, "r");
  char out[65536] = {0};
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  int rc = p ? pclose(p) : -1;
  unlink(path);
  CHECK_MSG(rc == 0 && n > 0, "PyTorch reference failed to run: %s", cmd);
  json_error_t je;
  json_t *r = json_loads(out, 0, &je);
  CHECK_MSG(r != NULL, "reference output is not JSON: %s", out);
  if (!r) return;
  CHECK_NEAR(st.loss, json_real_value(json_object_get(r, "loss")), 1e-5);
  json_t *gr = json_object_get(r, "grad");
  int bad = 0;
  for (int t = 0; t < N; t++) bad += fabs(grad[t] - json_real_value(json_array_get(gr, (size_t)t))) > 1e-6;
  CHECK_MSG(bad == 0, "%d gradients differ from PyTorch (%s)", bad, agg_name);
  json_decref(r);
}

static void test_clip_semantics(void) {
  /* positive advantage, ratio above 1+hi: clipped, no gradient;
   * negative advantage, ratio above 1+hi: NOT clipped (gradient pushes down). */
  int starts[3] = {0, 1, 2};
  float adv[2] = {1.0f, -1.0f};
  float lpo[2] = {-1.0f, -1.0f}, lp[2] = {-0.5f, -0.5f}, grad[2];
  rl_loss_opts o = {.clip_low = 0.2f, .clip_high = 0.28f, .agg = RL_AGG_TOKEN_MEAN};
  rl_loss_batch b = {.n_seqs = 2, .seq_start = starts, .adv = adv, .logp = lp, .logp_old = lpo};
  rl_loss_stats st;
  CHECK(rl_policy_loss(&o, &b, grad, &st, NULL) == SKL_OK);
  CHECK(grad[0] == 0);
  CHECK_NEAR(grad[1], 0.5 * exp(0.5), 1e-5); /* d(-rA)/dlogp / N = r / 2 */
  CHECK_NEAR(st.clip_frac_high, 0.5, 1e-9);
  /* ratio below 1-lo with negative advantage is clipped */
  lp[1] = -1.5f;
  CHECK(rl_policy_loss(&o, &b, grad, &st, NULL) == SKL_OK);
  CHECK(grad[1] == 0);
  CHECK_NEAR(st.clip_frac_low, 0.5, 1e-9);
}

static void test_errors(void) {
  int starts[2] = {0, 1};
  float adv[1] = {NAN}, lp[1] = {-1}, lpo[1] = {-1}, grad[1];
  rl_loss_opts o = {.clip_low = 0.2f, .clip_high = 0.28f};
  rl_loss_batch b = {.n_seqs = 1, .seq_start = starts, .adv = adv, .logp = lp, .logp_old = lpo};
  skl_error e;
  CHECK(rl_policy_loss(&o, &b, grad, NULL, &e) == SKL_ERR_NUMERIC);
  CHECK_CONTAINS(e.msg, "advantage of sequence 0 is not finite");
  adv[0] = 1;
  o.kl_coef = 0.1f;
  CHECK(rl_policy_loss(&o, &b, grad, NULL, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "no reference log-probs");
  o.kl_coef = 0;
  o.clip_low = 1.5f;
  CHECK(rl_policy_loss(&o, &b, grad, NULL, &e) == SKL_ERR_RANGE);
}

int main(void) {
  test_advantages();
  test_overlong();
  test_kl();
  for (int a = RL_AGG_TOKEN_MEAN; a <= RL_AGG_SEQ_MEAN_TOKEN_SUM; a++) {
    test_policy_fd(a, 0.0f);
    test_policy_fd(a, 0.05f);
  }
  test_policy_torch(RL_AGG_TOKEN_MEAN, "token-mean");
  test_policy_torch(RL_AGG_SEQ_MEAN_TOKEN_MEAN, "seq-mean-token-mean");
  test_policy_torch(RL_AGG_SEQ_MEAN_TOKEN_SUM, "seq-mean-token-sum");
  test_clip_semantics();
  test_errors();
  return test_report();
}
