/* Attention backward schemes (src/model/attention.c): the single pass and
 * the two-pass fallback against a naive double-precision backward, against
 * each other, and 1 vs 2 threads bit for bit, over the shapes the callers
 * use (GQA, packed documents, K/V ranges with q_off != k_off, fused-qkv
 * strides, Tq not a multiple of the tile, dq/dk/dv NULL). Not the finite
 * differences of the forward (test_model_grad.c). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/rng.h"
#include "model/attention_internal.h"

static skl_rng g_rng;

static float *randn(size_t n, float sd) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = (float)skl_rng_normal(&g_rng) * sd;
  return p;
}

/* One test problem: inputs (in caller layout), the forward's out/lse, dout. */
typedef struct {
  const char *name;
  skl_attn_shape s;
  float *q, *k, *v;  /* q rows of q_stride, k/v rows of k/v_stride */
  float *out, *lse, *dout;
  int32_t *qdoc, *kdoc;
  float *fused; /* when q/k/v are slices of one buffer */
} prob;

/* q/k/v separate (fused = false) or slices of one [T, NH+2NKV, HD] buffer. */
static void prob_make(prob *p, const char *name, int Tq, int Tk, int NH, int NKV, int HD, int q_off,
                      int k_off, int ndocs, bool fused) {
  memset(p, 0, sizeof *p);
  p->name = name;
  skl_attn_shape s = {.Tq = Tq, .Tk = Tk, .NH = NH, .NKV = NKV, .HD = HD, .q_off = q_off,
                      .k_off = k_off, .scale = 1.0f / sqrtf((float)HD)};
  size_t QD = (size_t)NH * HD, KD = (size_t)NKV * HD;
  if (fused) {
    int T = Tq > Tk ? Tq : Tk;
    size_t W = QD + 2 * KD;
    p->fused = randn((size_t)T * W, 1.2f);
    p->q = p->fused;
    p->k = p->fused + QD;
    p->v = p->fused + QD + KD;
    s.q_stride = s.k_stride = s.v_stride = W;
  } else {
    p->q = randn((size_t)Tq * QD, 1.2f);
    p->k = randn((size_t)Tk * KD, 1.2f);
    p->v = randn((size_t)Tk * KD, 1.0f);
    s.q_stride = QD;
    s.k_stride = s.v_stride = KD;
  }
  s.o_stride = QD;
  if (ndocs > 1) {
    /* documents in the shared order: doc of order o is o * ndocs / span */
    int span = (q_off + Tq > k_off + Tk ? q_off + Tq : k_off + Tk);
    p->qdoc = malloc(sizeof(int32_t) * Tq);
    p->kdoc = malloc(sizeof(int32_t) * Tk);
    for (int i = 0; i < Tq; i++) p->qdoc[i] = (int32_t)((int64_t)(q_off + i) * ndocs / span);
    for (int j = 0; j < Tk; j++) p->kdoc[j] = (int32_t)((int64_t)(k_off + j) * ndocs / span);
    s.q_doc = p->qdoc;
    s.k_doc = p->kdoc;
  }
  p->s = s;
  p->out = calloc((size_t)Tq * QD, sizeof(float));
  p->lse = calloc((size_t)NH * Tq, sizeof(float));
  p->dout = randn((size_t)Tq * QD, 1.0f);
  skl_attn_forward(p->out, p->lse, p->q, p->k, p->v, &p->s);
}

static void prob_free(prob *p) {
  if (p->fused) {
    free(p->fused);
  } else {
    free(p->q), free(p->k), free(p->v);
  }
  free(p->out), free(p->lse), free(p->dout), free(p->qdoc), free(p->kdoc);
}

/* Gradients in compact layouts: dq[Tq, NH, HD], dk/dv[Tk, NKV, HD]. */
typedef struct {
  float *dq, *dk, *dv;
} grads;

