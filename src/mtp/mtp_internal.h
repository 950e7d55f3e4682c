/* skl mtp internals: one head's decoder block, the teacher's top-N and the
 * per-head loss on caller-owned slices. Not public: mtp.h is the header. */
#ifndef SKL_MTP_INTERNAL_H
#define SKL_MTP_INTERNAL_H

#include "mtp/mtp.h"

/* Slices of one head's stored activations [N, width] and shared scratch. */
typedef struct {
  float *x;                              /* [N, C] block input */
  float *ln1, *ln1_rstd;                 /* [N, C], [N] */
  float *qraw, *kraw, *q_rstd, *k_rstd;  /* qk_norm only: [N, QD], [N, KD], [N, NH], [N, NKV] */
  float *q, *k, *v, *att, *lse;          /* [N, QD], [N, KD], [N, KD], [N, QD], [B, NH, T] */
  float *h, *ln2, *ln2_rstd;             /* [N, C], [N, C], [N] */
  float *gate, *up, *act;                /* [N, FF] */
  float *out;                            /* [N, C] block output */
  const float *rope;                     /* [N, HD] */
  /* backward scratch: dx holds dL/dout on entry, dL/dx on return */
  float *dx, *dln, *dq, *dk, *dkraw, *dv, *datt, *dgate, *dup, *dact, *scratch;
} mtp_blk;

skl_attn_shape mtp_attn_shape(const skl_model_config *c, int T);

/* The block in two halves around its attention, so the incremental path
 * (rows.c) runs the same code with attention over a KV cache:
 * qkv: ln1 = attn_norm(x); q, k, v (q/k norm, RoPE from s->rope) of N rows;
 * out: h = x + att @ wo^T; out = h + swiglu MLP(mlp_norm(h)). rstd fields
 * may be NULL (no backward follows). */
void mtp_block_qkv(const skl_model_config *c, const skl_mtp_params *p, mtp_blk *s, int N);
void mtp_block_out(const skl_model_config *c, const skl_mtp_params *p, mtp_blk *s, int N);

/* The module's input u[N, C] = eh_proj @ [enorm(emb) ; hnorm(hprev)] with
 * emb = Emb(tok) (stored in emb, en, hn; rstd may be NULL). */
void mtp_input_forward(const skl_model_config *c, const skl_mtp_params *p, const float *embed,
                       const int32_t *tok, const float *hprev, float *emb, float *en, float *en_rstd,
                       float *hn, float *hn_rstd, float *x, int N);

/* One causal decoder layer (the main model's type) over B rows of T. */
void mtp_block_forward(const skl_model_config *c, const skl_mtp_params *p, mtp_blk *s, int B, int T);
/* Accumulates into g (every block field of the head). */
void mtp_block_backward(const skl_model_config *c, const skl_mtp_params *p, skl_mtp_params *g,
                        mtp_blk *s, int B, int T);

/* Top-N of each of the N rows of lnf @ wout^T into a->top_idx / top_logit
 * (sorted by logit descending; ties keep the smaller id). */
void mtp_teacher_topn(skl_mtp_acts *a, const float *lnf, const float *wout, int N, int C, int V);

/* Loss terms of head kk (0-based) into a->row_ce / row_kl / s_argmax; if
 * dlnf != NULL, also dL/d(model.norm output of h^k) [N, C] (overwritten),
 * with the per-token weights a->coef. */
void mtp_head_loss(skl_mtp_acts *a, int kk, const float *wout, int N, int C, int V,
                   const skl_mtp_loss_config *lc, float *dlnf);

#endif
