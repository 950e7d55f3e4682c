/* skl model internals shared by the model's .c files: a vectorisable expf,
 * the deterministic gemm, and the decoder stack over a step's rows with its
 * attention plan (stack.c; the plan and the block are in block.h). Not public API: other rooms use model.h /
 * layers.h. */
#ifndef SKL_MODEL_INTERNAL_H
#define SKL_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "model/block.h"
#include "model/model.h"

/* Parallel regions only pay off above this much work (elements): below it
 * (decode steps, tests) the fork/join costs more than the loop, and on a
 * loaded machine a barrier waits for a descheduled thread. */
#define SKL_PAR(work) ((work) >= 65536)

/* exp(x) by Cephes' range reduction + degree-6 polynomial (~1 ulp), written
 * branch-free so `omp simd` loops vectorise it (glibc's expf does not
 * vectorise without -ffast-math). Inputs below -87 give ~1e-38, not 0:
 * callers zero masked entries explicitly. */
static inline float skl_expf(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  /* round to nearest by the 1.5 * 2^23 trick (no libm call: vectorises) */
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  /* NaN passes the clamps: keep the shift defined (p is NaN anyway) */
  int32_t ni = n == n ? (int32_t)n : 0;
  uint32_t bits = (uint32_t)(ni + 127) << 23;
  float sc;
  memcpy(&sc, &bits, sizeof sc);
  return p * sc;
}

/* C[M, N] = alpha * op(A) @ op(B) + beta * C (row-major, cblas semantics),
 * parallel over OpenMP threads in shape-determined blocks with OpenBLAS at
 * one thread: results do not depend on the thread count. */
void skl_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);

/* ---- the decoder stack over a step's rows (stack.c) --------------------- */

/* Embedding, the L layers (attention by the plan) and the final norm of N
 * rows: a->x, the layer slots, a->lnf. a->rope must hold the rows' table. */
void skl_stack_forward(skl_model *m, skl_acts *a, const int32_t *tokens, int N,
                       const skl_attn_plan *ap);
/* The fused output projection + cross-entropy of rows r0..N-1 (targets,
 * a->coef) at logit scale s (0: 1) into a->logp / a->entropy; with
 * backward, dL/dlnf of all N rows into a->d.dln (rows below r0 zero) and the
 * output weights' gradient. Scales a->lnf in place. @return the loss. */
double skl_stack_head(skl_model *m, skl_acts *a, const int32_t *targets, int N, int r0,
                      float logit_scale, bool backward);
/* The backward of skl_stack_forward from a->d.dln (dL/dlnf), ACCUMULATING
 * into m->g; with a->recompute, re-runs each layer's forward first. */
void skl_stack_backward(skl_model *m, skl_acts *a, const int32_t *tokens, int N,
                        const skl_attn_plan *ap);

#endif
