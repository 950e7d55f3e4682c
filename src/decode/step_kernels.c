/* skl step kernels: row-count invariant multi-row linears and attention of
 * decode steps (AVX-512F intrinsics, or portable 8-lane GCC vectors). Not
 * the prefill kernels (sgemm, model/) and not the step's orchestration
 * (decode.c). See step_kernels.h for the invariance argument. */
#include "decode/step_kernels.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define STEP_AVX512 1
#else
#define STEP_AVX512 0
#endif

#define OUT_BLOCK 16 /* output columns per parallel work item */

const char *skl_step_isa(void) { return STEP_AVX512 ? "avx512" : "vec8"; }

#if STEP_AVX512
/* ---- AVX-512F -------------------------------------------------------------- */

/* The reduction tree of every dot product: 16 lane vectors in, lane p of
 * the result = sum of v[p]'s lanes paired (i, i+8), (i, i+4), (i, i+2),
 * (i, i+1), whatever the other vectors hold. The output lanes come out
 * transposed: v[p] lands in lane 4 * (p % 4) + p / 4. */
static inline __attribute__((always_inline)) __m512 tree16(const __m512 *v) {
  __m512 t[8], u[4], w[2];
  for (int a = 0; a < 8; a++)
    t[a] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * a], v[2 * a + 1], 0x44),
                         _mm512_shuffle_f32x4(v[2 * a], v[2 * a + 1], 0xEE));
  for (int b = 0; b < 4; b++)
    u[b] = _mm512_add_ps(_mm512_shuffle_f32x4(t[2 * b], t[2 * b + 1], 0x88),
                         _mm512_shuffle_f32x4(t[2 * b], t[2 * b + 1], 0xDD));
  for (int c = 0; c < 2; c++)
    w[c] = _mm512_add_ps(_mm512_shuffle_ps(u[2 * c], u[2 * c + 1], 0x44), _mm512_shuffle_ps(u[2 * c], u[2 * c + 1], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], 0x88), _mm512_shuffle_ps(w[0], w[1], 0xDD));
}

#define LANE_OF(p) (4 * ((p) % 4) + (p) / 4)

/* y[r * ys + o] (= or +=) x[r] . w[o] (+ bias[o]) for an NR x NO register
 * tile (NR*NO <= 32, NO in {1, 4, 8}); bias may be NULL. */
static inline __attribute__((always_inline)) void tile(const int NR, const int NO, const float *x, size_t xs,
                                                       const float *w, int IC, float *y, size_t ys,
                                                       const float *bias, bool accumulate) {
  __m512 acc[6][8];
  for (int r = 0; r < NR; r++)
    for (int o = 0; o < NO; o++) acc[r][o] = _mm512_setzero_ps();
  int i = 0;
  for (; i + 16 <= IC; i += 16) {
    __m512 xv[6];
    for (int r = 0; r < NR; r++) {
      xv[r] = _mm512_loadu_ps(x + (size_t)r * xs + i);
      __asm__("" : "+v"(xv[r])); /* keep x in registers: one load per row, not one per FMA */
    }
    for (int o = 0; o < NO; o++) {
      /* the next tile's weights (the same 64 bytes of the row NO below) */
      _mm_prefetch((const char *)(w + (size_t)(o + NO) * IC + i), _MM_HINT_T0);
      __m512 wv = _mm512_loadu_ps(w + (size_t)o * IC + i);
      for (int r = 0; r < NR; r++) acc[r][o] = _mm512_fmadd_ps(wv, xv[r], acc[r][o]);
    }
  }
  if (i < IC) { /* masked tail: zero lanes add exact zeros */
    __mmask16 mk = (__mmask16)((1u << (IC - i)) - 1u);
    __m512 xv[6];
    for (int r = 0; r < NR; r++) xv[r] = _mm512_maskz_loadu_ps(mk, x + (size_t)r * xs + i);
    for (int o = 0; o < NO; o++) {
      __m512 wv = _mm512_maskz_loadu_ps(mk, w + (size_t)o * IC + i);
      for (int r = 0; r < NR; r++) acc[r][o] = _mm512_fmadd_ps(wv, xv[r], acc[r][o]);
    }
  }
  /* the epilogue in vectors: lane p of a tree's result, in pair order, is
   * row p / NO's output p % NO; each row's NO lanes are stored where they
   * belong (a masked store from the row's address less its lane offset,
   * still inside y as ys >= NO). Same adds as a scalar loop. */
  static const int pair_order[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}; /* LANE_OF */
  static const int mod4[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
  static const int mod8[16] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
  __m512 bv = _mm512_setzero_ps();
  if (bias) {
    __m512 b = _mm512_maskz_loadu_ps((__mmask16)((1u << NO) - 1u), bias);
    bv = NO == 1 ? _mm512_set1_ps(bias[0])
                 : _mm512_permutexvar_ps(_mm512_loadu_si512(NO == 4 ? mod4 : mod8), b);
  }
  for (int p0 = 0; p0 < NR * NO; p0 += 16) { /* 16 pairs per reduction tree */
    __m512 v[16];
    for (int p = 0; p < 16; p++) v[p] = p0 + p < NR * NO ? acc[(p0 + p) / NO][(p0 + p) % NO] : _mm512_setzero_ps();
    __m512 t = _mm512_permutexvar_ps(_mm512_loadu_si512(pair_order), tree16(v));
    if (bias) t = _mm512_add_ps(t, bv);
    for (int rr = 0; rr < 16 / NO && p0 / NO + rr < NR; rr++) {
      __mmask16 mk = (__mmask16)(((1u << NO) - 1u) << (rr * NO));
      float *yr = y + (size_t)(p0 / NO + rr) * ys - rr * NO;
      __m512 val = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mk, yr), t) : t;
      _mm512_mask_storeu_ps(yr, mk, val);
    }
  }
}

