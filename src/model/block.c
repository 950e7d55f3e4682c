/* skl block: one decoder block's forward and backward (block.h), and the
 * attention plans a block's caller describes its attention with. Not the
 * stack of blocks (stack.c) nor the attention kernels (attention.c). */
#include "model/block.h"

#include <cblas.h>
#include <string.h>

#include "model/model_internal.h"

/* ---- matrix products ---------------------------------------------------- */

static void gemm_add(float *out, const float *inp, const float *w, int N, int IC, int OC) {
  skl_gemm(false, true, N, OC, IC, 1.0f, inp, IC, w, IC, 1.0f, out, OC);
}

static void sgemm_add(float *out, const float *inp, const float *w, int N, int IC, int OC) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, IC, w, IC, 1.0f, out,
              OC);
}

static const skl_block_ops ops_stack = {skl_linear_forward, gemm_add};
const skl_block_ops skl_block_ops_sgemm = {skl_linear_forward, sgemm_add};

/* ---- forward ------------------------------------------------------------ */

void skl_block_forward(const skl_model_config *c, const skl_block_weights *w,
                       const skl_block_acts *a, int N, const skl_block_attn *attn,
                       const skl_block_ops *ops) {
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  if (!ops) ops = &ops_stack;
  skl_rmsnorm_forward(a->ln1, a->ln1_rstd, a->x, w->attn_norm, N, C, c->rms_eps);
  float *qd = c->qk_norm ? a->qraw : a->q, *kd = c->qk_norm ? a->kraw : a->k;
  ops->linear(qd, a->ln1, w->wq, w->bq, N, C, QD);
  ops->linear(kd, a->ln1, w->wk, w->bk, N, C, KD);
  ops->linear(a->v, a->ln1, w->wv, w->bv, N, C, KD);
  if (c->qk_norm) {
    skl_rmsnorm_forward(a->q, a->q_rstd, qd, w->q_norm, N * NH, HD, c->rms_eps);
    skl_rmsnorm_forward(a->k, a->k_rstd, kd, w->k_norm, N * NKV, HD, c->rms_eps);
  }
  skl_rope_forward(a->q, a->rope, N, NH, HD, QD);
  skl_rope_forward(a->k, a->rope, N, NKV, HD, KD);
  attn->forward(attn->ctx, a, N);
  if (a->h != a->x) memcpy(a->h, a->x, sizeof(float) * N * C);
  ops->linear_add(a->h, a->att, w->wo, N, QD, C);
  skl_rmsnorm_forward(a->ln2, a->ln2_rstd, a->h, w->mlp_norm, N, C, c->rms_eps);
  ops->linear(a->gate, a->ln2, w->w_gate, NULL, N, C, FF);
  ops->linear(a->up, a->ln2, w->w_up, NULL, N, C, FF);
  skl_swiglu_forward(a->act, a->gate, a->up, (size_t)N * FF);
  if (a->out != a->h) memcpy(a->out, a->h, sizeof(float) * N * C);
  ops->linear_add(a->out, a->act, w->w_down, N, FF, C);
}

/* ---- backward ----------------------------------------------------------- */

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

/* Scratch gradients are overwritten (sgemm beta = 0, a SwiGLU backward
 * that writes) rather than zeroed and accumulated: no memset passes over
 * [N, FF] buffers. */
void skl_block_backward(const skl_model_config *c, const skl_block_weights *w,
                        const skl_block_grads *g, const skl_block_acts *a,
                        const skl_block_dacts *d, int N, const skl_block_attn *attn) {
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  SKL_ASSERT(attn->backward && a->ln1_rstd && a->ln2_rstd && a->lse);

  /* MLP: out = h + down(swiglu(gate(ln2), up(ln2))) */
  skl_gemm(false, false, N, FF, C, 1.0f, d->dx, C, w->w_down, FF, 0.0f, d->dact, FF);
  skl_linear_backward(NULL, g->w_down, NULL, d->dx, a->act, w->w_down, N, FF, C);
  swiglu_backward_set(d->dgate, d->dup, d->dact, a->gate, a->up, (size_t)N * FF);
  skl_gemm(false, false, N, C, FF, 1.0f, d->dgate, FF, w->w_gate, C, 0.0f, d->dln, C);
  skl_linear_backward(NULL, g->w_gate, NULL, d->dgate, a->ln2, w->w_gate, N, C, FF);
  skl_linear_backward(d->dln, g->w_up, NULL, d->dup, a->ln2, w->w_up, N, C, FF);
  skl_rmsnorm_backward(d->dx, g->mlp_norm, d->dln, a->h, w->mlp_norm, a->ln2_rstd, N, C);
  /* attention: h = x + o_proj(att); d->dx is now dL/dh */
  skl_gemm(false, false, N, QD, C, 1.0f, d->dx, C, w->wo, QD, 0.0f, d->datt, QD);
  skl_linear_backward(NULL, g->wo, NULL, d->dx, a->att, w->wo, N, QD, C);
  memset(d->dq, 0, (size_t)N * QD * sizeof(float));
  memset(d->dk, 0, (size_t)N * KD * sizeof(float));
  memset(d->dv, 0, (size_t)N * KD * sizeof(float));
  attn->backward(attn->ctx, a, d, N);
  skl_rope_backward(d->dq, a->rope, N, NH, HD, QD);
  skl_rope_backward(d->dk, a->rope, N, NKV, HD, KD);
  float *dqd = d->dq, *dkd = d->dk;
  if (c->qk_norm) {
    /* datt is free again: reuse it for the pre-norm q gradient */
    dqd = d->datt;
    dkd = d->dkraw;
    memset(dqd, 0, (size_t)N * QD * sizeof(float));
    memset(dkd, 0, (size_t)N * KD * sizeof(float));
    skl_rmsnorm_backward(dqd, g->q_norm, d->dq, a->qraw, w->q_norm, a->q_rstd, N * NH, HD);
    skl_rmsnorm_backward(dkd, g->k_norm, d->dk, a->kraw, w->k_norm, a->k_rstd, N * NKV, HD);
  }
  skl_gemm(false, false, N, C, QD, 1.0f, dqd, QD, w->wq, C, 0.0f, d->dln, C);
  skl_linear_backward(NULL, g->wq, g->bq, dqd, a->ln1, w->wq, N, C, QD);
  skl_linear_backward(d->dln, g->wk, g->bk, dkd, a->ln1, w->wk, N, C, KD);
  skl_linear_backward(d->dln, g->wv, g->bv, d->dv, a->ln1, w->wv, N, C, KD);
  skl_rmsnorm_backward(d->dx, g->attn_norm, d->dln, a->x, w->attn_norm, a->ln1_rstd, N, C);
}

