/* skl attention internals: the backward's schemes, named so tests can run
 * each one. Not public API: callers use skl_attn_backward (layers.h). */
#ifndef SKL_MODEL_ATTENTION_INTERNAL_H
#define SKL_MODEL_ATTENTION_INTERNAL_H

#include "model/layers.h"

typedef enum {
  SKL_ATTN_BWD_AUTO = 0,    /* skl_attn_bwd_pick */
  SKL_ATTN_BWD_SINGLE_PASS, /* one task per kv head; tiles computed once */
  SKL_ATTN_BWD_TWO_PASS,    /* dk/dv per key tile, then dq per query tile */
} skl_attn_bwd_scheme;

/* Fewest kv heads for which the single pass is used when the call runs in
 * parallel (it has one task per kv head). */
#define SKL_ATTN_SINGLE_PASS_MIN_KV 4

/* The scheme skl_attn_backward uses for a shape (by shape only, so results
 * never depend on the thread count). */
skl_attn_bwd_scheme skl_attn_bwd_pick(const skl_attn_shape *s);

/* skl_attn_backward with the scheme chosen by the caller. */
void skl_attn_backward_scheme(float *dq, float *dk, float *dv, const float *dout, const float *q,
                              const float *k, const float *v, const float *out, const float *lse,
                              const skl_attn_shape *s, float *scratch, skl_attn_bwd_scheme scheme);

/* ---- tile kernels (attn_tile.c) ---------------------------------------- */

/* Columns per block of skl_attn_tile_abt: transposed tiles are zero-padded
 * to a multiple of this. */
#define SKL_ATTN_KCOLS 64

/* Whether the tile kernels serve head dim HD (else attention uses sgemm). */
static inline bool skl_attn_tile_ok(int HD) { return HD % 16 == 0 && HD <= 128; }

/* Bt[HD, SKL_ATTN_TILE] = transpose of B[nj rows (stride ldb), HD], columns
 * nj .. up to the next multiple of SKL_ATTN_KCOLS zeroed. */
void skl_attn_tile_transpose(float *Bt, const float *B, size_t ldb, int nj, int HD);

/* Causal limits of the tile kernels: no limit. */
#define SKL_ATTN_NODIAG (1 << 28)

/* S[ni, SKL_ATTN_TILE] = alpha * A[ni rows (stride lda), HD] @ Bt[HD, :nj]
 * (columns up to the next multiple of SKL_ATTN_KCOLS are written too).
 * Row m needs only columns jj <= m + diag: blocks of SKL_ATTN_KCOLS columns
 * wholly past that are left unwritten (the caller masks them);
 * SKL_ATTN_NODIAG computes everything. */
void skl_attn_tile_abt(float *S, const float *A, size_t lda, const float *Bt, int ni, int nj, int HD,
                       float alpha, int diag);

/* C[M rows (stride ldc), HD] += A @ B[K rows (stride ldb), HD] where
 * A(m, k) = A[m * ars + k * acs] (ars = 1, acs = TILE reads a tile
 * transposed). A(m, k) is taken as zero outside m - lo <= k <= m + hi
 * (those products are skipped: causal tiles); SKL_ATTN_NODIAG for both
 * is the full product. */
void skl_attn_tile_ab(float *C, size_t ldc, const float *A, size_t ars, size_t acs, const float *B,
                      size_t ldb, int M, int K, int HD, int lo, int hi);

/* ---- softmax passes (attn_softmax.c) ------------------------------------ */

/* The forward's online-softmax update of a score tile S[ni, SKL_ATTN_TILE]
 * (scaled scores; -inf where a document mask hides a key). Row ii sees
 * columns jj < nj with jj <= ii + diag (SKL_ATTN_NODIAG: all); the others
 * may hold anything and are not read. For each row: m[ii] (running max)
 * and l[ii] (running sum) updated, S = exp(S - m_new) over [0, nj) (0 where
 * hidden), corr[ii] = exp(m_old - m_new) to rescale the row's output
 * accumulator (1 for a row that sees nothing here: m, l, S row zeroed). */
void skl_attn_tile_softmax(float *S, int ni, int nj, int diag, float *m, float *l, float *corr);

/* The backward's P and dS of a tile from its scores S (as above) and dP =
 * dO @ V^T (columns past the causal limit may be unwritten): S = P =
 * exp(S - L[ii]), dP = P * (dP - D[ii]) * scale over [0, nj), 0 where
 * hidden (and on rows with L = -inf). */
void skl_attn_tile_probs(float *S, float *dP, int ni, int nj, int diag, const float *L,
                         const float *D, float scale);

#endif
