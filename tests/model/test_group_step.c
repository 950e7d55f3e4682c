/* The shared-prefix group step (skl_group_step) against the plain path: G
 * rows of prefix+suffix through skl_model_step with the same weights,
 * targets, mask, weights and loss_norm. Not a finite-difference test (the
 * plain step has those in test_model_grad.c); this checks equality.
 *
 * Tolerance (float32 summation order only): per tensor
 *   max|g_group - g_plain| <= 2e-5 * max|g_plain| + 1e-7,
 * per token |logp or entropy difference| <= 1e-5 * (1 + |plain|), loss and
 * sum_logp relative 1e-5.
 * Cases: llama, qwen2 (qkv bias, tied embeddings), qwen3 (q/k norm);
 * G in {1, 3, 8} with unequal suffix lengths (one of them 0), prefixes
 * shorter and longer than an attention tile, an empty prefix, prefix
 * targets with mask/weight, with and without recompute. Also: 1 vs 2
 * threads bit-identical, the prompt's K/V gradient is the sum over the
 * suffixes, and bad input is refused with a message. The logit scale
 * (1/temperature): both paths agree under it, and skl_model_step's scaled
 * log-probs match softmax(s * logits) and its gradient finite differences.
 * `test_group_step slow` runs long prefixes (SKL_SLOW_SIZE=small|full). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model_testutil.h"

/* A random group: prefix ids in [0, V/2), suffix ids in [V/2, V), so the
 * prefix's embedding rows get gradient only through the prefix rows. */
typedef struct {
  int P, G, R;
  int32_t *prefix, *ptgt, *tok, *tgt;
  float *pmask, *pw, *mask, *w;
  int *len;
  skl_group_batch gb;
} grp;

static float g_scale = 0.0f; /* logit_scale of the groups made next (0: unset = 1) */

static void grp_make(grp *q, int V, int P, int G, int R, bool prefix_loss, uint64_t seed) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  memset(q, 0, sizeof *q);
  q->P = P;
  q->G = G;
  q->R = R;
  size_t pn = P > 0 ? (size_t)P : 1, sn = (size_t)G * R;
  q->prefix = malloc(pn * sizeof(int32_t));
  q->ptgt = malloc(pn * sizeof(int32_t));
  q->pmask = malloc(pn * sizeof(float));
  q->pw = malloc(pn * sizeof(float));
  q->tok = malloc(sn * sizeof(int32_t));
  q->tgt = malloc(sn * sizeof(int32_t));
  q->mask = malloc(sn * sizeof(float));
  q->w = malloc(sn * sizeof(float));
  q->len = malloc((size_t)G * sizeof(int));
  for (int i = 0; i < P; i++) {
    q->prefix[i] = (int32_t)skl_rng_below(&r, (uint64_t)V / 2);
    q->ptgt[i] = skl_rng_below(&r, 5) == 0 ? -1 : (int32_t)skl_rng_below(&r, (uint64_t)V);
    q->pmask[i] = skl_rng_below(&r, 3) == 0 ? 0.0f : 1.0f;
    q->pw[i] = (float)(0.5 + skl_rng_uniform(&r));
  }
  for (int g = 0; g < G; g++) {
    q->len[g] = g == 0 ? R : 1 + (int)skl_rng_below(&r, (uint64_t)R);
    if (G >= 8 && g == 5) q->len[g] = 0; /* an empty response */
    for (int j = 0; j < R; j++) {
      size_t at = (size_t)g * R + j;
      q->tok[at] = (int32_t)(V / 2 + skl_rng_below(&r, (uint64_t)(V - V / 2)));
      q->tgt[at] = j == 3 ? -1 : (int32_t)skl_rng_below(&r, (uint64_t)V);
      q->mask[at] = j == 1 ? 0.0f : 1.0f;
      q->w[at] = (float)(skl_rng_uniform(&r) * 2.0 - 1.0); /* advantages of both signs */
    }
  }
  skl_group_batch *b = &q->gb;
  b->P = P;
  b->prefix = q->prefix;
  b->prefix_targets = prefix_loss ? q->ptgt : NULL;
  b->prefix_mask = prefix_loss ? q->pmask : NULL;
  b->prefix_weight = prefix_loss ? q->pw : NULL;
  b->G = G;
  b->R = R;
  b->len = q->len;
  b->tokens = q->tok;
  b->targets = q->tgt;
  b->mask = q->mask;
  b->weight = q->w;
  b->loss_norm = 0; /* counted tokens: checks the count too */
  b->logit_scale = g_scale;
}

