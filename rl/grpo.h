/* rl grpo: the per-token arithmetic of GRPO/DAPO — group advantages, the
 * clipped surrogate with clip-higher, KL estimators, aggregation modes,
 * dynamic-sampling and overlong rules (DESIGN.md §1.3).
 * Not the training loop and not the model: it maps log-probs to a loss and
 * to dLoss/dlogp per token, which the engine back-propagates. */
#ifndef RL_GRPO_H
#define RL_GRPO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef enum {
  RL_AGG_TOKEN_MEAN,          /* sum over all tokens / number of tokens in the batch (DAPO) */
  RL_AGG_SEQ_MEAN_TOKEN_MEAN, /* mean over sequences of each sequence's token mean (GRPO paper) */
  RL_AGG_SEQ_MEAN_TOKEN_SUM,  /* mean over sequences of each sequence's token sum (Dr. GRPO style) */
} rl_agg_mode;

typedef enum {
  RL_KL_K1, /* logp - logp_ref */
  RL_KL_K2, /* 0.5 (logp - logp_ref)^2 */
  RL_KL_K3, /* exp(ref - logp) - (ref - logp) - 1, unbiased and non-negative (Schulman) */
} rl_kl_estimator;

/* Group-relative advantages for one group of G rewards:
 * A_i = r_i - mean(r), divided by (std(r) + eps) when std_norm (classic GRPO,
 * population std as in the GRPO reference implementations). */
void rl_group_advantages(const float *rewards, int G, bool std_norm, float eps, float *adv);

/* DAPO dynamic sampling: a group whose rewards are all equal has zero
 * advantage everywhere and carries no gradient. @return true if kept. */
bool rl_group_has_signal(const float *rewards, int G);

/* DAPO soft overlong punishment for a response of `len` tokens under budget
 * `max_len` with a punishment window `cache_len`: 0 while len <= max-cache,
 * then linearly down to -1 at max_len, and -1 beyond. */
float rl_overlong_penalty(int len, int max_len, int cache_len);

typedef struct {
  float clip_low;       /* eps_low: ratio floor 1 - clip_low (0.2) */
  float clip_high;      /* eps_high: ratio ceiling 1 + clip_high (0.28, clip-higher) */
  float kl_coef;        /* beta; 0 disables the KL term */
  rl_kl_estimator kl_estimator;
  rl_agg_mode agg;
} rl_loss_opts;

/* One batch of responses laid out as concatenated tokens.
 * Sequence s owns tokens [seq_start[s], seq_start[s+1]). */
typedef struct {
  int n_seqs;
  const int *seq_start;     /* [n_seqs + 1] */
  const float *adv;         /* [n_seqs] advantage of each sequence */
  const float *logp;        /* [N] current policy log-prob of each sampled token */
  const float *logp_old;    /* [N] behaviour policy log-prob (rollout time) */
  const float *logp_ref;    /* [N] frozen reference log-prob, or NULL when kl_coef == 0 */
  const float *mask;        /* [N] 1 for tokens that count, 0 for masked (truncated, padding), or NULL */
  /* Data parallel: the aggregate is over the GLOBAL batch, of which this is
   * one rank's share. 0 = this batch is the whole batch. */
  double global_tokens;     /* counted tokens over all ranks (token-mean) */
  double global_seqs;       /* sequences with >= 1 counted token over all ranks (seq-mean modes) */
} rl_loss_batch;

typedef struct {
  double loss;          /* the scalar minimised */
  double pg_loss;       /* policy-gradient part */
  double kl;            /* mean KL estimate over counted tokens */
  double clip_frac;     /* fraction of counted tokens whose ratio was clipped */
  double clip_frac_low, clip_frac_high;
  double ratio_mean;
  int n_tokens;         /* counted tokens */
} rl_loss_stats;

/* Clipped surrogate with separate low/high clip ranges, optional KL in the
 * loss, aggregated as opts->agg. Writes dLoss/dlogp for every token into
 * grad_logp[N] (0 for masked tokens); the engine turns it into parameter
 * gradients. @return SKL_OK, SKL_ERR_INVALID for inconsistent inputs,
 * SKL_ERR_NUMERIC if a log-prob or advantage is not finite. */
skl_status rl_policy_loss(const rl_loss_opts *opts, const rl_loss_batch *b, float *grad_logp,
                          rl_loss_stats *stats, skl_error *err);

/* KL estimator value and its derivative with respect to logp. */
float rl_kl_value(rl_kl_estimator e, float logp, float logp_ref);
float rl_kl_grad(rl_kl_estimator e, float logp, float logp_ref);

#endif
