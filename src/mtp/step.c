/* skl mtp step: the heads' forward over the main model's hidden states and
 * the backward into head parameters only. Not the main model's forward
 * (model/model.h), the loss terms (loss.c) nor training loops. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp.h"
#include "mtp/mtp_internal.h"

/* ---- the step ----------------------------------------------------------- */

void mtp_input_forward(const skl_model_config *c, const skl_mtp_params *p, const float *embed,
                       const int32_t *tok, const float *hprev, float *emb, float *en, float *en_rstd,
                       float *hn, float *hn_rstd, float *x, int N) {
  int C = c->hidden_size;
  skl_embed_forward(emb, tok, embed, N, C);
  skl_rmsnorm_forward(en, en_rstd, emb, p->enorm, N, C, c->rms_eps);
  skl_rmsnorm_forward(hn, hn_rstd, hprev, p->hnorm, N, C, c->rms_eps);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, C, 1.0f, en, C, p->eh_proj, 2 * C, 0.0f,
              x, C);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, C, 1.0f, hn, C, p->eh_proj + C, 2 * C,
              1.0f, x, C);
}

static skl_status check_batch(const skl_mtp_heads *h, const skl_model *m, const skl_acts *ma,
                              const skl_mtp_acts *a, const skl_mtp_batch *b, skl_error *err) {
  if (b->B <= 0 || b->B > a->B || b->T != a->T || b->B > ma->B || b->T != ma->T)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "mtp step: batch %d x %d does not fit activations sized for %d x %d "
                         "(main %d x %d; T must match)",
                         b->B, b->T, a->B, a->T, ma->B, ma->T);
  if (a->K != h->K)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp step: activations for %d heads, heads are %d",
                         a->K, h->K);
  if (m->cfg.hidden_size != h->cfg.hidden_size || m->cfg.vocab_size != h->cfg.vocab_size)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "mtp step: heads made for hidden_size %d / vocab %d, main model has %d / %d",
                         h->cfg.hidden_size, h->cfg.vocab_size, m->cfg.hidden_size,
                         m->cfg.vocab_size);
  int V = m->cfg.vocab_size;
  for (int r = 0; r < b->B; r++) {
    int len = b->len ? b->len[r] : b->T;
    if (len < 0 || len > b->T)
      return skl_error_set(err, SKL_ERR_RANGE, "mtp step: row %d: length %d outside [0, %d]", r, len,
                           b->T);
    for (int t = 0; t < b->T; t++) {
      int32_t id = b->tokens[(size_t)r * b->T + t];
      if (id < 0 || id >= V)
        return skl_error_set(err, SKL_ERR_RANGE,
                             "mtp step: batch row %d column %d: token id %d outside the vocabulary "
                             "[0, %d)", r, t, id, V);
    }
  }
  return SKL_OK;
}

