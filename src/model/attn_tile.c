/* skl attention tile kernels: register-blocked products of one
 * [TILE, TILE] score tile with [TILE, HD] row blocks, for HD a multiple of
 * 16 up to 128. Not the attention algorithm (attention.c).
 *
 * Why not sgemm: at HD = 32 a tile product is 1 MFLOP, and OpenBLAS's
 * small-matrix path (or, for transposed A, its packing path) runs it at
 * about half the core's peak. These kernels keep a block of the output in
 * registers (GCC vector extensions: AVX-512 with -march=native, narrower
 * vectors elsewhere) and broadcast the scalar operand, with no packing:
 * the transposed K/V tile (the only operand read along its columns) is
 * transposed once per key tile by the caller. */
#include "model/attention_internal.h"

/* 16 floats; aligned(4) so any float pointer may be loaded (unaligned moves). */
typedef float vf __attribute__((vector_size(64), aligned(4), may_alias));

static inline vf vload(const float *p) { return *(const vf *)p; }
static inline void vstore(float *p, vf x) { *(vf *)p = x; }
/* Keeps a loaded vector in a register: without it GCC re-reads it from
 * memory as an operand of every FMA, and the loads become the bottleneck. */
#ifdef __AVX512F__
#define KEEP(x) __asm__("" : "+v"(x))
#else
#define KEEP(x) ((void)0)
#endif

static inline vf vbcast(float a) { return (vf){a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a}; }

typedef int vi __attribute__((vector_size(64)));

/* One stage of a 16 x 16 in-register transpose: swaps the off-diagonal
 * h x h blocks of every 2h x 2h block (rows i and i + h). */
#define TR_STAGE(h, LO, HI)                                                     \
  for (int i = 0; i < 16; i++)                                                  \
    if (!(i & (h))) {                                                           \
      vf a = r[i], b = r[i + (h)];                                              \
      r[i] = __builtin_shuffle(a, b, LO);                                       \
      r[i + (h)] = __builtin_shuffle(a, b, HI);                                 \
    }

static inline void transpose16(vf r[16]) {
  const vi l8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
  const vi h8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
  const vi l4 = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
  const vi h4 = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
  const vi l2 = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
  const vi h2 = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
  const vi l1 = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
  const vi h1 = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};
  _Pragma("GCC unroll 16") TR_STAGE(8, l8, h8)
  _Pragma("GCC unroll 16") TR_STAGE(4, l4, h4)
  _Pragma("GCC unroll 16") TR_STAGE(2, l2, h2)
  _Pragma("GCC unroll 16") TR_STAGE(1, l1, h1)
}

void skl_attn_tile_transpose(float *Bt, const float *B, size_t ldb, int nj, int HD) {
  int npad = (nj + SKL_ATTN_KCOLS - 1) / SKL_ATTN_KCOLS * SKL_ATTN_KCOLS, j = 0;
  for (; j + 16 <= nj; j += 16)
    for (int d = 0; d < HD; d += 16) {
      vf r[16];
      _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++) r[i] = vload(B + (size_t)(j + i) * ldb + d);
      transpose16(r);
      _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++)
        vstore(Bt + (size_t)(d + i) * SKL_ATTN_TILE + j, r[i]);
    }
  for (; j < nj; j++) {
    const float *b = B + (size_t)j * ldb;
    for (int d = 0; d < HD; d++) Bt[(size_t)d * SKL_ATTN_TILE + j] = b[d];
  }
  for (int d = 0; d < HD; d++)
    for (int jj = nj; jj < npad; jj++) Bt[(size_t)d * SKL_ATTN_TILE + jj] = 0.0f;
}

/* S[m, c0 .. c0+64) = alpha * sum_d A[m, d] * Bt[d, c0 ..] for R rows. */
#define ABT_BLOCK(R)                                                            \
  do {                                                                          \
    vf acc[R][4];                                                               \
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                         \
      _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = (vf){0};  \
    for (int d = 0; d < HD; d++) {                                              \
      const float *b = Bt + (size_t)d * SKL_ATTN_TILE + c0;                     \
      vf b0 = vload(b), b1 = vload(b + 16), b2 = vload(b + 32), b3 = vload(b + 48); \
      KEEP(b0); KEEP(b1); KEEP(b2); KEEP(b3);                                   \
      _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {                     \
        vf a = vbcast(A[(size_t)(m + r) * lda + d]);                            \
        acc[r][0] += a * b0;                                                    \
        acc[r][1] += a * b1;                                                    \
        acc[r][2] += a * b2;                                                    \
        acc[r][3] += a * b3;                                                    \
      }                                                                         \
    }                                                                           \
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)                         \
      _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++)                       \
        vstore(S + (size_t)(m + r) * SKL_ATTN_TILE + c0 + 16 * v, acc[r][v] * valpha); \
  } while (0)