static void grp_free(grp *q) {
  free(q->prefix); free(q->ptgt); free(q->pmask); free(q->pw);
  free(q->tok); free(q->tgt); free(q->mask); free(q->w); free(q->len);
}

/* Results of one path: the gradients, and logp/entropy per suffix token
 * [G, R] (prefix tokens [P] after them). */
typedef struct {
  float *grad;
  float *logp, *ent;
  skl_step_stats st;
} result;

static void result_init(result *o, const skl_model *m, const grp *q) {
  size_t n = (size_t)q->G * q->R + (size_t)q->P + 1;
  o->grad = malloc(m->n_params * sizeof(float));
  o->logp = calloc(n, sizeof(float));
  o->ent = calloc(n, sizeof(float));
}
static void result_free(result *o) { free(o->grad); free(o->logp); free(o->ent); }

/* The plain path: G rows of T = P + R, row g = prefix ++ suffix g, padding
 * after the end (no target: it cannot affect earlier tokens). */
static int run_plain(skl_model *m, const grp *q, bool recompute, result *o) {
  int G = q->G, T = q->P + q->R, P = q->P;
  size_t N = (size_t)G * T;
  int32_t *tok = calloc(N, sizeof(int32_t)), *tgt = malloc(N * sizeof(int32_t));
  float *mask = calloc(N, sizeof(float)), *w = calloc(N, sizeof(float));
  for (size_t i = 0; i < N; i++) tgt[i] = -1;
  for (int g = 0; g < G; g++)
    for (int t = 0; t < P + q->len[g]; t++) {
      size_t n = (size_t)g * T + t;
      if (t < P) {
        tok[n] = q->prefix[t];
        tgt[n] = q->gb.prefix_targets ? q->ptgt[t] : -1;
        mask[n] = q->gb.prefix_mask ? q->pmask[t] : 1.0f;
        w[n] = q->gb.prefix_weight ? q->pw[t] : 1.0f;
      } else {
        size_t at = (size_t)g * q->R + (t - P);
        tok[n] = q->tok[at];
        tgt[n] = q->tgt[at];
        mask[n] = q->mask[at];
        w[n] = q->w[at];
      }
    }
  skl_acts a;
  skl_error err = {0};
  skl_batch b = {.B = G, .T = T, .tokens = tok, .targets = tgt, .mask = mask, .weight = w,
                 .loss_norm = q->gb.loss_norm, .logit_scale = q->gb.logit_scale};
  int rc = skl_acts_init(&a, &m->cfg, G, T, recompute, &err);
  if (!rc) {
    skl_model_zero_grad(m);
    rc = skl_model_step(m, &a, &b, true, &o->st, &err);
  }
  if (rc) fprintf(stderr, "plain step: %s\n", err.msg);
  if (!rc) {
    memcpy(o->grad, m->grad_mem, m->n_params * sizeof(float));
    for (int g = 0; g < G; g++)
      for (int j = 0; j < q->len[g]; j++) {
        o->logp[(size_t)g * q->R + j] = a.logp[(size_t)g * T + P + j];
        o->ent[(size_t)g * q->R + j] = a.entropy[(size_t)g * T + P + j];
      }
    for (int i = 0; i < P && q->gb.prefix_targets; i++) { /* row 0's copy */
      o->logp[(size_t)G * q->R + i] = a.logp[i];
      o->ent[(size_t)G * q->R + i] = a.entropy[i];
    }
  }
  skl_acts_free(&a);
  free(tok); free(tgt); free(mask); free(w);
  return rc;
}

