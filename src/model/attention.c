/* skl attention: tiled online-softmax (flash-style) causal attention with
 * packing masks, forward keeping only the log-sum-exp, backward recomputing
 * the tiles. Not a KV cache (src/decode) and not the projections.
 *
 * Each OpenMP task owns one (head, query tile) or (kv head, key tile); the
 * tile products run as single-threaded sgemm calls (OpenBLAS is set to one
 * thread for the duration, since the parallelism is ours). Per thread only
 * a few [TILE, TILE] buffers exist, so memory is linear in T. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/attention_internal.h"
#include "model/layers.h"
#include "model/model_internal.h"

#define TILE SKL_ATTN_TILE

typedef struct {
  float S[TILE * TILE];  /* scores, then probabilities */
  float dP[TILE * TILE]; /* backward: dP, then dS */
  float acc[TILE * 256]; /* forward: output accumulator [TILE, HD]; backward: dk/dq tile */
  float acc2[TILE * 256]; /* backward: dv tile */
  float Kt[128 * TILE];   /* tile kernels: K tile transposed [HD, TILE] */
  float Vt[128 * TILE];   /* backward: V tile transposed */
} tile_buf;

skl_attn_shape skl_attn_shape_of(const skl_model_config *c) {
  skl_attn_shape s = {0};
  s.NH = c->n_heads;
  s.NKV = c->n_kv_heads;
  s.HD = c->head_dim;
  s.scale = 1.0f / sqrtf((float)c->head_dim);
  s.q_stride = s.o_stride = (size_t)c->n_heads * c->head_dim;
  s.k_stride = s.v_stride = (size_t)c->n_kv_heads * c->head_dim;
  return s;
}

size_t skl_attn_work_floats(int threads) {
  return (size_t)(threads > 0 ? threads : 1) * (sizeof(tile_buf) / sizeof(float));
}

/* This thread's tile buffer: a slice of s->work, or a fresh allocation
 * (*owned set) when the caller gave none or too few threads' worth. */
static tile_buf *tile_get(const skl_attn_shape *s, bool *owned) {
  int t = omp_get_thread_num();
  size_t per = sizeof(tile_buf) / sizeof(float);
  if (s->work && (size_t)(t + 1) * per <= s->work_floats) {
    *owned = false;
    return (tile_buf *)(void *)(s->work + (size_t)t * per);
  }
  *owned = true;
  tile_buf *tb = malloc(sizeof *tb);
  SKL_ASSERT(tb);
  return tb;
}

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

static void doc_range(const int32_t *doc, int r0, int r1, int32_t *lo, int32_t *hi) {
  int32_t a = doc[r0], b = doc[r0];
  for (int r = r0 + 1; r < r1; r++) {
    a = doc[r] < a ? doc[r] : a;
    b = doc[r] > b ? doc[r] : b;
  }
  *lo = a;
  *hi = b;
}

/* Whether the tile pair needs masking (false: every pair visible), and
 * whether it can be skipped (no pair visible). */
static bool tile_plan(const skl_attn_shape *s, int i0, int ni, int j0, int nj, bool *skip) {
  *skip = false;
  int qlast = s->q_off + i0 + ni - 1, qfirst = s->q_off + i0;
  if (s->k_off + j0 > qlast) {
    *skip = true;
    return true;
  }
  bool causal_all = s->k_off + j0 + nj - 1 <= qfirst;
  if (!s->q_doc) return !causal_all;
  int32_t qlo, qhi, klo, khi;
  doc_range(s->q_doc, i0, i0 + ni, &qlo, &qhi);
  doc_range(s->k_doc, j0, j0 + nj, &klo, &khi);
  if (khi < qlo || klo > qhi) {
    *skip = true;
    return true;
  }
  return !(causal_all && qlo == qhi && klo == khi && qlo == klo);
}

/* Query row ii of the tile pair (i0, j0) sees keys jj <= ii + diag
 * (causally; documents may hide more). */