skl_status skl_mtp_step(skl_mtp_heads *h, skl_model *m, skl_acts *ma, skl_mtp_acts *a,
                        const skl_mtp_batch *b, const skl_mtp_loss_config *lc, bool backward,
                        skl_mtp_stats *st, skl_error *err) {
  const skl_model_config *c = &h->cfg;
  if (backward && !h->grad_mem)
    return skl_error_set(err, SKL_ERR_STATE,
                         "mtp step: backward requested but no gradients (call skl_mtp_grads_alloc)");
  skl_status s = check_batch(h, m, ma, a, b, err);
  if (s) return s;
  if ((s = skl_mtp_loss_check(lc, c->vocab_size, err))) return s;
  if (lc->topn > a->topn_cap)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp step: topn %d exceeds the activations' %d",
                         lc->topn, a->topn_cap);
  int B = b->B, T = b->T, N = B * T, C = c->hidden_size, V = c->vocab_size, K = h->K;
  size_t AN = (size_t)a->N;
  a->topn = lc->topn;
  /* inputs and targets */
  for (int r = 0; r < B; r++) {
    int len = b->len ? b->len[r] : T;
    for (int i = 0; i < T; i++) {
      size_t n = (size_t)r * T + i;
      const int32_t *row = b->tokens + (size_t)r * T;
      a->main_tgt[n] = i + 1 < len ? row[i + 1] : -1;
      a->pos[n] = i;
      for (int kk = 0; kk < K; kk++) {
        int k = kk + 1;
        a->tok[kk * AN + n] = i + k < len ? row[i + k] : 0;
        a->tgt[kk * AN + n] = i + k + 1 < len ? row[i + k + 1] : -1;
      }
    }
  }
  for (int kk = 0; kk < K; kk++) {
    double cnt = 0.0;
    for (int n = 0; n < N; n++) cnt += a->tgt[kk * AN + n] >= 0;
    for (int n = 0; n < N; n++)
      a->coef[kk * AN + n] = a->tgt[kk * AN + n] >= 0 ? (float)(1.0 / cnt) : 0.0f;
  }
  /* main model (frozen): hidden states and teacher */
  skl_batch mb;
  memset(&mb, 0, sizeof mb);
  mb.B = B;
  mb.T = T;
  mb.tokens = b->tokens;
  mb.targets = a->main_tgt;
  if ((s = skl_model_step(m, ma, &mb, false, NULL, err))) return skl_error_prefix(err, "mtp step: main model");
  const float *wout = m->p.lm_head ? m->p.lm_head : m->p.embed;
  mtp_teacher_topn(a, ma->lnf, wout, N, C, V);
  skl_rope_table(a->rope, a->pos, N, h->inv_freq, h->rope_attn_factor, c->head_dim);
  /* heads forward */
  skl_attn_plan plan = mtp_attn_plan(c, B, T);
  skl_block_attn attn = skl_block_attn_plan(&plan);
  const float *h0 = ma->x + (size_t)m->cfg.n_layers * ma->N * C;
  for (int kk = 0; kk < K; kk++) {
    const skl_mtp_params *p = &h->p[kk];
    size_t o = (size_t)kk * AN * C, orr = (size_t)kk * AN;
    const float *hprev = kk ? a->out + (size_t)(kk - 1) * AN * C : h0;
    mtp_input_forward(c, p, m->p.embed, a->tok + orr, hprev, a->emb + o, a->en + o, a->en_rstd + orr,
                      a->hn + o, a->hn_rstd + orr, a->x + o, N);
    skl_block_weights w = mtp_block_weights(p);
    skl_block_acts blk = skl_block_acts_at(c, &a->blk, (size_t)kk * AN);
    skl_block_forward(c, &w, &blk, N, &attn, &skl_block_ops_sgemm);
    skl_rmsnorm_forward(a->lnf + o, a->lnf_rstd + orr, a->out + o, m->p.final_norm, N, C, c->rms_eps);
  }
  /* losses (backward from the last head down to the first trainable one) */
  if (backward) memset(a->dout, 0, (size_t)K * AN * C * sizeof(float));
  skl_mtp_stats stats;
  memset(&stats, 0, sizeof stats);
  for (int kk = K - 1; kk >= 0; kk--) {
    bool grad = backward && kk >= h->n_frozen;
    size_t o = (size_t)kk * AN * C, orr = (size_t)kk * AN;
    mtp_head_loss(a, kk, wout, N, C, V, lc, grad ? a->d.dln : NULL);
    double ce = 0.0, kl = 0.0, cnt = 0.0, agree = 0.0, correct = 0.0, loss = 0.0;
    for (int n = 0; n < N; n++) {
      int y = a->tgt[orr + n];
      if (y < 0) continue;
      cnt += 1.0;
      ce += a->row_ce[orr + n];
      kl += a->row_kl[orr + n];
      loss += a->coef[orr + n] * (lc->alpha * a->row_ce[orr + n] +
                                  lc->beta * lc->tau * lc->tau * a->row_kl[orr + n]);
      agree += a->s_argmax[orr + n] == a->top_idx[(size_t)(n + kk + 1) * a->topn];
      correct += a->s_argmax[orr + n] == y;
    }
    stats.loss += loss;
    stats.ce[kk] = cnt > 0 ? ce / cnt : 0.0;
    stats.kl[kk] = cnt > 0 ? kl / cnt : 0.0;
    stats.n[kk] = cnt;
    stats.agree[kk] = agree;
    stats.correct[kk] = correct;
    if (!grad) continue;
    const skl_mtp_params *p = &h->p[kk];
    skl_mtp_params *g = &h->g[kk];
    /* model.norm (frozen) */
    skl_rmsnorm_backward(a->dout + o, NULL, a->d.dln, a->out + o, m->p.final_norm, a->lnf_rstd + orr,
                         N, C);
    memcpy(a->d.dx, a->dout + o, (size_t)N * C * sizeof(float));
    skl_block_weights w = mtp_block_weights(p);
    skl_block_grads bg = mtp_block_grads(g);
    skl_block_acts blk = skl_block_acts_at(c, &a->blk, (size_t)kk * AN);
    skl_block_backward(c, &w, &bg, &blk, &a->d, N, &attn);
    /* eh_proj: u = en @ M[:, :C]^T + hn @ M[:, C:]^T ; a->d.dx = dL/du */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, C, N, 1.0f, a->d.dx, C, a->en + o, C, 1.0f,
                g->eh_proj, 2 * C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, C, N, 1.0f, a->d.dx, C, a->hn + o, C, 1.0f,
                g->eh_proj + C, 2 * C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, C, 1.0f, a->d.dx, C, p->eh_proj, 2 * C,
                0.0f, a->dtmp, C);
    memset(a->d.dln, 0, (size_t)N * C * sizeof(float));
    skl_rmsnorm_backward(a->d.dln, g->enorm, a->dtmp, a->emb + o, p->enorm, a->en_rstd + orr, N, C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, C, 1.0f, a->d.dx, C, p->eh_proj + C,
                2 * C, 0.0f, a->dtmp, C);
    const float *hprev = kk ? a->out + (size_t)(kk - 1) * AN * C : h0;
    float *dprev = kk > h->n_frozen ? a->dout + (size_t)(kk - 1) * AN * C : a->d.dln;
    skl_rmsnorm_backward(dprev, g->hnorm, a->dtmp, hprev, p->hnorm, a->hn_rstd + orr, N, C);
  }
  if (st) *st = stats;
  return SKL_OK;
}
