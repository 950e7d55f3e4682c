/* rl trainer: one step = rollout rounds until the batch has enough groups
 * with signal, the log-probs of the kept responses, update epochs, metrics.
 * Not the decoder or the engine: it drives them. */
#include "rl/trainer.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "decode/decode.h"
#include "decode/spec.h"
#include "model/checkpoint.h"
#include "rl/grpo.h"
#include "judge/judge.h"
#include "rl/pack.h"
#include "rl/reward.h"
#include "skills/registry.h"
#include "sys/sys.h"

/* Which log-probs a forward pass over the step's responses fills. */
typedef enum {
  LOGP_OLD, /* the sampling policy's (the model before this step's update), and the entropy */
  LOGP_REF, /* the frozen starting model's, for the KL */
  LOGP_NEW, /* the policy's after an update epoch (epochs 2 on) */
} logp_kind;

/* One sampled response of a group. Its per-token update arrays are the
 * step's (step_bufs), from token `off` on, once step_layout places it. */
typedef struct {
  int item;          /* dataset index */
  int32_t *resp;     /* [len] generated ids (stop id included), in step_bufs.resp */
  int len;
  bool truncated;    /* hit the budget without a stop id */
  float reward, accuracy;
  bool masked;       /* the reward leaves its tokens out of the loss */
  float adv;
  int off;           /* its first token in the update's per-token arrays */
} seq_t;

/* Per candidate group, all-reduced after each sampling round (each
 * candidate is one rank's, so the sums are copies). */
enum { CAND_SIGNAL, CAND_REWARD, CAND_ACCURACY, CAND_N };

/* A step's memory, sized at init for the largest step and reused. A step
 * keeps at most P groups over all ranks: each round draws only as many
 * candidates as the batch lacks, so at most that many have signal. A rank
 * keeps its groups at the front of seqs, in candidate order, and samples
 * the next one into the slot after them. Sizes: P prompts, G group,
 * R max_response, N <= P*G*R tokens of the kept responses. */
typedef struct {
  int *cand;         /* [P*(1+max_sampling_rounds)] dataset index of each candidate group (all ranks alike) */
  double *cand_sum;  /* [P*(1+max_sampling_rounds), CAND_N], cleared each round */
  seq_t *seqs;       /* [(P+1)*G] */
  int32_t *resp;     /* [(P+1)*G, R] the responses' ids */
  int32_t *ids;      /* [R] a response's ids that have text */
  float *rewards, *adv; /* [G] one group's */
  int *fill;         /* [micro] packing: tokens used in each micro-batch row */
  int *seq_start;    /* [P*G + 1] the update's sequence k owns tokens [seq_start[k], seq_start[k+1]) */
  float *seq_adv;    /* [P*G] */
  float *logp_old;   /* [N] */
  float *logp_ref;   /* [N], NULL without a reference model */
  float *logp_new;   /* [N] */
  float *entropy;    /* [N] the sampling policy's */
  float *grad;       /* [N] dLoss/dlogp */
  float *mask;       /* [N] 1 for tokens the loss counts */
} step_bufs;

/* What a step counted: for its update and its metrics. */
typedef struct {
  /* rollout, all ranks alike */
  int n_cand;          /* candidate groups drawn */
  int kept;            /* of them kept (with signal; every one without dynamic sampling) */
  int rounds;          /* sampling rounds */
  /* rollout, this rank */
  int n_local;         /* kept groups here: seqs[0, n_local*G) */
  int64_t gen_tokens;  /* tokens generated */
  int n_trunc;         /* responses that hit the budget */
  /* update */
  double tokens;       /* all ranks: tokens the loss counts */
  double live_seqs;    /* all ranks: sequences with one or more of them */
  double ent_sum, ent_n; /* this rank: the sampling policy's entropy over its kept tokens */
  double kl_sum;       /* this rank: the last epoch's mean KL * counted tokens */
  rl_loss_stats loss;  /* this rank: the last epoch's loss */
  double lr, grad_norm;
  bool nonfinite;      /* an epoch's gradient was not finite: its AdamW step was skipped */
  double rollout_s, update_s;
} step_counts;

typedef struct {
  rl_session s;
  const rl_train_cfg *c;
  skl_decoder *dec;
  skl_mtp_heads heads; /* rollout.speculative.heads > 0: drafting heads (frozen) */
  skl_spec *spec;      /* their speculative state on dec, or NULL: plain decoding */
  skl_model ref;      /* frozen starting model (kl_coef > 0) */
  bool has_ref;
  skl_acts acts;      /* plain path (update.shared_prefix false) */
  skl_group_acts gacts; /* shared-prefix path: one prompt, up to G responses */
  bool group_step;    /* update.shared_prefix */
  int32_t *g_tok, *g_tgt; /* [G, max_response] suffix rows of the group step */
  float *g_w;         /* [G, max_response] */
  int *g_len;         /* [G] */
  rl_packed pk;
  int rows, T;        /* micro-batch rows, row length */
  float *w;           /* [rows*T] per-token weights */
  float *mask;        /* [rows*T] */
  step_bufs b;
  skl_judge *judge;
  rl_reward_opts ropt;
  skl_buf text;
} trainer_t;