/* exp(x) = p * 2^n for x in [-87, 88]: Cephes' range reduction + degree-6
 * polynomial (the formula of model_internal.h's skl_expf, FMAs written
 * out); *n gets the power. vexp and vexp_le0 apply 2^n. */
static inline __m512 exp_poly(__m512 x, __m512 *n_out) {
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  *n_out = n;
  return _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
}

/* exp(x) lane-wise, 2^n built as a float and multiplied. */
static inline __m512 vexp(__m512 x) {
  __m512 n, p = exp_poly(_mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f)), &n);
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* acc[HD] = acc * corr + sum_j p[j] v[j0 + j] over nk keys: per 16 lanes 4
 * partial sums (keys j % 4) added by one fixed tree, so 4 independent FMA
 * chains and the same arithmetic for every call. */
static inline __attribute__((always_inline)) void pv_update(const int HD, const float *v, size_t stride, int j0,
                                                            int nk, const float *p, float corr, float *acc) {
  int tail = HD & 15, hd16 = HD - tail;
  __mmask16 mt = (__mmask16)((1u << tail) - 1u);
  __m512 cv = _mm512_set1_ps(corr);
  int nk4 = nk & ~3;
  for (int e = 0; e < HD; e += 16) {
    __mmask16 mk = e < hd16 ? (__mmask16)0xFFFFu : mt;
    const float *vr = v + (size_t)j0 * stride + e;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int j = 0;
    for (; j < nk4; j += 4) {
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(mk, vr + (size_t)j * stride), a0);
      a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 1]), _mm512_maskz_loadu_ps(mk, vr + (size_t)(j + 1) * stride), a1);
      a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 2]), _mm512_maskz_loadu_ps(mk, vr + (size_t)(j + 2) * stride), a2);
      a3 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 3]), _mm512_maskz_loadu_ps(mk, vr + (size_t)(j + 3) * stride), a3);
    }
    if (j < nk) a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(mk, vr + (size_t)j * stride), a0);
    if (j + 1 < nk) a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 1]), _mm512_maskz_loadu_ps(mk, vr + (size_t)(j + 1) * stride), a1);
    if (j + 2 < nk) a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 2]), _mm512_maskz_loadu_ps(mk, vr + (size_t)(j + 2) * stride), a2);
    __m512 sum = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
    _mm512_mask_storeu_ps(acc + e, mk, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, acc + e), cv, sum));
  }
}

/* vexp for x <= 0 (softmax weights): the same values, two steps fewer
 * (no upper clamp; 2^n applied by vscalefps, exact like the multiply by
 * the built power, n >= -126). */
static inline __m512 vexp_le0(__m512 x) {
  __m512 n, p = exp_poly(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), &n);
  return _mm512_scalef_ps(p, n);
}

/* One query over keys [j0, j1) (j1 - j0 <= SKL_STEP_ATT_BLOCK) of row-major
 * K; HD a compile-time constant where the caller specialises it. */