static inline int tile_diag(const skl_attn_shape *s, int i0, int j0) {
  return s->q_off + i0 - s->k_off - j0;
}

/* S[ni, TILE] = scale * Q[i0.., head h] @ K[j0.., kv head kh]^T, keys that
 * documents hide set to -inf. Causally hidden keys are left as they are:
 * the softmax passes skip them by range (tile_diag). Kt: the K tile
 * transposed for the tile kernels, or NULL (sgemm). */
static void scores(float *S, const float *q, const float *k, const float *Kt, const skl_attn_shape *s,
                   int h, int kh, int i0, int ni, int j0, int nj, bool mask) {
  int HD = s->HD;
  const float *qa = q + (size_t)i0 * s->q_stride + (size_t)h * HD;
  if (Kt)
    skl_attn_tile_abt(S, qa, s->q_stride, Kt, ni, nj, HD, s->scale, tile_diag(s, i0, j0));
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, nj, HD, s->scale, qa, (int)s->q_stride,
                k + (size_t)j0 * s->k_stride + (size_t)kh * HD, (int)s->k_stride, 0.0f, S, TILE);
  if (!mask || !s->q_doc) return;
  for (int ii = 0; ii < ni; ii++) {
    float *row = S + ii * TILE;
    int32_t qd = s->q_doc[i0 + ii];
    const int32_t *kd = s->k_doc + j0;
    for (int jj = 0; jj < nj; jj++) row[jj] = kd[jj] == qd ? row[jj] : -INFINITY;
  }
}

void skl_attn_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                      const skl_attn_shape *s) {
  int Tq = s->Tq, NH = s->NH, HD = s->HD, grp = s->NH / s->NKV;
  SKL_ASSERT(HD <= 256 && HD > 0 && grp > 0 && s->NH % s->NKV == 0);
  int nqt = (Tq + TILE - 1) / TILE;
  int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
#pragma omp parallel if (SKL_PAR((size_t)Tq * s->Tk * NH * HD / 64))
  {
    bool owned, fast = skl_attn_tile_ok(HD);
    tile_buf *tb = tile_get(s, &owned);
    float m[TILE], l[TILE], corr[TILE];
    /* the longest tasks (last query tiles: most visible keys) first, so
     * the loop ends on short ones */
#pragma omp for schedule(dynamic, 1)
    for (int t = 0; t < NH * nqt; t++) {
      int h = t % NH, qt = nqt - 1 - t / NH;
      int kh = h / grp, i0 = qt * TILE, ni = imin(TILE, Tq - i0);
      for (int ii = 0; ii < ni; ii++) {
        m[ii] = -INFINITY;
        l[ii] = 0.0f;
      }
      memset(tb->acc, 0, sizeof(float) * ni * HD);
      int jend = imin(s->Tk, s->q_off + i0 + ni - s->k_off);
      for (int j0 = 0; j0 < jend; j0 += TILE) {
        int nj = imin(TILE, jend - j0);
        bool skip, mask = tile_plan(s, i0, ni, j0, nj, &skip);
        if (skip) continue;
        if (fast)
          skl_attn_tile_transpose(tb->Kt, k + (size_t)j0 * s->k_stride + (size_t)kh * HD,
                                  s->k_stride, nj, HD);
        scores(tb->S, q, k, fast ? tb->Kt : NULL, s, h, kh, i0, ni, j0, nj, mask);
        skl_attn_tile_softmax(tb->S, ni, nj, tile_diag(s, i0, j0), m, l, corr);
        for (int ii = 0; ii < ni; ii++) {
          if (corr[ii] == 1.0f) continue;
          float *a = tb->acc + ii * HD, c = corr[ii];
#pragma omp simd
          for (int d = 0; d < HD; d++) a[d] *= c;
        }
        /* acc[ni, HD] += P[ni, nj] @ V[j0.., kv head] */
        const float *vb = v + (size_t)j0 * s->v_stride + (size_t)kh * HD;
        if (fast)
          skl_attn_tile_ab(tb->acc, HD, tb->S, TILE, 1, vb, s->v_stride, ni, nj, HD, SKL_ATTN_NODIAG,
                           tile_diag(s, i0, j0));
        else
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, HD, nj, 1.0f, tb->S, TILE, vb,
                      (int)s->v_stride, 1.0f, tb->acc, HD);
      }
      for (int ii = 0; ii < ni; ii++) {
        float *o = out + (size_t)(i0 + ii) * s->o_stride + (size_t)h * HD;
        float inv = l[ii] > 0.0f ? 1.0f / l[ii] : 0.0f;
        for (int d = 0; d < HD; d++) o[d] = tb->acc[ii * HD + d] * inv;
        lse[(size_t)h * Tq + i0 + ii] = l[ii] > 0.0f ? m[ii] + logf(l[ii]) : -INFINITY;
      }
    }
    if (owned) free(tb);
  }
  openblas_set_num_threads(blas_threads);
}

