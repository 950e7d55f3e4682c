/* skl mtp step: activations, the heads' forward, the CE + top-N
 * self-distillation loss and the backward into head parameters only. Not
 * the main model's forward (model/model.h) nor training loops. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp.h"
#include "mtp/mtp_internal.h"

/* ---- activations -------------------------------------------------------- */

static size_t acts_slice(const skl_model_config *c, int K, int B, int T, int topn, float *base,
                         skl_mtp_acts *a) {
  size_t N = (size_t)B * T, C = c->hidden_size, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, NH = c->n_heads,
         NKV = c->n_kv_heads, HD = c->head_dim, V = c->vocab_size, Kz = (size_t)K;
  size_t off = 0;
  a->B = B;
  a->T = T;
  a->N = (int)N;
  a->K = K;
  a->topn = a->topn_cap = topn;
#define TAKE(field, n)                                    \
  do {                                                    \
    a->field = base ? (void *)(base + off) : NULL;        \
    off += (n);                                           \
    off = (off + 15) & ~(size_t)15; /* 64-byte aligned */ \
  } while (0)
  TAKE(tok, Kz * N);
  TAKE(tgt, Kz * N);
  TAKE(coef, Kz * N);
  TAKE(main_tgt, N);
  TAKE(top_idx, N * topn);
  TAKE(top_logit, N * topn);
  TAKE(s_argmax, Kz * N);
  TAKE(row_ce, Kz * N);
  TAKE(row_kl, Kz * N);
  TAKE(rope, N * HD);
  TAKE(pos, N);
  TAKE(emb, Kz * N * C);
  TAKE(en, Kz * N * C);
  TAKE(en_rstd, Kz * N);
  TAKE(hn, Kz * N * C);
  TAKE(hn_rstd, Kz * N);
  TAKE(x, Kz * N * C);
  TAKE(ln1, Kz * N * C);
  TAKE(ln1_rstd, Kz * N);
  if (c->qk_norm) {
    TAKE(qraw, Kz * N * QD);
    TAKE(kraw, Kz * N * KD);
    TAKE(q_rstd, Kz * N * NH);
    TAKE(k_rstd, Kz * N * NKV);
  } else {
    a->qraw = a->kraw = a->q_rstd = a->k_rstd = NULL;
  }
  TAKE(q, Kz * N * QD);
  TAKE(k, Kz * N * KD);
  TAKE(v, Kz * N * KD);
  TAKE(att, Kz * N * QD);
  TAKE(lse, Kz * N * NH);
  TAKE(h, Kz * N * C);
  TAKE(ln2, Kz * N * C);
  TAKE(ln2_rstd, Kz * N);
  TAKE(gate, Kz * N * FF);
  TAKE(up, Kz * N * FF);
  TAKE(act, Kz * N * FF);
  TAKE(out, Kz * N * C);
  TAKE(lnf, Kz * N * C);
  TAKE(lnf_rstd, Kz * N);
  TAKE(dout, Kz * N * C);
  TAKE(dx, N * C);
  TAKE(dln, N * C);
  TAKE(dtmp, N * C);
  TAKE(dq, N * QD);
  TAKE(dk, N * KD);
  if (c->qk_norm) TAKE(dkraw, N * KD);
  else a->dkraw = NULL;
  TAKE(dv, N * KD);
  TAKE(datt, N * QD);
  TAKE(dgate, N * FF);
  TAKE(dup, N * FF);
  TAKE(dact, N * FF);
  TAKE(logits, (size_t)skl_ce_chunk((int)V) * V);
  skl_attn_shape s = mtp_attn_shape(c, T);
  TAKE(scratch, skl_attn_scratch_floats(&s) + NH * (size_t)T);
#undef TAKE
  return off;
}