/* Sample G responses for dataset item `item` into seqs[0, G), their ids into
 * resp ([G, R]), with a seed fixed by (run, step, candidate index):
 * independent of the rank that does it. */
static skl_status rollout_group(trainer_t *t, int item, uint64_t seed, seq_t *seqs, int32_t *resp, skl_error *err) {
  const rl_train_cfg *c = t->c;
  const rl_item *it = &t->s.data.items[item];
  const int32_t *prompts[1] = {it->prompt};
  int plen[1] = {it->n_prompt};
  skl_gen_request rq = {.n_prompts = 1, .prompts = prompts, .prompt_lens = plen, .group = c->group,
                        .shared_prefix = true, .max_new = c->max_response, .stop = t->s.data.stop_ids,
                        .n_stop = t->s.data.n_stop,
                        .sample = {.temperature = (float)c->temperature, .top_k = c->top_k, .top_p = (float)c->top_p},
                        .seed = seed};
  skl_gen_output out;
  skl_status st = t->spec ? skl_generate_speculative(t->spec, &rq, &out, NULL, err) : skl_generate(t->dec, &rq, &out, err);
  if (st) return st;
  for (int g = 0; g < c->group; g++) {
    seq_t *q = &seqs[g];
    memset(q, 0, sizeof *q);
    q->item = item;
    q->len = out.len[g];
    q->truncated = !out.stopped[g];
    q->resp = resp + (size_t)g * c->max_response;
    SKL_ASSERT(q->len >= 0 && q->len <= c->max_response);
    memcpy(q->resp, out.tokens + (size_t)g * out.max_new, sizeof *q->resp * (size_t)q->len);
  }
  skl_gen_output_free(&out);
  return SKL_OK;
}

/* Rewards of one group (rule verifier, or the judge for string answers when configured). */
static skl_status score_group(trainer_t *t, seq_t *seqs, skl_error *err) {
  const rl_train_cfg *c = t->c;
  const rl_item *it = &t->s.data.items[seqs[0].item];
  int32_t *ids = t->b.ids;
  for (int g = 0; g < c->group; g++) {
    seq_t *q = &seqs[g];
    skl_buf_clear(&t->text);
    int n = q->len;
    if (n > 0 && !q->truncated) n--; /* the stop token is not text */
    /* A padded embedding can sample ids the tokenizer lacks: they carry no text. */
    int m = 0;
    size_t vs = skl_tokenizer_vocab_size(t->s.tok);
    for (int j = 0; j < n; j++)
      if ((size_t)q->resp[j] < vs && skl_tokenizer_id_token(t->s.tok, q->resp[j])) ids[m++] = q->resp[j];
    skl_status st = skl_tokenizer_decode_ex(t->s.tok, ids, (size_t)m, SKL_TOK_DECODE_SKIP_SPECIAL | SKL_TOK_DECODE_REPLACE,
                                            &t->text, err);
    if (st) return st;
    rl_reward_result r;
    if ((st = rl_reward_score(&t->ropt, it->type, it->answer, t->text.data ? t->text.data : "", q->len,
                              q->truncated, &r, err)))
      return skl_error_prefix(err, "sample %s", it->id);
    q->reward = r.reward;
    q->accuracy = r.accuracy;
    q->masked = r.masked;
    if (t->judge && it->type == SKILL_ANSWER_STRING) {
      skillrl_judge_item ji = {it->id, it->question ? it->question : "", t->text.data ? t->text.data : "", it->answer};
      double sc;
      if ((st = skl_judge_score(t->judge, &ji, 1, &sc, err))) return st;
      q->reward = (float)(sc * t->ropt.correct_reward + (1 - sc) * t->ropt.wrong_reward) + r.format + r.overlong;
      q->accuracy = (float)sc;
    }
  }
  return SKL_OK;
}

/* Pack sequences [from, to) into one micro-batch; returns how many fit. */
static int pack_micro(trainer_t *t, const seq_t *seqs, int from, int to, skl_error *err, skl_status *st) {
  rl_pack_item items[512];
  int n = 0;
  int *fill = t->b.fill;
  memset(fill, 0, sizeof *fill * (size_t)t->rows);
  for (int k = from; k < to && n < 512; k++) {
    const rl_item *it = &t->s.data.items[seqs[k].item];
    int len = it->n_prompt + seqs[k].len - 1;
    int row = -1;
    for (int b = 0; b < t->rows; b++)
      if (t->T - fill[b] >= len) { row = b; break; }
    if (row < 0) break;
    fill[row] += len;
    items[n++] = (rl_pack_item){it->prompt, it->n_prompt, seqs[k].resp, seqs[k].len};
  }
  int cut, dropped;
  *st = rl_pack(&t->pk, items, n, &cut, &dropped, err);
  return n;
}

/* Log-probs of the policy that sampled: logits / temperature (as verl);
 * greedy rollouts (temperature 0) use temperature 1. */
static float logit_scale(const trainer_t *t) {
  return t->c->temperature > 0 ? (float)(1.0 / t->c->temperature) : 1.0f;
}

