/* skl attention softmax passes: the element-wise work over one score tile
 * (the forward's online-softmax update, the backward's P and dS), 16 lanes
 * at a time with AVX-512, a plain loop elsewhere. Not the tile products
 * (attn_tile.c) nor the tiling (attention.c).
 *
 * Why by hand: with `omp simd` reductions GCC sums a row's 16 lanes one
 * after another through memory, twice per row (max, sum); at HD = 32 that
 * costs about as much as the row's share of the tile products. Here a row
 * is reduced in registers, causally hidden columns are skipped by range
 * instead of being set to -inf first, and exp needs no float -> int
 * conversion (vscalefps scales by 2^n). */
#include <math.h>
#include <string.h>

#include "model/attention_internal.h"
#include "model/model_internal.h"

#define TILE SKL_ATTN_TILE

/* Columns row ii of a tile sees causally: [0, je). */
static inline int row_end(int ii, int nj, int diag) {
  int e = diag >= nj ? nj : ii + diag + 1; /* diag may be SKL_ATTN_NODIAG */
  return e < 0 ? 0 : e > nj ? nj : e;
}

#ifdef __AVX512F__
#include <immintrin.h>

/* skl_expf on 16 lanes: the same reduction and polynomial (~1 ulp). */
static inline __m512 vexp(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.0f));
  const __m512 shift = _mm512_set1_ps(12582912.0f); /* round to nearest, as skl_expf */
  __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), shift), shift);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

/* Lanes j .. j+15 that lie below e. */
static inline __mmask16 lanes_below(int j, int e) {
  int n = e - j;
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

void skl_attn_tile_softmax(float *S, int ni, int nj, int diag, float *m, float *l, float *corr) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  for (int ii = 0; ii < ni; ii++) {
    float *row = S + (size_t)ii * TILE;
    int je = row_end(ii, nj, diag);
    __m512 vm = ninf;
    for (int j = 0; j < je; j += 16)
      vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(ninf, lanes_below(j, je), row + j));
    float mx = _mm512_reduce_max_ps(vm);
    if (mx == -INFINITY) { /* no visible key in this tile: the row is unchanged */
      memset(row, 0, sizeof(float) * nj);
      corr[ii] = 1.0f;
      continue;
    }
    float mnew = m[ii] > mx ? m[ii] : mx;
    __m512 vmn = _mm512_set1_ps(mnew), vs = _mm512_setzero_ps();
    for (int j = 0; j < nj; j += 16) {
      __m512 x = _mm512_loadu_ps(row + j);
      /* visible, and not hidden by a document mask (-inf) */
      __mmask16 k = _mm512_mask_cmp_ps_mask(lanes_below(j, je), x, ninf, _CMP_NEQ_OQ);
      __m512 p = _mm512_maskz_mov_ps(k, vexp(_mm512_sub_ps(x, vmn)));
      vs = _mm512_add_ps(vs, p);
      _mm512_mask_storeu_ps(row + j, lanes_below(j, nj), p);
    }
    corr[ii] = m[ii] == -INFINITY ? 0.0f : skl_expf(m[ii] - mnew);
    l[ii] = l[ii] * corr[ii] + _mm512_reduce_add_ps(vs);
    m[ii] = mnew;
  }
}

void skl_attn_tile_probs(float *S, float *dP, int ni, int nj, int diag, const float *L,
                         const float *D, float scale) {
  const __m512 ninf = _mm512_set1_ps(-INFINITY), vsc = _mm512_set1_ps(scale);
  for (int ii = 0; ii < ni; ii++) {
    float *row = S + (size_t)ii * TILE, *dp = dP + (size_t)ii * TILE;
    int je = L[ii] == -INFINITY ? 0 : row_end(ii, nj, diag);
    __m512 vl = _mm512_set1_ps(L[ii]), vd = _mm512_set1_ps(D[ii]);
    for (int j = 0; j < nj; j += 16) {
      /* lanes past je may hold unwritten (any) values: masked, never used */
      __mmask16 kv = lanes_below(j, je), kn = lanes_below(j, nj);
      __m512 x = _mm512_maskz_loadu_ps(kv, row + j);
      __mmask16 k = _mm512_mask_cmp_ps_mask(kv, x, ninf, _CMP_NEQ_OQ);
      __m512 p = _mm512_maskz_mov_ps(k, vexp(_mm512_sub_ps(x, vl)));
      __m512 g = _mm512_maskz_loadu_ps(kv, dp + j);
      __m512 ds = _mm512_maskz_mov_ps(k, _mm512_mul_ps(_mm512_mul_ps(p, _mm512_sub_ps(g, vd)), vsc));
      _mm512_mask_storeu_ps(row + j, kn, p);
      _mm512_mask_storeu_ps(dp + j, kn, ds);
    }
  }
}

#else /* portable: the compiler vectorises the loops */

void skl_attn_tile_softmax(float *S, int ni, int nj, int diag, float *m, float *l, float *corr) {
  for (int ii = 0; ii < ni; ii++) {
    float *row = S + (size_t)ii * TILE;
    int je = row_end(ii, nj, diag);
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int jj = 0; jj < je; jj++) mx = row[jj] > mx ? row[jj] : mx;
    if (mx == -INFINITY) {
      memset(row, 0, sizeof(float) * nj);
      corr[ii] = 1.0f;
      continue;
    }
    float mnew = m[ii] > mx ? m[ii] : mx, sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int jj = 0; jj < je; jj++) {
      float p = row[jj] == -INFINITY ? 0.0f : skl_expf(row[jj] - mnew);
      row[jj] = p;
      sum += p;
    }
    if (je < nj) memset(row + je, 0, sizeof(float) * (nj - je));
    corr[ii] = m[ii] == -INFINITY ? 0.0f : skl_expf(m[ii] - mnew);
    l[ii] = l[ii] * corr[ii] + sum;
    m[ii] = mnew;
  }
}

void skl_attn_tile_probs(float *S, float *dP, int ni, int nj, int diag, const float *L,
                         const float *D, float scale) {
  for (int ii = 0; ii < ni; ii++) {
    float *row = S + (size_t)ii * TILE, *dp = dP + (size_t)ii * TILE;
    float Li = L[ii], Di = D[ii];
    int je = Li == -INFINITY ? 0 : row_end(ii, nj, diag);
#pragma omp simd
    for (int jj = 0; jj < je; jj++) {
      float p = row[jj] == -INFINITY ? 0.0f : skl_expf(row[jj] - Li);
      row[jj] = p;
      dp[jj] = p * (dp[jj] - Di) * scale;
    }
    if (je < nj) {
      memset(row + je, 0, sizeof(float) * (nj - je));
      memset(dp + je, 0, sizeof(float) * (nj - je));
    }
  }
}

#endif