#ifndef ABT_ROWS
#define ABT_ROWS 6
#endif

void skl_attn_tile_abt(float *S, const float *A, size_t lda, const float *Bt, int ni, int nj, int HD,
                       float alpha, int diag) {
  int npad = (nj + SKL_ATTN_KCOLS - 1) / SKL_ATTN_KCOLS * SKL_ATTN_KCOLS;
  vf valpha = vbcast(alpha);
  for (int c0 = 0; c0 < npad; c0 += SKL_ATTN_KCOLS) {
    /* rows m with m + diag < c0 need no column of this block */
    int m = c0 - diag > 0 ? c0 - diag : 0;
    for (; m + ABT_ROWS <= ni; m += ABT_ROWS) ABT_BLOCK(ABT_ROWS);
    for (; m < ni; m++) ABT_BLOCK(1);
  }
}

/* C[m, 0 .. 16 NV) += sum_k A(m, k) * B[k, :] with A(m, k) = A[m * ars + k * acs],
 * R rows at a time (R * NV accumulators), k over [kb, ke) (the block's rows'
 * nonzero range). */
#define AB_BLOCK(R, NV)                                                         \
  do {                                                                          \
    vf acc[R][NV];                                                              \
    _Pragma("GCC unroll 16") for (int r = 0; r < R; r++)                        \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++)                      \
        acc[r][v] = vload(C + (size_t)(m + r) * ldc + 16 * v);                  \
    for (int k = kb; k < ke; k++) {                                             \
      const float *b = B + (size_t)k * ldb;                                     \
      vf bv[NV];                                                                \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {                    \
        bv[v] = vload(b + 16 * v);                                              \
        KEEP(bv[v]);                                                            \
      }                                                                         \
      const float *a = A + (size_t)m * ars + (size_t)k * acs;                   \
      _Pragma("GCC unroll 16") for (int r = 0; r < R; r++) {                    \
        vf av = vbcast(a[(size_t)r * ars]);                                     \
        _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) acc[r][v] += av * bv[v]; \
      }                                                                         \
    }                                                                           \
    _Pragma("GCC unroll 16") for (int r = 0; r < R; r++)                        \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++)                      \
        vstore(C + (size_t)(m + r) * ldc + 16 * v, acc[r][v]);                  \
  } while (0)

/* Rows m .. m + r - 1 need k in [m - lo, m + r - 1 + hi] (within [0, K)). */
static inline void krange(int m, int r, int K, int lo, int hi, int *kb, int *ke) {
  int b = m - lo, e = m + r + hi;
  *kb = b > 0 ? b : 0;
  *ke = e < K ? e : K;
}

#define AB_FN(NV, R)                                                            \
  static void ab_##NV(float *C, size_t ldc, const float *A, size_t ars, size_t acs, \
                      const float *B, size_t ldb, int M, int K, int lo, int hi) { \
    int m = 0, kb, ke;                                                          \
    for (; m + R <= M; m += R) {                                                \
      krange(m, R, K, lo, hi, &kb, &ke);                                        \
      AB_BLOCK(R, NV);                                                          \
    }                                                                           \
    for (; m < M; m++) {                                                        \
      krange(m, 1, K, lo, hi, &kb, &ke);                                        \
      AB_BLOCK(1, NV);                                                          \
    }                                                                           \
  }
AB_FN(1, 8)
AB_FN(2, 8)
AB_FN(4, 4)
AB_FN(8, 2)

void skl_attn_tile_ab(float *C, size_t ldc, const float *A, size_t ars, size_t acs, const float *B,
                      size_t ldb, int M, int K, int HD, int lo, int hi) {
  switch (HD) {
  case 16: ab_1(C, ldc, A, ars, acs, B, ldb, M, K, lo, hi); break;
  case 32: ab_2(C, ldc, A, ars, acs, B, ldb, M, K, lo, hi); break;
  case 64: ab_4(C, ldc, A, ars, acs, B, ldb, M, K, lo, hi); break;
  case 128: ab_8(C, ldc, A, ars, acs, B, ldb, M, K, lo, hi); break;
  default: /* 48, 80, 96, 112: blocks of 16 columns */
    for (int c = 0; c < HD; c += 16) ab_1(C + c, ldc, A, ars, acs, B + c, ldb, M, K, lo, hi);
  }
}