static int run_group_into(skl_model *m, skl_group_acts *ga, const skl_group_batch *gb, int R,
                          result *o, bool zero) {
  skl_error err = {0};
  if (zero) skl_model_zero_grad(m);
  int rc = skl_group_step(m, ga, gb, true, &o->st, &err);
  if (rc) {
    fprintf(stderr, "group step: %s\n", err.msg);
    return rc;
  }
  memcpy(o->grad, m->grad_mem, m->n_params * sizeof(float));
  for (int g = 0; g < gb->G; g++)
    for (int j = 0; j < gb->len[g]; j++) {
      o->logp[(size_t)g * R + j] = ga->a.logp[ga->row0[g] + j];
      o->ent[(size_t)g * R + j] = ga->a.entropy[ga->row0[g] + j];
    }
  for (int i = 0; i < gb->P && gb->prefix_targets; i++) {
    o->logp[(size_t)gb->G * R + i] = ga->a.logp[i];
    o->ent[(size_t)gb->G * R + i] = ga->a.entropy[i];
  }
  return 0;
}

static int run_group(skl_model *m, const grp *q, bool recompute, result *o) {
  skl_group_acts ga;
  skl_error err = {0};
  int rc = skl_group_acts_init(&ga, &m->cfg, q->P, q->G, q->R, recompute, &err);
  if (rc) {
    fprintf(stderr, "group acts: %s\n", err.msg);
    return rc;
  }
  rc = run_group_into(m, &ga, &q->gb, q->R, o, true);
  skl_group_acts_free(&ga);
  return rc;
}

static double worst_ratio; /* largest diff / (max|g|) seen, reported at the end */

/* Every tensor of the table: max|a - b| <= 2e-5 * max|b| + 1e-7. */
static void compare_grads(const char *what, const skl_model *m, const float *a, const float *b) {
  int bad = 0;
  for (int i = 0; i < m->n_tensors; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    double mx = 0, md = 0;
    for (size_t j = 0; j < t->numel; j++) {
      double x = a[t->offset + j], y = b[t->offset + j];
      if (fabs(y) > mx) mx = fabs(y);
      if (!(fabs(x - y) <= md)) md = fabs(x - y); /* NaN counts */
    }
    if (mx > 0 && md / mx > worst_ratio) worst_ratio = md / mx;
    if (!(md <= 2e-5 * mx + 1e-7)) {
      if (bad++ < 4)
        fprintf(stderr, "%s: %s: max diff %.3g vs max|g| %.3g\n", what, t->name, md, mx);
    }
  }
  CHECK_MSG(bad == 0, "%s: %d tensors differ", what, bad);
}

static void compare_tokens(const char *what, const grp *q, const result *a, const result *b) {
  int bad = 0;
  size_t n = (size_t)q->G * q->R + (size_t)q->P;
  for (size_t i = 0; i < n; i++) {
    if (!(fabs(a->logp[i] - b->logp[i]) <= 1e-5 * (1 + fabs(b->logp[i])))) bad++;
    if (!(fabs(a->ent[i] - b->ent[i]) <= 1e-5 * (1 + fabs(b->ent[i])))) bad++;
  }
  CHECK_MSG(bad == 0, "%s: %d per-token logp/entropy values differ", what, bad);
  CHECK_MSG(fabs(a->st.loss - b->st.loss) <= 1e-5 * (1e-3 + fabs(b->st.loss)), "%s: loss %.9g vs %.9g",
            what, a->st.loss, b->st.loss);
  CHECK_MSG(a->st.n_tokens == b->st.n_tokens, "%s: n_tokens %g vs %g", what, a->st.n_tokens, b->st.n_tokens);
  CHECK_MSG(fabs(a->st.sum_logp - b->st.sum_logp) <= 1e-5 * (1 + fabs(b->st.sum_logp)),
            "%s: sum_logp %.9g vs %.9g", what, a->st.sum_logp, b->st.sum_logp);
}

static skl_model_config arch_config(skl_arch arch, int V, int C, int NH, int NKV, int HD, int FF) {
  skl_model_config c = tu_config(arch, V, C, 2, NH, NKV, HD, FF);
  c.tie_embeddings = arch == SKL_ARCH_QWEN2;
  return c;
}

static const char *arch_name(skl_arch a) {
  return a == SKL_ARCH_QWEN2 ? "qwen2" : a == SKL_ARCH_QWEN3 ? "qwen3" : "llama";
}