skl_status skl_mtp_acts_init(skl_mtp_acts *a, const skl_model_config *cfg, int K, int B, int T,
                             int topn, skl_error *err) {
  memset(a, 0, sizeof *a);
  if (B <= 0 || T <= 0 || K < 1 || K > SKL_MTP_MAX_HEADS || topn < 1 || topn > SKL_MTP_MAX_TOPN)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "mtp activations: B=%d T=%d K=%d topn=%d outside the supported range", B, T,
                         K, topn);
  skl_mtp_acts tmp;
  size_t n = acts_slice(cfg, K, B, T, topn, NULL, &tmp);
  float *mem = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
  if (!mem)
    return skl_error_set(err, SKL_ERR_NOMEM, "mtp activations: cannot allocate %.1f MiB for K=%d B=%d T=%d",
                         n * 4.0 / (1 << 20), K, B, T);
  acts_slice(cfg, K, B, T, topn, mem, a);
  a->mem = mem;
  a->n_floats = n;
  return SKL_OK;
}

void skl_mtp_acts_free(skl_mtp_acts *a) {
  if (!a) return;
  free(a->mem);
  memset(a, 0, sizeof *a);
}

/* ---- teacher ------------------------------------------------------------ */

/* Top-N of each row of the main model's logits (lnf @ wout^T), sorted by
 * logit descending; ties keep the smaller id (deterministic). */
static void teacher_topn(skl_mtp_acts *a, const float *lnf, const float *wout, int N, int C, int V) {
  int chunk = skl_ce_chunk(V), topn = a->topn;
  for (int n0 = 0; n0 < N; n0 += chunk) {
    int nc = N - n0 < chunk ? N - n0 : chunk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nc, V, C, 1.0f, lnf + (size_t)n0 * C, C,
                wout, C, 0.0f, a->logits, V);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < nc; r++) {
      const float *z = a->logits + (size_t)r * V;
      int32_t *ti = a->top_idx + (size_t)(n0 + r) * topn;
      float *tl = a->top_logit + (size_t)(n0 + r) * topn;
      int filled = 0;
      for (int j = 0; j < V; j++) {
        float v = z[j];
        if (filled == topn && !(v > tl[topn - 1])) continue;
        int p = filled < topn ? filled++ : topn - 1;
        while (p > 0 && v > tl[p - 1]) {
          tl[p] = tl[p - 1];
          ti[p] = ti[p - 1];
          p--;
        }
        tl[p] = v;
        ti[p] = j;
      }
    }
  }
}

/* ---- loss of one head --------------------------------------------------- */

/* Forward loss terms of head kk into row_ce/row_kl/s_argmax; with dlnf, the
 * gradient w.r.t. its model.norm output [N, C] (overwritten). */