static grads grads_zero(const prob *p) {
  const skl_attn_shape *s = &p->s;
  grads g = {calloc((size_t)s->Tq * s->q_stride, sizeof(float)),
             calloc((size_t)s->Tk * s->k_stride, sizeof(float)),
             calloc((size_t)s->Tk * s->v_stride, sizeof(float))};
  return g;
}
static void grads_free(grads *g) { free(g->dq), free(g->dk), free(g->dv); }

/* Gradient buffers share the inputs' strides (as in the model, where dq/dk/dv
 * may be slices of one fused gradient). */
static void run(const prob *p, grads *g, bool want_q, bool want_k, bool want_v, skl_attn_bwd_scheme sc) {
  skl_attn_backward_scheme(want_q ? g->dq : NULL, want_k ? g->dk : NULL, want_v ? g->dv : NULL, p->dout,
                           p->q, p->k, p->v, p->out, p->lse, &p->s, NULL, sc);
}

/* Naive double backward of J = sum(dout . out) using the forward's lse. */
static void naive_bwd(const prob *p, double *dq, double *dk, double *dv) {
  const skl_attn_shape *s = &p->s;
  int grp = s->NH / s->NKV, HD = s->HD;
  double *P = malloc(sizeof(double) * s->Tk), *dP = malloc(sizeof(double) * s->Tk);
  for (int h = 0; h < s->NH; h++)
    for (int i = 0; i < s->Tq; i++) {
      int kh = h / grp;
      const float *qi = p->q + (size_t)i * s->q_stride + (size_t)h * HD;
      const float *gi = p->dout + (size_t)i * s->o_stride + (size_t)h * HD;
      double mx = -INFINITY;
      for (int j = 0; j < s->Tk; j++) {
        bool vis = s->k_off + j <= s->q_off + i && (!s->q_doc || s->q_doc[i] == s->k_doc[j]);
        const float *kj = p->k + (size_t)j * s->k_stride + (size_t)kh * HD;
        double d = 0;
        for (int e = 0; e < HD; e++) d += (double)qi[e] * kj[e];
        P[j] = vis ? d * s->scale : -INFINITY;
        mx = P[j] > mx ? P[j] : mx;
      }
      if (mx == -INFINITY) continue;
      double z = 0, D = 0;
      for (int j = 0; j < s->Tk; j++) z += P[j] == -INFINITY ? 0 : exp(P[j] - mx);
      for (int j = 0; j < s->Tk; j++) {
        P[j] = P[j] == -INFINITY ? 0 : exp(P[j] - mx) / z;
        const float *vj = p->v + (size_t)j * s->v_stride + (size_t)kh * HD;
        double d = 0;
        for (int e = 0; e < HD; e++) d += (double)gi[e] * vj[e];
        dP[j] = d;
        D += P[j] * d;
      }
      for (int j = 0; j < s->Tk; j++) {
        if (P[j] == 0) continue;
        double dS = P[j] * (dP[j] - D) * s->scale;
        const float *kj = p->k + (size_t)j * s->k_stride + (size_t)kh * HD;
        for (int e = 0; e < HD; e++) {
          dq[((size_t)i * s->NH + h) * HD + e] += dS * kj[e];
          dk[((size_t)j * s->NKV + kh) * HD + e] += dS * qi[e];
          dv[((size_t)j * s->NKV + kh) * HD + e] += P[j] * gi[e];
        }
      }
    }
  free(P), free(dP);
}

