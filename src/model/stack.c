/* skl stack: the decoder's layers over the rows of one step, forward and
 * backward, with each layer's attention described by a plan (which query
 * rows attend to which K/V rows). Shared by the packed batch step
 * (model.c) and the shared-prefix group step (group.c). Not the loss, the
 * batch layout or the activations' allocation. */
#include <string.h>

#include "model/model.h"
#include "model/model_internal.h"

/* ---- attention plan ----------------------------------------------------- */

/* Repeat i of call a: its shape (documents advanced) and first query and
 * key rows. */
static skl_attn_shape call_rep(const skl_attn_call *a, int i, size_t *qr, size_t *kr) {
  skl_attn_shape s = a->s;
  size_t d = (size_t)i * a->stride;
  *qr = (size_t)a->q0 + d;
  *kr = (size_t)a->k0 + d;
  if (s.q_doc) {
    s.q_doc += d;
    s.k_doc += d;
  }
  return s;
}

void skl_attn_plan_forward(const skl_attn_plan *p, float *att, float *lse, const float *q,
                           const float *k, const float *v) {
  for (int c = 0; c < p->n; c++) {
    const skl_attn_call *a = &p->call[c];
    SKL_ASSERT(!a->merge || a->reps == 1);
    size_t QD = a->s.q_stride, KD = a->s.k_stride, NH = a->s.NH, qr, kr;
    for (int i = 0; i < a->reps; i++) {
      skl_attn_shape s = call_rep(a, i, &qr, &kr);
      if (!a->merge) {
        skl_attn_forward(att + qr * QD, lse + qr * NH, q + qr * QD, k + kr * KD, v + kr * KD, &s);
        continue;
      }
      skl_attn_forward(p->part, p->part_lse, q + qr * QD, k + kr * KD, v + kr * KD, &s);
      skl_attn_merge(att + qr * QD, lse + qr * NH, p->part, p->part_lse, &s);
    }
  }
}

void skl_attn_plan_backward(const skl_attn_plan *p, float *dq, float *dk, float *dv,
                            const float *datt, const float *q, const float *k, const float *v,
                            const float *att, const float *lse, float *scratch) {
  /* calls in reverse: the same accumulation order as the forward unrolled */
  for (int c = p->n - 1; c >= 0; c--) {
    const skl_attn_call *a = &p->call[c];
    size_t QD = a->s.q_stride, KD = a->s.k_stride, NH = a->s.NH, qr, kr;
    for (int i = 0; i < a->reps; i++) {
      skl_attn_shape s = call_rep(a, i, &qr, &kr);
      skl_attn_backward(dq + qr * QD, dk + kr * KD, dv + kr * KD, datt + qr * QD, q + qr * QD,
                        k + kr * KD, v + kr * KD, att + qr * QD, lse + qr * NH, &s, scratch);
    }
  }
}

/* ---- one layer ---------------------------------------------------------- */

/* pointer to layer-slot activations: stored slot for layer l */
#define SLOT(a, field, l, width) ((a)->field + (size_t)((a)->recompute ? 0 : (l)) * (a)->N * (width))

/* Layer l's stored activations and weights, named once for both passes. */
typedef struct {
  const float *x;                  /* [N, C] layer input */
  float *ln1, *ln1r;               /* [N, C], [N] */
  float *qraw, *kraw, *qr, *kr;    /* qk_norm: [N, QD], [N, KD], [N, NH], [N, NKV] */
  float *q, *k, *v, *att, *lse;    /* [N, QD], [N, KD], [N, KD], [N, QD], [NH, rows] */
  float *h, *ln2, *ln2r;           /* [N, C], [N, C], [N] */
  float *gate, *up, *act;          /* [N, FF] */
  size_t wC, wQ, wK, wHD, wQC, wKC, wFC; /* offsets of layer l in the stacked weights */
} layer_view;

static layer_view layer_view_of(const skl_model_config *c, skl_acts *a, int l) {
  size_t C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
         FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  layer_view w;
  w.x = a->x + (size_t)l * a->N * C;
  w.ln1 = SLOT(a, ln1, l, C);
  w.ln1r = SLOT(a, ln1_rstd, l, 1);
  w.qraw = c->qk_norm ? SLOT(a, qraw, l, QD) : NULL;
  w.kraw = c->qk_norm ? SLOT(a, kraw, l, KD) : NULL;
  w.qr = c->qk_norm ? SLOT(a, q_rstd, l, NH) : NULL;
  w.kr = c->qk_norm ? SLOT(a, k_rstd, l, NKV) : NULL;
  w.q = SLOT(a, q, l, QD);
  w.k = SLOT(a, k, l, KD);
  w.v = SLOT(a, v, l, KD);
  w.att = SLOT(a, att, l, QD);
  w.lse = SLOT(a, lse, l, NH);
  w.h = SLOT(a, h, l, C);
  w.ln2 = SLOT(a, ln2, l, C);
  w.ln2r = SLOT(a, ln2_rstd, l, 1);
  w.gate = SLOT(a, gate, l, FF);
  w.up = SLOT(a, up, l, FF);
  w.act = SLOT(a, act, l, FF);
  w.wC = (size_t)l * C;
  w.wQ = (size_t)l * QD;
  w.wK = (size_t)l * KD;
  w.wHD = (size_t)l * HD;
  w.wQC = (size_t)l * QD * C;
  w.wKC = (size_t)l * KD * C;
  w.wFC = (size_t)l * FF * C;
  return w;
}