static inline __attribute__((always_inline)) void attend_block(const int HD, const float *k, const float *v,
                                                               size_t stride, float scale, skl_step_query *q, int j0,
                                                               int j1) {
  int nk = j1 - j0, tail = HD & 15, hd16 = HD - tail;
  __mmask16 mt = (__mmask16)((1u << tail) - 1u);
  __m512 s[SKL_STEP_ATT_BLOCK / 16];
  __mmask16 valid[SKL_STEP_ATT_BLOCK / 16];
  __m512 mxv = _mm512_set1_ps(-INFINITY);
  int ng = (nk + 15) / 16;
  for (int g = 0; g < ng; g++) {
    int cnt = nk - 16 * g < 16 ? nk - 16 * g : 16;
    __m512 pv[16];
    for (int j = 0; j < 16; j++) {
      __m512 a = _mm512_setzero_ps();
      if (j < cnt) {
        const float *kr = k + (size_t)(j0 + 16 * g + j) * stride;
        int e = 0;
        for (; e < hd16; e += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(q->q + e), _mm512_loadu_ps(kr + e), a);
        if (tail) a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mt, q->q + e), _mm512_maskz_loadu_ps(mt, kr + e), a);
      }
      pv[j] = a;
    }
    static const int perm[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    __m512 sg = _mm512_permutexvar_ps(_mm512_loadu_si512(perm), tree16(pv));
    s[g] = _mm512_mul_ps(sg, _mm512_set1_ps(scale));
    valid[g] = (__mmask16)(cnt == 16 ? 0xFFFFu : (1u << cnt) - 1u);
    mxv = _mm512_mask_max_ps(mxv, valid[g], mxv, s[g]);
  }
  float mx = _mm512_reduce_max_ps(mxv), m = *q->m, mnew = m > mx ? m : mx;
  float corr = m == -INFINITY ? 0.0f : _mm_cvtss_f32(_mm512_castps512_ps128(vexp(_mm512_set1_ps(m - mnew))));
  float l = *q->l * corr;
  float p[SKL_STEP_ATT_BLOCK + 3];
  for (int g = 0; g < ng; g++) {
    __m512 pg = _mm512_maskz_mov_ps(valid[g], vexp(_mm512_sub_ps(s[g], _mm512_set1_ps(mnew))));
    l += _mm512_reduce_add_ps(pg);
    _mm512_storeu_ps(p + 16 * g, pg);
  }
  *q->l = l;
  *q->m = mnew;
  pv_update(HD, v, stride, j0, nk, p, corr, q->acc);
}

/* All queries, block-major: a block of K/V is read once (then from L1) for
 * every query. */
#define PACK_HD 128 /* head dims up to this pack a block shared by several queries */

static inline __attribute__((always_inline)) void attend_all(const int HD, const float *k, const float *v,
                                                             size_t stride, float scale, skl_step_query *qs, int nq,
                                                             int tmax) {
  float kpack[SKL_STEP_ATT_BLOCK * PACK_HD] __attribute__((aligned(64)));
  float vpack[SKL_STEP_ATT_BLOCK * PACK_HD] __attribute__((aligned(64)));
  bool pack = nq > 1 && HD <= PACK_HD;
  for (int j0 = 0; j0 < tmax; j0 += SKL_STEP_ATT_BLOCK) {
    /* the next block's K/V rows (strided: one head's HD floats per row) are
     * fetched while this block is worked on */
    int n1 = tmax - j0 - SKL_STEP_ATT_BLOCK < SKL_STEP_ATT_BLOCK ? tmax - j0 - SKL_STEP_ATT_BLOCK : SKL_STEP_ATT_BLOCK;
    for (int j = 0; j < n1; j++)
      for (int e = 0; e < HD; e += 16) {
        _mm_prefetch((const char *)(k + (size_t)(j0 + SKL_STEP_ATT_BLOCK + j) * stride + e), _MM_HINT_T0);
        _mm_prefetch((const char *)(v + (size_t)(j0 + SKL_STEP_ATT_BLOCK + j) * stride + e), _MM_HINT_T0);
      }
    /* Several queries re-read the block: pack it first. One head's rows of
     * the cache are a K/V row stride apart (a power of two of bytes, often),
     * so they crowd a few L1 sets and would come from L2 for every query;
     * packed they stay in L1. Same values in the same order: the arithmetic
     * is the unpacked one. */
    const float *kb = k, *vb = v;
    size_t sb = stride;
    int base = j0;
    if (pack) {
      int nb = tmax - j0 < SKL_STEP_ATT_BLOCK ? tmax - j0 : SKL_STEP_ATT_BLOCK;
      for (int j = 0; j < nb; j++) {
        memcpy(kpack + (size_t)j * HD, k + (size_t)(j0 + j) * stride, sizeof(float) * (size_t)HD);
        memcpy(vpack + (size_t)j * HD, v + (size_t)(j0 + j) * stride, sizeof(float) * (size_t)HD);
      }
      kb = kpack;
      vb = vpack;
      sb = (size_t)HD;
      base = 0;
    }
    for (int i = 0; i < nq; i++) {
      if (qs[i].tk <= j0) continue;
      int j1 = qs[i].tk < j0 + SKL_STEP_ATT_BLOCK ? qs[i].tk : j0 + SKL_STEP_ATT_BLOCK;
      attend_block(HD, kb, vb, sb, scale, &qs[i], base, j1 - j0 + base);
    }
  }
}