/* The forward against a naive double softmax: out and lse. */
static void check_forward(const prob *p) {
  const skl_attn_shape *s = &p->s;
  int grp = s->NH / s->NKV, HD = s->HD;
  double eo = 0, el = 0;
  double *sc = malloc(sizeof(double) * s->Tk);
  for (int h = 0; h < s->NH; h++)
    for (int i = 0; i < s->Tq; i++) {
      const float *qi = p->q + (size_t)i * s->q_stride + (size_t)h * HD;
      double mx = -INFINITY, z = 0;
      for (int j = 0; j < s->Tk; j++) {
        bool vis = s->k_off + j <= s->q_off + i && (!s->q_doc || s->q_doc[i] == s->k_doc[j]);
        const float *kj = p->k + (size_t)j * s->k_stride + (size_t)(h / grp) * HD;
        double d = 0;
        for (int e = 0; e < HD; e++) d += (double)qi[e] * kj[e];
        sc[j] = vis ? d * s->scale : -INFINITY;
        mx = sc[j] > mx ? sc[j] : mx;
      }
      for (int j = 0; j < s->Tk; j++) z += sc[j] == -INFINITY ? 0 : exp(sc[j] - mx);
      double L = z > 0 ? mx + log(z) : -INFINITY, got = p->lse[(size_t)h * s->Tq + i];
      el = fmax(el, L == -INFINITY ? (got == -INFINITY ? 0 : 1) : fabs(got - L));
      for (int e = 0; e < HD; e++) {
        double a = 0;
        for (int j = 0; j < s->Tk; j++)
          if (sc[j] != -INFINITY)
            a += exp(sc[j] - L) * p->v[(size_t)j * s->v_stride + (size_t)(h / grp) * HD + e];
        eo = fmax(eo, fabs(a - p->out[(size_t)i * s->o_stride + (size_t)h * HD + e]));
      }
    }
  free(sc);
  CHECK_MSG(eo < 2e-5 && el < 2e-5, "%s forward vs naive: out %.3g lse %.3g", p->name, eo, el);
}

/* max |a - ref| / max(1, max |ref|) over a strided [rows, W] block of a. */
static double rel_err_strided(const float *a, size_t stride, const double *ref, int rows, int W) {
  double e = 0, mx = 1e-30;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < W; c++) {
      double x = a[(size_t)r * stride + c], y = ref[(size_t)r * W + c];
      e = fmax(e, fabs(x - y));
      mx = fmax(mx, fabs(y));
    }
  return e / fmax(mx, 1.0);
}

static bool same_bits(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof(float)); }

/* Compare one scheme against the naive backward, and 1 vs 2 threads. */
static void check_scheme(const prob *p, skl_attn_bwd_scheme sc, const char *scname) {
  const skl_attn_shape *s = &p->s;
  int QD = s->NH * s->HD, KD = s->NKV * s->HD;
  double *rq = calloc((size_t)s->Tq * QD, sizeof(double)), *rk = calloc((size_t)s->Tk * KD, sizeof(double)),
         *rv = calloc((size_t)s->Tk * KD, sizeof(double));
  naive_bwd(p, rq, rk, rv);
  int nt = omp_get_max_threads();
  omp_set_num_threads(1);
  grads g1 = grads_zero(p);
  run(p, &g1, true, true, true, sc);
  omp_set_num_threads(2);
  grads g2 = grads_zero(p);
  run(p, &g2, true, true, true, sc);
  omp_set_num_threads(nt);
  double eq = rel_err_strided(g1.dq, s->q_stride, rq, s->Tq, QD);
  double ek = rel_err_strided(g1.dk, s->k_stride, rk, s->Tk, KD);
  double ev = rel_err_strided(g1.dv, s->v_stride, rv, s->Tk, KD);
  CHECK_MSG(eq < 2e-5 && ek < 2e-5 && ev < 2e-5, "%s %s vs naive: dq %.3g dk %.3g dv %.3g", p->name,
            scname, eq, ek, ev);
  CHECK_MSG(same_bits(g1.dq, g2.dq, (size_t)s->Tq * s->q_stride) &&
                same_bits(g1.dk, g2.dk, (size_t)s->Tk * s->k_stride) &&
                same_bits(g1.dv, g2.dv, (size_t)s->Tk * s->v_stride),
            "%s %s: 1 and 2 threads differ", p->name, scname);
  grads_free(&g1), grads_free(&g2);
  free(rq), free(rk), free(rv);
}

/* dq/dk/dv NULL skip exactly that output; the others are bit-identical to
 * the full call. Gradients accumulate (+=) into what is there. */