static void layer_forward(skl_model *m, skl_acts *a, int N, const skl_attn_plan *ap, int l) {
  const skl_model_config *c = &m->cfg;
  const skl_params *p = &m->p;
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  layer_view w = layer_view_of(c, a, l);
  float *xo = a->x + (size_t)(l + 1) * a->N * C;

  skl_rmsnorm_forward(w.ln1, w.ln1r, w.x, p->attn_norm + w.wC, N, C, c->rms_eps);
  float *qd = c->qk_norm ? w.qraw : w.q, *kd = c->qk_norm ? w.kraw : w.k;
  skl_linear_forward(qd, w.ln1, p->wq + w.wQC, p->bq ? p->bq + w.wQ : NULL, N, C, QD);
  skl_linear_forward(kd, w.ln1, p->wk + w.wKC, p->bk ? p->bk + w.wK : NULL, N, C, KD);
  skl_linear_forward(w.v, w.ln1, p->wv + w.wKC, p->bv ? p->bv + w.wK : NULL, N, C, KD);
  if (c->qk_norm) {
    skl_rmsnorm_forward(w.q, w.qr, qd, p->q_norm + w.wHD, N * NH, HD, c->rms_eps);
    skl_rmsnorm_forward(w.k, w.kr, kd, p->k_norm + w.wHD, N * NKV, HD, c->rms_eps);
  }
  skl_rope_forward(w.q, a->rope, N, NH, HD, QD);
  skl_rope_forward(w.k, a->rope, N, NKV, HD, KD);
  skl_attn_plan_forward(ap, w.att, w.lse, w.q, w.k, w.v);
  memcpy(w.h, w.x, sizeof(float) * N * C);
  skl_gemm(false, true, N, C, QD, 1.0f, w.att, QD, p->wo + w.wQC, QD, 1.0f, w.h, C);
  skl_rmsnorm_forward(w.ln2, w.ln2r, w.h, p->mlp_norm + w.wC, N, C, c->rms_eps);
  skl_linear_forward(w.gate, w.ln2, p->w_gate + w.wFC, NULL, N, C, FF);
  skl_linear_forward(w.up, w.ln2, p->w_up + w.wFC, NULL, N, C, FF);
  skl_swiglu_forward(w.act, w.gate, w.up, (size_t)N * FF);
  memcpy(xo, w.h, sizeof(float) * N * C);
  skl_gemm(false, true, N, C, FF, 1.0f, w.act, FF, p->w_down + w.wFC, FF, 1.0f, xo, C);
}

/* dgate = dout * up * silu'(gate), dup = dout * silu(gate): the SwiGLU
 * backward writing (not accumulating) its outputs. */
static void swiglu_backward_set(float *dgate, float *dup, const float *dout, const float *gate,
                                const float *up, size_t n) {
#pragma omp parallel for simd schedule(static) if (SKL_PAR(n))
  for (size_t i = 0; i < n; i++) {
    float g = gate[i], sg = 1.0f / (1.0f + skl_expf(-g));
    dgate[i] = dout[i] * up[i] * sg * (1.0f + g * (1.0f - sg));
    float silu = g * sg;
    dup[i] = dout[i] * silu;
  }
}

/* a->dx holds dL/dx_{l+1} on entry and dL/dx_l on return. Scratch
 * gradients are overwritten (sgemm beta = 0, a SwiGLU backward that
 * writes) rather than zeroed and accumulated: no memset passes over
 * [N, FF] buffers. */