static void attend_dispatch(const float *k, const float *v, size_t stride, int HD, float scale, skl_step_query *qs,
                            int nq, int tmax) {
  switch (HD) { /* the common head sizes with the loops unrolled */
    case 32: attend_all(32, k, v, stride, scale, qs, nq, tmax); break;
    case 64: attend_all(64, k, v, stride, scale, qs, nq, tmax); break;
    case 128: attend_all(128, k, v, stride, scale, qs, nq, tmax); break;
    default: attend_all(HD, k, v, stride, scale, qs, nq, tmax); break;
  }
}

/* ---- K^T tiles (skl_step_attend_kt) ---- */

/* Scores of NQ queries (1..4: they share each K^T load) against the 4
 * tiles of a block: s[i][g] lane t = scale * (q_i . key 16g + t), one FMA
 * chain per score in dim order: the same arithmetic for a query whatever
 * its partners. */
static inline __attribute__((always_inline)) void scores_kt(const int HD, const int NQ, const float *kt,
                                                            const float *const *q, float scale, __m512 s[][4]) {
  __m512 a[4][4];
  for (int i = 0; i < NQ; i++)
    for (int g = 0; g < 4; g++) a[i][g] = _mm512_setzero_ps();
  for (int e = 0; e < HD; e++)
    for (int g = 0; g < 4; g++) {
      __m512 kv = _mm512_loadu_ps(kt + ((size_t)g * HD + e) * SKL_STEP_KT_TILE);
      __asm__("" : "+v"(kv)); /* one load for the NQ FMAs, not one each */
      for (int i = 0; i < NQ; i++) a[i][g] = _mm512_fmadd_ps(_mm512_set1_ps(q[i][e]), kv, a[i][g]);
    }
  for (int i = 0; i < NQ; i++)
    for (int g = 0; g < 4; g++) s[i][g] = _mm512_mul_ps(a[i][g], _mm512_set1_ps(scale));
}

/* The online-softmax update of one query from its block scores s[4] over
 * nk keys (lanes past nk masked): the block's weights into p[64], the
 * rescale of its earlier sums returned. */
static inline __attribute__((always_inline)) float softmax_kt(const __m512 *s, int nk, skl_step_query *q, float *p) {
  __mmask16 valid[4];
  __m512 mxv = _mm512_set1_ps(-INFINITY);
  for (int g = 0; g < 4; g++) {
    int cnt = nk - 16 * g < 0 ? 0 : nk - 16 * g < 16 ? nk - 16 * g : 16;
    valid[g] = (__mmask16)(cnt == 16 ? 0xFFFFu : (1u << cnt) - 1u);
    mxv = _mm512_mask_max_ps(mxv, valid[g], mxv, s[g]);
  }
  float mx = _mm512_reduce_max_ps(mxv), m = *q->m, mnew = m > mx ? m : mx;
  /* the max mostly stays: vexp(0) is exactly 1, so skip it */
  float corr = m == -INFINITY ? 0.0f
               : m == mnew    ? 1.0f
                              : _mm_cvtss_f32(_mm512_castps512_ps128(vexp(_mm512_set1_ps(m - mnew))));
  __m512 lv = _mm512_setzero_ps();
  for (int g = 0; g < 4; g++) {
    __m512 pg = _mm512_maskz_mov_ps(valid[g], vexp_le0(_mm512_sub_ps(s[g], _mm512_set1_ps(mnew))));
    lv = _mm512_add_ps(lv, pg);
    _mm512_store_ps(p + 16 * g, pg);
  }
  *q->l = *q->l * corr + _mm512_reduce_add_ps(lv);
  *q->m = mnew;
  return corr;
}

/* acc_i = acc_i * corr_i + p_i @ V over nk_i keys for NQ queries of a
 * block at once, each V load shared by the NQ queries; per query and 16
 * lanes 2 partial sums (keys j % 2) added at the end, in key order. The
 * loop runs to the longest nk: a query's keys past its own nk have weight
 * 0 (0 * v adds an exact zero to a sum that started at +0), so its sums
 * are the ones it has alone. HD % 16 == 0, NQ * HD <= 128. */
