/* skl mtp internals: views of one head's decoder block, its input, the
 * teacher's top-N and the per-head loss on caller-owned slices. Not public: mtp.h is the header. */
#ifndef SKL_MTP_INTERNAL_H
#define SKL_MTP_INTERNAL_H

#include "mtp/mtp.h"

/* Each head's decoder layer is the main model's block (model/block.h),
 * seen through these (block.c): */
skl_attn_shape mtp_attn_shape(const skl_model_config *c, int T);
/* causal attention within each of B rows of T (no work buffers) */
skl_attn_plan mtp_attn_plan(const skl_model_config *c, int B, int T);
skl_block_weights mtp_block_weights(const skl_mtp_params *p);
skl_block_grads mtp_block_grads(const skl_mtp_params *g);

/* The module's input u[N, C] = eh_proj @ [enorm(emb) ; hnorm(hprev)] with
 * emb = Emb(tok) (stored in emb, en, hn; rstd may be NULL). */
void mtp_input_forward(const skl_model_config *c, const skl_mtp_params *p, const float *embed,
                       const int32_t *tok, const float *hprev, float *emb, float *en, float *en_rstd,
                       float *hn, float *hn_rstd, float *x, int N);

/* Top-N of each of the N rows of lnf @ wout^T into a->top_idx / top_logit
 * (sorted by logit descending; ties keep the smaller id). */
void mtp_teacher_topn(skl_mtp_acts *a, const float *lnf, const float *wout, int N, int C, int V);

/* Loss terms of head kk (0-based) into a->row_ce / row_kl / s_argmax; if
 * dlnf != NULL, also dL/d(model.norm output of h^k) [N, C] (overwritten),
 * with the per-token weights a->coef. */
void mtp_head_loss(skl_mtp_acts *a, int kk, const float *wout, int N, int C, int V,
                   const skl_mtp_loss_config *lc, float *dlnf);

#endif
