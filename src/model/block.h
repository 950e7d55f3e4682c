/* skl block: one decoder block (RMSNorm, q/k/v with optional bias and q/k
 * norm, RoPE, attention, o_proj, RMSNorm, SwiGLU MLP, two residuals),
 * forward and backward written once. The training stack (stack.c), the
 * MTP heads (src/mtp) and the decode prefill (decode.c, spec.c) call it.
 * Not the attention kernels (layers.h), the stack around the blocks, nor
 * the decode step kernels (step_kernels.c), which are tested against it. */
#ifndef SKL_MODEL_BLOCK_H
#define SKL_MODEL_BLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "model/layers.h"

/* Sizes below: N rows, C = hidden_size, QD = NH*HD, KD = NKV*HD,
 * FF = intermediate_size. A block computes, per row,
 *   ln1 = attn_norm(x); q, k, v = ln1 @ wq/wk/wv^T (+ bias)
 *   q, k = q_norm/k_norm per head (qk_norm); RoPE(q), RoPE(k)
 *   att = attention(q, k, v)            (the caller's: a callback)
 *   h = x + att @ wo^T
 *   ln2 = mlp_norm(h); out = h + (silu(ln2 @ w_gate^T) * (ln2 @ w_up^T)) @ w_down^T */

/* One block's weights: layer l of a model (skl_params_block) or an MTP
 * head's block. Absent tensors are NULL: bq/bk/bv without qkv_bias,
 * q_norm/k_norm without qk_norm. */
typedef struct {
  const float *attn_norm;      /* [C] */
  const float *wq, *bq;        /* [QD, C], [QD] */
  const float *wk, *bk;        /* [KD, C], [KD] */
  const float *wv, *bv;        /* [KD, C], [KD] */
  const float *q_norm, *k_norm; /* [HD] each */
  const float *wo;             /* [C, QD] */
  const float *mlp_norm;       /* [C] */
  const float *w_gate, *w_up;  /* [FF, C] */
  const float *w_down;         /* [C, FF] */
} skl_block_weights;

/* Their gradients (same fields; NULL where the weight is absent).
 * skl_block_backward ACCUMULATES into them. */
typedef struct {
  float *attn_norm, *wq, *bq, *wk, *bk, *wv, *bv, *q_norm, *k_norm;
  float *wo, *mlp_norm, *w_gate, *w_up, *w_down;
} skl_block_grads;

/* The activations of N rows. The forward writes every field but x and
 * rope; rstd and lse fields may be NULL when no backward follows. Where no
 * backward follows, buffers may also be shared to save memory (decode):
 * qraw == q and kraw == k (q/k norm in place), ln2 == ln1, act == gate,
 * h == x (x is then overwritten) and out == h. */
typedef struct {
  const float *x;               /* [N, C] block input */
  float *ln1, *ln1_rstd;        /* [N, C], [N] */
  float *qraw, *kraw;           /* [N, QD], [N, KD] q, k before q/k norm (qk_norm only) */
  float *q_rstd, *k_rstd;       /* [N, NH], [N, NKV] (qk_norm only) */
  float *q, *k, *v;             /* [N, QD], [N, KD], [N, KD] after norm and RoPE */
  float *att, *lse;             /* [N, QD] attention output; its log-sum-exp (the callback's layout) */
  float *h, *ln2, *ln2_rstd;    /* [N, C], [N, C], [N] */
  float *gate, *up, *act;       /* [N, FF] */
  float *out;                   /* [N, C] block output */
  const float *rope;            /* [N, HD] RoPE table of the rows (skl_rope_table) */
} skl_block_acts;

/* Backward scratch of N rows. dx holds dL/dout on entry and dL/dx on
 * return; the others are overwritten (sgemm beta = 0, a SwiGLU backward
 * that writes), so nothing needs zeroing. */
typedef struct {
  float *dx, *dln;              /* [N, C] */
  float *dq, *dk, *dv;          /* [N, QD], [N, KD], [N, KD] */
  float *dkraw;                 /* [N, KD] k gradient before k_norm (qk_norm only) */
  float *datt;                  /* [N, QD] (also the q gradient before q_norm) */
  float *dgate, *dup, *dact;    /* [N, FF] */
  float *scratch;               /* the attention backward's (skl_attn_scratch_floats) */
} skl_block_dacts;

/* Activations live in their owner's one allocation (llm.c style: sized,
 * then sliced). skl_block_acts_slice takes the fields of `rows` rows from
 * base + off, each 64-byte aligned, in a fixed order: ln1, qraw, kraw, q,
 * k, v, att, h, ln2, gate, up, act, with ln1_rstd, q_rstd, k_rstd, lse and
 * ln2_rstd when `stored` (a backward follows); q/k norm fields only with
 * qk_norm. x, out and rope are the owner's and left untouched. base NULL:
 * sizing only (fields NULL). @return the offset past the slices. */
size_t skl_block_acts_slice(const skl_model_config *c, size_t rows, bool stored, float *base,
                            size_t off, skl_block_acts *a);
