/* skl step kernels (decode internals): the linears and the attention of a
 * decode step over a few rows, ROW-COUNT INVARIANT: each row's result is
 * bit for bit what it is when that row is computed alone, whatever other
 * rows share the call and whatever the thread count, while the weights
 * (and a region's K/V) are read once for all rows. Not public API (used by
 * decode.c and spec.c); not the prefill kernels (sgemm, layers.h).
 *
 * Why invariant: every (row, output) dot product has its own accumulator
 * vector, fed chunk by chunk in increasing index order (masked tail), then
 * reduced by one fixed tree; the register tiles only decide which pairs run
 * side by side, never the arithmetic of a pair. Threads split output
 * columns (linears) or (row group, kv head) tasks (attention), never a sum.
 * The instruction set is picked at compile time (AVX-512F, else portable
 * 8-lane vectors); one binary always takes the same path. */
#ifndef SKL_DECODE_STEP_KERNELS_H
#define SKL_DECODE_STEP_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

/* One weight matrix of a fused linear: out[r * out_stride + o] (= or +=)
 * x[r] . w[o] (+ bias[o]) for o < OC. */
typedef struct {
  const float *w;    /* [OC, IC] */
  const float *bias; /* [OC] or NULL */
  float *out;        /* row r at out + r * out_stride */
  size_t out_stride;
  int OC;
} skl_step_seg;

/* x[n, IC] (row stride x_stride) through nseg weight matrices in one
 * parallel region (q/k/v, or gate/up): with accumulate, out += x @ w^T
 * (the residual adds), else out = x @ w^T + bias. */
void skl_step_linear_segs(const float *x, size_t x_stride, int n, int IC, const skl_step_seg *seg, int nseg,
                          bool accumulate);

/* gate[n, FF] = silu(x @ wg^T) * (x @ wu^T), up[n, FF] the second product:
 * the MLP's first half, the gate/up pair and the activation of each block
 * of outputs in one work item (no serial activation pass). */
void skl_step_linear_swiglu(const float *x, size_t x_stride, int n, int IC, const float *wg, const float *wu,
                            float *gate, float *up, int FF);

/* out[n, OC] (= or +=) x[n, IC] @ w[OC, IC]^T (+ bias) */
void skl_step_linear(float *out, const float *x, const float *w, const float *bias, int n, int IC, int OC,
                     bool accumulate);

/* One query's online-softmax state: it reads keys [0, tk) of the K/V range
 * it is run against; acc[HD] (unnormalised output), running max *m and
 * sum *l (start: acc 0, m -INFINITY, l 0). */
typedef struct {
  const float *q; /* [HD] */
  float *acc;     /* [HD] */
  float *m, *l;
  int tk;
} skl_step_query;

/* Online-softmax attention of nq queries against one head's keys/values
 * k, v (row j at k + j * stride, HD floats; query i reads rows [0, tk_i)),
 * in blocks of SKL_STEP_ATT_BLOCK keys from row 0: each block is loaded
 * once for all queries, and each query's sequence of block updates is the
 * one it has alone. Run a query over a parent range, then its own range,
 * to attend both; finish with acc / l. */
#define SKL_STEP_ATT_BLOCK 64
void skl_step_attend(const float *k, const float *v, size_t stride, int HD, float scale, skl_step_query *qs,
                     int nq);

/* The same attention with one head's keys stored transposed in tiles of
 * SKL_STEP_KT_TILE keys (keys in lanes: a score needs no horizontal sum):
 * key j's dim e at kt[(j / 16) * 16 * HD + e * 16 + j % 16]. Each score is
 * q . k summed in dim order (not skl_step_attend's arithmetic: results
 * differ in the last bits).
 * A head's tiles for cap keys take skl_step_kt_floats(cap, HD) floats:
 * whole blocks, as the kernel reads a block's 4 tiles (lanes past a
 * query's tk are masked; keep them finite, e.g. calloc). */
#define SKL_STEP_KT_TILE 16
static inline size_t skl_step_kt_floats(int cap, int HD) {
  return (size_t)((cap + SKL_STEP_ATT_BLOCK - 1) / SKL_STEP_ATT_BLOCK) * SKL_STEP_ATT_BLOCK * (size_t)HD;
}
/* Store key row k[HD] as key j of a head's tiles. */
void skl_step_kt_store(float *kt, int j, const float *k, int HD);
void skl_step_attend_kt(const float *kt, const float *v, size_t stride, int HD, float scale, skl_step_query *qs,
                        int nq);

/* "avx512" or "vec8": the path compiled in (bench output, doctor). */
const char *skl_step_isa(void);

#endif