/* ---- slicing ------------------------------------------------------------ */

/* *f = n floats at base + *off (NULL when sizing); *off moves past them,
 * rounded up to 64 bytes. */
static void take(float **f, float *base, size_t *off, size_t n) {
  *f = base ? base + *off : NULL;
  *off = (*off + n + 15) & ~(size_t)15;
}

size_t skl_block_acts_slice(const skl_model_config *c, size_t rows, bool stored, float *base,
                            size_t off, skl_block_acts *a) {
  size_t C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
         FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD, n = rows;
  a->ln1_rstd = a->qraw = a->kraw = a->q_rstd = a->k_rstd = a->lse = a->ln2_rstd = NULL;
  take(&a->ln1, base, &off, n * C);
  if (stored) take(&a->ln1_rstd, base, &off, n);
  if (c->qk_norm) {
    take(&a->qraw, base, &off, n * QD);
    take(&a->kraw, base, &off, n * KD);
    if (stored) {
      take(&a->q_rstd, base, &off, n * NH);
      take(&a->k_rstd, base, &off, n * NKV);
    }
  }
  take(&a->q, base, &off, n * QD);
  take(&a->k, base, &off, n * KD);
  take(&a->v, base, &off, n * KD);
  take(&a->att, base, &off, n * QD);
  if (stored) take(&a->lse, base, &off, n * NH);
  take(&a->h, base, &off, n * C);
  take(&a->ln2, base, &off, n * C);
  if (stored) take(&a->ln2_rstd, base, &off, n);
  take(&a->gate, base, &off, n * FF);
  take(&a->up, base, &off, n * FF);
  take(&a->act, base, &off, n * FF);
  return off;
}

size_t skl_block_dacts_slice(const skl_model_config *c, size_t rows, float *base, size_t off,
                             skl_block_dacts *d) {
  size_t C = c->hidden_size, HD = c->head_dim, FF = c->intermediate_size,
         QD = (size_t)c->n_heads * HD, KD = (size_t)c->n_kv_heads * HD, n = rows;
  take(&d->dx, base, &off, n * C);
  take(&d->dln, base, &off, n * C);
  take(&d->dq, base, &off, n * QD);
  take(&d->dk, base, &off, n * KD);
  d->dkraw = NULL;
  if (c->qk_norm) take(&d->dkraw, base, &off, n * KD);
  take(&d->dv, base, &off, n * KD);
  take(&d->datt, base, &off, n * QD);
  take(&d->dgate, base, &off, n * FF);
  take(&d->dup, base, &off, n * FF);
  take(&d->dact, base, &off, n * FF);
  return off;
}

skl_block_acts skl_block_acts_at(const skl_model_config *c, const skl_block_acts *a, size_t r) {
  size_t C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
         FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  skl_block_acts b = *a;
#define MOVE(f, width) \
  if (b.f) b.f += r * (width)
  MOVE(x, C);
  MOVE(ln1, C);
  MOVE(ln1_rstd, 1);
  MOVE(qraw, QD);
  MOVE(kraw, KD);
  MOVE(q_rstd, NH);
  MOVE(k_rstd, NKV);
  MOVE(q, QD);
  MOVE(k, KD);
  MOVE(v, KD);
  MOVE(att, QD);
  MOVE(lse, NH);
  MOVE(h, C);
  MOVE(ln2, C);
  MOVE(ln2_rstd, 1);
  MOVE(gate, FF);
  MOVE(up, FF);
  MOVE(act, FF);
  MOVE(out, C);
#undef MOVE
  return b;
}

/* ---- attention plans ---------------------------------------------------- */

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

static void plan_forward(void *ctx, const skl_block_acts *a, int N) {
  (void)N;
  skl_attn_plan_forward(ctx, a->att, a->lse, a->q, a->k, a->v);
}

static void plan_backward(void *ctx, const skl_block_acts *a, const skl_block_dacts *d, int N) {
  (void)N;
  skl_attn_plan_backward(ctx, d->dq, d->dk, d->dv, d->datt, a->q, a->k, a->v, a->att, a->lse,
                         d->scratch);
}

skl_block_attn skl_block_attn_plan(const skl_attn_plan *p) {
  skl_block_attn b = {plan_forward, plan_backward, (void *)p};
  return b;
}