/* Shared-prefix path: the run of sequences [k0, k1) with one prompt (at
 * most G) as one group step. The prompt's last token starts every suffix,
 * since it predicts each response's first token (model.h): prefix =
 * prompt[0..n-2], suffix = prompt[n-1], resp[0..len-2], targets = resp.
 * With grad, weights are -grad (dLoss/dlogp) and the backward runs. */
static skl_status group_run(trainer_t *t, skl_model *m, const seq_t *seqs, int k0, int k1, bool grad,
                            skl_error *err) {
  const rl_item *it = &t->s.data.items[seqs[k0].item];
  int R = t->c->max_response;
  if (it->n_prompt < 1) return skl_error_set(err, SKL_ERR_INVALID, "sample %s has an empty prompt", it->id);
  for (int k = k0; k < k1; k++) {
    const seq_t *q = &seqs[k];
    int g = k - k0;
    int32_t *tok = t->g_tok + (size_t)g * R, *tgt = t->g_tgt + (size_t)g * R;
    float *w = t->g_w + (size_t)g * R;
    t->g_len[g] = q->len;
    for (int j = 0; j < q->len; j++) {
      tok[j] = j == 0 ? it->prompt[it->n_prompt - 1] : q->resp[j - 1];
      tgt[j] = q->resp[j];
      if (grad) w[j] = -t->b.grad[q->off + j];
    }
  }
  skl_group_batch gb = {.P = it->n_prompt - 1, .prefix = it->prompt, .G = k1 - k0, .R = R, .len = t->g_len,
                        .tokens = t->g_tok, .targets = t->g_tgt, .weight = grad ? t->g_w : NULL, .loss_norm = 1,
                        .logit_scale = logit_scale(t)};
  skl_step_stats ss;
  return skl_group_step(m, &t->gacts, &gb, grad, &ss, err);
}

/* End of the run of sequences from k0 that share one prompt (at most G). */
static int group_end(const trainer_t *t, const seq_t *seqs, int k0, int n) {
  int k1 = k0 + 1;
  while (k1 < n && k1 - k0 < t->c->group && seqs[k1].item == seqs[k0].item) k1++;
  return k1;
}

static float *logp_of(trainer_t *t, logp_kind kind) {
  switch (kind) {
  case LOGP_OLD: return t->b.logp_old;
  case LOGP_REF: return t->b.logp_ref;
  case LOGP_NEW: return t->b.logp_new;
  }
  SKL_ASSERT(!"logp kind");
  return NULL;
}

/* Forward of model m over the n kept sequences: their per-token log-probs
 * of kind `kind` (and with LOGP_OLD the entropy). */
static skl_status forward_logp(trainer_t *t, skl_model *m, const seq_t *seqs, int n, logp_kind kind, skl_error *err) {
  float *logp = logp_of(t, kind);
  SKL_ASSERT(logp);
  for (int k0 = 0; k0 < n && t->group_step;) {
    int k1 = group_end(t, seqs, k0, n);
    skl_status st = group_run(t, m, seqs, k0, k1, false, err);
    if (st) return st;
    for (int k = k0; k < k1; k++) {
      const seq_t *q = &seqs[k];
      const float *lp = t->gacts.a.logp + t->gacts.row0[k - k0], *en = t->gacts.a.entropy + t->gacts.row0[k - k0];
      for (int j = 0; j < q->len; j++) {
        logp[q->off + j] = lp[j];
        if (kind == LOGP_OLD) t->b.entropy[q->off + j] = en[j];
      }
    }
    k0 = k1;
  }
  for (int k0 = 0; k0 < n && !t->group_step;) {
    skl_status st = SKL_OK;
    int got = pack_micro(t, seqs, k0, n, err, &st);
    if (st) return st;
    if (got == 0) return skl_error_set(err, SKL_ERR_INTERNAL, "a sequence does not fit a micro-batch row");
    int used_rows = 0;
    for (int k = 0; k < got; k++) if (t->pk.row_of[k] + 1 > used_rows) used_rows = t->pk.row_of[k] + 1;
    skl_batch b = {.B = used_rows, .T = t->T, .tokens = t->pk.tokens, .targets = t->pk.targets, .pos = t->pk.pos,
                   .doc = t->pk.doc, .mask = t->pk.mask, .loss_norm = 1, .logit_scale = logit_scale(t)};
    skl_step_stats ss;
    if ((st = skl_model_step(m, &t->acts, &b, false, &ss, err))) return st;
    for (int k = 0; k < got; k++) {
      const seq_t *q = &seqs[k0 + k];
      const rl_item *it = &t->s.data.items[q->item];
      size_t base = (size_t)t->pk.row_of[k] * t->T + t->pk.col_of[k] + (size_t)it->n_prompt - 1;
      for (int j = 0; j < q->len; j++) {
        logp[q->off + j] = t->acts.logp[base + j];
        if (kind == LOGP_OLD) t->b.entropy[q->off + j] = t->acts.entropy[base + j];
      }
    }
    k0 += got;
  }
  return SKL_OK;
}