/* One case: group vs plain, with and without recompute. */
static void check_case(skl_arch arch, const skl_model_config *c, int P, int G, int R, bool prefix_loss,
                       uint64_t seed) {
  skl_model m;
  skl_error err = {0};
  if (skl_model_init(&m, c, &err) || skl_model_grads_alloc(&m, &err)) {
    CHECK_MSG(0, "model init: %s", err.msg);
    return;
  }
  tu_randomize(&m, seed, 0.2f);
  grp q;
  grp_make(&q, c->vocab_size, P, G, R, prefix_loss, seed + 1);
  for (int rec = 0; rec < 2; rec++) {
    char what[160];
    snprintf(what, sizeof what, "%s P=%d G=%d R=%d%s%s scale %g", arch_name(arch), P, G, R,
             prefix_loss ? " prefix-loss" : "", rec ? " recompute" : "", (double)g_scale);
    result pl, gr;
    result_init(&pl, &m, &q);
    result_init(&gr, &m, &q);
    int rc1 = run_plain(&m, &q, rec, &pl), rc2 = run_group(&m, &q, rec, &gr);
    CHECK_MSG(rc1 == 0 && rc2 == 0, "%s: steps failed", what);
    if (!rc1 && !rc2) {
      compare_grads(what, &m, gr.grad, pl.grad);
      compare_tokens(what, &q, &gr, &pl);
    }
    result_free(&pl);
    result_free(&gr);
  }
  grp_free(&q);
  skl_model_free(&m);
}

static void test_exact(void) {
  skl_arch archs[3] = {SKL_ARCH_LLAMA, SKL_ARCH_QWEN2, SKL_ARCH_QWEN3};
  for (int ai = 0; ai < 3; ai++) {
    skl_model_config c = arch_config(archs[ai], 64, 32, 4, 2, 8, 48);
    uint64_t s = 100 + 10 * (uint64_t)ai;
    check_case(archs[ai], &c, 37, 1, 20, false, s + 1);
    check_case(archs[ai], &c, 150, 3, 40, false, s + 2); /* prefix over one tile */
    check_case(archs[ai], &c, 20, 8, 33, false, s + 3);
    check_case(archs[ai], &c, 29, 3, 17, true, s + 4);   /* prefix targets count G times */
  }
  skl_model_config c = arch_config(SKL_ARCH_LLAMA, 64, 32, 4, 2, 8, 48);
  check_case(SKL_ARCH_LLAMA, &c, 0, 3, 25, false, 200); /* no shared prefix */
  check_case(SKL_ARCH_LLAMA, &c, 1, 8, 9, false, 201);
  /* logits scaled by 1/temperature, the same in both paths */
  g_scale = 1.0f / 0.7f;
  for (int ai = 0; ai < 3; ai++) {
    skl_model_config ca = arch_config(archs[ai], 64, 32, 4, 2, 8, 48);
    check_case(archs[ai], &ca, 45, 3, 21, ai == 2, 210 + (uint64_t)ai);
  }
  g_scale = 0.0f;
}

/* ---- logit scale (1/temperature) in skl_model_step ------------------------ */

typedef struct {
  skl_model *m;
  skl_acts *a;
  skl_batch *b;
} scale_ctx;

static double scale_loss(scale_ctx *x) {
  skl_step_stats st;
  skl_error err = {0};
  if (skl_model_step(x->m, x->a, x->b, false, &st, &err)) return NAN;
  return st.loss;
}

/* logp/entropy with logit_scale s are those of softmax(s * logits) (logits
 * from skl_model_logits at scale 1, in double), and the gradient of the
 * scaled loss matches central differences. */