void skl_attn_merge(float *out, float *lse, const float *out2, const float *lse2,
                    const skl_attn_shape *s) {
  int Tq = s->Tq, NH = s->NH, HD = s->HD;
#pragma omp parallel for collapse(2) schedule(static) if (SKL_PAR((size_t)Tq * NH * HD))
  for (int h = 0; h < NH; h++)
    for (int i = 0; i < Tq; i++) {
      float a = lse[(size_t)h * Tq + i], b = lse2[(size_t)h * Tq + i];
      float *o = out + (size_t)i * s->o_stride + (size_t)h * HD;
      const float *o2 = out2 + (size_t)i * s->o_stride + (size_t)h * HD;
      if (b == -INFINITY) continue;
      if (a == -INFINITY) {
        memcpy(o, o2, sizeof(float) * HD);
        lse[(size_t)h * Tq + i] = b;
        continue;
      }
      float mx = a > b ? a : b;
      float L = mx + logf(expf(a - mx) + expf(b - mx));
      float wa = expf(a - L), wb = expf(b - L);
      for (int d = 0; d < HD; d++) o[d] = wa * o[d] + wb * o2[d];
      lse[(size_t)h * Tq + i] = L;
    }
}

size_t skl_attn_scratch_floats(const skl_attn_shape *s) { return (size_t)s->NH * s->Tq; }

/* From S (scores) of a tile: P = exp(S - lse) in S; dP = dO @ V^T, then
 * dS = P * (dP - D) * scale in dP. Vt: the V tile transposed (tile
 * kernels) or NULL (sgemm). */
static void probs_and_dS(tile_buf *tb, const float *dout, const float *v, const float *Vt,
                         const skl_attn_shape *s, int h, int kh, const float *lse, const float *D,
                         int i0, int ni, int j0, int nj) {
  int Tq = s->Tq, HD = s->HD;
  const float *da = dout + (size_t)i0 * s->o_stride + (size_t)h * HD;
  int diag = tile_diag(s, i0, j0);
  if (Vt)
    skl_attn_tile_abt(tb->dP, da, s->o_stride, Vt, ni, nj, HD, 1.0f, diag);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ni, nj, HD, 1.0f, da, (int)s->o_stride,
                v + (size_t)j0 * s->v_stride + (size_t)kh * HD, (int)s->v_stride, 0.0f, tb->dP, TILE);
  skl_attn_tile_probs(tb->S, tb->dP, ni, nj, diag, lse + (size_t)h * Tq + i0,
                      D + (size_t)h * Tq + i0, s->scale);
}

/* D[h, i] = dot(dout[i, h], out[i, h]): the softmax backward's row term. */
static void attn_rowdot(float *D, const float *dout, const float *out, const skl_attn_shape *s) {
  int Tq = s->Tq, NH = s->NH, HD = s->HD;
#pragma omp parallel for collapse(2) schedule(static) if (SKL_PAR((size_t)Tq * NH * HD))
  for (int h = 0; h < NH; h++)
    for (int i = 0; i < Tq; i++) {
      const float *g = dout + (size_t)i * s->o_stride + (size_t)h * HD;
      const float *o = out + (size_t)i * s->o_stride + (size_t)h * HD;
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (int d = 0; d < HD; d++) acc += g[d] * o[d];
      D[(size_t)h * Tq + i] = acc;
    }
}