/* Forward+backward of the policy with per-token weights -grad (dLoss/dlogp = grad). */
static skl_status backward_weighted(trainer_t *t, const seq_t *seqs, int n, skl_error *err) {
  for (int k0 = 0; k0 < n && t->group_step;) {
    int k1 = group_end(t, seqs, k0, n);
    skl_status st = group_run(t, &t->s.model, seqs, k0, k1, true, err);
    if (st) return st;
    k0 = k1;
  }
  for (int k0 = 0; k0 < n && !t->group_step;) {
    skl_status st = SKL_OK;
    int got = pack_micro(t, seqs, k0, n, err, &st);
    if (st) return st;
    size_t N = (size_t)t->rows * t->T;
    memset(t->w, 0, N * sizeof *t->w);
    memset(t->mask, 0, N * sizeof *t->mask);
    int used_rows = 0;
    for (int k = 0; k < got; k++) {
      const seq_t *q = &seqs[k0 + k];
      const rl_item *it = &t->s.data.items[q->item];
      if (t->pk.row_of[k] + 1 > used_rows) used_rows = t->pk.row_of[k] + 1;
      size_t base = (size_t)t->pk.row_of[k] * t->T + t->pk.col_of[k] + (size_t)it->n_prompt - 1;
      for (int j = 0; j < q->len; j++) {
        t->w[base + j] = -t->b.grad[q->off + j];
        t->mask[base + j] = 1;
      }
    }
    skl_batch b = {.B = used_rows, .T = t->T, .tokens = t->pk.tokens, .targets = t->pk.targets, .pos = t->pk.pos,
                   .doc = t->pk.doc, .mask = t->mask, .weight = t->w, .loss_norm = 1,
                   .logit_scale = logit_scale(t)};
    skl_step_stats ss;
    if ((st = skl_model_step(&t->s.model, &t->acts, &b, true, &ss, err))) return st;
    k0 += got;
  }
  return SKL_OK;
}

/* ---- the step's phases ---- */

/* Sample and score candidate k (dataset item cand[k]) into grp; its
 * per-candidate sums into sum[CAND_N]. */
static skl_status sample_group(trainer_t *t, int k, seq_t *grp, int32_t *resp, double *sum, step_counts *n,
                               skl_error *err) {
  const rl_train_cfg *c = t->c;
  int G = c->group;
  uint64_t seed = skl_rng_derive((uint64_t)c->seed, 0x9270, (uint64_t)t->s.st.step, (uint64_t)k);
  skl_status st = rollout_group(t, t->b.cand[k], seed, grp, resp, err);
  if (!st) st = score_group(t, grp, err);
  if (st) return st;
  float *rw = t->b.rewards;
  double rs = 0, as = 0;
  for (int g = 0; g < G; g++) {
    rw[g] = grp[g].reward;
    rs += rw[g];
    as += grp[g].accuracy;
    n->gen_tokens += grp[g].len;
    n->n_trunc += grp[g].truncated;
  }
  sum[CAND_SIGNAL] = rl_group_has_signal(rw, G) ? 1 : 0;
  sum[CAND_REWARD] = rs;
  sum[CAND_ACCURACY] = as;
  return SKL_OK;
}

/* Rollout: rounds of candidate groups until P have signal (DAPO dynamic
 * sampling; without it, one round and every group counts), or the rounds
 * run out. Candidate k is rank k % ranks's; each rank keeps its groups at
 * the front of b.seqs. Each round draws only as many candidates as the batch
 * lacks, so every candidate with signal is kept: a rank can decide alone. */
static skl_status step_rollout(trainer_t *t, step_counts *n, skl_error *err) {
  const rl_train_cfg *c = t->c;
  rl_session *s = &t->s;
  step_bufs *b = &t->b;
  int G = c->group, P = c->prompts, ranks = s->dist.size, rank = s->dist.rank;
  skl_status st = SKL_OK;
  while (!st && n->kept < P && n->rounds <= c->max_sampling_rounds) {
    int first = n->n_cand, need = P - n->kept;
    rl_session_take(s, need, b->cand + first);
    n->n_cand += need;
    /* other ranks' entries stay 0 for the all-reduce */
    memset(b->cand_sum + (size_t)first * CAND_N, 0, sizeof *b->cand_sum * (size_t)need * CAND_N);
    for (int k = first; k < n->n_cand && !st; k++) {
      if (k % ranks != rank) continue;
      double *sum = b->cand_sum + (size_t)k * CAND_N;
      size_t slot = (size_t)n->n_local * G; /* kept groups before it: at most P (step_bufs) */
      st = sample_group(t, k, b->seqs + slot, b->resp + slot * c->max_response, sum, n, err);
      if (!st && (!c->dynamic_sampling || sum[CAND_SIGNAL] > 0)) n->n_local++;
      SKL_ASSERT(n->n_local <= P);
    }
    if (st) break;
    /* everyone learns every candidate's signal (entries are disjoint: sums are copies) */
    if ((st = skl_dist_allreduce_f64(&s->dist, b->cand_sum + (size_t)first * CAND_N, (size_t)need * CAND_N, err)))
      break;
    for (int k = first; k < n->n_cand; k++)
      if (!c->dynamic_sampling || b->cand_sum[(size_t)k * CAND_N + CAND_SIGNAL] > 0) n->kept++;
    SKL_ASSERT(n->kept <= P);
    n->rounds++;
    if (!c->dynamic_sampling) break;
  }
  return st;
}