/* The backward scratch of `rows` rows the same way (scratch left to the
 * owner). @return the offset past the slices. */
size_t skl_block_dacts_slice(const skl_model_config *c, size_t rows, float *base, size_t off,
                             skl_block_dacts *d);
/* a's view moved r rows on: every non-NULL field but rope advanced by r
 * rows of its width (a stored layer slot, an MTP head's slab). */
skl_block_acts skl_block_acts_at(const skl_model_config *c, const skl_block_acts *a, size_t r);

/* The block's attention, which its caller owns: the K/V rows its queries
 * see (a packed batch, a shared prefix, a KV cache). forward fills a->att
 * (and a->lse where a backward follows) from a->q, a->k, a->v; backward
 * ADDS the gradients of q, k, v into d->dq, d->dk, d->dv (zeroed by the
 * block) from d->datt; NULL where no backward runs. */
typedef struct {
  void (*forward)(void *ctx, const skl_block_acts *a, int N);
  void (*backward)(void *ctx, const skl_block_acts *a, const skl_block_dacts *d, int N);
  void *ctx;
} skl_block_attn;

/* The forward's matrix products. linear: out[N, OC] = inp[N, IC] @ w[OC, IC]^T
 * (+ bias); linear_add: out += inp @ w^T (the residuals). NULL ops: the
 * training stack's (skl_linear_forward, skl_gemm's shape-fixed parallel
 * blocks). Decode passes its own to run few rows on the step kernels. */
typedef struct {
  void (*linear)(float *out, const float *inp, const float *w, const float *bias, int N, int IC,
                 int OC);
  void (*linear_add)(float *out, const float *inp, const float *w, int N, int IC, int OC);
} skl_block_ops;

/* skl_linear_forward, and residuals as one plain OpenBLAS sgemm call each
 * (the MTP heads' and the decode prefill's choice since they were
 * written; skl_gemm's blocks may round other last bits for large N). */
extern const skl_block_ops skl_block_ops_sgemm;

/* The forward of N rows (see the top of this file). ops NULL: the
 * training stack's. */
void skl_block_forward(const skl_model_config *c, const skl_block_weights *w,
                       const skl_block_acts *a, int N, const skl_block_attn *attn,
                       const skl_block_ops *ops);

/* The backward of skl_block_forward from the forward's stored activations:
 * d->dx = dL/dout on entry, dL/dx on return; weight gradients ACCUMULATE
 * into g. */
void skl_block_backward(const skl_model_config *c, const skl_block_weights *w,
                        const skl_block_grads *g, const skl_block_acts *a,
                        const skl_block_dacts *d, int N, const skl_block_attn *attn);

/* ---- attention plans ---------------------------------------------------- */

/* Which query rows of a step attend to which K/V rows, as skl_attn_forward
 * calls. A call covers `reps` repeats; repeat i takes query rows
 * q0 + i*stride.. and key rows k0 + i*stride.. of the step's q/k/v (its lse
 * at lse + (q0 + i*stride) * NH, so each call's lse block is [NH, Tq]) with
 * shape s, its documents advanced by i*stride too. A merge call (reps 1)
 * writes into part/part_lse and merges that into the rows' att/lse, which
 * an earlier call of the plan filled for another K/V range.
 *   packed batch of B rows of T: one call, reps B, stride T, docs = doc
 *   MTP heads (B rows of T, no documents): one call, reps B, stride T
 *   shared-prefix group: prompt causal; responses x prompt; responses x
 *   themselves (merge), see group.c */
typedef struct {
  skl_attn_shape s; /* Tq, Tk, q_off, k_off, q_doc/k_doc of repeat 0, heads, strides, work */
  int q0, k0;       /* first query row, first key row of repeat 0 */
  int reps, stride; /* repeats, and the rows between them */
  bool merge;       /* into part/part_lse, then skl_attn_merge into att/lse */
} skl_attn_call;

#define SKL_ATTN_PLAN_MAX 3

typedef struct {
  skl_attn_call call[SKL_ATTN_PLAN_MAX];
  int n;
  float *part, *part_lse; /* merge partial: [Tq, NH*HD], [NH, Tq] */
} skl_attn_plan;

/* att, lse of the step's rows from q, k, v (layouts as skl_attn_forward,
 * row strides from the calls' shapes). */
void skl_attn_plan_forward(const skl_attn_plan *p, float *att, float *lse, const float *q,
                           const float *k, const float *v);
/* dq, dk, dv += (skl_attn_backward per call, calls in reverse order, with
 * the final att and lse). scratch: skl_attn_scratch_floats of any call. */
void skl_attn_plan_backward(const skl_attn_plan *p, float *dq, float *dk, float *dv,
                            const float *datt, const float *q, const float *k, const float *v,
                            const float *att, const float *lse, float *scratch);
/* The block attention that runs plan p (p must outlive the block calls). */
skl_block_attn skl_block_attn_plan(const skl_attn_plan *p);

#endif
