/* skl mtp block: the one decoder layer inside each MTP head, forward and
 * backward (same math as the main model's layers). Not the heads' glue. */
#include <cblas.h>
#include <string.h>

#include "mtp/mtp_internal.h"

skl_attn_shape mtp_attn_shape(const skl_model_config *c, int T) {
  skl_attn_shape s = skl_attn_shape_of(c);
  s.Tq = s.Tk = T;
  return s;
}

void mtp_block_qkv(const skl_model_config *c, const skl_mtp_params *p, mtp_blk *s, int N) {
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim, QD = NH * HD,
      KD = NKV * HD;
  skl_rmsnorm_forward(s->ln1, s->ln1_rstd, s->x, p->attn_norm, N, C, c->rms_eps);
  float *qd = c->qk_norm ? s->qraw : s->q, *kd = c->qk_norm ? s->kraw : s->k;
  skl_linear_forward(qd, s->ln1, p->wq, p->bq, N, C, QD);
  skl_linear_forward(kd, s->ln1, p->wk, p->bk, N, C, KD);
  skl_linear_forward(s->v, s->ln1, p->wv, p->bv, N, C, KD);
  if (c->qk_norm) {
    skl_rmsnorm_forward(s->q, s->q_rstd, qd, p->q_norm, N * NH, HD, c->rms_eps);
    skl_rmsnorm_forward(s->k, s->k_rstd, kd, p->k_norm, N * NKV, HD, c->rms_eps);
  }
  skl_rope_forward(s->q, s->rope, N, NH, HD, QD);
  skl_rope_forward(s->k, s->rope, N, NKV, HD, KD);
}

void mtp_block_out(const skl_model_config *c, const skl_mtp_params *p, mtp_blk *s, int N) {
  int C = c->hidden_size, FF = c->intermediate_size, QD = c->n_heads * c->head_dim;
  memcpy(s->h, s->x, sizeof(float) * N * C);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, QD, 1.0f, s->att, QD, p->wo, QD, 1.0f,
              s->h, C);
  skl_rmsnorm_forward(s->ln2, s->ln2_rstd, s->h, p->mlp_norm, N, C, c->rms_eps);
  skl_linear_forward(s->gate, s->ln2, p->w_gate, NULL, N, C, FF);
  skl_linear_forward(s->up, s->ln2, p->w_up, NULL, N, C, FF);
  skl_swiglu_forward(s->act, s->gate, s->up, (size_t)N * FF);
  memcpy(s->out, s->h, sizeof(float) * N * C);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, FF, 1.0f, s->act, FF, p->w_down, FF,
              1.0f, s->out, C);
}

void mtp_block_forward(const skl_model_config *c, const skl_mtp_params *p, mtp_blk *s, int B, int T) {
  int NH = c->n_heads, QD = NH * c->head_dim, KD = c->n_kv_heads * c->head_dim;
  mtp_block_qkv(c, p, s, B * T);
  skl_attn_shape sh = mtp_attn_shape(c, T);
  for (int b = 0; b < B; b++) {
    size_t t0 = (size_t)b * T;
    skl_attn_forward(s->att + t0 * QD, s->lse + t0 * NH, s->q + t0 * QD, s->k + t0 * KD,
                     s->v + t0 * KD, &sh);
  }
  mtp_block_out(c, p, s, B * T);
}

void mtp_block_backward(const skl_model_config *c, const skl_mtp_params *p, skl_mtp_params *g,
                        mtp_blk *s, int B, int T) {
  int N = B * T, C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  size_t nC = (size_t)N * C, nF = (size_t)N * FF;
  /* MLP: out = h + down(swiglu(gate(ln2), up(ln2))) */
  memset(s->dact, 0, nF * sizeof(float));
  skl_linear_backward(s->dact, g->w_down, NULL, s->dx, s->act, p->w_down, N, FF, C);
  memset(s->dgate, 0, nF * sizeof(float));
  memset(s->dup, 0, nF * sizeof(float));
  skl_swiglu_backward(s->dgate, s->dup, s->dact, s->gate, s->up, nF);
  memset(s->dln, 0, nC * sizeof(float));
  skl_linear_backward(s->dln, g->w_gate, NULL, s->dgate, s->ln2, p->w_gate, N, C, FF);
  skl_linear_backward(s->dln, g->w_up, NULL, s->dup, s->ln2, p->w_up, N, C, FF);
  skl_rmsnorm_backward(s->dx, g->mlp_norm, s->dln, s->h, p->mlp_norm, s->ln2_rstd, N, C);
  /* attention: h = x + o_proj(att); s->dx is dL/dh */
  memset(s->datt, 0, (size_t)N * QD * sizeof(float));
  skl_linear_backward(s->datt, g->wo, NULL, s->dx, s->att, p->wo, N, QD, C);
  memset(s->dq, 0, (size_t)N * QD * sizeof(float));
  memset(s->dk, 0, (size_t)N * KD * sizeof(float));
  memset(s->dv, 0, (size_t)N * KD * sizeof(float));
  skl_attn_shape sh = mtp_attn_shape(c, T);
  for (int b = 0; b < B; b++) {
    size_t t0 = (size_t)b * T;
    skl_attn_backward(s->dq + t0 * QD, s->dk + t0 * KD, s->dv + t0 * KD, s->datt + t0 * QD,
                      s->q + t0 * QD, s->k + t0 * KD, s->v + t0 * KD, s->att + t0 * QD,
                      s->lse + t0 * NH, &sh, s->scratch);
  }
  skl_rope_backward(s->dq, s->rope, N, NH, HD, QD);
  skl_rope_backward(s->dk, s->rope, N, NKV, HD, KD);
  float *dqd = s->dq, *dkd = s->dk;
  if (c->qk_norm) {
    dqd = s->datt; /* free again: the pre-norm q gradient */
    dkd = s->dkraw;
    memset(dqd, 0, (size_t)N * QD * sizeof(float));
    memset(dkd, 0, (size_t)N * KD * sizeof(float));
    skl_rmsnorm_backward(dqd, g->q_norm, s->dq, s->qraw, p->q_norm, s->q_rstd, N * NH, HD);
    skl_rmsnorm_backward(dkd, g->k_norm, s->dk, s->kraw, p->k_norm, s->k_rstd, N * NKV, HD);
  }
  memset(s->dln, 0, nC * sizeof(float));
  skl_linear_backward(s->dln, g->wq, g->bq, dqd, s->ln1, p->wq, N, C, QD);
  skl_linear_backward(s->dln, g->wk, g->bk, dkd, s->ln1, p->wk, N, C, KD);
  skl_linear_backward(s->dln, g->wv, g->bv, s->dv, s->ln1, p->wv, N, C, KD);
  skl_rmsnorm_backward(s->dx, g->attn_norm, s->dln, s->x, p->attn_norm, s->ln1_rstd, N, C);
}