static inline __attribute__((always_inline)) void pv_kt(const int HD, const int NQ, const float *v, size_t stride,
                                                        int j0, int nk, float (*p)[SKL_STEP_ATT_BLOCK],
                                                        const float *corr, float *const *acc) {
  enum { NA = 8 }; /* NQ * HD / 16 accumulators per chain */
  const int nc = HD / 16;
  __m512 a[NA][2];
  for (int t = 0; t < NQ * nc; t++) a[t][0] = a[t][1] = _mm512_setzero_ps();
  const float *vr = v + (size_t)j0 * stride;
  for (int j = 0; j < nk; j += 2)
    for (int u = 0; u < 2; u++) {
      if (j + u >= nk) break;
      for (int c = 0; c < nc; c++) {
        __m512 vv = _mm512_loadu_ps(vr + (size_t)(j + u) * stride + 16 * c);
        __asm__("" : "+v"(vv)); /* one load for the NQ FMAs */
        for (int i = 0; i < NQ; i++)
          a[i * nc + c][u] = _mm512_fmadd_ps(_mm512_set1_ps(p[i][j + u]), vv, a[i * nc + c][u]);
      }
    }
  for (int i = 0; i < NQ; i++) {
    __m512 cv = _mm512_set1_ps(corr[i]);
    for (int c = 0; c < nc; c++) {
      __m512 sum = _mm512_add_ps(a[i * nc + c][0], a[i * nc + c][1]);
      _mm512_storeu_ps(acc[i] + 16 * c, _mm512_fmadd_ps(_mm512_loadu_ps(acc[i] + 16 * c), cv, sum));
    }
  }
}

static inline __attribute__((always_inline)) void attend_all_kt(const int HD, const float *kt, const float *v,
                                                                size_t stride, float scale, skl_step_query *qs,
                                                                int nq, int tmax) {
  float vpack[SKL_STEP_ATT_BLOCK * PACK_HD] __attribute__((aligned(64)));
  bool pack = nq > 1 && HD <= PACK_HD && stride != (size_t)HD; /* contiguous rows stream as they are */
  for (int j0 = 0; j0 < tmax; j0 += SKL_STEP_ATT_BLOCK) {
    int n1 = tmax - j0 - SKL_STEP_ATT_BLOCK < SKL_STEP_ATT_BLOCK ? tmax - j0 - SKL_STEP_ATT_BLOCK : SKL_STEP_ATT_BLOCK;
    /* the next block's K^T tiles and V rows are fetched while this one is
     * worked on (worth it when several queries share the block) */
    if (nq > 1 && n1 > 0) {
      const float *kn = kt + (size_t)(j0 + SKL_STEP_ATT_BLOCK) * HD;
      for (int o = 0; o < SKL_STEP_ATT_BLOCK * HD; o += 16) _mm_prefetch((const char *)(kn + o), _MM_HINT_T0);
    }
    for (int j = 0; j < n1; j++)
      for (int e = 0; e < HD; e += 16)
        _mm_prefetch((const char *)(v + (size_t)(j0 + SKL_STEP_ATT_BLOCK + j) * stride + e), _MM_HINT_T0);
    const float *vb = v, *kb = kt + (size_t)j0 * HD;
    size_t sb = stride;
    int base = j0;
    if (pack) { /* V rows a power-of-two stride apart crowd L1 sets: packed they stay */
      int nb = tmax - j0 < SKL_STEP_ATT_BLOCK ? tmax - j0 : SKL_STEP_ATT_BLOCK;
      for (int j = 0; j < nb; j++)
        memcpy(vpack + (size_t)j * HD, v + (size_t)(j0 + j) * stride, sizeof(float) * (size_t)HD);
      vb = vpack;
      sb = (size_t)HD;
      base = 0;
    }
    for (int i = 0;;) { /* the queries reading this block, by fours */
      int sel[4], ns = 0;
      for (; i < nq && ns < 4; i++)
        if (qs[i].tk > j0) sel[ns++] = i;
      if (ns == 0) break;
      __m512 s[4][4];
      const float *qp[4] = {NULL, NULL, NULL, NULL};
      for (int u = 0; u < ns; u++) qp[u] = qs[sel[u]].q;
      switch (ns) {
        case 4: scores_kt(HD, 4, kb, qp, scale, s); break;
        case 3: scores_kt(HD, 3, kb, qp, scale, s); break;
        case 2: scores_kt(HD, 2, kb, qp, scale, s); break;
        default: scores_kt(HD, 1, kb, qp, scale, s); break;
      }
      /* all softmaxes first: the weights' stores are done before the
       * P @ V loops read them back one by one */
      float p[4][SKL_STEP_ATT_BLOCK] __attribute__((aligned(64))), corr[4], *acc[4];
      int nkmax = 0;
      for (int u = 0; u < ns; u++) {
        skl_step_query *q = &qs[sel[u]];
        int nk = q->tk - j0 < SKL_STEP_ATT_BLOCK ? q->tk - j0 : SKL_STEP_ATT_BLOCK;
        nkmax = nk > nkmax ? nk : nkmax;
        corr[u] = softmax_kt(s[u], nk, q, p[u]);
        acc[u] = q->acc;
      }
      if (HD % 16 || HD > 64) /* other head sizes: one query at a time */
        for (int u = 0; u < ns; u++) {
          int nk = qs[sel[u]].tk - j0 < SKL_STEP_ATT_BLOCK ? qs[sel[u]].tk - j0 : SKL_STEP_ATT_BLOCK;
          pv_update(HD, vb, sb, base, nk, p[u], corr[u], acc[u]);
        }
      else if (HD > 32) /* 64: two queries at a time (register budget) */
        for (int u = 0; u < ns; u += 2) {
          if (u + 1 < ns) pv_kt(HD, 2, vb, sb, base, nkmax, p + u, corr + u, acc + u);
          else pv_kt(HD, 1, vb, sb, base, nkmax, p + u, corr + u, acc + u);
        }
      else
        switch (ns) {
          case 4: pv_kt(HD, 4, vb, sb, base, nkmax, p, corr, acc); break;
          case 3: pv_kt(HD, 3, vb, sb, base, nkmax, p, corr, acc); break;
          case 2: pv_kt(HD, 2, vb, sb, base, nkmax, p, corr, acc); break;
          default: pv_kt(HD, 1, vb, sb, base, nkmax, p, corr, acc); break;
        }
    }
  }
}

