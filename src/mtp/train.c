/* skl mtp train: windows, the AdamW loop over the trainable heads and the
 * held-out acceptance evaluation. Not the CLI (cli/cmd_mtp.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp_train.h"

void skl_mtp_train_defaults(skl_mtp_train_config *c) {
  memset(c, 0, sizeof *c);
  c->steps = 200;
  c->B = 8;
  c->T = 128;
  c->lr = 1e-3;
  c->weight_decay = 0.0;
  c->grad_clip = 1.0;
  c->warmup = 10;
  c->seed = 0;
  skl_mtp_loss_defaults(&c->loss);
}

skl_status skl_mtp_windows_add(skl_mtp_windows *w, const int32_t *seq, int len, int T, int min_len,
                               skl_error *err) {
  if (T < 2) return skl_error_set(err, SKL_ERR_RANGE, "mtp windows: length %d must be >= 2", T);
  if (w->n && w->T != T)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp windows: length %d differs from earlier %d", T, w->T);
  w->T = T;
  for (int s = 0; s < len; s += T) {
    int l = len - s < T ? len - s : T;
    if (l < min_len) continue;
    int32_t *nt = realloc(w->tokens, (size_t)(w->n + 1) * T * sizeof(int32_t));
    if (!nt) return skl_error_set(err, SKL_ERR_NOMEM, "mtp windows: out of memory");
    w->tokens = nt;
    int32_t *nl = realloc(w->len, (size_t)(w->n + 1) * sizeof(int32_t));
    if (!nl) return skl_error_set(err, SKL_ERR_NOMEM, "mtp windows: out of memory");
    w->len = nl;
    int32_t *row = w->tokens + (size_t)w->n * T;
    memcpy(row, seq + s, (size_t)l * sizeof(int32_t));
    memset(row + l, 0, (size_t)(T - l) * sizeof(int32_t));
    w->len[w->n++] = l;
  }
  return SKL_OK;
}

void skl_mtp_windows_free(skl_mtp_windows *w) {
  if (!w) return;
  free(w->tokens);
  free(w->len);
  memset(w, 0, sizeof *w);
}

skl_status skl_mtp_windows_split(skl_mtp_windows *a, skl_mtp_windows *held, int count, uint64_t seed,
                                 skl_error *err) {
  memset(held, 0, sizeof *held);
  if (count < 0 || count >= a->n)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "mtp windows: cannot hold out %d of %d windows (need at least one to train "
                         "on: give more data or a shorter --seq-len)",
                         count, a->n);
  int *perm = malloc((size_t)a->n * sizeof(int));
  skl_mtp_windows b = {0};
  b.T = a->T;
  b.tokens = malloc((size_t)a->n * a->T * sizeof(int32_t));
  b.len = malloc((size_t)a->n * sizeof(int32_t));
  if (!perm || !b.tokens || !b.len) {
    free(perm);
    skl_mtp_windows_free(&b);
    return skl_error_set(err, SKL_ERR_NOMEM, "mtp windows: out of memory");
  }
  for (int i = 0; i < a->n; i++) perm[i] = i;
  skl_rng r;
  skl_rng_seed(&r, skl_rng_derive(seed, skl_hash_str("mtp split"), 0, 0));
  skl_rng_shuffle(&r, perm, (size_t)a->n, sizeof(int));
  for (int i = 0; i < a->n; i++) {
    memcpy(b.tokens + (size_t)i * a->T, a->tokens + (size_t)perm[i] * a->T, (size_t)a->T * sizeof(int32_t));
    b.len[i] = a->len[perm[i]];
  }
  b.n = a->n;
  free(perm);
  skl_mtp_windows_free(a);
  *a = b;
  if (count > 0) {
    held->T = a->T;
    held->n = count;
    held->tokens = malloc((size_t)count * a->T * sizeof(int32_t));
    held->len = malloc((size_t)count * sizeof(int32_t));
    if (!held->tokens || !held->len) {
      skl_mtp_windows_free(held);
      return skl_error_set(err, SKL_ERR_NOMEM, "mtp windows: out of memory");
    }
    a->n -= count;
    memcpy(held->tokens, a->tokens + (size_t)a->n * a->T, (size_t)count * a->T * sizeof(int32_t));
    memcpy(held->len, a->len + a->n, (size_t)count * sizeof(int32_t));
  }
  return SKL_OK;
}

static double lr_at(const skl_mtp_train_config *c, int step) {
  if (step < c->warmup) return c->lr * (step + 1) / c->warmup;
  double t = c->steps > c->warmup ? (double)(step - c->warmup) / (c->steps - c->warmup) : 1.0;
  if (t > 1) t = 1;
  double min = 0.1 * c->lr;
  return min + 0.5 * (c->lr - min) * (1 + cos(M_PI * t));
}

skl_status skl_mtp_train(skl_mtp_heads *h, skl_model *m, const skl_mtp_windows *w,
                         const skl_mtp_train_config *c, skl_mtp_step_fn cb, void *ctx,
                         skl_error *err) {
  if (w->n <= 0) return skl_error_set(err, SKL_ERR_RANGE, "mtp train: no training windows");
  if (c->B <= 0 || c->steps <= 0 || !(c->lr > 0) || c->warmup < 0 || !(c->weight_decay >= 0))
    return skl_error_set(err, SKL_ERR_RANGE,
                         "mtp train: batch %d, steps %d, lr %g, warmup %d, weight_decay %g: all "
                         "must be positive (warmup, weight_decay >= 0)",
                         c->B, c->steps, c->lr, c->warmup, c->weight_decay);
  if (h->n_frozen >= h->K)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp train: all %d heads are frozen", h->K);
  skl_status s = skl_mtp_loss_check(&c->loss, h->cfg.vocab_size, err);
  if (s) return s;
  int B = c->B, T = w->T;
  skl_acts ma;
  skl_mtp_acts a;
  memset(&ma, 0, sizeof ma);
  memset(&a, 0, sizeof a);
  float *mom = NULL;
  int32_t *tok = malloc((size_t)B * T * sizeof(int32_t)), *len = malloc((size_t)B * sizeof(int32_t));
  int *order = malloc((size_t)w->n * sizeof(int));
  if (!tok || !len || !order) {
    s = skl_error_set(err, SKL_ERR_NOMEM, "mtp train: out of memory");
    goto done;
  }
  if ((s = skl_acts_init(&ma, &m->cfg, B, T, false, err))) goto done;
  if ((s = skl_mtp_acts_init(&a, &h->cfg, h->K, B, T, c->loss.topn, err))) goto done;
  if ((s = skl_mtp_grads_alloc(h, err))) goto done;
  size_t first = (size_t)h->n_frozen * h->per_head, n = h->n_params - first;
  mom = calloc(2 * n, sizeof(float));
  if (!mom) {
    s = skl_error_set(err, SKL_ERR_NOMEM, "mtp train: cannot allocate optimizer state");
    goto done;
  }
  float *m1 = mom, *v1 = mom + n;
  int epoch = 0, next = w->n; /* forces a fresh order at step 0 */
  const double b1 = 0.9, b2 = 0.95, eps = 1e-8;
  for (int step = 0; step < c->steps && !s; step++) {
    for (int r = 0; r < B; r++) {
      if (next == w->n) {
        for (int i = 0; i < w->n; i++) order[i] = i;
        skl_rng rr;
        skl_rng_seed(&rr, skl_rng_derive(c->seed, skl_hash_str("mtp order"), (uint64_t)epoch++, 0));
        skl_rng_shuffle(&rr, order, (size_t)w->n, sizeof(int));
        next = 0;
      }
      int i = order[next++];
      memcpy(tok + (size_t)r * T, w->tokens + (size_t)i * T, (size_t)T * sizeof(int32_t));
      len[r] = w->len[i];
    }
    skl_mtp_batch b = {B, T, tok, len};
    skl_mtp_stats st;
    skl_mtp_zero_grad(h);
    if ((s = skl_mtp_step(h, m, &ma, &a, &b, &c->loss, true, &st, err))) break;
    if (!isfinite(st.loss)) {
      s = skl_error_set(err, SKL_ERR_NUMERIC, "mtp train: step %d: loss is %g (lower --lr?)", step,
                        st.loss);
      break;
    }
    float *g = h->grad_mem + first, *p = h->param_mem + first;
    double gn = 0.0;
    for (size_t j = 0; j < n; j++) gn += (double)g[j] * g[j];
    gn = sqrt(gn);
    float scale = c->grad_clip > 0 && gn > c->grad_clip ? (float)(c->grad_clip / gn) : 1.0f;
    double lr = lr_at(c, step);
    double bc1 = 1.0 - pow(b1, step + 1), bc2 = 1.0 - pow(b2, step + 1);
    for (int ti = 0; ti < h->n_tensors; ti++) {
      const skl_tensor_info *t = &h->tensors[ti];
      if (t->offset < first) continue;
      size_t o = t->offset - first;
      float wd = t->decay ? (float)(lr * c->weight_decay) : 0.0f;
      for (size_t j = o; j < o + t->numel; j++) {
        float gj = g[j] * scale;
        p[j] -= wd * p[j];
        m1[j] = (float)(b1 * m1[j] + (1 - b1) * gj);
        v1[j] = (float)(b2 * v1[j] + (1 - b2) * gj * gj);
        p[j] -= (float)(lr * (m1[j] / bc1) / (sqrt(v1[j] / bc2) + eps));
      }
    }
    if (cb && cb(ctx, step, lr, gn, &st)) break;
  }