/* Adds the [nj, HD] tile accumulators to dk/dv rows j0.. of kv head kh. */
static void kv_tile_store(float *dk, float *dv, const float *dka, const float *dva,
                          const skl_attn_shape *s, int kh, int j0, int nj) {
  int HD = s->HD;
  for (int jj = 0; jj < nj; jj++) {
    if (dk) {
      float *o = dk + (size_t)(j0 + jj) * s->k_stride + (size_t)kh * HD;
#pragma omp simd
      for (int d = 0; d < HD; d++) o[d] += dka[jj * HD + d];
    }
    if (dv) {
      float *o = dv + (size_t)(j0 + jj) * s->v_stride + (size_t)kh * HD;
#pragma omp simd
      for (int d = 0; d < HD; d++) o[d] += dva[jj * HD + d];
    }
  }
}

/* One kv tile (kv head kh, key rows j0..j0+nj-1) with thread buffer tb:
 * for every visible (query head of kh, query tile) pair, S, P, dP and dS
 * once, then dv += P^T @ dO and dk += dS^T @ Q (tile accumulators, stored
 * at the end) and, when dq != NULL, dq[ni, HD] += dS @ K straight into the
 * query rows (only this kv head's task writes them). */
static void bwd_kv_tile(tile_buf *tb, bool fast, float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v, const float *lse,
                        const float *D, const skl_attn_shape *s, int kh, int j0, int nj) {
  int Tq = s->Tq, HD = s->HD, grp = s->NH / s->NKV;
  float *dka = dk ? tb->acc : NULL, *dva = dv ? tb->acc2 : NULL; /* [nj, HD] */
  if (dka) memset(dka, 0, sizeof(float) * nj * HD);
  if (dva) memset(dva, 0, sizeof(float) * nj * HD);
  const float *kb = k + (size_t)j0 * s->k_stride + (size_t)kh * HD;
  const float *vb = v + (size_t)j0 * s->v_stride + (size_t)kh * HD;
  if (fast) {
    skl_attn_tile_transpose(tb->Kt, kb, s->k_stride, nj, HD);
    skl_attn_tile_transpose(tb->Vt, vb, s->v_stride, nj, HD);
  }
  int ifirst = imax(0, s->k_off + j0 - s->q_off);
  for (int h = kh * grp; h < (kh + 1) * grp; h++)
    for (int i0 = (ifirst / TILE) * TILE; i0 < Tq; i0 += TILE) {
      int ni = imin(TILE, Tq - i0);
      bool skip, mask = tile_plan(s, i0, ni, j0, nj, &skip);
      if (skip) continue;
      scores(tb->S, q, k, fast ? tb->Kt : NULL, s, h, kh, i0, ni, j0, nj, mask);
      probs_and_dS(tb, dout, v, fast ? tb->Vt : NULL, s, h, kh, lse, D, i0, ni, j0, nj);
      const float *da = dout + (size_t)i0 * s->o_stride + (size_t)h * HD;
      const float *qa = q + (size_t)i0 * s->q_stride + (size_t)h * HD;
      float *dqa = dq ? dq + (size_t)i0 * s->q_stride + (size_t)h * HD : NULL;
      if (fast) {
        /* key row jj sees query rows ii >= jj - diag */
        int diag = tile_diag(s, i0, j0), no = SKL_ATTN_NODIAG;
        if (dva) skl_attn_tile_ab(dva, HD, tb->S, 1, TILE, da, s->o_stride, nj, ni, HD, diag, no);
        if (dka) skl_attn_tile_ab(dka, HD, tb->dP, 1, TILE, qa, s->q_stride, nj, ni, HD, diag, no);
        if (dqa)
          skl_attn_tile_ab(dqa, s->q_stride, tb->dP, TILE, 1, kb, s->k_stride, ni, nj, HD, no, diag);
        continue;
      }
      if (dva)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nj, HD, ni, 1.0f, tb->S, TILE, da,
                    (int)s->o_stride, 1.0f, dva, HD);
      if (dka)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nj, HD, ni, 1.0f, tb->dP, TILE, qa,
                    (int)s->q_stride, 1.0f, dka, HD);
      if (dqa)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, HD, nj, 1.0f, tb->dP, TILE, kb,
                    (int)s->k_stride, 1.0f, dqa, (int)s->q_stride);
    }
  kv_tile_store(dk, dv, dka, dva, s, kh, j0, nj);
}