static void head_loss(skl_mtp_acts *a, int kk, const float *wout, int N, int C, int V,
                      const skl_mtp_loss_config *lc, float *dlnf) {
  int chunk = skl_ce_chunk(V), topn = a->topn, k = kk + 1;
  size_t base = (size_t)kk * a->N;
  const float *lnf = a->lnf + base * C;
  float alpha = (float)lc->alpha, beta = (float)lc->beta, tau = (float)lc->tau, itau = 1.0f / tau;
  for (int n0 = 0; n0 < N; n0 += chunk) {
    int nc = N - n0 < chunk ? N - n0 : chunk;
    float *lg = a->logits;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nc, V, C, 1.0f, lnf + (size_t)n0 * C, C,
                wout, C, 0.0f, lg, V);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < nc; r++) {
      int n = n0 + r, y = a->tgt[base + n];
      float *z = lg + (size_t)r * V;
      if (y < 0) {
        a->row_ce[base + n] = a->row_kl[base + n] = 0.0f;
        a->s_argmax[base + n] = -1;
        if (dlnf) memset(z, 0, (size_t)V * sizeof(float));
        continue;
      }
      float mx = z[0];
      int am = 0;
      for (int j = 1; j < V; j++)
        if (z[j] > mx) {
          mx = z[j];
          am = j;
        }
      /* float exps summed in double; at tau = 1 the tempered sum is the same */
      bool tempered = beta > 0 && tau != 1.0f;
      double s1 = 0.0, st = 0.0;
      for (int j = 0; j < V; j++) s1 += expf(z[j] - mx);
      if (tempered)
        for (int j = 0; j < V; j++) st += expf((z[j] - mx) * itau);
      double lse = mx + log(s1), lse_t = tempered ? mx * (double)itau + log(st) : lse;
      a->row_ce[base + n] = (float)(lse - z[y]);
      a->s_argmax[base + n] = am;
      /* teacher at position n + k, renormalised over its top-N at tau */
      const int32_t *ti = a->top_idx + (size_t)(n + k) * topn;
      const float *tl = a->top_logit + (size_t)(n + k) * topn;
      double pt[SKL_MTP_MAX_TOPN], kl = 0.0;
      if (beta > 0) {
        double tz = 0.0, tm = tl[0] * (double)itau;
        for (int j = 0; j < topn; j++) tz += exp(tl[j] * (double)itau - tm);
        double ltz = log(tz);
        for (int j = 0; j < topn; j++) {
          double lpt = tl[j] * (double)itau - tm - ltz;
          pt[j] = exp(lpt);
          kl += pt[j] * (lpt - ((double)z[ti[j]] * itau - lse_t));
        }
      }
      a->row_kl[base + n] = (float)kl;
      if (!dlnf) continue;
      float cf = a->coef[base + n];
      float flse = (float)lse, flse_t = (float)lse_t, ca = cf * alpha, cb = cf * beta * tau;
      if (tempered)
        for (int j = 0; j < V; j++) z[j] = ca * expf(z[j] - flse) + cb * expf(z[j] * itau - flse_t);
      else
        for (int j = 0; j < V; j++) z[j] = (ca + (beta > 0 ? cb : 0.0f)) * expf(z[j] - flse);
      z[y] -= cf * alpha;
      if (beta > 0)
        for (int j = 0; j < topn; j++) z[ti[j]] -= (float)(cf * beta * tau * pt[j]);
    }
    if (dlnf)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nc, C, V, 1.0f, lg, V, wout, C, 0.0f,
                  dlnf + (size_t)n0 * C, C);
  }
}

/* ---- the step ----------------------------------------------------------- */