static void check_null_and_accumulate(const prob *p, skl_attn_bwd_scheme sc, const char *scname) {
  const skl_attn_shape *s = &p->s;
  size_t nq = (size_t)s->Tq * s->q_stride, nk = (size_t)s->Tk * s->k_stride, nv = (size_t)s->Tk * s->v_stride;
  grads full = grads_zero(p);
  run(p, &full, true, true, true, sc);
  for (int mask = 1; mask < 7; mask++) {
    bool wq = mask & 1, wk = mask & 2, wv = mask & 4;
    grads g = grads_zero(p);
    run(p, &g, wq, wk, wv, sc);
    bool ok = (wq ? same_bits(g.dq, full.dq, nq) : true) && (wk ? same_bits(g.dk, full.dk, nk) : true) &&
              (wv ? same_bits(g.dv, full.dv, nv) : true);
    float zq = 0, zk = 0, zv = 0; /* skipped outputs untouched */
    for (size_t i = 0; i < nq; i++) zq = fmaxf(zq, fabsf(g.dq[i]));
    for (size_t i = 0; i < nk; i++) zk = fmaxf(zk, fabsf(g.dk[i]));
    for (size_t i = 0; i < nv; i++) zv = fmaxf(zv, fabsf(g.dv[i]));
    ok = ok && (wq || zq == 0) && (wk || zk == 0) && (wv || zv == 0);
    CHECK_MSG(ok, "%s %s: dq%s dk%s dv%s differs from the full call or writes a skipped output",
              p->name, scname, wq ? "" : "=NULL", wk ? "" : "=NULL", wv ? "" : "=NULL");
    grads_free(&g);
  }
  /* accumulate: start from 1.0 everywhere, expect 1.0 + gradient */
  grads a = grads_zero(p);
  for (size_t i = 0; i < nq; i++) a.dq[i] = 1.0f;
  for (size_t i = 0; i < nk; i++) a.dk[i] = 1.0f;
  for (size_t i = 0; i < nv; i++) a.dv[i] = 1.0f;
  run(p, &a, true, true, true, sc);
  double e = 0;
  for (size_t i = 0; i < nq; i++) e = fmax(e, fabs(a.dq[i] - 1.0 - full.dq[i]));
  for (size_t i = 0; i < nk; i++) e = fmax(e, fabs(a.dk[i] - 1.0 - full.dk[i]));
  for (size_t i = 0; i < nv; i++) e = fmax(e, fabs(a.dv[i] - 1.0 - full.dv[i]));
  CHECK_MSG(e < 1e-5, "%s %s: backward does not accumulate (+=): err %.3g", p->name, scname, e);
  grads_free(&a), grads_free(&full);
}

/* Single pass and two passes agree to rounding. */
static void check_agree(const prob *p) {
  const skl_attn_shape *s = &p->s;
  size_t nq = (size_t)s->Tq * s->q_stride, nk = (size_t)s->Tk * s->k_stride;
  grads a = grads_zero(p), b = grads_zero(p);
  run(p, &a, true, true, true, SKL_ATTN_BWD_SINGLE_PASS);
  run(p, &b, true, true, true, SKL_ATTN_BWD_TWO_PASS);
  double e = 0, mx = 1e-30;
  for (size_t i = 0; i < nq; i++) e = fmax(e, fabs(a.dq[i] - b.dq[i])), mx = fmax(mx, fabs(b.dq[i]));
  for (size_t i = 0; i < nk; i++) {
    e = fmax(e, fabs(a.dk[i] - b.dk[i]) + fabs(a.dv[i] - b.dv[i]));
    mx = fmax(mx, fabs(b.dk[i]) + fabs(b.dv[i]));
  }
  CHECK_MSG(e <= 1e-5 * fmax(mx, 1.0), "%s: single pass vs two passes: %.3g (max %.3g)", p->name, e, mx);
  grads_free(&a), grads_free(&b);
}