static void test_logit_scale(void) {
  skl_model_config c = arch_config(SKL_ARCH_QWEN3, 48, 24, 4, 2, 6, 40);
  skl_model m;
  skl_acts a;
  skl_error err = {0};
  if (skl_model_init(&m, &c, &err) || skl_model_grads_alloc(&m, &err) ||
      skl_acts_init(&a, &c, 2, 30, false, &err)) {
    CHECK_MSG(0, "init: %s", err.msg);
    return;
  }
  tu_randomize(&m, 21, 0.3f);
  tu_batch tb;
  tu_batch_make(&tb, 2, 30, c.vocab_size, 30, 22);
  skl_batch b = tb.b;
  int N = 60, V = c.vocab_size;
  float *logits = malloc(sizeof(float) * (size_t)N * V);
  CHECK(skl_model_logits(&m, &a, &b, logits, &err) == SKL_OK);
  const float s = 1.0f / 0.6f;
  b.logit_scale = s;
  skl_step_stats st;
  skl_model_zero_grad(&m);
  CHECK(skl_model_step(&m, &a, &b, true, &st, &err) == SKL_OK);
  double worst = 0;
  for (int n = 0; n < N; n++) {
    if (b.targets[n] < 0) continue;
    double mx = -INFINITY, z = 0, e = 0;
    for (int v = 0; v < V; v++) mx = fmax(mx, (double)s * logits[(size_t)n * V + v]);
    for (int v = 0; v < V; v++) z += exp((double)s * logits[(size_t)n * V + v] - mx);
    for (int v = 0; v < V; v++) {
      double lp = (double)s * logits[(size_t)n * V + v] - mx - log(z);
      e -= exp(lp) * lp;
    }
    double lpy = (double)s * logits[(size_t)n * V + b.targets[n]] - mx - log(z);
    worst = fmax(worst, fabs(lpy - a.logp[n]));
    worst = fmax(worst, fabs(e - a.entropy[n]));
  }
  CHECK_MSG(worst < 1e-4, "logp/entropy at scale %g differ from softmax(s * logits) by %.3g", (double)s, worst);
  /* the unscaled step differs (the test would not see a missing scale otherwise) */
  b.logit_scale = 0;
  skl_step_stats st1;
  CHECK(skl_model_step(&m, &a, &b, false, &st1, &err) == SKL_OK);
  CHECK_MSG(fabs(st1.loss - st.loss) > 1e-3 * fabs(st.loss), "scale changes nothing: %g vs %g", st1.loss, st.loss);
  b.logit_scale = s;
  /* finite differences on the scaled loss (eps 1e-2, as test_model_grad.c) */
  float *grad = malloc(sizeof(float) * m.n_params);
  memcpy(grad, m.grad_mem, sizeof(float) * m.n_params);
  scale_ctx x = {&m, &a, &b};
  const char *names[] = {"lm_head.weight", "model.norm.weight", "model.layers.1.self_attn.q_proj.weight",
                         "model.layers.0.mlp.down_proj.weight", "model.embed_tokens.weight"};
  for (int t = 0; t < 5; t++) {
    const skl_tensor_info *ti = skl_model_find_tensor(&m, names[t]);
    if (!ti) {
      CHECK_MSG(0, "no tensor %s", names[t]);
      continue;
    }
    size_t step = ti->numel / 24 + 1;
    double maxnum = 0, maxerr = 0;
    for (size_t i = 0; i < ti->numel; i += step) {
      float *p = m.param_mem + ti->offset + i, keep = *p;
      const float eps = 1e-2f;
      *p = keep + eps;
      double jp = scale_loss(&x);
      *p = keep - eps;
      double jm = scale_loss(&x);
      *p = keep;
      double num = (jp - jm) / (2.0 * eps);
      maxnum = fmax(maxnum, fabs(num));
      maxerr = fmax(maxerr, fabs(num - grad[ti->offset + i]));
    }
    CHECK_MSG(maxnum > 0 && maxerr <= 2e-2 * maxnum + 1e-4, "%s at scale %g: max |analytic-numeric| %.3g vs %.3g",
              names[t], (double)s, maxerr, maxnum);
  }
  free(grad);
  free(logits);
  tu_batch_free(&tb);
  skl_acts_free(&a);
  skl_model_free(&m);
}

/* The prompt's K/V gradients must be SUMMED over the suffixes: with no
 * prefix loss, the prefix's embedding rows (ids disjoint from the
 * suffixes') get gradient only through the prefix's keys and values. G=3 in
 * one step must equal the three G=1 steps accumulated, and differ from any
 * single one of them (a kernel keeping one suffix's dk/dv would pass
 * neither). */