done:
  free(mom);
  free(tok);
  free(len);
  free(order);
  skl_acts_free(&ma);
  skl_mtp_acts_free(&a);
  return s;
}

skl_status skl_mtp_evaluate(skl_mtp_heads *h, skl_model *m, const skl_mtp_windows *w, int B,
                            const skl_mtp_loss_config *lc, skl_mtp_stats *out, skl_error *err) {
  memset(out, 0, sizeof *out);
  if (w->n <= 0) return skl_error_set(err, SKL_ERR_RANGE, "mtp evaluate: no windows");
  if (B > w->n) B = w->n;
  skl_acts ma;
  skl_mtp_acts a;
  skl_status s = skl_acts_init(&ma, &m->cfg, B, w->T, false, err);
  if (s) return s;
  if ((s = skl_mtp_acts_init(&a, &h->cfg, h->K, B, w->T, lc->topn, err))) {
    skl_acts_free(&ma);
    return s;
  }
  double ce[SKL_MTP_MAX_HEADS] = {0}, kl[SKL_MTP_MAX_HEADS] = {0};
  for (int i0 = 0; i0 < w->n && !s; i0 += B) {
    int nb = w->n - i0 < B ? w->n - i0 : B;
    skl_mtp_batch b = {nb, w->T, w->tokens + (size_t)i0 * w->T, w->len + i0};
    skl_mtp_stats st;
    if ((s = skl_mtp_step(h, m, &ma, &a, &b, lc, false, &st, err))) break;
    for (int k = 0; k < h->K; k++) {
      out->n[k] += st.n[k];
      out->agree[k] += st.agree[k];
      out->correct[k] += st.correct[k];
      ce[k] += st.ce[k] * st.n[k];
      kl[k] += st.kl[k] * st.n[k];
    }
  }
  for (int k = 0; k < h->K; k++) {
    out->ce[k] = out->n[k] > 0 ? ce[k] / out->n[k] : 0.0;
    out->kl[k] = out->n[k] > 0 ? kl[k] / out->n[k] : 0.0;
    out->loss += lc->alpha * out->ce[k] + lc->beta * lc->tau * lc->tau * out->kl[k];
  }
  skl_acts_free(&ma);
  skl_mtp_acts_free(&a);
  return s;
}
