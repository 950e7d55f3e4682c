/* Finite-difference gradient checks for every layer of src/model and for the
 * whole model, plus the attention identities the shared-prefix design relies
 * on. Not the PyTorch comparison (test_model_ref.c).
 *
 * Method: a scalar probe loss J = sum(R .* out) with fixed random R (double
 * accumulation); central differences with eps = 1e-2 on fp32 inputs.
 * Tolerance: |analytic - numeric| <= 2e-2 * max|numeric| + 1e-4 per tensor
 * (fp32 forward rounding / eps dominates the numeric side). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model_testutil.h"

static skl_rng g_rng_state; /* test-local generator for data (not library state) */

static float *randn(size_t n, float s) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = (float)skl_rng_normal(&g_rng_state) * s;
  return p;
}
static float *zeros(size_t n) { return calloc(n, sizeof(float)); }

static double dotd(const float *a, const float *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

/* A probe: recompute J for the current inputs. */
typedef double (*probe_fn)(void *ctx);

/* Compare grad[n] against central differences of J w.r.t. x[n] on up to
 * `samples` evenly spread elements. */
static void fd_check(const char *what, probe_fn J, void *ctx, float *x, const float *grad, size_t n,
                     int samples) {
  const float eps = 1e-2f;
  size_t step = n > (size_t)samples ? n / samples : 1;
  double maxnum = 0, maxerr = 0;
  size_t cnt = 0;
  double *num = malloc(sizeof(double) * (n / step + 1));
  double *ana = malloc(sizeof(double) * (n / step + 1));
  for (size_t i = 0; i < n; i += step) {
    float keep = x[i];
    x[i] = keep + eps;
    double jp = J(ctx);
    x[i] = keep - eps;
    double jm = J(ctx);
    x[i] = keep;
    num[cnt] = (jp - jm) / (2.0 * eps);
    ana[cnt] = grad[i];
    if (fabs(num[cnt]) > maxnum) maxnum = fabs(num[cnt]);
    cnt++;
  }
  for (size_t i = 0; i < cnt; i++)
    if (fabs(num[i] - ana[i]) > maxerr) maxerr = fabs(num[i] - ana[i]);
  CHECK_MSG(maxnum > 0, "%s: numeric gradient is all zero (probe does not reach it)", what);
  CHECK_MSG(maxerr <= 2e-2 * maxnum + 1e-4, "%s: max |analytic-numeric| %.3g vs max|numeric| %.3g",
            what, maxerr, maxnum);
  free(num);
  free(ana);
}

/* ---- rmsnorm ----------------------------------------------------------- */
typedef struct {
  float *x, *w, *out, *R;
  int N, C;
} rms_ctx;
static double rms_J(void *p) {
  rms_ctx *c = p;
  skl_rmsnorm_forward(c->out, NULL, c->x, c->w, c->N, c->C, 1e-5f);
  return dotd(c->out, c->R, (size_t)c->N * c->C);
}
static void test_rmsnorm(void) {
  int N = 5, C = 24;
  rms_ctx c = {randn(N * C, 1), randn(C, 1), zeros(N * C), randn(N * C, 1), N, C};
  float *rstd = zeros(N), *dx = zeros(N * C), *dw = zeros(C);
  skl_rmsnorm_forward(c.out, rstd, c.x, c.w, N, C, 1e-5f);
  skl_rmsnorm_backward(dx, dw, c.R, c.x, c.w, rstd, N, C);
  fd_check("rmsnorm dx", rms_J, &c, c.x, dx, N * C, 60);
  fd_check("rmsnorm dw", rms_J, &c, c.w, dw, C, 24);
  /* accumulation: a second backward doubles the gradients */
  float before = dw[3];
  skl_rmsnorm_backward(dx, dw, c.R, c.x, c.w, rstd, N, C);
  CHECK_NEAR(dw[3], 2 * before, 1e-5 * fabs(before) + 1e-7);
  free(c.x), free(c.w), free(c.out), free(c.R), free(rstd), free(dx), free(dw);
}

/* ---- linear ------------------------------------------------------------ */
typedef struct {
  float *x, *w, *b, *out, *R;
  int N, IC, OC;
} lin_ctx;
static double lin_J(void *p) {
  lin_ctx *c = p;
  skl_linear_forward(c->out, c->x, c->w, c->b, c->N, c->IC, c->OC);
  return dotd(c->out, c->R, (size_t)c->N * c->OC);
}
static void test_linear(void) {
  int N = 7, IC = 9, OC = 11;
  lin_ctx c = {randn(N * IC, 1), randn(OC * IC, 1), randn(OC, 1), zeros(N * OC), randn(N * OC, 1),
               N, IC, OC};
  float *dx = zeros(N * IC), *dw = zeros(OC * IC), *db = zeros(OC);
  skl_linear_backward(dx, dw, db, c.R, c.x, c.w, N, IC, OC);
  fd_check("linear dx", lin_J, &c, c.x, dx, N * IC, 63);
  fd_check("linear dw", lin_J, &c, c.w, dw, OC * IC, 99);
  fd_check("linear dbias", lin_J, &c, c.b, db, OC, 11);
  free(c.x), free(c.w), free(c.b), free(c.out), free(c.R), free(dx), free(dw), free(db);
}

/* ---- swiglu ------------------------------------------------------------ */
typedef struct {
  float *g, *u, *out, *R;
  size_t n;
} sw_ctx;
static double sw_J(void *p) {
  sw_ctx *c = p;
  skl_swiglu_forward(c->out, c->g, c->u, c->n);
  return dotd(c->out, c->R, c->n);
}
static void test_swiglu(void) {
  size_t n = 50;
  sw_ctx c = {randn(n, 2), randn(n, 1), zeros(n), randn(n, 1), n};
  float *dg = zeros(n), *du = zeros(n);
  skl_swiglu_backward(dg, du, c.R, c.g, c.u, n);
  fd_check("swiglu dgate", sw_J, &c, c.g, dg, n, 50);
  fd_check("swiglu dup", sw_J, &c, c.u, du, n, 50);
  free(c.g), free(c.u), free(c.out), free(c.R), free(dg), free(du);
}

/* ---- rope -------------------------------------------------------------- */
typedef struct {
  float *x, *y, *cs, *R;
  int N, H, HD;
} rope_ctx;
static double rope_J(void *p) {
  rope_ctx *c = p;
  memcpy(c->y, c->x, sizeof(float) * c->N * c->H * c->HD);
  skl_rope_forward(c->y, c->cs, c->N, c->H, c->HD, (size_t)c->H * c->HD);
  return dotd(c->y, c->R, (size_t)c->N * c->H * c->HD);
}
static void test_rope(void) {
  int N = 6, H = 3, HD = 8;
  skl_model_config cfg = tu_config(SKL_ARCH_LLAMA, 10, 24, 1, 3, 3, HD, 8);
  cfg.rope_type = SKL_ROPE_YARN; /* attention factor != 1 exercises the scaling */
  cfg.rope_factor = 4;
  cfg.rope_orig_max_position = 64;
  float inv[4], af;
  skl_rope_init(inv, &af, &cfg);
  CHECK(af > 1.0f);
  int32_t pos[6] = {0, 1, 2, 0, 7, 300};
  rope_ctx c = {randn(N * H * HD, 1), zeros(N * H * HD), zeros(N * HD), randn(N * H * HD, 1), N, H, HD};
  skl_rope_table(c.cs, pos, N, inv, af, HD);
  float *dx = malloc(sizeof(float) * N * H * HD);
  memcpy(dx, c.R, sizeof(float) * N * H * HD);
  skl_rope_backward(dx, c.cs, N, H, HD, (size_t)H * HD);
  fd_check("rope dx", rope_J, &c, c.x, dx, N * H * HD, 144);
  /* position 0 is the identity (times the attention factor) */
  rope_J(&c);
  CHECK_NEAR(c.y[5], c.x[5] * af, 1e-6);
  free(c.x), free(c.y), free(c.cs), free(c.R), free(dx);
}

/* ---- attention --------------------------------------------------------- */
typedef struct {
  float *q, *k, *v, *out, *lse, *R;
  skl_attn_shape s;
} att_ctx;
static double att_J(void *p) {
  att_ctx *c = p;
  skl_attn_forward(c->out, c->lse, c->q, c->k, c->v, &c->s);
  return dotd(c->out, c->R, (size_t)c->s.Tq * c->s.NH * c->s.HD);
}

/* Naive attention (double) for one configuration: out and lse. */
static void naive_attn(double *out, double *lse, const float *q, const float *k, const float *v,
                       const skl_attn_shape *s) {
  int grp = s->NH / s->NKV;
  double *sc = malloc(sizeof(double) * s->Tk);
  for (int h = 0; h < s->NH; h++)
    for (int i = 0; i < s->Tq; i++) {
      double mx = -INFINITY;
      for (int j = 0; j < s->Tk; j++) {
        bool vis = s->k_off + j <= s->q_off + i && (!s->q_doc || s->q_doc[i] == s->k_doc[j]);
        double d = 0;
        for (int e = 0; e < s->HD; e++)
          d += (double)q[i * s->q_stride + h * s->HD + e] * k[j * s->k_stride + (h / grp) * s->HD + e];
        sc[j] = vis ? d * s->scale : -INFINITY;
        if (sc[j] > mx) mx = sc[j];
      }
      double z = 0;
      for (int j = 0; j < s->Tk; j++) z += sc[j] == -INFINITY ? 0 : exp(sc[j] - mx);
      for (int e = 0; e < s->HD; e++) {
        double a = 0;
        for (int j = 0; j < s->Tk; j++)
          if (sc[j] != -INFINITY) a += exp(sc[j] - mx) / z * v[j * s->v_stride + (h / grp) * s->HD + e];
        out[(size_t)i * s->NH * s->HD + h * s->HD + e] = z > 0 ? a : 0;
      }
      lse[(size_t)h * s->Tq + i] = z > 0 ? mx + log(z) : -INFINITY;
    }
  free(sc);
}

static void test_attention(void) {
  /* T spans three tiles; GQA 4 heads on 2 kv heads; packed documents */
  int T = 150, NH = 4, NKV = 2, HD = 8;
  int32_t *doc = malloc(sizeof(int32_t) * T);
  for (int t = 0; t < T; t++) doc[t] = t < 70 ? 0 : t < 71 ? 1 : 2; /* doc 1 has one token */
  att_ctx c;
  memset(&c, 0, sizeof c);
  c.s = (skl_attn_shape){.Tq = T, .Tk = T, .NH = NH, .NKV = NKV, .HD = HD, .q_doc = doc, .k_doc = doc,
                         .scale = 1.0f / sqrtf((float)HD), .q_stride = NH * HD, .k_stride = NKV * HD,
                         .v_stride = NKV * HD, .o_stride = NH * HD};
  c.q = randn(T * NH * HD, 1.5f);
  c.k = randn(T * NKV * HD, 1.5f);
  c.v = randn(T * NKV * HD, 1);
  c.out = zeros(T * NH * HD);
  c.lse = zeros(NH * T);
  c.R = randn(T * NH * HD, 1);
  att_J(&c);
  double *ro = malloc(sizeof(double) * T * NH * HD), *rl = malloc(sizeof(double) * NH * T);
  naive_attn(ro, rl, c.q, c.k, c.v, &c.s);
  double e1 = 0, e2 = 0;
  for (int i = 0; i < T * NH * HD; i++) e1 = fmax(e1, fabs(ro[i] - c.out[i]));
  for (int i = 0; i < NH * T; i++) e2 = fmax(e2, fabs(rl[i] - c.lse[i]));
  CHECK_MSG(e1 < 2e-5 && e2 < 2e-5, "attention vs naive: out err %.3g lse err %.3g", e1, e2);
  /* the one-token document attends only to itself: out == v of that token */
  CHECK_NEAR(c.out[70 * NH * HD + 0], c.v[70 * NKV * HD + 0], 1e-5);
  float *dq = zeros(T * NH * HD), *dk = zeros(T * NKV * HD), *dv = zeros(T * NKV * HD);
  float *scr = zeros(skl_attn_scratch_floats(&c.s));
  skl_attn_backward(dq, dk, dv, c.R, c.q, c.k, c.v, c.out, c.lse, &c.s, scr);
  fd_check("attention dq", att_J, &c, c.q, dq, T * NH * HD, 48);
  fd_check("attention dk", att_J, &c, c.k, dk, T * NKV * HD, 48);
  fd_check("attention dv", att_J, &c, c.v, dv, T * NKV * HD, 48);

  /* Shared prefix: prompt P tokens, response R tokens. Two partial calls +
   * merge equal one call over the concatenation; backward per K/V range
   * with the final out/lse sums to the full gradients. */
  int P = 90, Rn = 60;
  skl_attn_shape full = c.s;
  full.q_doc = full.k_doc = NULL;
  skl_attn_forward(c.out, c.lse, c.q, c.k, c.v, &full);
  skl_attn_shape sp = full, ss = full; /* response queries vs prompt, vs self */
  sp.Tq = ss.Tq = Rn;
  sp.q_off = ss.q_off = P;
  sp.Tk = P;
  sp.k_off = 0;
  ss.Tk = Rn;
  ss.k_off = P;
  const float *qr = c.q + (size_t)P * NH * HD, *kr = c.k + (size_t)P * NKV * HD,
              *vr = c.v + (size_t)P * NKV * HD;
  float *o1 = zeros(Rn * NH * HD), *l1 = zeros(NH * Rn), *o2 = zeros(Rn * NH * HD), *l2 = zeros(NH * Rn);
  skl_attn_forward(o1, l1, qr, c.k, c.v, &sp);
  skl_attn_forward(o2, l2, qr, kr, vr, &ss);
  skl_attn_merge(o1, l1, o2, l2, &sp);
  double em = 0, el = 0;
  for (int i = 0; i < Rn * NH * HD; i++) em = fmax(em, fabs(o1[i] - c.out[(size_t)P * NH * HD + i]));
  for (int h = 0; h < NH; h++)
    for (int i = 0; i < Rn; i++) el = fmax(el, fabs(l1[h * Rn + i] - c.lse[h * T + P + i]));
  CHECK_MSG(em < 1e-5 && el < 1e-5, "shared-prefix merge: out err %.3g lse err %.3g", em, el);
  /* backward: full-sequence reference grads for the response queries */
  memset(dq, 0, sizeof(float) * T * NH * HD);
  memset(dk, 0, sizeof(float) * T * NKV * HD);
  memset(dv, 0, sizeof(float) * T * NKV * HD);
  float *Rz = zeros(T * NH * HD); /* dout only on response rows */
  memcpy(Rz + (size_t)P * NH * HD, c.R + (size_t)P * NH * HD, sizeof(float) * Rn * NH * HD);
  skl_attn_backward(dq, dk, dv, Rz, c.q, c.k, c.v, c.out, c.lse, &full, NULL);
  float *dq2 = zeros(Rn * NH * HD), *dk2 = zeros(T * NKV * HD), *dv2 = zeros(T * NKV * HD);
  const float *dor = Rz + (size_t)P * NH * HD;
  skl_attn_backward(dq2, dk2, dv2, dor, qr, c.k, c.v, o1, l1, &sp, NULL);
  skl_attn_backward(dq2, dk2 + (size_t)P * NKV * HD, dv2 + (size_t)P * NKV * HD, dor, qr, kr, vr, o1,
                    l1, &ss, NULL);
  double gq = 0, gk = 0, gv = 0;
  for (int i = 0; i < Rn * NH * HD; i++) gq = fmax(gq, fabs(dq2[i] - dq[(size_t)P * NH * HD + i]));
  for (int i = 0; i < T * NKV * HD; i++) {
    gk = fmax(gk, fabs(dk2[i] - dk[i]));
    gv = fmax(gv, fabs(dv2[i] - dv[i]));
  }
  CHECK_MSG(gq < 1e-4 && gk < 1e-4 && gv < 1e-4, "shared-prefix backward: dq %.3g dk %.3g dv %.3g",
            gq, gk, gv);
  /* a query that sees no key: out 0, lse -inf, no NaN in the backward */
  skl_attn_shape none = ss;
  none.q_off = 0;
  none.k_off = 1000;
  none.Tq = 3;
  skl_attn_forward(o2, l2, qr, kr, vr, &none);
  CHECK(o2[0] == 0.0f && isinf(l2[0]) && l2[0] < 0);
  memset(dq2, 0, sizeof(float) * Rn * NH * HD);
  skl_attn_backward(dq2, dk2, dv2, dor, qr, kr, vr, o2, l2, &none, NULL);
  CHECK(dq2[0] == 0.0f && !isnan(dk2[P * NKV * HD]));
  free(doc), free(c.q), free(c.k), free(c.v), free(c.out), free(c.lse), free(c.R), free(ro), free(rl);
  free(dq), free(dk), free(dv), free(scr), free(o1), free(l1), free(o2), free(l2), free(Rz), free(dq2);
  free(dk2), free(dv2);
}

/* ---- fused cross-entropy ------------------------------------------------ */
typedef struct {
  float *x, *w, *coef, *scr;
  int32_t *y;
  int N, C, V;
} ce_ctx;
static double ce_J(void *p) {
  ce_ctx *c = p;
  return skl_ce_fused(NULL, NULL, NULL, NULL, NULL, c->x, c->w, c->y, c->coef, c->N, c->C, c->V, c->scr);
}
static void test_ce(void) {
  int N = 1100, C = 8, V = 50; /* chunk = 1024 rows: two chunks */
  CHECK(skl_ce_chunk(V) < N);
  ce_ctx c = {randn(N * C, 1), randn(V * C, 0.5f), randn(N, 1), NULL, malloc(sizeof(int32_t) * N), N, C, V};
  c.scr = zeros(skl_ce_scratch_floats(V, C));
  for (int n = 0; n < N; n++) c.y[n] = n % 7 == 3 ? -1 : (n * 37) % V;
  float *lp = zeros(N), *ent = zeros(N), *top1 = zeros(N), *dx = zeros(N * C), *dw = zeros(V * C);
  double loss = skl_ce_fused(lp, ent, top1, dx, dw, c.x, c.w, c.y, c.coef, N, C, V, c.scr);
  CHECK_NEAR(loss, ce_J(&c), 1e-9 * fabs(loss) + 1e-9);
  /* per-token log-prob and entropy against a direct double computation */
  double elp = 0, een = 0, lsum = 0;
  int top1_bad = 0, top1_hits = 0;
  for (int n = 0; n < N; n++) {
    double *lg = malloc(sizeof(double) * V), mx = -INFINITY, z = 0, el = 0;
    int am = 0;
    for (int j = 0; j < V; j++) {
      lg[j] = 0;
      for (int e = 0; e < C; e++) lg[j] += (double)c.x[n * C + e] * c.w[j * C + e];
      if (lg[j] > mx) am = j;
      mx = fmax(mx, lg[j]);
    }
    /* top1: the target is the argmax (double reference; no near-ties here) */
    top1_bad += top1[n] != (c.y[n] >= 0 && am == c.y[n] ? 1.0f : 0.0f);
    top1_hits += top1[n] != 0;
    for (int j = 0; j < V; j++) z += exp(lg[j] - mx);
    for (int j = 0; j < V; j++) el -= exp(lg[j] - mx) / z * (lg[j] - mx - log(z));
    double want = c.y[n] < 0 ? 0 : lg[c.y[n]] - mx - log(z);
    if (c.y[n] >= 0) lsum += -want * c.coef[n];
    elp = fmax(elp, fabs(want - lp[n]));
    een = fmax(een, fabs((c.y[n] < 0 ? 0 : el) - ent[n]));
    free(lg);
  }
  CHECK_MSG(elp < 1e-4 && een < 1e-4, "ce logp err %.3g entropy err %.3g", elp, een);
  CHECK_MSG(top1_bad == 0 && top1_hits > 0, "ce top1: %d of %d wrong (%d hits)", top1_bad, N, top1_hits);
  free(top1);
  double labs = 0;
  for (int n = 0; n < N; n++) labs += fabs(c.coef[n]) * fabs(lp[n]);
  CHECK_NEAR(loss, lsum, 1e-5 * labs);
  fd_check("ce dx", ce_J, &c, c.x, dx, N * C, 60);
  fd_check("ce dwout", ce_J, &c, c.w, dw, V * C, 60);
  /* ignored targets contribute no gradient */
  CHECK(dx[3 * C] == 0.0f && dx[3 * C + 5] == 0.0f && dx[1 * C] != 0.0f);
  /* 150k vocabulary: the chunk keeps logits small */
  CHECK(skl_ce_scratch_floats(151936, 896) <= (size_t)64 * 151936);
  free(c.x), free(c.w), free(c.coef), free(c.scr), free(c.y), free(lp), free(ent), free(dx), free(dw);
}

/* The returned loss is the row-order sum of coef * -logp, bit for bit, at any
 * thread count (chunks large enough to run in parallel). */
static void test_ce_loss_order(void) {
  int N = 2500, C = 8, V = 512;
  float *x = randn(N * C, 1), *w = randn(V * C, 0.5f), *coef = randn(N, 1), *lp = zeros(N);
  float *scr = zeros(skl_ce_scratch_floats(V, C));
  int32_t *y = malloc(sizeof(int32_t) * N);
  for (int n = 0; n < N; n++) y[n] = n % 5 == 1 ? -1 : (n * 53) % V;
  int hi = omp_get_max_threads() > 1 ? omp_get_max_threads() : 2;
  double loss[2];
  for (int t = 0; t < 2; t++) {
    omp_set_num_threads(t ? hi : 1);
    loss[t] = skl_ce_fused(lp, NULL, NULL, NULL, NULL, x, w, y, coef, N, C, V, scr);
    double want = 0;
    for (int n = 0; n < N; n++)
      if (y[n] >= 0) want += (double)coef[n] * (double)(-lp[n]);
    CHECK_MSG(loss[t] == want, "ce loss %.17g vs row-order sum %.17g at %d threads", loss[t], want, t ? hi : 1);
  }
  CHECK(loss[0] == loss[1]);
  omp_set_num_threads(hi);
  free(x), free(w), free(coef), free(lp), free(scr), free(y);
}

/* ---- embedding ---------------------------------------------------------- */
static void test_embedding(void) {
  int V = 5, C = 3, N = 4;
  int32_t tok[4] = {2, 0, 2, 4};
  float *w = randn(V * C, 1), *out = zeros(N * C), *g = randn(N * C, 1), *dw = zeros(V * C);
  skl_embed_forward(out, tok, w, N, C);
  CHECK(out[2 * C + 1] == w[2 * C + 1] && out[3 * C] == w[4 * C]);
  skl_embed_backward(dw, g, tok, N, C);
  CHECK_NEAR(dw[2 * C + 1], g[1] + g[2 * C + 1], 1e-6);
  CHECK(dw[1 * C] == 0.0f && dw[3 * C + 2] == 0.0f);
  free(w), free(out), free(g), free(dw);
}

/* ---- whole model -------------------------------------------------------- */
typedef struct {
  skl_model *m;
  skl_acts *a;
  skl_batch *b;
} model_ctx;
static double model_J(void *p) {
  model_ctx *c = p;
  skl_step_stats st;
  skl_error err;
  SKL_ASSERT(skl_model_step(c->m, c->a, c->b, false, &st, &err) == SKL_OK);
  return st.loss;
}

static void test_model_fd(skl_arch arch, bool recompute) {
  skl_model_config cfg = tu_config(arch, 23, 16, 2, 4, 2, 8, 20);
  cfg.tie_embeddings = arch == SKL_ARCH_QWEN2;
  skl_model m;
  skl_acts a;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  CHECK(skl_acts_init(&a, &cfg, 2, 20, recompute, &err) == SKL_OK);
  tu_randomize(&m, 7, 0.3f);
  tu_batch tb;
  tu_batch_make(&tb, 2, 20, cfg.vocab_size, 9, 5);
  skl_model_zero_grad(&m);
  skl_step_stats st;
  CHECK(skl_model_step(&m, &a, &tb.b, true, &st, &err) == SKL_OK);
  model_ctx c = {&m, &a, &tb.b};
  for (int i = 0; i < m.n_tensors; i++) {
    const skl_tensor_info *t = &m.tensors[i];
    char what[160];
    snprintf(what, sizeof what, "model %s: %s", arch == SKL_ARCH_QWEN3 ? "qwen3" : arch == SKL_ARCH_QWEN2 ? "qwen2" : "llama", t->name);
    fd_check(what, model_J, &c, m.param_mem + t->offset, m.grad_mem + t->offset, t->numel, 6);
  }
  /* gradient accumulation: two half-weighted passes equal one pass */
  float *g1 = malloc(sizeof(float) * m.n_params);
  memcpy(g1, m.grad_mem, sizeof(float) * m.n_params);
  skl_model_zero_grad(&m);
  tb.b.loss_norm = 2.0 * st.n_tokens;
  CHECK(skl_model_step(&m, &a, &tb.b, true, NULL, &err) == SKL_OK);
  CHECK(skl_model_step(&m, &a, &tb.b, true, NULL, &err) == SKL_OK);
  double e = 0, mx = 0;
  for (size_t i = 0; i < m.n_params; i++) {
    e = fmax(e, fabs(g1[i] - m.grad_mem[i]));
    mx = fmax(mx, fabs(g1[i]));
  }
  CHECK_MSG(e <= 1e-5 * mx, "accumulated micro-batches differ from one batch: %.3g", e);
  free(g1);
  tu_batch_free(&tb);
  skl_acts_free(&a);
  skl_model_free(&m);
}

/* Thread-count independence of the gradients (DESIGN §4), at a size where
 * every parallel path runs (row loops, threaded sgemm, attention tiles). */
static void test_determinism(void) {
  skl_model_config cfg = tu_config(SKL_ARCH_QWEN3, 300, 128, 2, 4, 2, 32, 256);
  skl_model m;
  skl_acts a;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  int nt = omp_get_max_threads(), hi = nt > 1 ? nt : 2;
  omp_set_num_threads(hi); /* acts sized for the larger count */
  CHECK(skl_acts_init(&a, &cfg, 2, 300, false, &err) == SKL_OK);
  tu_randomize(&m, 8, 0.05f);
  tu_batch tb;
  tu_batch_make(&tb, 2, 300, cfg.vocab_size, 200, 6);
  float *g1 = malloc(sizeof(float) * m.n_params);
  omp_set_num_threads(1);
  skl_model_zero_grad(&m);
  CHECK(skl_model_step(&m, &a, &tb.b, true, NULL, &err) == SKL_OK);
  memcpy(g1, m.grad_mem, sizeof(float) * m.n_params);
  omp_set_num_threads(hi);
  skl_model_zero_grad(&m);
  CHECK(skl_model_step(&m, &a, &tb.b, true, NULL, &err) == SKL_OK);
  omp_set_num_threads(nt);
  CHECK_MSG(!memcmp(g1, m.grad_mem, sizeof(float) * m.n_params),
            "gradients differ between 1 and %d threads", hi);
  free(g1);
  tu_batch_free(&tb);
  skl_acts_free(&a);
  skl_model_free(&m);
}

static void test_errors(void) {
  skl_model_config cfg = tu_config(SKL_ARCH_LLAMA, 23, 16, 1, 4, 3, 4, 20);
  skl_model m;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "num_key_value_heads");
  cfg.n_kv_heads = 2;
  cfg.head_dim = 5;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "head_dim");
  cfg.head_dim = 4;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  skl_acts a;
  CHECK(skl_acts_init(&a, &cfg, 1, 8, false, &err) == SKL_OK);
  tu_batch tb;
  tu_batch_make(&tb, 1, 8, 23, 8, 1);
  CHECK(skl_model_step(&m, &a, &tb.b, true, NULL, &err) == SKL_ERR_STATE);
  CHECK_CONTAINS(err.msg, "gradients");
  tb.tokens[5] = 23;
  CHECK(skl_model_step(&m, &a, &tb.b, false, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "row 0 column 5: token id 23 outside the vocabulary [0, 23)");
  tb.tokens[5] = 1;
  tb.b.T = 9;
  CHECK(skl_model_step(&m, &a, &tb.b, false, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "does not fit");
  tu_batch_free(&tb);
  skl_acts_free(&a);
  skl_model_free(&m);
  skl_model_free(NULL);
  skl_acts_free(NULL);
}

static void test_table(void) {
  skl_model_config cfg = tu_config(SKL_ARCH_QWEN3, 30, 16, 2, 4, 2, 8, 20);
  skl_model m;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  const skl_tensor_info *t = skl_model_find_tensor(&m, "model.layers.1.self_attn.q_proj.weight");
  CHECK(t && t->shape[0] == 32 && t->shape[1] == 16 && t->decay);
  CHECK(t && m.param_mem + t->offset == m.p.wq + 32 * 16);
  t = skl_model_find_tensor(&m, "model.layers.0.self_attn.k_norm.weight");
  CHECK(t && t->ndim == 1 && t->shape[0] == 8 && !t->decay);
  CHECK(skl_model_find_tensor(&m, "lm_head.weight") != NULL);
  CHECK(skl_model_find_tensor(&m, "model.layers.0.self_attn.q_proj.bias") == NULL);
  size_t sum = 0;
  for (int i = 0; i < m.n_tensors; i++) sum += m.tensors[i].numel;
  CHECK(sum == m.n_params && sum == skl_model_param_count(&cfg));
  skl_rng r;
  skl_rng_seed(&r, 3);
  skl_model_init_weights(&m, &r, 0.02f);
  CHECK(m.p.final_norm[0] == 1.0f && m.p.q_norm[3] == 1.0f);
  double ss = 0;
  for (int i = 0; i < 30 * 16; i++) ss += m.p.embed[i] * m.p.embed[i];
  CHECK_NEAR(sqrt(ss / (30 * 16)), 0.02, 0.003);
  skl_model_free(&m);
  /* every optional tensor at once (qwen3 with q/k/v biases): table complete */
  cfg.qkv_bias = true;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  CHECK(m.n_tensors == 3 + 14 * 2);
  CHECK(skl_model_find_tensor(&m, "model.layers.1.self_attn.v_proj.bias") != NULL);
  sum = 0;
  for (int i = 0; i < m.n_tensors; i++) sum += m.tensors[i].numel;
  CHECK(sum == m.n_params);
  skl_model_free(&m);
}

#include <time.h>
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
#define TIMED(call)                                                 \
  do {                                                              \
    double t0_ = now();                                             \
    call;                                                           \
    if (getenv("SKL_TEST_TIMES")) fprintf(stderr, "%-40s %.2fs\n", #call, now() - t0_); \
  } while (0)

/* Memory plan: a 32k-token step of a ~10M-parameter model fits in 24 GiB
 * with recomputation (params + grads + AdamW moments + activations). */
static void test_memory_plan(void) {
  skl_model_config c = tu_config(SKL_ARCH_LLAMA, 32000, 320, 6, 8, 8, 40, 864);
  size_t P = skl_model_param_count(&c);
  CHECK(P > 9000000 && P < 40000000);
  double gib = (4.0 * P * 4 + 4.0 * skl_acts_floats(&c, 1, 32768, true)) / (1u << 30);
  double full = (4.0 * P * 4 + 4.0 * skl_acts_floats(&c, 1, 32768, false)) / (1u << 30);
  CHECK_MSG(gib < 6.0, "32k step with recompute needs %.2f GiB", gib);
  CHECK_MSG(full > gib * 2, "recompute saves little: %.2f vs %.2f GiB", full, gib);
  if (getenv("SKL_TEST_TIMES")) fprintf(stderr, "32k plan: %.2f GiB recompute, %.2f GiB stored\n", gib, full);
}

int main(void) {
  skl_rng_seed(&g_rng_state, 42);
  TIMED(test_memory_plan());
  TIMED(test_rmsnorm());
  TIMED(test_linear());
  TIMED(test_swiglu());
  TIMED(test_rope());
  TIMED(test_attention());
  TIMED(test_ce());
  TIMED(test_ce_loss_order());
  TIMED(test_embedding());
  TIMED(test_model_fd(SKL_ARCH_LLAMA, false));
  TIMED(test_model_fd(SKL_ARCH_QWEN2, true));
  TIMED(test_model_fd(SKL_ARCH_QWEN3, false));
  TIMED(test_determinism());
  TIMED(test_errors());
  TIMED(test_table());
  return test_report();
}
