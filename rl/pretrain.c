/* rl pretrain: the next-token loop over a generated stream — rows for this
 * rank, forward/backward, all-reduce, AdamW, per-label metrics.
 * Not the stream (synth/pt_stream.c) and not the session plumbing. */
#include "rl/pretrain.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"

rl_pt_stage rl_pt_stage_of(const rl_run_state *st) {
  return st->stage_step >= 0 ? RL_PT_MIXTURE : st->lookup_step >= 0 ? RL_PT_LOOKUP : RL_PT_INDUCTION;
}

int rl_pt_seq_at(const rl_train_cfg *c, int64_t step, rl_pt_stage stage, int64_t stage_step) {
  int lo = c->pt_seq_start < c->pt_seq ? c->pt_seq_start : c->pt_seq, hi = c->pt_seq;
  if (stage == RL_PT_INDUCTION) return c->pt_induction_seq;
  if (stage == RL_PT_LOOKUP) return c->pt_lookup_seq;
  step -= stage_step;
  double span = c->pt_curriculum * (double)(c->pt_steps - stage_step);
  double f = span >= 1 ? (double)step / span : 1.0;
  if (f > 1) f = 1;
  int T = lo + (int)((double)(hi - lo) * f * f);
  T -= T % 32;
  if (T < lo) T = lo;
  if (T > hi) T = hi;
  return T;
}

double rl_pt_lr_at(const skl_adamw_config *ac, int64_t step, int64_t stage_step) {
  skl_adamw_config a = *ac;
  if (stage_step < 0) { /* warm-up, then the peak until the phase change */
    a.total_steps = 0;
    return skl_lr_at(&a, step);
  }
  /* the cosine runs over the steps left after the stage (warm-up kept if the
   * stage ended inside it) */
  int64_t w = a.warmup_steps > stage_step ? a.warmup_steps - stage_step : 0;
  if (w > 0 && step < a.warmup_steps) return skl_lr_at(ac, step);
  a.warmup_steps = w;
  a.total_steps = ac->total_steps - stage_step;
  return skl_lr_at(&a, step - stage_step);
}

bool rl_pt_stage_ends(const rl_train_cfg *c, int64_t step, double acc) {
  if (step + 1 >= c->pt_induction_steps) return true;
  return c->pt_induction_until > 0 && acc == acc && acc >= c->pt_induction_until;
}

bool rl_pt_lookup_ends(const rl_train_cfg *c, int64_t from, int64_t step, double acc) {
  if (step + 1 - from >= c->pt_lookup_steps) return true;
  return c->pt_lookup_until > 0 && acc == acc && acc >= c->pt_lookup_until;
}

int rl_pt_rows_at(const rl_train_cfg *c, int T, int ranks) {
  int rows = c->pt_tokens / T;
  rows -= rows % ranks;
  return rows < ranks ? ranks : rows;
}

#define MAX_LABELS 16

typedef struct {
  int T_cap, rows_cap;        /* per rank */
  int32_t *tok, *tgt;         /* [rows_cap * T_cap] */
  float *mask;                /* [rows_cap * T_cap] loss weights */
  uint8_t *probe;             /* [rows_cap * T_cap] */
  int *label;                 /* [rows_cap] */
  skl_status *row_st;         /* [rows_cap] */
  skl_error *row_err;         /* [rows_cap] */
} pt_bufs;

static void bufs_free(pt_bufs *b) {
  free(b->tok); free(b->tgt); free(b->mask); free(b->probe); free(b->label); free(b->row_st); free(b->row_err);
  memset(b, 0, sizeof *b);
}

static skl_status check_cfg(const rl_train_cfg *c, const rl_pt_source *src, const skl_model *m, skl_error *err) {
  if (c->pt_seq > m->cfg.max_position)
    return skl_error_set(err, SKL_ERR_RANGE, "pretrain.seq is %d but the model's window (max_position_embeddings) is "
                         "%d; lower pretrain.seq", c->pt_seq, m->cfg.max_position);
  if (c->pt_seq_start > c->pt_seq)
    return skl_error_set(err, SKL_ERR_RANGE, "pretrain.seq_start %d is above pretrain.seq %d; the curriculum grows "
                         "from seq_start to seq", c->pt_seq_start, c->pt_seq);
  if (c->pt_induction_steps > 0 && c->pt_induction_seq > m->cfg.max_position)
    return skl_error_set(err, SKL_ERR_RANGE, "pretrain.induction_seq %d is above the model's window %d",
                         c->pt_induction_seq, m->cfg.max_position);
  if (c->pt_lookup_steps > 0 && (c->pt_lookup_seq < src->lookup_min_len || c->pt_lookup_seq > m->cfg.max_position))
    return skl_error_set(err, SKL_ERR_RANGE, "pretrain.lookup_seq %d must be between the %d tokens a recall row needs "
                         "and the model's window %d", c->pt_lookup_seq, src->lookup_min_len, m->cfg.max_position);
  if (c->pt_seq_start < src->min_len)
    return skl_error_set(err, SKL_ERR_RANGE, "pretrain.seq_start %d is below the %d tokens a row of this mixture "
                         "needs; raise pretrain.seq_start", c->pt_seq_start, src->min_len);
  if (src->n_labels > MAX_LABELS)
    return skl_error_set(err, SKL_ERR_INTERNAL, "pretrain: the source has %d labels (at most %d)", src->n_labels,
                         MAX_LABELS);
  return SKL_OK;
}