/* The kept groups' advantages and the update's layout: sequence k's tokens
 * at [seq_start[k], seq_start[k+1]) of the per-token arrays, its mask;
 * then the loss's normalizers over all ranks. */
static skl_status step_layout(trainer_t *t, step_counts *n, skl_error *err) {
  const rl_train_cfg *c = t->c;
  step_bufs *b = &t->b;
  int G = c->group, nseq = n->n_local * G;
  for (int i = 0; i < n->n_local; i++) {
    seq_t *grp = &b->seqs[(size_t)i * G];
    for (int g = 0; g < G; g++) b->rewards[g] = grp[g].reward;
    rl_group_advantages(b->rewards, G, c->std_norm, 1e-6f, b->adv);
    for (int g = 0; g < G; g++) grp[g].adv = b->adv[g];
  }
  double sums[2] = {0, 0}; /* counted tokens, sequences with one or more */
  int at = 0;
  for (int k = 0; k < nseq; k++) {
    seq_t *q = &b->seqs[k];
    q->off = b->seq_start[k] = at;
    for (int j = 0; j < q->len; j++) b->mask[at + j] = q->masked ? 0.0f : 1.0f;
    at += q->len;
    if (!q->masked) {
      sums[0] += q->len;
      sums[1] += q->len > 0;
    }
  }
  b->seq_start[nseq] = at;
  skl_status st = skl_dist_allreduce_f64(&t->s.dist, sums, 2, err);
  n->tokens = sums[0];
  n->live_seqs = sums[1];
  return st;
}

/* KL as a reward penalty (loss.kl_in_reward): the kept groups' advantages
 * again, from rewards less kl_coef * the response's KL to the reference. */
static void kl_reward_advantages(trainer_t *t, const step_counts *n) {
  const rl_train_cfg *c = t->c;
  step_bufs *b = &t->b;
  int G = c->group;
  for (int i = 0; i < n->n_local; i++) {
    seq_t *grp = &b->seqs[(size_t)i * G];
    for (int g = 0; g < G; g++) {
      double kl = 0;
      for (int j = grp[g].off; j < grp[g].off + grp[g].len; j++)
        kl += rl_kl_value((rl_kl_estimator)c->kl_estimator, b->logp_old[j], b->logp_ref[j]);
      b->rewards[g] = grp[g].reward - (float)(c->kl_coef * kl);
    }
    rl_group_advantages(b->rewards, G, c->std_norm, 1e-6f, b->adv);
    for (int g = 0; g < G; g++) grp[g].adv = b->adv[g];
  }
}

/* Log-probs of the kept responses: the sampling policy's (and its entropy),
 * the reference's when there is one. */
static skl_status step_logprobs(trainer_t *t, step_counts *n, skl_error *err) {
  step_bufs *b = &t->b;
  int nseq = n->n_local * t->c->group;
  if (nseq == 0) return SKL_OK;
  skl_status st = forward_logp(t, &t->s.model, b->seqs, nseq, LOGP_OLD, err);
  if (!st && t->has_ref) st = forward_logp(t, &t->ref, b->seqs, nseq, LOGP_REF, err);
  if (!st && t->has_ref && t->c->kl_in_reward) kl_reward_advantages(t, n);
  for (int j = 0; j < b->seq_start[nseq]; j++) {
    n->ent_sum += b->entropy[j];
    n->ent_n++;
  }
  return st;
}

/* Update epochs: the loss over this rank's responses (the first epoch
 * on-policy, later ones from fresh log-probs), its backward, the gradients
 * summed over ranks, an AdamW step. A rank without responses still takes
 * part in every all-reduce. */
static skl_status step_update(trainer_t *t, step_counts *n, skl_error *err) {
  const rl_train_cfg *c = t->c;
  rl_session *s = &t->s;
  step_bufs *b = &t->b;
  int nseq = n->n_local * c->group;
  rl_loss_opts lo = {.clip_low = (float)c->clip_low, .clip_high = (float)c->clip_high,
                     .kl_coef = c->kl_in_reward ? 0.0f : (float)c->kl_coef, .kl_estimator = (rl_kl_estimator)c->kl_estimator,
                     .agg = (rl_agg_mode)c->agg};
  for (int k = 0; k < nseq; k++) b->seq_adv[k] = b->seqs[k].adv;
  skl_status st = SKL_OK;
  for (int ep = 0; ep < c->update_epochs && !st; ep++) {
    skl_model_zero_grad(&s->model);
    if (nseq > 0) {
      if (ep > 0) st = forward_logp(t, &s->model, b->seqs, nseq, LOGP_NEW, err);
      rl_loss_batch lb = {.n_seqs = nseq, .seq_start = b->seq_start, .adv = b->seq_adv,
                          .logp = ep > 0 ? b->logp_new : b->logp_old, /* epoch 1 is on-policy */
                          .logp_old = b->logp_old, .logp_ref = t->has_ref ? b->logp_ref : NULL, .mask = b->mask,
                          .global_tokens = n->tokens, .global_seqs = n->live_seqs};
      bool bad_loss = false;
      if (!st) {
        skl_error le;
        skl_status ps = rl_policy_loss(&lo, &lb, b->grad, &n->loss, &le);
        if (ps == SKL_ERR_NUMERIC) bad_loss = true; /* skipped below, on every rank alike */
        else if (ps) { *err = le; st = ps; }
      }
      if (!st && !bad_loss) st = backward_weighted(t, b->seqs, nseq, err);
      /* A non-finite loss poisons this rank's gradient: after the all-reduce
       * every rank sees a non-finite norm and skips the update together. */
      if (!st && bad_loss) s->model.grad_mem[0] = NAN;
      n->kl_sum = n->loss.kl * n->loss.n_tokens;
    }
    if (!st) st = skl_dist_allreduce_f32(&s->dist, s->model.grad_mem, s->model.n_params, err);
    if (st) break;
    skl_error e2;
    skl_status us = skl_adamw_step(&s->opt, &s->model, n->lr, &n->grad_norm, &e2);
    if (us == SKL_ERR_NUMERIC) n->nonfinite = true;
    else if (us) { *err = e2; st = us; }
  }
  return st;
}

