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

#endif