skl_status rl_pretrain_run(const rl_session_opts *opts, const rl_pt_source *src, skl_error *err) {
  rl_session_opts o = *opts;
  o.phase = "pretrain";
  const rl_train_cfg *c = o.cfg;
  skl_adamw_config ac = {.lr = c->pt_lr, .beta1 = c->beta1, .beta2 = c->beta2, .eps = c->eps,
                         .weight_decay = c->weight_decay, .grad_clip = c->grad_clip,
                         .warmup_steps = c->pt_warmup, .total_steps = c->pt_steps, .min_lr_ratio = c->min_lr_ratio};
  rl_session s;
  skl_status st = rl_session_init(&s, &o, &ac, 0, err);
  skl_acts acts = {0};
  pt_bufs b = {0};
  if (!st) st = check_cfg(c, src, &s.model, err);
  if (!st) {
    /* a step's rows on one rank: rows_at / ranks, so rows x T is at most
     * max(tokens / ranks, T), and the most rows come at the shortest length */
    bool first = c->pt_induction_steps > 0, look = c->pt_lookup_steps > 0;
    int Ti = c->pt_induction_seq, Tl = c->pt_lookup_seq;
    int T_max = first && Ti > c->pt_seq ? Ti : c->pt_seq;
    int T_min = first && Ti < c->pt_seq_start ? Ti : c->pt_seq_start;
    if (look && Tl > T_max) T_max = Tl;
    if (look && Tl < T_min) T_min = Tl;
    size_t per_rank = ((size_t)c->pt_tokens + (size_t)s.dist.size - 1) / (size_t)s.dist.size;
    size_t cap = per_rank > (size_t)T_max ? per_rank : (size_t)T_max;
    b.T_cap = T_max;
    b.rows_cap = (int)((cap + (size_t)T_max - 1) / (size_t)T_max);
    int max_rows = rl_pt_rows_at(c, T_min, s.dist.size) / s.dist.size;
    size_t N = (size_t)b.rows_cap * b.T_cap;
    b.tok = malloc(N * sizeof *b.tok);
    b.tgt = malloc(N * sizeof *b.tgt);
    b.probe = malloc(N);
    b.mask = malloc(N * sizeof *b.mask);
    b.label = malloc(sizeof *b.label * (size_t)max_rows);
    b.row_st = malloc(sizeof *b.row_st * (size_t)max_rows);
    b.row_err = malloc(sizeof *b.row_err * (size_t)max_rows);
    if (!b.tok || !b.tgt || !b.probe || !b.mask || !b.label || !b.row_st || !b.row_err)
      st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    if (!st) st = skl_acts_init(&acts, &s.model.cfg, b.rows_cap, b.T_cap, b.T_cap >= 2048, err);
  }
  int nlab = src->n_labels;
  /* a fresh run starts in the induction-first stage when it has one; a resumed
   * one continues in the stage its checkpoint recorded */
  if (!st && !o.resume) {
    s.st.lookup_step = c->pt_induction_steps > 0 || c->pt_lookup_steps <= 0 ? -1 : 0;
    s.st.stage_step = c->pt_induction_steps > 0 || c->pt_lookup_steps > 0 ? -1 : 0;
  }
  bool done = st || s.st.step >= c->pt_steps;
  while (!st && !done) {
    double t_step = skl_time_now();
    int64_t step = s.st.step;
    rl_pt_stage stage = rl_pt_stage_of(&s.st);
    int T = rl_pt_seq_at(c, step, stage, s.st.stage_step), rows = rl_pt_rows_at(c, T, s.dist.size);
    int nb = rows / s.dist.size;
    /* this rank's rows: r, r + size, ... of the global batch */
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < nb; i++) {
      size_t at = (size_t)i * T;
      b.row_st[i] = src->row(src->ctx, omp_get_thread_num(), s.st.seed, step, (int64_t)s.dist.rank + (int64_t)i * s.dist.size,
                             T, stage, b.tok + at, b.tgt + at, b.probe + at, &b.label[i], &b.row_err[i]);
    }
    for (int i = 0; i < nb && !st; i++)
      if (b.row_st[i]) { st = b.row_st[i]; *err = b.row_err[i]; }
    if (st) break;
    double t_gen = skl_time_now() - t_step;
    double norm = 0; /* the loss is the weighted mean over supervised tokens */
    for (int i = 0; i < nb; i++) {
      bool heavy = b.label[i] >= 0 && b.label[i] < 32 && (src->lookup_labels >> b.label[i] & 1u) && c->pt_lookup_weight != 1;
      for (int t = 0; t < T; t++) {
        size_t k = (size_t)i * T + t;
        b.mask[k] = heavy && b.probe[k] ? (float)c->pt_lookup_weight : 1.0f;
        if (b.tgt[k] >= 0) norm += b.mask[k];
      }
    }
    if ((st = skl_dist_allreduce_f64(&s.dist, &norm, 1, err))) break;
    skl_model_zero_grad(&s.model);
    skl_step_stats ss = {0};
    skl_batch bt = {.B = nb, .T = T, .tokens = b.tok, .targets = b.tgt, .mask = b.mask, .loss_norm = norm > 0 ? norm : 1};
    if ((st = skl_model_step(&s.model, &acts, &bt, true, &ss, err))) break;
    /* per label: CE sum, supervised tokens, probe hits, probes; then loss, rows */
    double red[4 * MAX_LABELS + 2] = {0};
    for (int i = 0; i < nb; i++) {
      int l = b.label[i];
      double *r = red + 4 * (l >= 0 && l < nlab ? l : 0);
      for (int t = 0; t < T; t++) {
        size_t k = (size_t)i * T + t;
        if (b.tgt[k] < 0) continue;
        r[0] -= acts.logp[k];
        r[1] += 1;
        if (b.probe[k]) { r[2] += acts.top1[k]; r[3] += 1; }
      }
    }
    red[4 * nlab] = ss.loss; /* already the mean over the step's supervised tokens (loss_norm) */
    red[4 * nlab + 1] = nb;
    if ((st = skl_dist_allreduce_f32(&s.dist, s.model.grad_mem, s.model.n_params, err))) break;
    if ((st = skl_dist_allreduce_f64(&s.dist, red, 4 * nlab + 2, err))) break;
    double lr = rl_pt_lr_at(&ac, s.st.step, s.st.stage_step), gnorm = 0;
    bool skipped = false;
    if ((st = rl_session_update(&s, lr, "pretrain.lr", &gnorm, &skipped, err))) break;
    s.st.samples_seen += rows;
    /* a stage ends on this step's accuracy of its skill: no state but the step */
    if (stage == RL_PT_INDUCTION) {
      const double *ri = red + 4 * src->induction_label;
      if (rl_pt_stage_ends(c, step, ri[3] > 0 ? ri[2] / ri[3] : NAN)) {
        if (c->pt_lookup_steps > 0) s.st.lookup_step = step + 1;
        else s.st.stage_step = step + 1;
      }
    } else if (stage == RL_PT_LOOKUP) {
      const double *rr = red + 4 * src->lookup_label;
      if (rl_pt_lookup_ends(c, s.st.lookup_step, step, rr[3] > 0 ? rr[2] / rr[3] : NAN)) s.st.stage_step = step + 1;
    }
    double dt = skl_time_now() - t_step;
    json_t *m = json_pack("{s:s, s:I, s:s, s:i, s:i, s:o}", "phase", "pretrain", "step", (json_int_t)step + 1,
                          "stage", stage == RL_PT_INDUCTION ? "induction" : stage == RL_PT_LOOKUP ? "lookup" : "mixture", "seq", T, "rows", rows, "loss",
                          rl_json_num(red[4 * nlab]));
    if (!m) { st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
    for (int l = 0; l < nlab; l++) {
      char key[64];
      const double *r = red + 4 * l;
      snprintf(key, sizeof key, "loss_%s", src->label_name(l));
      json_object_set_new(m, key, r[1] > 0 ? rl_json_num(r[0] / r[1]) : json_null());
      snprintf(key, sizeof key, "acc_%s", src->label_name(l));
      json_object_set_new(m, key, r[3] > 0 ? rl_json_num(r[2] / r[3]) : json_null());
    }
    json_object_set_new(m, "lr", rl_json_num(lr));
    json_object_set_new(m, "grad_norm", rl_json_num(gnorm));
    json_object_set_new(m, "tokens", json_integer((json_int_t)rows * T));
    json_object_set_new(m, "skipped_nonfinite", json_boolean(skipped));
    json_object_set_new(m, "tokens_per_s", rl_json_num((double)rows * T / (dt > 0 ? dt : 1e-9)));
    json_object_set_new(m, "gen_s", rl_json_num(t_gen));
    json_object_set_new(m, "step_s", rl_json_num(dt));
    st = rl_session_end_step(&s, m, c->pt_steps, &done, err);
    json_decref(m);
  }
  if (!st && s.st.step >= c->pt_steps) st = rl_session_save_final(&s, err);
  bufs_free(&b);
  skl_acts_free(&acts);
  rl_session_free(&s);
  return st;
}