/* Per-skill sums for metrics: reward, accuracy, count. */
typedef struct { char name[32]; double r, a, n; } skill_acc;

static void skill_add(skill_acc *sk, int *nsk, const char *name, double r, double a) {
  int i = 0;
  for (; i < *nsk; i++) if (!strcmp(sk[i].name, name)) break;
  if (i == *nsk) {
    if (*nsk == SKILL_MAX_COUNT) return;
    snprintf(sk[i].name, sizeof sk[i].name, "%s", name);
    (*nsk)++;
  }
  sk[i].r += r; sk[i].a += a; sk[i].n += 1;
}

/* Metrics: the rollout side over every generated group (what the policy
 * does now), the loss side summed over ranks; the run's bad-step streak
 * and samples seen. */
static skl_status step_metrics(trainer_t *t, step_counts *n, double t_start, json_t **metrics_out, skl_error *err) {
  const rl_train_cfg *c = t->c;
  rl_session *s = &t->s;
  const step_bufs *b = &t->b;
  int G = c->group;
  double lsum[7] = {n->loss.clip_frac * n->loss.n_tokens, n->kl_sum, n->ent_sum, n->ent_n, n->loss.pg_loss,
                    (double)n->gen_tokens, (double)n->n_trunc};
  skl_status st = skl_dist_allreduce_f64(&s->dist, lsum, 7, err);
  if (st) return st;
  if (n->nonfinite) {
    s->st.bad_streak++;
    s->st.bad_total++;
    if (s->st.bad_streak >= c->max_bad_steps)
      return skl_error_set(err, SKL_ERR_NUMERIC, "step %lld: %lld non-finite gradients in a row: stopping; lower "
                           "optim.lr or resume from the last checkpoint", (long long)s->st.step + 1,
                           (long long)s->st.bad_streak);
  } else {
    s->st.bad_streak = 0;
  }
  s->st.samples_seen += (int64_t)n->kept * G;
  double rsum = 0, asum = 0;
  skill_acc sk[SKILL_MAX_COUNT];
  int nsk = 0;
  memset(sk, 0, sizeof sk);
  for (int k = 0; k < n->n_cand; k++) {
    const double *sum = b->cand_sum + (size_t)k * CAND_N;
    rsum += sum[CAND_REWARD];
    asum += sum[CAND_ACCURACY];
  }
  for (int k = 0; k < n->n_cand; k++) {
    const double *sum = b->cand_sum + (size_t)k * CAND_N;
    skill_add(sk, &nsk, s->data.items[b->cand[k]].skill, sum[CAND_REWARD] / G, sum[CAND_ACCURACY] / G);
  }
  double nresp = (double)n->n_cand * G;
  json_t *m = json_object();
  json_object_set_new(m, "phase", json_string("grpo"));
  json_object_set_new(m, "step", json_integer(s->st.step + 1));
  json_object_set_new(m, "reward", rl_json_num(rsum / nresp));
  json_object_set_new(m, "accuracy", rl_json_num(asum / nresp));
  json_t *per = json_object();
  for (int i = 0; i < nsk; i++)
    json_object_set_new(per, sk[i].name, json_pack("{s:o, s:o, s:i}", "reward", rl_json_num(sk[i].r / sk[i].n),
                                                    "accuracy", rl_json_num(sk[i].a / sk[i].n), "groups", (int)sk[i].n));
  json_object_set_new(m, "skills", per);
  json_object_set_new(m, "groups_kept", json_integer(n->kept));
  json_object_set_new(m, "groups_dropped", json_integer(n->n_cand - n->kept));
  json_object_set_new(m, "sampling_rounds", json_integer(n->rounds));
  json_object_set_new(m, "batch_full", json_boolean(n->kept == c->prompts));
  json_object_set_new(m, "response_len", rl_json_num(lsum[5] / nresp));
  json_object_set_new(m, "truncation_rate", rl_json_num(lsum[6] / nresp));
  json_object_set_new(m, "clip_frac", rl_json_num(n->tokens > 0 ? lsum[0] / n->tokens : 0));
  json_object_set_new(m, "kl", rl_json_num(n->tokens > 0 ? lsum[1] / n->tokens : 0));
  json_object_set_new(m, "entropy", rl_json_num(lsum[3] > 0 ? lsum[2] / lsum[3] : 0));
  json_object_set_new(m, "pg_loss", rl_json_num(lsum[4]));
  json_object_set_new(m, "grad_norm", rl_json_num(n->grad_norm));
  json_object_set_new(m, "lr", rl_json_num(n->lr));
  json_object_set_new(m, "skipped_nonfinite", json_boolean(n->nonfinite));
  double dt = skl_time_now() - t_start;
  json_object_set_new(m, "tokens_per_s", rl_json_num(lsum[5] / (dt > 0 ? dt : 1e-9)));
  json_object_set_new(m, "rollout_s", rl_json_num(n->rollout_s));
  json_object_set_new(m, "update_s", rl_json_num(n->update_s));
  *metrics_out = m;
  return SKL_OK;
}

