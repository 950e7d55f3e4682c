/* rl trainer: one step = rollout rounds until the batch has enough groups
 * with signal, then update epochs over the kept groups.
 * Not the decoder or the engine: it drives them. */
#include "rl/trainer.h"

#include <math.h>
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

/* One sampled response of a group. */
typedef struct {
  int item;          /* dataset index */
  int32_t *resp;     /* [len] generated ids (stop id included) */
  int len;
  bool truncated;    /* hit the budget without a stop id */
  float reward, accuracy;
  bool masked;
  float adv;
  float *logp_old;   /* [len] */
  float *logp_ref;   /* [len] or NULL */
  float *logp_new;   /* [len] scratch */
  float *grad;       /* [len] dLoss/dlogp */
  float *entropy;    /* [len] */
} seq_t;

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
  skl_judge *judge;
  rl_reward_opts ropt;
  skl_buf text;
} trainer_t;

/* Sample G responses for dataset item `item` with a seed fixed by (run, step,
 * candidate index): independent of the rank that does it. */
static skl_status rollout_group(trainer_t *t, int item, uint64_t seed, seq_t *seqs, skl_error *err) {
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
  for (int g = 0; g < c->group && !st; g++) {
    seq_t *q = &seqs[g];
    memset(q, 0, sizeof *q);
    q->item = item;
    q->len = out.len[g];
    q->truncated = !out.stopped[g];
    q->resp = malloc(sizeof *q->resp * (size_t)(q->len > 0 ? q->len : 1));
    if (!q->resp) { st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
    memcpy(q->resp, out.tokens + (size_t)g * out.max_new, sizeof *q->resp * (size_t)q->len);
  }
  skl_gen_output_free(&out);
  return st;
}

static void seq_free(seq_t *q) {
  free(q->resp); free(q->logp_old); free(q->logp_ref); free(q->logp_new); free(q->grad); free(q->entropy);
  memset(q, 0, sizeof *q);
}

/* Rewards of one group (rule verifier, or the judge for string answers when configured). */
static skl_status score_group(trainer_t *t, seq_t *seqs, skl_error *err) {
  const rl_train_cfg *c = t->c;
  const rl_item *it = &t->s.data.items[seqs[0].item];
  for (int g = 0; g < c->group; g++) {
    seq_t *q = &seqs[g];
    skl_buf_clear(&t->text);
    int n = q->len;
    if (n > 0 && !q->truncated) n--; /* the stop token is not text */
    /* A padded embedding can sample ids the tokenizer lacks: they carry no text. */
    int32_t ids[n > 0 ? n : 1];
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
static int pack_micro(trainer_t *t, seq_t **seqs, int from, int to, skl_error *err, skl_status *st) {
  rl_pack_item items[512];
  int n = 0;
  int *fill = calloc((size_t)t->rows, sizeof *fill);
  if (!fill) { *st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); return 0; }
  for (int k = from; k < to && n < 512; k++) {
    const rl_item *it = &t->s.data.items[seqs[k]->item];
    int len = it->n_prompt + seqs[k]->len - 1;
    int row = -1;
    for (int b = 0; b < t->rows; b++)
      if (t->T - fill[b] >= len) { row = b; break; }
    if (row < 0) break;
    fill[row] += len;
    items[n++] = (rl_pack_item){it->prompt, it->n_prompt, seqs[k]->resp, seqs[k]->len};
  }
  free(fill);
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
static skl_status group_run(trainer_t *t, skl_model *m, seq_t **seqs, int k0, int k1, bool grad,
                            skl_error *err) {
  const rl_item *it = &t->s.data.items[seqs[k0]->item];
  int R = t->c->max_response;
  if (it->n_prompt < 1) return skl_error_set(err, SKL_ERR_INVALID, "sample %s has an empty prompt", it->id);
  for (int k = k0; k < k1; k++) {
    const seq_t *q = seqs[k];
    int g = k - k0;
    int32_t *tok = t->g_tok + (size_t)g * R, *tgt = t->g_tgt + (size_t)g * R;
    float *w = t->g_w + (size_t)g * R;
    t->g_len[g] = q->len;
    for (int j = 0; j < q->len; j++) {
      tok[j] = j == 0 ? it->prompt[it->n_prompt - 1] : q->resp[j - 1];
      tgt[j] = q->resp[j];
      if (grad) w[j] = -q->grad[j];
    }
  }
  skl_group_batch gb = {.P = it->n_prompt - 1, .prefix = it->prompt, .G = k1 - k0, .R = R, .len = t->g_len,
                        .tokens = t->g_tok, .targets = t->g_tgt, .weight = grad ? t->g_w : NULL, .loss_norm = 1,
                        .logit_scale = logit_scale(t)};
  skl_step_stats ss;
  return skl_group_step(m, &t->gacts, &gb, grad, &ss, err);
}

/* End of the run of sequences from k0 that share one prompt (at most G). */
static int group_end(const trainer_t *t, seq_t **seqs, int k0, int n) {
  int k1 = k0 + 1;
  while (k1 < n && k1 - k0 < t->c->group && seqs[k1]->item == seqs[k0]->item) k1++;
  return k1;
}

/* Forward over all local sequences: fills logp (and entropy) per response
 * token from model m. which: 0 logp_old(+entropy), 1 logp_ref, 2 logp_new. */
static skl_status forward_logp(trainer_t *t, skl_model *m, seq_t **seqs, int n, int which, skl_error *err) {
  for (int k0 = 0; k0 < n && t->group_step;) {
    int k1 = group_end(t, seqs, k0, n);
    skl_status st = group_run(t, m, seqs, k0, k1, false, err);
    if (st) return st;
    for (int k = k0; k < k1; k++) {
      seq_t *q = seqs[k];
      const float *lp = t->gacts.a.logp + t->gacts.row0[k - k0], *en = t->gacts.a.entropy + t->gacts.row0[k - k0];
      float *dst = which == 0 ? q->logp_old : which == 1 ? q->logp_ref : q->logp_new;
      for (int j = 0; j < q->len; j++) {
        dst[j] = lp[j];
        if (which == 0) q->entropy[j] = en[j];
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
      seq_t *q = seqs[k0 + k];
      const rl_item *it = &t->s.data.items[q->item];
      size_t base = (size_t)t->pk.row_of[k] * t->T + t->pk.col_of[k] + (size_t)it->n_prompt - 1;
      float *dst = which == 0 ? q->logp_old : which == 1 ? q->logp_ref : q->logp_new;
      for (int j = 0; j < q->len; j++) {
        dst[j] = t->acts.logp[base + j];
        if (which == 0) q->entropy[j] = t->acts.entropy[base + j];
      }
    }
    k0 += got;
  }
  return SKL_OK;
}

/* Forward+backward with per-token weights -grad (dLoss/dlogp = grad). */
static skl_status backward_weighted(trainer_t *t, seq_t **seqs, int n, skl_error *err) {
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
      seq_t *q = seqs[k0 + k];
      const rl_item *it = &t->s.data.items[q->item];
      if (t->pk.row_of[k] + 1 > used_rows) used_rows = t->pk.row_of[k] + 1;
      size_t base = (size_t)t->pk.row_of[k] * t->T + t->pk.col_of[k] + (size_t)it->n_prompt - 1;
      for (int j = 0; j < q->len; j++) {
        t->w[base + j] = -q->grad[j];
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

static skl_status alloc_seq_arrays(seq_t *q, bool ref, skl_error *err) {
  size_t n = (size_t)(q->len > 0 ? q->len : 1);
  q->logp_old = calloc(n, sizeof(float));
  q->logp_new = calloc(n, sizeof(float));
  q->grad = calloc(n, sizeof(float));
  q->entropy = calloc(n, sizeof(float));
  if (ref) q->logp_ref = calloc(n, sizeof(float));
  if (!q->logp_old || !q->logp_new || !q->grad || !q->entropy || (ref && !q->logp_ref))
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  return SKL_OK;
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

static skl_status train_step(trainer_t *t, json_t **metrics_out, skl_error *err) {
  const rl_train_cfg *c = t->c;
  rl_session *s = &t->s;
  int G = c->group, P = c->prompts, R = s->dist.size, rank = s->dist.rank;
  double t_start = skl_time_now();
  int max_cand = P * (1 + c->max_sampling_rounds);
  int *cand = malloc(sizeof *cand * (size_t)max_cand);
  int *kept_local = malloc(sizeof *kept_local * (size_t)max_cand);
  seq_t *seqs = calloc((size_t)max_cand * G, sizeof *seqs); /* only this rank's candidates are filled */
  double *glob = calloc((size_t)max_cand * 3, sizeof *glob); /* per candidate: signal, reward sum, accuracy sum */
  seq_t **local = malloc(sizeof *local * (size_t)max_cand * G);
  if (!cand || !kept_local || !seqs || !glob || !local) {
    free(cand); free(kept_local); free(seqs); free(glob); free(local);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  skl_status st = SKL_OK;
  int n_cand = 0, kept = 0, rounds = 0, n_local = 0;
  int64_t gen_tokens = 0;
  int n_trunc = 0;
  /* ---- rollouts: rounds until P groups with signal (or the bound) ---- */
  while (!st && kept < P && rounds <= c->max_sampling_rounds) {
    int need = P - kept;
    int first = n_cand;
    rl_session_take(s, need, cand + n_cand);
    n_cand += need;
    for (int k = first; k < n_cand && !st; k++) {
      if (k % R != rank) continue;
      uint64_t seed = skl_rng_derive((uint64_t)c->seed, 0x9270, (uint64_t)s->st.step, (uint64_t)k);
      if ((st = rollout_group(t, cand[k], seed, &seqs[(size_t)k * G], err))) break;
      if ((st = score_group(t, &seqs[(size_t)k * G], err))) break;
      float rw[4096];
      double rs = 0, as = 0;
      for (int g = 0; g < G; g++) {
        rw[g] = seqs[(size_t)k * G + g].reward;
        rs += rw[g];
        as += seqs[(size_t)k * G + g].accuracy;
        gen_tokens += seqs[(size_t)k * G + g].len;
        n_trunc += seqs[(size_t)k * G + g].truncated;
      }
      glob[3 * k] = rl_group_has_signal(rw, G) ? 1 : 0;
      glob[3 * k + 1] = rs;
      glob[3 * k + 2] = as;
    }
    if (st) break;
    /* everyone learns every candidate's signal (entries are disjoint: sums are copies) */
    if ((st = skl_dist_allreduce_f64(&s->dist, glob + 3 * first, (size_t)(n_cand - first) * 3, err))) break;
    for (int k = first; k < n_cand && kept < P; k++)
      if (!c->dynamic_sampling || glob[3 * k] > 0) {
        kept++;
        if (k % R == rank) kept_local[n_local++] = k;
      }
    rounds++;
    if (!c->dynamic_sampling) break;
  }
  double t_rollout = skl_time_now() - t_start;
  /* metrics over every generated group (what the policy does now) */
  double rsum = 0, asum = 0;
  for (int k = 0; k < n_cand; k++) { rsum += glob[3 * k + 1]; asum += glob[3 * k + 2]; }
  skill_acc sk[SKILL_MAX_COUNT];
  int nsk = 0;
  memset(sk, 0, sizeof sk);
  for (int k = 0; k < n_cand; k++)
    skill_add(sk, &nsk, s->data.items[cand[k]].skill, glob[3 * k + 1] / G, glob[3 * k + 2] / G);
  /* ---- update ---- */
  double t_up = skl_time_now();
  int nseq = 0;
  for (int i = 0; i < n_local && !st; i++) {
    seq_t *grp = &seqs[(size_t)kept_local[i] * G];
    float rw[4096], adv[4096];
    for (int g = 0; g < G; g++) rw[g] = grp[g].reward;
    rl_group_advantages(rw, G, c->std_norm, 1e-6f, adv);
    for (int g = 0; g < G && !st; g++) {
      grp[g].adv = adv[g];
      st = alloc_seq_arrays(&grp[g], t->has_ref, err);
      local[nseq++] = &grp[g];
    }
  }
  double counts[3] = {0, 0, 0}; /* counted tokens, live sequences, kept groups */
  for (int k = 0; k < nseq; k++) {
    int live = 0;
    if (!local[k]->masked) { counts[0] += local[k]->len; live = local[k]->len > 0; }
    counts[1] += live;
  }
  counts[2] = n_local;
  if (!st) st = skl_dist_allreduce_f64(&s->dist, counts, 3, err);
  rl_loss_stats ls = {0};
  double ent_sum = 0, ent_n = 0, kl_sum = 0;
  rl_loss_opts lo = {.clip_low = (float)c->clip_low, .clip_high = (float)c->clip_high,
                     .kl_coef = c->kl_in_reward ? 0.0f : (float)c->kl_coef, .kl_estimator = (rl_kl_estimator)c->kl_estimator,
                     .agg = (rl_agg_mode)c->agg};
  double gnorm = 0, lr = skl_lr_at(&s->opt.cfg, s->st.step);
  bool nonfinite = false;
  if (!st && nseq > 0) {
    st = forward_logp(t, &s->model, local, nseq, 0, err);
    if (!st && t->has_ref) st = forward_logp(t, &t->ref, local, nseq, 1, err);
    if (!st && t->has_ref && c->kl_in_reward) {
      /* KL as a reward penalty: recompute the advantages with it */
      for (int i = 0; i < n_local; i++) {
        seq_t *grp = &seqs[(size_t)kept_local[i] * G];
        float rw[4096], adv[4096];
        for (int g = 0; g < G; g++) {
          double kl = 0;
          for (int j = 0; j < grp[g].len; j++) kl += rl_kl_value((rl_kl_estimator)c->kl_estimator, grp[g].logp_old[j], grp[g].logp_ref[j]);
          rw[g] = grp[g].reward - (float)(c->kl_coef * kl);
        }
        rl_group_advantages(rw, G, c->std_norm, 1e-6f, adv);
        for (int g = 0; g < G; g++) grp[g].adv = adv[g];
      }
    }
    for (int k = 0; k < nseq; k++)
      for (int j = 0; j < local[k]->len; j++) { ent_sum += local[k]->entropy[j]; ent_n++; }
  }
  /* flatten for the loss */
  int ntok = 0;
  for (int k = 0; k < nseq; k++) ntok += local[k]->len;
  int *starts = malloc(sizeof *starts * (size_t)(nseq + 1));
  float *f_adv = malloc(sizeof *f_adv * (size_t)(nseq + 1));
  float *f_lp = malloc(sizeof *f_lp * (size_t)(ntok + 1)), *f_lpo = malloc(sizeof *f_lpo * (size_t)(ntok + 1));
  float *f_lpr = malloc(sizeof *f_lpr * (size_t)(ntok + 1)), *f_mask = malloc(sizeof *f_mask * (size_t)(ntok + 1));
  float *f_grad = malloc(sizeof *f_grad * (size_t)(ntok + 1));
  if (!st && (!starts || !f_adv || !f_lp || !f_lpo || !f_lpr || !f_mask || !f_grad))
    st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (int ep = 0; ep < c->update_epochs && !st; ep++) {
    skl_model_zero_grad(&s->model);
    if (nseq > 0) {
      if (ep > 0) st = forward_logp(t, &s->model, local, nseq, 2, err);
      int at = 0;
      for (int k = 0; k < nseq && !st; k++) {
        starts[k] = at;
        f_adv[k] = local[k]->adv;
        for (int j = 0; j < local[k]->len; j++, at++) {
          f_lpo[at] = local[k]->logp_old[j];
          f_lp[at] = ep > 0 ? local[k]->logp_new[j] : local[k]->logp_old[j]; /* epoch 1 is on-policy */
          f_lpr[at] = t->has_ref ? local[k]->logp_ref[j] : 0;
          f_mask[at] = local[k]->masked ? 0.0f : 1.0f;
        }
      }
      starts[nseq] = at;
      rl_loss_batch lb = {.n_seqs = nseq, .seq_start = starts, .adv = f_adv, .logp = f_lp, .logp_old = f_lpo,
                          .logp_ref = t->has_ref ? f_lpr : NULL, .mask = f_mask,
                          .global_tokens = counts[0], .global_seqs = counts[1]};
      bool bad_loss = false;
      if (!st) {
        skl_error le;
        skl_status ps = rl_policy_loss(&lo, &lb, f_grad, &ls, &le);
        if (ps == SKL_ERR_NUMERIC) bad_loss = true; /* skipped below, on every rank alike */
        else if (ps) { *err = le; st = ps; }
      }
      for (int k = 0; k < nseq && !st && !bad_loss; k++)
        for (int j = 0; j < local[k]->len; j++) local[k]->grad[j] = f_grad[starts[k] + j];
      if (!st && !bad_loss) st = backward_weighted(t, local, nseq, err);
      /* A non-finite loss poisons this rank's gradient: after the all-reduce
       * every rank sees a non-finite norm and skips the update together. */
      if (!st && bad_loss) s->model.grad_mem[0] = NAN;
      kl_sum = ls.kl * ls.n_tokens;
    }
    if (!st) st = skl_dist_allreduce_f32(&s->dist, s->model.grad_mem, s->model.n_params, err);
    if (st) break;
    skl_error e2;
    skl_status us = skl_adamw_step(&s->opt, &s->model, lr, &gnorm, &e2);
    if (us == SKL_ERR_NUMERIC) nonfinite = true;
    else if (us) { *err = e2; st = us; }
  }
  double t_update = skl_time_now() - t_up;
  /* loss-side metrics summed over ranks */
  double lsum[6] = {ls.clip_frac * ls.n_tokens, kl_sum, ent_sum, ent_n, ls.pg_loss, (double)gen_tokens};
  double tr[2] = {(double)n_trunc, 0};
  if (!st) st = skl_dist_allreduce_f64(&s->dist, lsum, 6, err);
  if (!st) st = skl_dist_allreduce_f64(&s->dist, tr, 1, err);
  if (!st) {
    if (nonfinite) {
      s->st.bad_streak++;
      s->st.bad_total++;
      if (s->st.bad_streak >= c->max_bad_steps)
        st = skl_error_set(err, SKL_ERR_NUMERIC, "step %lld: %lld non-finite gradients in a row: stopping; lower "
                           "optim.lr or resume from the last checkpoint", (long long)s->st.step + 1,
                           (long long)s->st.bad_streak);
    } else {
      s->st.bad_streak = 0;
    }
    s->st.samples_seen += (int64_t)counts[2] * G;
  }
  if (!st) {
    double nresp = (double)n_cand * G;
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
    json_object_set_new(m, "groups_kept", json_integer((json_int_t)counts[2]));
    json_object_set_new(m, "groups_dropped", json_integer(n_cand - (json_int_t)counts[2]));
    json_object_set_new(m, "sampling_rounds", json_integer(rounds));
    json_object_set_new(m, "batch_full", json_boolean((int)counts[2] == P));
    json_object_set_new(m, "response_len", rl_json_num(lsum[5] / nresp));
    json_object_set_new(m, "truncation_rate", rl_json_num(tr[0] / nresp));
    json_object_set_new(m, "clip_frac", rl_json_num(counts[0] > 0 ? lsum[0] / counts[0] : 0));
    json_object_set_new(m, "kl", rl_json_num(counts[0] > 0 ? lsum[1] / counts[0] : 0));
    json_object_set_new(m, "entropy", rl_json_num(lsum[3] > 0 ? lsum[2] / lsum[3] : 0));
    json_object_set_new(m, "pg_loss", rl_json_num(lsum[4]));
    json_object_set_new(m, "grad_norm", rl_json_num(gnorm));
    json_object_set_new(m, "lr", rl_json_num(lr));
    json_object_set_new(m, "skipped_nonfinite", json_boolean(nonfinite));
    double dt = skl_time_now() - t_start;
    json_object_set_new(m, "tokens_per_s", rl_json_num(lsum[5] / (dt > 0 ? dt : 1e-9)));
    json_object_set_new(m, "rollout_s", rl_json_num(t_rollout));
    json_object_set_new(m, "update_s", rl_json_num(t_update));
    *metrics_out = m;
  }
  free(starts); free(f_adv); free(f_lp); free(f_lpo); free(f_lpr); free(f_mask); free(f_grad);
  for (size_t k = 0; k < (size_t)max_cand * G; k++) seq_free(&seqs[k]);
  free(cand); free(kept_local); free(seqs); free(glob); free(local);
  return st;
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