static void layer_backward(skl_model *m, skl_acts *a, int N, const skl_attn_plan *ap, int l) {
  const skl_model_config *c = &m->cfg;
  const skl_params *p = &m->p;
  skl_params *g = &m->g;
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  layer_view w = layer_view_of(c, a, l);

  /* MLP: x_{l+1} = h + down(swiglu(gate(ln2), up(ln2))) */
  skl_gemm(false, false, N, FF, C, 1.0f, a->dx, C, p->w_down + w.wFC, FF, 0.0f, a->dact, FF);
  skl_linear_backward(NULL, g->w_down + w.wFC, NULL, a->dx, w.act, p->w_down + w.wFC, N, FF, C);
  swiglu_backward_set(a->dgate, a->dup, a->dact, w.gate, w.up, (size_t)N * FF);
  skl_gemm(false, false, N, C, FF, 1.0f, a->dgate, FF, p->w_gate + w.wFC, C, 0.0f, a->dln, C);
  skl_linear_backward(NULL, g->w_gate + w.wFC, NULL, a->dgate, w.ln2, p->w_gate + w.wFC, N, C, FF);
  skl_linear_backward(a->dln, g->w_up + w.wFC, NULL, a->dup, w.ln2, p->w_up + w.wFC, N, C, FF);
  skl_rmsnorm_backward(a->dx, g->mlp_norm + w.wC, a->dln, w.h, p->mlp_norm + w.wC, w.ln2r, N, C);
  /* attention: h = x + o_proj(att) ; a->dx is now dL/dh */
  skl_gemm(false, false, N, QD, C, 1.0f, a->dx, C, p->wo + w.wQC, QD, 0.0f, a->datt, QD);
  skl_linear_backward(NULL, g->wo + w.wQC, NULL, a->dx, w.att, p->wo + w.wQC, N, QD, C);
  memset(a->dq, 0, (size_t)N * QD * sizeof(float));
  memset(a->dk, 0, (size_t)N * KD * sizeof(float));
  memset(a->dv, 0, (size_t)N * KD * sizeof(float));
  skl_attn_plan_backward(ap, a->dq, a->dk, a->dv, a->datt, w.q, w.k, w.v, w.att, w.lse, a->scratch);
  skl_rope_backward(a->dq, a->rope, N, NH, HD, QD);
  skl_rope_backward(a->dk, a->rope, N, NKV, HD, KD);
  float *dqd = a->dq, *dkd = a->dk;
  if (c->qk_norm) {
    /* datt is free again: reuse it for the pre-norm q gradient */
    dqd = a->datt;
    dkd = a->dkraw;
    memset(dqd, 0, (size_t)N * QD * sizeof(float));
    memset(dkd, 0, (size_t)N * KD * sizeof(float));
    skl_rmsnorm_backward(dqd, g->q_norm + w.wHD, a->dq, w.qraw, p->q_norm + w.wHD, w.qr, N * NH, HD);
    skl_rmsnorm_backward(dkd, g->k_norm + w.wHD, a->dk, w.kraw, p->k_norm + w.wHD, w.kr, N * NKV, HD);
  }
  skl_gemm(false, false, N, C, QD, 1.0f, dqd, QD, p->wq + w.wQC, C, 0.0f, a->dln, C);
  skl_linear_backward(NULL, g->wq + w.wQC, g->bq ? g->bq + w.wQ : NULL, dqd, w.ln1, p->wq + w.wQC, N,
                      C, QD);
  skl_linear_backward(a->dln, g->wk + w.wKC, g->bk ? g->bk + w.wK : NULL, dkd, w.ln1, p->wk + w.wKC,
                      N, C, KD);
  skl_linear_backward(a->dln, g->wv + w.wKC, g->bv ? g->bv + w.wK : NULL, a->dv, w.ln1,
                      p->wv + w.wKC, N, C, KD);
  skl_rmsnorm_backward(a->dx, g->attn_norm + w.wC, a->dln, w.x, p->attn_norm + w.wC, w.ln1r, N, C);
}

/* ---- the stack ---------------------------------------------------------- */

void skl_stack_forward(skl_model *m, skl_acts *a, const int32_t *tokens, int N,
                       const skl_attn_plan *ap) {
  const skl_model_config *c = &m->cfg;
  int C = c->hidden_size;
  skl_embed_forward(a->x, tokens, m->p.embed, N, C);
  for (int l = 0; l < c->n_layers; l++) layer_forward(m, a, N, ap, l);
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
    memset(a->dln, 0, sizeof(float) * N * C);
  }
  /* logits * s = (s * lnf) @ W^T: lnf is not needed after the CE, so its
   * rows are scaled in place, and the gradient w.r.t. them by s afterwards */
  float ls = logit_scale != 0.0f ? logit_scale : 1.0f;
  size_t o = (size_t)r0 * C, n = (size_t)(N - r0) * C;
  if (ls != 1.0f)
    for (size_t i = 0; i < n; i++) a->lnf[o + i] *= ls;
  double loss = 0.0;
  if (N > r0)
    loss = skl_ce_fused(a->logp + r0, a->entropy + r0, a->top1 + r0, backward ? a->dln + o : NULL, dwout,
                        a->lnf + o, wout, targets + r0, a->coef + r0, N - r0, C, c->vocab_size,
                        a->scratch);
  if (backward && ls != 1.0f)
    for (size_t i = 0; i < n; i++) a->dln[o + i] *= ls;
  return loss;
}

void skl_stack_backward(skl_model *m, skl_acts *a, const int32_t *tokens, int N,
                        const skl_attn_plan *ap) {
  const skl_model_config *c = &m->cfg;
  int C = c->hidden_size, L = c->n_layers;
  memset(a->dx, 0, sizeof(float) * N * C);
  skl_rmsnorm_backward(a->dx, m->g.final_norm, a->dln, a->x + (size_t)L * a->N * C, m->p.final_norm,
                       a->lnf_rstd, N, C);
  for (int l = L - 1; l >= 0; l--) {
    if (a->recompute && l != L - 1) layer_forward(m, a, N, ap, l);
    layer_backward(m, a, N, ap, l);
  }
  skl_embed_backward(m->g.embed, a->dx, tokens, N, C);
}