/* One GRPO step: rollout until the batch is full, log-probs, update epochs, metrics. */
static skl_status train_step(trainer_t *t, json_t **metrics_out, skl_error *err) {
  step_counts n = {.lr = skl_lr_at(&t->s.opt.cfg, t->s.st.step)};
  double t_start = skl_time_now();
  skl_status st = step_rollout(t, &n, err);
  n.rollout_s = skl_time_now() - t_start;
  double t_up = skl_time_now();
  if (!st) st = step_layout(t, &n, err);
  if (!st) st = step_logprobs(t, &n, err);
  if (!st) st = step_update(t, &n, err);
  n.update_s = skl_time_now() - t_up;
  if (!st) st = step_metrics(t, &n, t_start, metrics_out, err);
  return st;
}

/* ---- set-up ---- */

static void step_bufs_free(step_bufs *b) {
  free(b->cand); free(b->cand_sum); free(b->seqs); free(b->resp); free(b->ids); free(b->rewards); free(b->adv);
  free(b->fill); free(b->seq_start); free(b->seq_adv); free(b->logp_old); free(b->logp_ref); free(b->logp_new);
  free(b->entropy); free(b->grad); free(b->mask);
  memset(b, 0, sizeof *b);
}

/* The step's buffers for c's batch (sizes in step_bufs), logp_ref with a
 * reference model. */
static skl_status step_bufs_init(step_bufs *b, const rl_train_cfg *c, bool ref, skl_error *err) {
  memset(b, 0, sizeof *b);
  size_t P = (size_t)c->prompts, G = (size_t)c->group, R = (size_t)c->max_response;
  size_t max_cand = P * (1 + (size_t)c->max_sampling_rounds), nseq = P * G, N = nseq * R;
  if (N / R / G != P || N > (size_t)INT32_MAX)
    return skl_error_set(err, SKL_ERR_RANGE, "batch.prompts %zu * batch.group %zu * rollout.max_response %zu tokens "
                         "do not fit one step's buffers; lower one of them", P, G, R);
  b->cand = malloc(sizeof *b->cand * max_cand);
  b->cand_sum = calloc(max_cand * CAND_N, sizeof *b->cand_sum);
  b->seqs = calloc((P + 1) * G, sizeof *b->seqs);
  b->resp = malloc(sizeof *b->resp * (P + 1) * G * R);
  b->ids = malloc(sizeof *b->ids * R);
  b->rewards = malloc(sizeof *b->rewards * G);
  b->adv = malloc(sizeof *b->adv * G);
  b->fill = malloc(sizeof *b->fill * (size_t)c->micro);
  b->seq_start = malloc(sizeof *b->seq_start * (nseq + 1));
  b->seq_adv = malloc(sizeof *b->seq_adv * nseq);
  b->logp_old = calloc(N, sizeof *b->logp_old);
  b->logp_ref = ref ? calloc(N, sizeof *b->logp_ref) : NULL;
  b->logp_new = calloc(N, sizeof *b->logp_new);
  b->entropy = calloc(N, sizeof *b->entropy);
  b->grad = calloc(N, sizeof *b->grad);
  b->mask = calloc(N, sizeof *b->mask);
  if (!b->cand || !b->cand_sum || !b->seqs || !b->resp || !b->ids || !b->rewards || !b->adv || !b->fill ||
      !b->seq_start || !b->seq_adv || !b->logp_old || (ref && !b->logp_ref) || !b->logp_new || !b->entropy ||
      !b->grad || !b->mask) {
    step_bufs_free(b);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory for one step's buffers (%zu response tokens)", N);
  }
  return SKL_OK;
}