static void test_shapes(void) {
  /* name, Tq, Tk, NH, NKV, HD, q_off, k_off, docs, fused */
  struct {
    const char *name;
    int Tq, Tk, NH, NKV, HD, q_off, k_off, docs;
    bool fused;
  } cases[] = {
      {"causal T=300 MHA", 300, 300, 8, 8, 32, 0, 0, 1, false},
      {"causal T=260 GQA 8/4 packed", 260, 260, 8, 4, 16, 0, 0, 5, true},
      {"GQA 6/2 packed, fused qkv", 200, 200, 6, 2, 8, 0, 0, 3, true},
      {"response vs prompt (all visible)", 140, 200, 4, 4, 32, 200, 0, 1, false},
      {"response vs itself (q_off = k_off)", 140, 140, 4, 4, 32, 200, 200, 1, false},
      {"partial causal q_off 50, k_off 0", 200, 250, 4, 2, 16, 50, 0, 1, false},
      {"keys ahead of queries (k_off > q_off)", 260, 200, 4, 4, 16, 0, 70, 2, false},
      {"one query (decode)", 1, 333, 8, 4, 32, 332, 0, 1, false},
      {"draft block", 5, 300, 4, 4, 32, 295, 0, 1, false},
      /* tile-kernel head dims: 64 and 128 (own register blocks), 48 (16-wide
       * blocks), 16; 8 runs on sgemm */
      {"HD 64 GQA 4/2 packed", 150, 150, 4, 2, 64, 0, 0, 2, false},
      {"HD 128 fused", 130, 130, 2, 2, 128, 0, 0, 1, true},
      {"HD 48 ranges", 70, 140, 4, 4, 48, 100, 30, 1, false},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    prob p;
    prob_make(&p, cases[c].name, cases[c].Tq, cases[c].Tk, cases[c].NH, cases[c].NKV, cases[c].HD,
              cases[c].q_off, cases[c].k_off, cases[c].docs, cases[c].fused);
    check_forward(&p);
    check_scheme(&p, SKL_ATTN_BWD_SINGLE_PASS, "single pass");
    check_scheme(&p, SKL_ATTN_BWD_TWO_PASS, "two passes");
    check_agree(&p);
    check_null_and_accumulate(&p, SKL_ATTN_BWD_SINGLE_PASS, "single pass");
    check_null_and_accumulate(&p, SKL_ATTN_BWD_AUTO, "auto");
    prob_free(&p);
  }
}

/* Queries that see no key (lse = -inf) get no gradient and no NaN. */
static void test_no_visible_key(void) {
  prob p;
  prob_make(&p, "no visible key", 20, 30, 4, 4, 16, 0, 100, 1, false);
  CHECK(isinf(p.lse[0]) && p.lse[0] < 0);
  grads g = grads_zero(&p);
  run(&p, &g, true, true, true, SKL_ATTN_BWD_SINGLE_PASS);
  bool zero = true;
  for (size_t i = 0; i < (size_t)20 * p.s.q_stride; i++) zero = zero && g.dq[i] == 0.0f;
  for (size_t i = 0; i < (size_t)30 * p.s.k_stride; i++) zero = zero && g.dk[i] == 0.0f && g.dv[i] == 0.0f;
  CHECK_MSG(zero, "no visible key: gradients must be exactly 0");
  grads_free(&g);
  prob_free(&p);
}

/* The scheme is a function of the shape: many kv heads or small work give
 * the single pass; few kv heads at parallel size fall back to two passes. */
static void test_pick(void) {
  skl_attn_shape s = {.Tq = 1024, .Tk = 1024, .NH = 8, .NKV = 8, .HD = 32};
  CHECK(skl_attn_bwd_pick(&s) == SKL_ATTN_BWD_SINGLE_PASS);
  s.NKV = 2;
  CHECK(skl_attn_bwd_pick(&s) == SKL_ATTN_BWD_TWO_PASS);
  s.Tq = 1;
  CHECK(skl_attn_bwd_pick(&s) == SKL_ATTN_BWD_SINGLE_PASS);
}

int main(void) {
  skl_rng_seed(&g_rng, 42);
  test_shapes();
  test_no_visible_key();
  test_pick();
  return test_report();
}