/* Single pass: one task per kv head (and its grp query heads). It walks the
 * kv tiles in order; per visible (query tile, kv tile) pair S, P, dP and dS
 * are computed once and give dv, dk and dq (bwd_kv_tile). Every sum runs in
 * an order fixed by the shape, so results do not depend on the thread
 * count. */
static void bwd_single_pass(float *dq, float *dk, float *dv, const float *dout, const float *q,
                            const float *k, const float *v, const float *lse, const float *D,
                            const skl_attn_shape *s) {
  int Tq = s->Tq, Tk = s->Tk, NH = s->NH, NKV = s->NKV, HD = s->HD;
  int nkt = (Tk + TILE - 1) / TILE;
#pragma omp parallel if (SKL_PAR((size_t)Tq * Tk * NH * HD / 64))
  {
    bool owned, fast = skl_attn_tile_ok(HD);
    tile_buf *tb = tile_get(s, &owned);
#pragma omp for schedule(dynamic, 1)
    for (int kh = 0; kh < NKV; kh++)
      for (int kt = 0; kt < nkt; kt++)
        bwd_kv_tile(tb, fast, dq, dk, dv, dout, q, k, v, lse, D, s, kh, kt * TILE,
                    imin(TILE, Tk - kt * TILE));
    if (owned) free(tb);
  }
}

/* Two passes: A, one task per (kv head, key tile) -> dk, dv; B, one task per
 * (head, query tile) -> dq. Each recomputes the tiles, but there are
 * NKV * key tiles tasks, so it keeps threads busy when NKV is small. */