skl_status rl_train_run(const rl_session_opts *opts, skl_error *err) {
  rl_session_opts o = *opts;
  o.phase = "grpo";
  const rl_train_cfg *c = o.cfg;
  trainer_t t;
  memset(&t, 0, sizeof t);
  t.c = c;
  skl_adamw_config ac = {.lr = c->lr, .beta1 = c->beta1, .beta2 = c->beta2, .eps = c->eps,
                         .weight_decay = c->weight_decay, .grad_clip = c->grad_clip, .warmup_steps = c->warmup_steps,
                         .total_steps = c->schedule == 1 ? c->steps : 0, .min_lr_ratio = c->min_lr_ratio};
  skl_status st = SKL_OK;
  if (c->group > 4096) st = skl_error_set(err, SKL_ERR_RANGE, "batch.group %d is above 4096", c->group);
  /* -1: prompts that cannot fit the window with the response budget are
   * refused while loading (a huge record before it is tokenized) */
  if (!st) st = rl_session_init(&t.s, &o, &ac, -1, err);
  rl_session *s = &t.s;
  if (!st && c->prompts % s->dist.size)
    st = skl_error_set(err, SKL_ERR_INVALID, "batch.prompts %d does not divide across %d ranks (groups stay whole "
                       "on one rank); use a multiple of %d", c->prompts, s->dist.size, s->dist.size);
  int max_prompt = 0;
  for (int i = 0; !st && i < s->data.n; i++)
    if (s->data.items[i].n_prompt > max_prompt) max_prompt = s->data.items[i].n_prompt;
  if (!st && max_prompt + c->max_response > s->model.cfg.max_position)
    st = skl_error_set(err, SKL_ERR_RANGE, "the longest prompt (%d tokens) plus rollout.max_response (%d) exceeds "
                       "the model's window of %d; lower rollout.max_response or use shorter data", max_prompt,
                       c->max_response, s->model.cfg.max_position);
  if (!st) st = skl_decoder_init(&t.dec, &s->model, c->group, c->max_response + 1, 1, max_prompt, err);
  if (!st && c->spec_heads > 0) { /* speculative rollouts: heads from the starting model's folder */
    st = skl_spec_load_heads(&t.heads, c->model, &s->model.cfg, c->spec_heads, err);
    if (!st) st = skl_spec_init(&t.spec, t.dec, &t.heads, c->spec_heads, err);
    if (st) skl_error_prefix(err, "rollout.speculative.heads = %d", c->spec_heads);
  }
  t.T = max_prompt + c->max_response;
  t.rows = c->micro;
  t.group_step = c->shared_prefix;
  if (!st && t.group_step) {
    /* one prompt (minus its last token) and G responses per step */
    int P = max_prompt > 0 ? max_prompt - 1 : 0, R = c->max_response;
    st = skl_group_acts_init(&t.gacts, &s->model.cfg, P, c->group, R, P + (int64_t)c->group * R >= 2048, err);
    if (!st) {
      size_t n = (size_t)c->group * R;
      t.g_tok = malloc(sizeof *t.g_tok * n);
      t.g_tgt = malloc(sizeof *t.g_tgt * n);
      t.g_w = malloc(sizeof *t.g_w * n);
      t.g_len = malloc(sizeof *t.g_len * (size_t)c->group);
      if (!t.g_tok || !t.g_tgt || !t.g_w || !t.g_len) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    }
  } else if (!st) {
    st = skl_acts_init(&t.acts, &s->model.cfg, t.rows, t.T, t.T >= 2048, err);
  }
  if (!st) st = rl_packed_init(&t.pk, t.rows, t.T, 512, err);
  if (!st) {
    t.w = malloc(sizeof *t.w * (size_t)t.rows * t.T);
    t.mask = malloc(sizeof *t.mask * (size_t)t.rows * t.T);
    if (!t.w || !t.mask) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  if (!st && c->kl_coef > 0) {
    st = skl_ckpt_load_model(&t.ref, c->model, true, err);
    t.has_ref = !st;
  }
  if (!st) st = step_bufs_init(&t.b, c, t.has_ref, err);
  rl_reward_opts_default(&t.ropt);
  t.ropt.format_reward = (float)c->format_reward;
  t.ropt.overlong_penalty = c->overlong_penalty;
  t.ropt.max_response = c->max_response;
  t.ropt.overlong_cache = c->overlong_cache;
  t.ropt.mask_truncated = c->mask_truncated;
  if (!st && (c->judge_command || c->judge_plugin)) {
    skl_judge_opts jo = {.kind = c->judge_plugin ? SKL_JUDGE_PLUGIN : SKL_JUDGE_COMMAND,
                        .target = c->judge_plugin ? c->judge_plugin : c->judge_command,
                        .timeout_s = c->judge_timeout, .retries = c->judge_retries};
    st = skl_judge_open(&t.judge, &jo, err);
  }
  bool done = s->st.step >= c->steps;
  while (!st && !done) {
    json_t *m = NULL;
    st = train_step(&t, &m, err);
    if (!st) st = rl_session_end_step(s, m, c->steps, &done, err);
    json_decref(m);
  }
  if (!st && s->st.step >= c->steps) st = rl_session_save_final(s, err);
  step_bufs_free(&t.b);
  skl_judge_close(t.judge);
  skl_buf_free(&t.text);
  free(t.w);
  free(t.mask);
  rl_packed_free(&t.pk);
  skl_acts_free(&t.acts);
  skl_group_acts_free(&t.gacts);
  free(t.g_tok);
  free(t.g_tgt);
  free(t.g_w);
  free(t.g_len);
  skl_spec_free(t.spec);
  skl_mtp_free(&t.heads);
  skl_decoder_free(t.dec);
  if (t.has_ref) skl_model_free(&t.ref);
  rl_session_free(s);
  return st;
}