static void test_prefix_kv_sum(void) {
  skl_model_config c = arch_config(SKL_ARCH_QWEN3, 64, 32, 4, 2, 8, 48);
  skl_model m;
  skl_error err = {0};
  if (skl_model_init(&m, &c, &err) || skl_model_grads_alloc(&m, &err)) {
    CHECK_MSG(0, "model init: %s", err.msg);
    return;
  }
  tu_randomize(&m, 7, 0.2f);
  grp q;
  grp_make(&q, c.vocab_size, 60, 3, 24, false, 8);
  q.gb.loss_norm = 50; /* fixed, so per-suffix steps use the same scale */
  skl_group_acts ga;
  if (skl_group_acts_init(&ga, &c, q.P, q.G, q.R, true, &err)) {
    CHECK_MSG(0, "acts: %s", err.msg);
    return;
  }
  result all, acc, one;
  result_init(&all, &m, &q);
  result_init(&acc, &m, &q);
  result_init(&one, &m, &q);
  CHECK(run_group_into(&m, &ga, &q.gb, q.R, &all, true) == 0);
  skl_model_zero_grad(&m);
  for (int g = 0; g < q.G; g++) {
    skl_group_batch b1 = q.gb;
    b1.G = 1;
    b1.len = q.len + g;
    b1.tokens = q.tok + (size_t)g * q.R;
    b1.targets = q.tgt + (size_t)g * q.R;
    b1.mask = q.mask + (size_t)g * q.R;
    b1.weight = q.w + (size_t)g * q.R;
    CHECK(run_group_into(&m, &ga, &b1, q.R, &acc, false) == 0);
    if (g == 0) memcpy(one.grad, acc.grad, m.n_params * sizeof(float));
  }
  size_t C = (size_t)c.hidden_size, rows = (size_t)c.vocab_size / 2;
  double mx = 0, d_acc = 0, d_one = 0;
  for (size_t i = 0; i < rows * C; i++) { /* embedding rows of prefix ids */
    double a = all.grad[i];
    mx = fabs(a) > mx ? fabs(a) : mx;
    d_acc = fmax(d_acc, fabs(a - acc.grad[i]));
    d_one = fmax(d_one, fabs(a - one.grad[i]));
  }
  CHECK_MSG(mx > 1e-6, "prefix embedding gradient is zero (max %.3g)", mx);
  CHECK_MSG(d_acc <= 2e-5 * mx + 1e-7, "G=3 vs three G=1 steps: %.3g (max %.3g)", d_acc, mx);
  CHECK_MSG(d_one > 0.05 * mx, "G=3 equals one suffix's contribution: %.3g (max %.3g)", d_one, mx);
  compare_grads("G=3 vs accumulated G=1", &m, all.grad, acc.grad);
  result_free(&all);
  result_free(&acc);
  result_free(&one);
  skl_group_acts_free(&ga);
  grp_free(&q);
  skl_model_free(&m);
}

/* Sizes above every parallel threshold: 1 and 2 threads give the same bits. */
static void test_threads(void) {
  skl_model_config c = arch_config(SKL_ARCH_QWEN3, 128, 64, 4, 2, 16, 128);
  skl_model m;
  skl_error err = {0};
  if (skl_model_init(&m, &c, &err) || skl_model_grads_alloc(&m, &err)) {
    CHECK_MSG(0, "model init: %s", err.msg);
    return;
  }
  tu_randomize(&m, 11, 0.1f);
  grp q;
  grp_make(&q, c.vocab_size, 520, 3, 140, true, 12);
  omp_set_num_threads(2);
  skl_group_acts ga;
  if (skl_group_acts_init(&ga, &c, q.P, q.G, q.R, false, &err)) {
    CHECK_MSG(0, "acts: %s", err.msg);
    return;
  }
  result r1, r2;
  result_init(&r1, &m, &q);
  result_init(&r2, &m, &q);
  omp_set_num_threads(1);
  CHECK(run_group_into(&m, &ga, &q.gb, q.R, &r1, true) == 0);
  omp_set_num_threads(2);
  CHECK(run_group_into(&m, &ga, &q.gb, q.R, &r2, true) == 0);
  size_t n = (size_t)q.G * q.R + (size_t)q.P;
  CHECK_MSG(!memcmp(r1.grad, r2.grad, m.n_params * sizeof(float)), "gradients differ, 1 vs 2 threads");
  CHECK_MSG(!memcmp(r1.logp, r2.logp, n * sizeof(float)), "logp differs, 1 vs 2 threads");
  CHECK_MSG(!memcmp(r1.ent, r2.ent, n * sizeof(float)), "entropy differs, 1 vs 2 threads");
  CHECK(r1.st.loss == r2.st.loss);
  result_free(&r1);
  result_free(&r2);
  skl_group_acts_free(&ga);
  grp_free(&q);
  skl_model_free(&m);
}