static void attend_kt_dispatch(const float *kt, const float *v, size_t stride, int HD, float scale,
                               skl_step_query *qs, int nq, int tmax) {
  switch (HD) {
    case 32: attend_all_kt(32, kt, v, stride, scale, qs, nq, tmax); break;
    case 64: attend_all_kt(64, kt, v, stride, scale, qs, nq, tmax); break;
    case 128: attend_all_kt(128, kt, v, stride, scale, qs, nq, tmax); break;
    default: attend_all_kt(HD, kt, v, stride, scale, qs, nq, tmax); break;
  }
}

#else
/* ---- portable: 8-lane GCC vectors ----------------------------------------- */

typedef float v8 __attribute__((vector_size(32)));

static inline v8 load8(const float *p, int n) { /* n < 8: zero-padded */
  v8 r = {0, 0, 0, 0, 0, 0, 0, 0};
  memcpy(&r, p, sizeof(float) * (size_t)n);
  return r;
}

static inline float hsum8(v8 a) { return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])); }

static inline __attribute__((always_inline)) void tile(const int NR, const int NO, const float *x, size_t xs,
                                                       const float *w, int IC, float *y, size_t ys,
                                                       const float *bias, bool accumulate) {
  v8 acc[6][8];
  for (int r = 0; r < NR; r++)
    for (int o = 0; o < NO; o++) acc[r][o] = (v8){0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < IC; i += 8) {
    int c = IC - i < 8 ? IC - i : 8;
    v8 xv[6];
    for (int r = 0; r < NR; r++) {
      if (c == 8) memcpy(&xv[r], x + (size_t)r * xs + i, sizeof(v8));
      else xv[r] = load8(x + (size_t)r * xs + i, c);
    }
    for (int o = 0; o < NO; o++) {
      v8 wv;
      if (c == 8) memcpy(&wv, w + (size_t)o * IC + i, sizeof(v8));
      else wv = load8(w + (size_t)o * IC + i, c);
      for (int r = 0; r < NR; r++) acc[r][o] += wv * xv[r];
    }
  }
  for (int r = 0; r < NR; r++)
    for (int o = 0; o < NO; o++) {
      float val = hsum8(acc[r][o]);
      if (bias) val += bias[o];
      float *yo = y + (size_t)r * ys + o;
      *yo = accumulate ? *yo + val : val;
    }
}

/* The online-softmax update of query q from block scores s[nk] (max mx)
 * and values v rows j0..: its max, sum and acc; s becomes the weights. */
static void online_update(skl_step_query *q, float *s, int nk, float mx, const float *v, size_t stride, int j0,
                          int HD) {
  float m = *q->m, mnew = m > mx ? m : mx;
  float corr = m == -INFINITY ? 0.0f : expf(m - mnew);
  float l = *q->l * corr;
  for (int j = 0; j < nk; j++) {
    s[j] = expf(s[j] - mnew);
    l += s[j];
  }
  *q->l = l;
  *q->m = mnew;
  for (int e = 0; e < HD; e++) {
    float a = q->acc[e] * corr;
    for (int j = 0; j < nk; j++) a += s[j] * v[(size_t)(j0 + j) * stride + e];
    q->acc[e] = a;
  }
}

