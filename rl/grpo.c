/* rl grpo: advantages, clipped surrogate, KL, aggregation.
 * Not the loop: rl/trainer drives rollouts and updates. */
#include "rl/grpo.h"

#include <math.h>

void rl_group_advantages(const float *rewards, int G, bool std_norm, float eps, float *adv) {
  double mean = 0;
  for (int i = 0; i < G; i++) mean += rewards[i];
  mean /= G;
  double var = 0;
  for (int i = 0; i < G; i++) var += (rewards[i] - mean) * (rewards[i] - mean);
  double sd = G > 0 ? sqrt(var / G) : 0;
  for (int i = 0; i < G; i++) {
    double a = rewards[i] - mean;
    adv[i] = (float)(std_norm ? a / (sd + eps) : a);
  }
}

bool rl_group_has_signal(const float *rewards, int G) {
  for (int i = 1; i < G; i++)
    if (rewards[i] != rewards[0]) return true;
  return false;
}

float rl_overlong_penalty(int len, int max_len, int cache_len) {
  int start = max_len - cache_len;
  if (len <= start) return 0.0f;
  if (len > max_len) return -1.0f;
  return (float)(start - len) / (float)(cache_len > 0 ? cache_len : 1);
}

float rl_kl_value(rl_kl_estimator e, float logp, float logp_ref) {
  float d = logp - logp_ref;
  switch (e) {
    case RL_KL_K1: return d;
    case RL_KL_K2: return 0.5f * d * d;
    case RL_KL_K3: return expf(-d) + d - 1.0f;
  }
  return 0;
}

float rl_kl_grad(rl_kl_estimator e, float logp, float logp_ref) {
  float d = logp - logp_ref;
  switch (e) {
    case RL_KL_K1: return 1.0f;
    case RL_KL_K2: return d;
    case RL_KL_K3: return 1.0f - expf(-d);
  }
  return 0;
}

skl_status rl_policy_loss(const rl_loss_opts *o, const rl_loss_batch *b, float *grad_logp,
                          rl_loss_stats *st, skl_error *err) {
  rl_loss_stats s = {0};
  if (b->n_seqs <= 0) return skl_error_set(err, SKL_ERR_INVALID, "policy loss: empty batch");
  if (o->clip_low < 0 || o->clip_low >= 1 || o->clip_high < 0)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "policy loss: clip ranges must satisfy 0 <= clip_low < 1 and clip_high >= 0 "
                         "(got %g, %g)", o->clip_low, o->clip_high);
  if (o->kl_coef != 0 && !b->logp_ref)
    return skl_error_set(err, SKL_ERR_INVALID, "policy loss: kl_coef is %g but no reference log-probs "
                         "were computed", o->kl_coef);
  /* Denominators per aggregation mode: each token's weight in the loss. */
  int total = 0, live_seqs = 0;
  for (int s_ = 0; s_ < b->n_seqs; s_++) {
    int n = 0;
    for (int t = b->seq_start[s_]; t < b->seq_start[s_ + 1]; t++) n += !b->mask || b->mask[t] > 0;
    total += n;
    live_seqs += n > 0;
  }
  double den_tok = b->global_tokens > 0 ? b->global_tokens : total;
  double den_seq = b->global_seqs > 0 ? b->global_seqs : live_seqs;
  double lo = 1.0 - o->clip_low, hi = 1.0 + o->clip_high;
  double ratio_sum = 0;
  int clipped = 0, clipped_lo = 0, clipped_hi = 0;
  for (int s_ = 0; s_ < b->n_seqs; s_++) {
    int t0 = b->seq_start[s_], t1 = b->seq_start[s_ + 1];
    if (t1 < t0) return skl_error_set(err, SKL_ERR_INVALID, "policy loss: seq_start not increasing at %d", s_);
    int n = 0;
    for (int t = t0; t < t1; t++) n += !b->mask || b->mask[t] > 0;
    double A = b->adv[s_];
    if (!isfinite(A)) return skl_error_set(err, SKL_ERR_NUMERIC, "policy loss: advantage of sequence %d is not finite", s_);
    double w; /* weight of one token of this sequence in the aggregate */
    switch (o->agg) {
      case RL_AGG_TOKEN_MEAN: w = den_tok > 0 ? 1.0 / den_tok : 0; break;
      case RL_AGG_SEQ_MEAN_TOKEN_MEAN: w = n && den_seq > 0 ? 1.0 / ((double)n * den_seq) : 0; break;
      default: w = den_seq > 0 ? 1.0 / den_seq : 0; break;
    }
    for (int t = t0; t < t1; t++) {
      if (b->mask && !(b->mask[t] > 0)) { grad_logp[t] = 0; continue; }
      double lp = b->logp[t], lpo = b->logp_old[t];
      if (!isfinite(lp) || !isfinite(lpo))
        return skl_error_set(err, SKL_ERR_NUMERIC, "policy loss: log-prob of token %d (sequence %d) is not finite", t, s_);
      double r = exp(lp - lpo);
      ratio_sum += r;
      /* min(r A, clip(r) A): the clipped branch is active (zero gradient)
       * when it is the smaller one, i.e. r left the trust region in the
       * direction the advantage rewards. */
      double rc = r < lo ? lo : (r > hi ? hi : r);
      double unclipped = r * A, clippedv = rc * A;
      double surr;
      double g; /* d surrogate / d logp */
      if (clippedv < unclipped) {
        surr = clippedv; g = 0;
        clipped++;
        if (r < lo) clipped_lo++; else clipped_hi++;
      } else {
        surr = unclipped; g = unclipped; /* d(r A)/dlogp = r A */
      }
      double pg = -surr;
      double dl = -g;
      s.pg_loss += w * pg;
      if (o->kl_coef != 0) {
        double kv = rl_kl_value(o->kl_estimator, (float)lp, b->logp_ref[t]);
        s.kl += kv;
        s.loss += w * o->kl_coef * kv;
        dl += o->kl_coef * rl_kl_grad(o->kl_estimator, (float)lp, b->logp_ref[t]);
      }
      grad_logp[t] = (float)(w * dl);
    }
  }
  s.loss += s.pg_loss;
  s.n_tokens = total;
  if (total) {
    s.kl /= total;
    s.clip_frac = (double)clipped / total;
    s.clip_frac_low = (double)clipped_lo / total;
    s.clip_frac_high = (double)clipped_hi / total;
    s.ratio_mean = ratio_sum / total;
  }
  if (st) *st = s;
  return SKL_OK;
}
