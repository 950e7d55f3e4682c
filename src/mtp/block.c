/* skl mtp block: the views that let each MTP head's decoder layer run the
 * main model's block (model/block.h): its weights and gradients as a
 * block's, and its causal attention over B rows of T as a plan. Not the
 * block's maths (model/block.c) nor the heads' glue (step.c, rows.c). */
#include "mtp/mtp_internal.h"

skl_attn_shape mtp_attn_shape(const skl_model_config *c, int T) {
  skl_attn_shape s = skl_attn_shape_of(c);
  s.Tq = s.Tk = T;
  return s;
}

skl_attn_plan mtp_attn_plan(const skl_model_config *c, int B, int T) {
  skl_attn_plan p = {0};
  skl_attn_call *k = &p.call[p.n++];
  k->s = mtp_attn_shape(c, T);
  k->reps = B;
  k->stride = T;
  return p;
}

skl_block_weights mtp_block_weights(const skl_mtp_params *p) {
  skl_block_weights w = {
      .attn_norm = p->attn_norm, .wq = p->wq, .bq = p->bq, .wk = p->wk, .bk = p->bk,
      .wv = p->wv, .bv = p->bv, .q_norm = p->q_norm, .k_norm = p->k_norm, .wo = p->wo,
      .mlp_norm = p->mlp_norm, .w_gate = p->w_gate, .w_up = p->w_up, .w_down = p->w_down};
  return w;
}

skl_block_grads mtp_block_grads(const skl_mtp_params *g) {
  skl_block_grads w = {
      .attn_norm = g->attn_norm, .wq = g->wq, .bq = g->bq, .wk = g->wk, .bk = g->bk,
      .wv = g->wv, .bv = g->bv, .q_norm = g->q_norm, .k_norm = g->k_norm, .wo = g->wo,
      .mlp_norm = g->mlp_norm, .w_gate = g->w_gate, .w_up = g->w_up, .w_down = g->w_down};
  return w;
}