static void attend_block(const float *k, const float *v, size_t stride, int HD, float scale, skl_step_query *q,
                         int j0, int j1) {
  int nk = j1 - j0;
  float s[SKL_STEP_ATT_BLOCK], mx = -INFINITY;
  for (int j = 0; j < nk; j++) {
    const float *kr = k + (size_t)(j0 + j) * stride;
    v8 a = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int e = 0; e < HD; e += 8) {
      int c = HD - e < 8 ? HD - e : 8;
      a += load8(q->q + e, c) * load8(kr + e, c);
    }
    s[j] = hsum8(a) * scale;
    mx = s[j] > mx ? s[j] : mx;
  }
  online_update(q, s, nk, mx, v, stride, j0, HD);
}

static void attend_dispatch(const float *k, const float *v, size_t stride, int HD, float scale, skl_step_query *qs,
                            int nq, int tmax) {
  for (int j0 = 0; j0 < tmax; j0 += SKL_STEP_ATT_BLOCK)
    for (int i = 0; i < nq; i++) {
      if (qs[i].tk <= j0) continue;
      int j1 = qs[i].tk < j0 + SKL_STEP_ATT_BLOCK ? qs[i].tk : j0 + SKL_STEP_ATT_BLOCK;
      attend_block(k, v, stride, HD, scale, &qs[i], j0, j1);
    }
}
/* K^T tiles: keys in lanes, each score one sum in dim order (the AVX-512
 * path's formula). */
static void attend_block_kt(const float *kt, const float *v, size_t stride, int HD, float scale, skl_step_query *q,
                            int j0, int nk) {
  float s[SKL_STEP_ATT_BLOCK], mx = -INFINITY;
  for (int g = 0; g < (nk + 7) / 8; g++) {
    const float *t = kt + (size_t)(g / 2) * HD * SKL_STEP_KT_TILE + (g % 2) * 8;
    v8 a = {0, 0, 0, 0, 0, 0, 0, 0}, kv;
    for (int e = 0; e < HD; e++) {
      memcpy(&kv, t + (size_t)e * SKL_STEP_KT_TILE, sizeof kv);
      a += q->q[e] * kv;
    }
    v8 sg = a * scale;
    for (int j = 0; j < 8 && 8 * g + j < nk; j++) {
      s[8 * g + j] = sg[j];
      mx = sg[j] > mx ? sg[j] : mx;
    }
  }
  online_update(q, s, nk, mx, v, stride, j0, HD);
}

static void attend_kt_dispatch(const float *kt, const float *v, size_t stride, int HD, float scale,
                               skl_step_query *qs, int nq, int tmax) {
  for (int j0 = 0; j0 < tmax; j0 += SKL_STEP_ATT_BLOCK)
    for (int i = 0; i < nq; i++) {
      if (qs[i].tk <= j0) continue;
      int nk = qs[i].tk - j0 < SKL_STEP_ATT_BLOCK ? qs[i].tk - j0 : SKL_STEP_ATT_BLOCK;
      attend_block_kt(kt + (size_t)j0 * HD, v, stride, HD, scale, &qs[i], j0, nk);
    }
}
#endif

/* ---- drivers (shared) ------------------------------------------------------- */

/* Rows x outputs [o0, o0 + no) of one weight matrix, tile by tile. */
static void linear_block(const float *x, size_t xs, int n, int IC, const skl_step_seg *g, int o0, int no,
                         bool accumulate) {
#if STEP_AVX512
  /* the next block's weights (this thread's next work item, mostly) into
   * L2 while this one is computed: a block starts on weights from memory */
  if (o0 + no < g->OC) {
    const char *wn = (const char *)(g->w + (size_t)(o0 + no) * IC);
    size_t bytes = sizeof(float) * (size_t)IC * (size_t)(g->OC - o0 - no < OUT_BLOCK ? g->OC - o0 - no : OUT_BLOCK);
    for (size_t b = 0; b < bytes; b += 64) _mm_prefetch(wn + b, _MM_HINT_T1);
  }
#endif
  for (int r0 = 0; r0 < n;) {
    int nr = n - r0 < 6 ? n - r0 : 6, to;
    if (nr == 5) nr = 4; /* 4 + 1 beats one 5-row tile (measured) */
    to = nr <= 2 ? 8 : 4;
    const float *xr = x + (size_t)r0 * xs;
    for (int o = 0; o < no;) {
      int cnt = no - o >= to ? to : 1; /* ragged column ends: one at a time */
      const float *w = g->w + (size_t)(o0 + o) * IC, *b = g->bias ? g->bias + o0 + o : NULL;
      float *y = g->out + (size_t)r0 * g->out_stride + o0 + o;
      size_t ys = g->out_stride;
      bool ac = accumulate;
      switch (nr * 16 + cnt) {
        case 6 * 16 + 4: tile(6, 4, xr, xs, w, IC, y, ys, b, ac); break;
        case 4 * 16 + 4: tile(4, 4, xr, xs, w, IC, y, ys, b, ac); break;
        case 3 * 16 + 4: tile(3, 4, xr, xs, w, IC, y, ys, b, ac); break;
        case 2 * 16 + 8: tile(2, 8, xr, xs, w, IC, y, ys, b, ac); break;
        case 1 * 16 + 8: tile(1, 8, xr, xs, w, IC, y, ys, b, ac); break;
        case 6 * 16 + 1: tile(6, 1, xr, xs, w, IC, y, ys, b, ac); break;
        case 4 * 16 + 1: tile(4, 1, xr, xs, w, IC, y, ys, b, ac); break;
        case 3 * 16 + 1: tile(3, 1, xr, xs, w, IC, y, ys, b, ac); break;
        case 2 * 16 + 1: tile(2, 1, xr, xs, w, IC, y, ys, b, ac); break;
        default: tile(1, 1, xr, xs, w, IC, y, ys, b, ac); break;
      }
      o += cnt;
    }
    r0 += nr;
  }
}