static void test_bad_input(void) {
  skl_model_config c = arch_config(SKL_ARCH_LLAMA, 64, 32, 4, 2, 8, 48);
  skl_model m;
  skl_error err = {0};
  if (skl_model_init(&m, &c, &err) || skl_model_grads_alloc(&m, &err)) {
    CHECK_MSG(0, "model init: %s", err.msg);
    return;
  }
  grp q;
  grp_make(&q, c.vocab_size, 10, 3, 8, false, 3);
  for (int g = 0; g < 3; g++) q.len[g] = 8; /* every column exists */
  skl_group_acts ga;
  CHECK(skl_group_acts_init(&ga, &c, 10, 3, 0, false, &err) == SKL_ERR_RANGE);
  skl_group_acts_free(&ga); /* half-built: fine */
  if (skl_group_acts_init(&ga, &c, 10, 3, 8, false, &err)) {
    CHECK_MSG(0, "acts: %s", err.msg);
    return;
  }
  skl_step_stats st;
  q.tok[1 * 8 + 2] = 64;
  CHECK(skl_group_step(&m, &ga, &q.gb, true, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "suffix 1 column 2: token id 64");
  q.tok[1 * 8 + 2] = 40;
  q.prefix[4] = -3;
  CHECK(skl_group_step(&m, &ga, &q.gb, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "prefix column 4: token id -3");
  q.prefix[4] = 3;
  q.tgt[2 * 8 + 7] = 99;
  CHECK(skl_group_step(&m, &ga, &q.gb, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "suffix 2 column 7: target id 99");
  q.tgt[2 * 8 + 7] = 1;
  q.len[0] = 9;
  CHECK(skl_group_step(&m, &ga, &q.gb, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "suffix 0 has 9 tokens");
  q.len[0] = 8;
  skl_group_batch b = q.gb;
  b.G = 4;
  CHECK(skl_group_step(&m, &ga, &b, false, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "4 suffixes do not fit");
  CHECK(skl_group_step(&m, &ga, &q.gb, true, &st, &err) == SKL_OK);
  skl_model mg;
  if (!skl_model_init(&mg, &c, &err)) {
    CHECK(skl_group_step(&mg, &ga, &q.gb, true, &st, &err) == SKL_ERR_STATE);
    skl_model_free(&mg);
  }
  skl_group_acts_free(&ga);
  skl_group_acts_free(NULL);
  grp_free(&q);
  skl_model_free(&m);
}

/* Long prefixes, suffixes over one tile, GRPO-like G = 8. */
static void test_slow(void) {
  const char *sz = getenv("SKL_SLOW_SIZE");
  bool full = sz && !strcmp(sz, "full");
  int P = full ? 3000 : 600;
  skl_model_config c = arch_config(SKL_ARCH_LLAMA, 96, 64, 4, 2, 16, 96);
  check_case(SKL_ARCH_LLAMA, &c, P, 8, 140, false, 300);
  c = arch_config(SKL_ARCH_QWEN3, 96, 64, 4, 4, 16, 96);
  check_case(SKL_ARCH_QWEN3, &c, P + 77, 3, 130, true, 301);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "slow")) {
    test_slow();
  } else {
    test_exact();
    test_logit_scale();
    test_prefix_kv_sum();
    test_threads();
    test_bad_input();
  }
  printf("largest per-tensor gradient difference / max|g|: %.3g\n", worst_ratio);
  return test_report();
}