static mtp_blk blk_of(const skl_mtp_heads *h, skl_mtp_acts *a, int kk) {
  const skl_model_config *c = &h->cfg;
  size_t N = a->N, C = c->hidden_size, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, NH = c->n_heads,
         NKV = c->n_kv_heads, b = (size_t)kk * N;
  mtp_blk s;
  s.x = a->x + b * C;
  s.ln1 = a->ln1 + b * C;
  s.ln1_rstd = a->ln1_rstd + b;
  s.qraw = a->qraw ? a->qraw + b * QD : NULL;
  s.kraw = a->kraw ? a->kraw + b * KD : NULL;
  s.q_rstd = a->q_rstd ? a->q_rstd + b * NH : NULL;
  s.k_rstd = a->k_rstd ? a->k_rstd + b * NKV : NULL;
  s.q = a->q + b * QD;
  s.k = a->k + b * KD;
  s.v = a->v + b * KD;
  s.att = a->att + b * QD;
  s.lse = a->lse + b * NH;
  s.h = a->h + b * C;
  s.ln2 = a->ln2 + b * C;
  s.ln2_rstd = a->ln2_rstd + b;
  s.gate = a->gate + b * FF;
  s.up = a->up + b * FF;
  s.act = a->act + b * FF;
  s.out = a->out + b * C;
  s.rope = a->rope;
  s.dx = a->dx;
  s.dln = a->dln;
  s.dq = a->dq;
  s.dk = a->dk;
  s.dkraw = a->dkraw;
  s.dv = a->dv;
  s.datt = a->datt;
  s.dgate = a->dgate;
  s.dup = a->dup;
  s.dact = a->dact;
  s.scratch = a->scratch;
  return s;
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
  teacher_topn(a, ma->lnf, wout, N, C, V);
  skl_rope_table(a->rope, a->pos, N, h->inv_freq, h->rope_attn_factor, c->head_dim);
  /* heads forward */
  const float *h0 = ma->x + (size_t)m->cfg.n_layers * ma->N * C;
  for (int kk = 0; kk < K; kk++) {
    const skl_mtp_params *p = &h->p[kk];
    size_t o = (size_t)kk * AN * C, orr = (size_t)kk * AN;
    const float *hprev = kk ? a->out + (size_t)(kk - 1) * AN * C : h0;
    skl_embed_forward(a->emb + o, a->tok + orr, m->p.embed, N, C);
    skl_rmsnorm_forward(a->en + o, a->en_rstd + orr, a->emb + o, p->enorm, N, C, c->rms_eps);
    skl_rmsnorm_forward(a->hn + o, a->hn_rstd + orr, hprev, p->hnorm, N, C, c->rms_eps);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, C, 1.0f, a->en + o, C, p->eh_proj,
                2 * C, 0.0f, a->x + o, C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, C, 1.0f, a->hn + o, C,
                p->eh_proj + C, 2 * C, 1.0f, a->x + o, C);
    mtp_blk blk = blk_of(h, a, kk);
    mtp_block_forward(c, p, &blk, B, T);
    skl_rmsnorm_forward(a->lnf + o, a->lnf_rstd + orr, a->out + o, m->p.final_norm, N, C, c->rms_eps);
  }
  /* losses (backward from the last head down to the first trainable one) */
  if (backward) memset(a->dout, 0, (size_t)K * AN * C * sizeof(float));
  skl_mtp_stats stats;
  memset(&stats, 0, sizeof stats);
  for (int kk = K - 1; kk >= 0; kk--) {
    bool grad = backward && kk >= h->n_frozen;
    size_t o = (size_t)kk * AN * C, orr = (size_t)kk * AN;
    head_loss(a, kk, wout, N, C, V, lc, grad ? a->dln : NULL);
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
    skl_rmsnorm_backward(a->dout + o, NULL, a->dln, a->out + o, m->p.final_norm, a->lnf_rstd + orr,
                         N, C);
    memcpy(a->dx, a->dout + o, (size_t)N * C * sizeof(float));
    mtp_blk blk = blk_of(h, a, kk);
    mtp_block_backward(c, p, g, &blk, B, T);
    /* eh_proj: u = en @ M[:, :C]^T + hn @ M[:, C:]^T ; a->dx = dL/du */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, C, N, 1.0f, a->dx, C, a->en + o, C, 1.0f,
                g->eh_proj, 2 * C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, C, N, 1.0f, a->dx, C, a->hn + o, C, 1.0f,
                g->eh_proj + C, 2 * C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, C, 1.0f, a->dx, C, p->eh_proj, 2 * C,
                0.0f, a->dtmp, C);
    memset(a->dln, 0, (size_t)N * C * sizeof(float));
    skl_rmsnorm_backward(a->dln, g->enorm, a->dtmp, a->emb + o, p->enorm, a->en_rstd + orr, N, C);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, C, 1.0f, a->dx, C, p->eh_proj + C,
                2 * C, 0.0f, a->dtmp, C);
    const float *hprev = kk ? a->out + (size_t)(kk - 1) * AN * C : h0;
    float *dprev = kk > h->n_frozen ? a->dout + (size_t)(kk - 1) * AN * C : a->dln;
    skl_rmsnorm_backward(dprev, g->hnorm, a->dtmp, hprev, p->hnorm, a->hn_rstd + orr, N, C);
  }
  if (st) *st = stats;
  return SKL_OK;
}