void skl_step_linear_segs(const float *x, size_t xs, int n, int IC, const skl_step_seg *seg, int nseg,
                          bool accumulate) {
  enum { MAX_SEG = 8 };
  int start[MAX_SEG + 1] = {0};
  size_t work = 0;
  nseg = nseg < MAX_SEG ? nseg : MAX_SEG;
  for (int s = 0; s < nseg; s++) {
    start[s + 1] = start[s] + (seg[s].OC + OUT_BLOCK - 1) / OUT_BLOCK;
    work += (size_t)seg[s].OC * (size_t)IC * (size_t)n;
  }
  int total = start[nseg];
#pragma omp parallel for schedule(static) if (work >= (1u << 15))
  for (int b = 0; b < total; b++) {
    int s = 0;
    while (b >= start[s + 1]) s++;
    int o0 = (b - start[s]) * OUT_BLOCK, no = seg[s].OC - o0 < OUT_BLOCK ? seg[s].OC - o0 : OUT_BLOCK;
    linear_block(x, xs, n, IC, &seg[s], o0, no, accumulate);
  }
}

void skl_step_linear_swiglu(const float *x, size_t xs, int n, int IC, const float *wg, const float *wu, float *gate,
                            float *up, int FF) {
  skl_step_seg sg = {wg, NULL, gate, (size_t)FF, FF}, su = {wu, NULL, up, (size_t)FF, FF};
  int total = (FF + OUT_BLOCK - 1) / OUT_BLOCK;
  size_t work = 2 * (size_t)FF * (size_t)IC * (size_t)n;
#pragma omp parallel for schedule(static) if (work >= (1u << 15))
  for (int b = 0; b < total; b++) {
    int o0 = b * OUT_BLOCK, no = FF - o0 < OUT_BLOCK ? FF - o0 : OUT_BLOCK;
    linear_block(x, xs, n, IC, &sg, o0, no, false);
    linear_block(x, xs, n, IC, &su, o0, no, false);
    for (int r = 0; r < n; r++)
      for (int o = o0; o < o0 + no; o++) {
        float *g = gate + (size_t)r * FF + o, gv = *g;
        *g = gv / (1.0f + expf(-gv)) * up[(size_t)r * FF + o];
      }
  }
}

void skl_step_linear(float *out, const float *x, const float *w, const float *bias, int n, int IC, int OC,
                     bool accumulate) {
  skl_step_seg s = {w, bias, out, (size_t)OC, OC};
  skl_step_linear_segs(x, (size_t)IC, n, IC, &s, 1, accumulate);
}

void skl_step_attend(const float *k, const float *v, size_t stride, int HD, float scale, skl_step_query *qs,
                     int nq) {
  int tmax = 0;
  for (int i = 0; i < nq; i++) tmax = qs[i].tk > tmax ? qs[i].tk : tmax;
  attend_dispatch(k, v, stride, HD, scale, qs, nq, tmax);
}

void skl_step_kt_store(float *kt, int j, const float *k, int HD) {
  float *t = kt + (size_t)(j / SKL_STEP_KT_TILE) * HD * SKL_STEP_KT_TILE + j % SKL_STEP_KT_TILE;
  for (int e = 0; e < HD; e++) t[(size_t)e * SKL_STEP_KT_TILE] = k[e];
}

void skl_step_attend_kt(const float *kt, const float *v, size_t stride, int HD, float scale, skl_step_query *qs,
                        int nq) {
  int tmax = 0;
  for (int i = 0; i < nq; i++) tmax = qs[i].tk > tmax ? qs[i].tk : tmax;
  attend_kt_dispatch(kt, v, stride, HD, scale, qs, nq, tmax);
}
