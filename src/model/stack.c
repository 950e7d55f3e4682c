/* skl stack: the decoder's layers over the rows of one step, forward and
 * backward, each layer a block (block.c) whose attention a plan describes
 * (which query rows attend to which K/V rows). Shared by the packed batch
 * step (model.c) and the shared-prefix group step (group.c). Not the
 * block's maths, the loss, the batch layout or the activations' allocation. */
#include <string.h>

#include "model/model.h"
#include "model/model_internal.h"

/* ---- one layer ---------------------------------------------------------- */

/* Layer l's stored activations as a block's: its slot (0 with
 * recompute), input x[l], output x[l+1]. */
static skl_block_acts layer_acts(const skl_model_config *c, skl_acts *a, int l) {
  size_t C = c->hidden_size;
  skl_block_acts w = skl_block_acts_at(c, &a->blk, (size_t)(a->recompute ? 0 : l) * a->N);
  w.x = a->x + (size_t)l * a->N * C;
  w.out = a->x + (size_t)(l + 1) * a->N * C;
  return w;
}

static void layer_forward(skl_model *m, skl_acts *a, int N, const skl_block_attn *at, int l) {
  skl_block_weights w = skl_params_block(&m->cfg, &m->p, l);
  skl_block_acts ba = layer_acts(&m->cfg, a, l);
  skl_block_forward(&m->cfg, &w, &ba, N, at, NULL);
}

/* a->d.dx holds dL/dx_{l+1} on entry and dL/dx_l on return. */
static void layer_backward(skl_model *m, skl_acts *a, int N, const skl_block_attn *at, int l) {
  skl_block_weights w = skl_params_block(&m->cfg, &m->p, l);
  skl_block_grads g = skl_params_block_grads(&m->cfg, &m->g, l);
  skl_block_acts ba = layer_acts(&m->cfg, a, l);
  skl_block_backward(&m->cfg, &w, &g, &ba, &a->d, N, at);
}

/* ---- the stack ---------------------------------------------------------- */

void skl_stack_forward(skl_model *m, skl_acts *a, const int32_t *tokens, int N,
                       const skl_attn_plan *ap) {
  const skl_model_config *c = &m->cfg;
  int C = c->hidden_size;
  skl_block_attn at = skl_block_attn_plan(ap);
  skl_embed_forward(a->x, tokens, m->p.embed, N, C);
  for (int l = 0; l < c->n_layers; l++) layer_forward(m, a, N, &at, l);
  skl_rmsnorm_forward(a->lnf, a->lnf_rstd, a->x + (size_t)c->n_layers * a->N * C, m->p.final_norm,
                      N, C, c->rms_eps);
}

double skl_stack_head(skl_model *m, skl_acts *a, const int32_t *targets, int N, int r0,
                      float logit_scale, bool backward) {
  const skl_model_config *c = &m->cfg;
  int C = c->hidden_size;
  const float *wout = m->p.lm_head ? m->p.lm_head : m->p.embed;
  float *dwout = NULL;
  if (backward) {
    dwout = m->g.lm_head ? m->g.lm_head : m->g.embed;
    memset(a->d.dln, 0, sizeof(float) * N * C);
  }
  /* logits * s = (s * lnf) @ W^T: lnf is not needed after the CE, so its
   * rows are scaled in place, and the gradient w.r.t. them by s afterwards */
  float ls = logit_scale != 0.0f ? logit_scale : 1.0f;
  size_t o = (size_t)r0 * C, n = (size_t)(N - r0) * C;
  if (ls != 1.0f)
    for (size_t i = 0; i < n; i++) a->lnf[o + i] *= ls;
  double loss = 0.0;
  if (N > r0)
    loss = skl_ce_fused(a->logp + r0, a->entropy + r0, a->top1 + r0, backward ? a->d.dln + o : NULL, dwout,
                        a->lnf + o, wout, targets + r0, a->coef + r0, N - r0, C, c->vocab_size,
                        a->scratch);
  if (backward && ls != 1.0f)
    for (size_t i = 0; i < n; i++) a->d.dln[o + i] *= ls;
  return loss;
}

void skl_stack_backward(skl_model *m, skl_acts *a, const int32_t *tokens, int N,
                        const skl_attn_plan *ap) {
  const skl_model_config *c = &m->cfg;
  int C = c->hidden_size, L = c->n_layers;
  memset(a->d.dx, 0, sizeof(float) * N * C);
  skl_rmsnorm_backward(a->d.dx, m->g.final_norm, a->d.dln, a->x + (size_t)L * a->N * C, m->p.final_norm,
                       a->lnf_rstd, N, C);
  skl_block_attn at = skl_block_attn_plan(ap);
  for (int l = L - 1; l >= 0; l--) {
    if (a->recompute && l != L - 1) layer_forward(m, a, N, &at, l);
    layer_backward(m, a, N, &at, l);
  }
  skl_embed_backward(m->g.embed, a->d.dx, tokens, N, C);
}