static void bwd_two_pass(float *dq, float *dk, float *dv, const float *dout, const float *q,
                         const float *k, const float *v, const float *lse, const float *D,
                         const skl_attn_shape *s) {
  int Tq = s->Tq, Tk = s->Tk, NH = s->NH, NKV = s->NKV, HD = s->HD, grp = NH / NKV;
  int nkt = (Tk + TILE - 1) / TILE, nqt = (Tq + TILE - 1) / TILE;
  if (dk || dv) {
#pragma omp parallel if (SKL_PAR((size_t)Tq * Tk * NH * HD / 64))
    {
      bool owned, fast = skl_attn_tile_ok(HD);
      tile_buf *tb = tile_get(s, &owned);
#pragma omp for collapse(2) schedule(dynamic, 1)
      for (int kh = 0; kh < NKV; kh++)
        for (int kt = 0; kt < nkt; kt++)
          bwd_kv_tile(tb, fast, NULL, dk, dv, dout, q, k, v, lse, D, s, kh, kt * TILE,
                      imin(TILE, Tk - kt * TILE));
      if (owned) free(tb);
    }
  }
  if (dq) {
#pragma omp parallel if (SKL_PAR((size_t)Tq * Tk * NH * HD / 64))
    {
      bool owned, fast = skl_attn_tile_ok(HD);
      tile_buf *tb = tile_get(s, &owned);
#pragma omp for collapse(2) schedule(dynamic, 1)
      for (int h = 0; h < NH; h++)
        for (int qt = 0; qt < nqt; qt++) {
          int kh = h / grp, i0 = qt * TILE, ni = imin(TILE, Tq - i0);
          float *dqa = tb->acc; /* [ni, HD] */
          memset(dqa, 0, sizeof(float) * ni * HD);
          int jend = imin(Tk, s->q_off + i0 + ni - s->k_off);
          for (int j0 = 0; j0 < jend; j0 += TILE) {
            int nj = imin(TILE, jend - j0);
            bool skip, mask = tile_plan(s, i0, ni, j0, nj, &skip);
            if (skip) continue;
            const float *kb = k + (size_t)j0 * s->k_stride + (size_t)kh * HD;
            if (fast) {
              skl_attn_tile_transpose(tb->Kt, kb, s->k_stride, nj, HD);
              skl_attn_tile_transpose(tb->Vt, v + (size_t)j0 * s->v_stride + (size_t)kh * HD,
                                      s->v_stride, nj, HD);
            }
            scores(tb->S, q, k, fast ? tb->Kt : NULL, s, h, kh, i0, ni, j0, nj, mask);
            probs_and_dS(tb, dout, v, fast ? tb->Vt : NULL, s, h, kh, lse, D, i0, ni, j0, nj);
            /* dq[ni, HD] += dS @ K */
            if (fast) {
              skl_attn_tile_ab(dqa, HD, tb->dP, TILE, 1, kb, s->k_stride, ni, nj, HD, SKL_ATTN_NODIAG,
                               tile_diag(s, i0, j0));
              continue;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, HD, nj, 1.0f, tb->dP, TILE,
                        k + (size_t)j0 * s->k_stride + (size_t)kh * HD, (int)s->k_stride, 1.0f, dqa,
                        HD);
          }
          for (int ii = 0; ii < ni; ii++) {
            float *o = dq + (size_t)(i0 + ii) * s->q_stride + (size_t)h * HD;
#pragma omp simd
            for (int d = 0; d < HD; d++) o[d] += dqa[ii * HD + d];
          }
        }
      if (owned) free(tb);
    }
  }
}

skl_attn_bwd_scheme skl_attn_bwd_pick(const skl_attn_shape *s) {
  /* By shape only, never by thread count (determinism). The single pass has
   * NKV tasks: enough for a few threads from NKV = 4 up; below the parallel
   * threshold everything runs on one thread anyway. */
  bool parallel = SKL_PAR((size_t)s->Tq * s->Tk * s->NH * s->HD / 64);
  return s->NKV >= SKL_ATTN_SINGLE_PASS_MIN_KV || !parallel ? SKL_ATTN_BWD_SINGLE_PASS
                                                            : SKL_ATTN_BWD_TWO_PASS;
}

void skl_attn_backward_scheme(float *dq, float *dk, float *dv, const float *dout, const float *q,
                              const float *k, const float *v, const float *out, const float *lse,
                              const skl_attn_shape *s, float *scratch, skl_attn_bwd_scheme scheme) {
  int NH = s->NH, NKV = s->NKV, HD = s->HD, grp = NH / NKV;
  SKL_ASSERT(HD <= 256 && HD > 0 && grp > 0 && NH % NKV == 0);
  if (!dq && !dk && !dv) return;
  float *D = scratch ? scratch : malloc(sizeof(float) * skl_attn_scratch_floats(s));
  SKL_ASSERT(D);
  attn_rowdot(D, dout, out, s);
  int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  if (scheme == SKL_ATTN_BWD_AUTO) scheme = skl_attn_bwd_pick(s);
  if (scheme == SKL_ATTN_BWD_SINGLE_PASS)
    bwd_single_pass(dq, dk, dv, dout, q, k, v, lse, D, s);
  else
    bwd_two_pass(dq, dk, dv, dout, q, k, v, lse, D, s);
  openblas_set_num_threads(blas_threads);
  if (!scratch) free(D);
}

void skl_attn_backward(float *dq, float *dk, float *dv, const float *dout, const float *q,
                       const float *k, const float *v, const float *out, const float *lse,
                       const skl_attn_shape *s, float *scratch) {
  skl_attn_backward_scheme(dq, dk, dv, dout, q, k, v, out, lse, s, scratch, SKL_ATTN_BWD_AUTO);
}
