/* rl session: set-up, data cursor, step boundaries and checkpoints shared
 * by SFT and GRPO. Not the maths of either. */
#include "rl/session.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "model/checkpoint.h"
#include "sys/sys.h"

skl_status rl_session_init(rl_session *s, const rl_session_opts *o, const skl_adamw_config *adam, int max_prompt,
                           skl_error *err) {
  memset(s, 0, sizeof *s);
  s->run_lock = -1;
  s->o = *o;
  s->t0 = skl_time_now();
  const rl_train_cfg *c = o->cfg;
  skl_status st = skl_dist_init(&s->dist, c->dist_timeout, err);
  if (st) return st;
  bool pretrain = !strcmp(o->phase, "pretrain"); /* a generated stream, no dataset */
  if (!c->model || (!c->data && !pretrain))
    return skl_error_set(err, SKL_ERR_INVALID, "config: '%s' is required (the %s)", !c->model ? "model" : "data",
                         !c->model ? "model directory to start from" : "dataset directory written by skillrl synth");
  if (!c->out || !*c->out) return skl_error_set(err, SKL_ERR_INVALID, "config: 'out' (run directory) is required");
  s->run_dir = rl_run_dir(c, o->phase);
  if (!s->run_dir) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  /* one writer per run folder, and no silent restart over a finished run */
  if (s->dist.rank == 0 && (st = rl_run_claim(s->run_dir, o->resume, o->overwrite, &s->run_lock, err))) return st;
  /* where the weights come from */
  char from[4096];
  snprintf(from, sizeof from, "%s", c->model);
  if (o->resume) {
    char skipped[1024];
    st = rl_ckpt_find(s->run_dir, o->phase, true, from, sizeof from, skipped, sizeof skipped, err);
    if (st) return skl_error_prefix(err, "--resume");
    if (skipped[0] && o->on_note && s->dist.rank == 0) {
      char note[6000];
      snprintf(note, sizeof note, "--resume: skipped a damaged checkpoint (%s); resuming from %s", skipped, from);
      o->on_note(note, o->user);
    }
    if ((st = rl_state_read(from, &s->st, err))) return st;
    if (s->st.seed != (uint64_t)c->seed)
      return skl_error_set(err, SKL_ERR_INVALID, "--resume: %s was made with seed %llu but the config says %lld; "
                           "resume with the run's own config (%s/config.yaml)", from,
                           (unsigned long long)s->st.seed, (long long)c->seed, s->run_dir);
  } else {
    snprintf(s->st.phase, sizeof s->st.phase, "%s", o->phase);
    s->st.seed = (uint64_t)c->seed;
  }
  /* no unexpected tensors: checkpoints hold only the model's, so an extra
   * tensor would be dropped from everything this run writes (issue 18) */
  if ((st = skl_ckpt_load_model(&s->model, from, false, err)))
    return skl_error_prefix(err, "%s model %s", o->resume ? "checkpoint" : "starting", from);
  if ((st = skl_model_grads_alloc(&s->model, err))) return st;
  /* the tokenizer travels with the starting model (checkpoints copy it) */
  s->tokenizer_path = skl_path_join(c->model, "tokenizer.json");
  if (!s->tokenizer_path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if ((st = skl_tokenizer_load(s->tokenizer_path, &s->tok, err)))
    return skl_error_prefix(err, "model %s needs a tokenizer.json", c->model);
  if (!pretrain) {
    if (max_prompt < 0) /* checked before tokenizing a prompt too long by its bytes alone */
      max_prompt = s->model.cfg.max_position - c->max_response > 0 ? s->model.cfg.max_position - c->max_response : 0;
    rl_data_opts dopt = {.dir = c->data, .split = "train", .skills = c->skills,
                         .format = (skl_chat_format)c->chat_format, .max_prompt = max_prompt, .check_tokenizer = 1,
                         .quote_evidence = c->sft_target == 1};
    if ((st = rl_dataset_load(&dopt, s->tok, &s->data, err))) return st;
    if (s->st.cursor > s->data.n)
      return skl_error_set(err, SKL_ERR_RANGE,
                           "--resume: %s stopped at item %lld of an epoch, but the dataset has %d items; resume "
                           "with the run's own data (%s/config.yaml)",
                           from, (long long)s->st.cursor, s->data.n, s->run_dir);
    s->order = malloc(sizeof *s->order * (size_t)s->data.n);
    if (!s->order) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    rl_epoch_order(s->st.seed, (int)s->st.epoch, s->data.n, s->order);
  }
  if ((st = skl_adamw_init(&s->opt, &s->model, adam, err))) return st;
  s->opt_ready = true;
  if (o->resume && (st = skl_ckpt_load_optim(&s->opt, &s->model, from, err))) return st;
  if (s->dist.rank == 0) {
    if ((st = skl_fs_mkdirs(s->run_dir, err))) return st;
    if ((st = skl_cfg_write_resolved(rl_train_schema(), c, s->run_dir, err))) return st;
    /* a resumed run keeps this phase's lines up to its checkpoint; a fresh one
     * replaces the phase's lines of an earlier run in this folder (e.g. one
     * killed before its first checkpoint), so steps are never listed twice */
    if ((st = rl_metrics_open(s->run_dir, o->phase, o->resume ? s->st.step : 0, &s->metrics, err))) return st;
  }
  return SKL_OK;
}

void rl_session_free(rl_session *s) {
  if (!s) return;
  if (s->metrics) fclose(s->metrics);
  if (s->run_dir) rl_run_release(s->run_lock); /* run_lock is valid (maybe -1) once run_dir is set */
  free(s->order);
  rl_dataset_free(&s->data);
  skl_tokenizer_free(s->tok);
  free(s->tokenizer_path);
  free(s->run_dir);
  if (s->opt_ready) skl_adamw_free(&s->opt);
  skl_model_free(&s->model);
  skl_dist_finalize(&s->dist);
  memset(s, 0, sizeof *s);
}

int rl_session_peek(rl_session *s, int k) {
  int64_t cur = s->st.cursor + k;
  int64_t ep = s->st.epoch + cur / s->data.n;
  cur %= s->data.n;
  if (ep == s->st.epoch) return s->order[cur];
  int *tmp = malloc(sizeof *tmp * (size_t)s->data.n);
  if (!tmp) return s->order[cur];
  rl_epoch_order(s->st.seed, (int)ep, s->data.n, tmp);
  int v = tmp[cur];
  free(tmp);
  return v;
}

void rl_session_take(rl_session *s, int n, int *out) {
  for (int i = 0; i < n; i++) {
    if (s->st.cursor >= s->data.n) {
      s->st.epoch++;
      s->st.cursor = 0;
      rl_epoch_order(s->st.seed, (int)s->st.epoch, s->data.n, s->order);
    }
    out[i] = s->order[s->st.cursor++];
  }
}

skl_status rl_session_end_step(rl_session *s, json_t *metrics, int64_t total, bool *done, skl_error *err) {
  const rl_train_cfg *c = s->o.cfg;
  s->st.step++;
  double t = skl_time_now() - s->t0;
  json_object_set_new(metrics, "elapsed_s", json_real(t));
  char *line = json_dumps(metrics, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (!line) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (s->metrics) {
    fprintf(s->metrics, "%s\n", line);
    fflush(s->metrics);
  }
  bool stop = (s->o.stop && *s->o.stop) || (s->o.stop_after > 0 && s->st.step >= s->o.stop_after);
  *done = stop || s->st.step >= total;
  if (s->o.last_step) *s->o.last_step = s->st.step;
  if (s->o.stopped_early) *s->o.stopped_early = stop && s->st.step < total;
  if (s->o.on_progress && s->dist.rank == 0) {
    rl_progress p = {.phase = s->o.phase, .step = s->st.step, .total = total, .seconds = t,
                     .eta_s = s->st.step ? t / s->st.step * (double)(total - s->st.step) : 0, .line = line};
    s->o.on_progress(&p, s->o.user);
  }
  free(line);
  bool due = *done || (c->ckpt_every > 0 && s->st.step % c->ckpt_every == 0);
  if (due && s->dist.rank == 0)
    return rl_ckpt_save(s->run_dir, &s->model, &s->opt, &s->st, s->tokenizer_path, c->save_bf16, c->ckpt_keep, err);
  return SKL_OK;
}

skl_status rl_session_update(rl_session *s, double lr, const char *lr_key, double *gnorm, bool *skipped,
                             skl_error *err) {
  skl_error e2;
  skl_status us = skl_adamw_step(&s->opt, &s->model, lr, gnorm, &e2);
  *skipped = us == SKL_ERR_NUMERIC;
  if (us == SKL_ERR_NUMERIC) {
    s->st.bad_streak++;
    s->st.bad_total++;
    if (s->st.bad_streak >= s->o.cfg->max_bad_steps)
      return skl_error_set(err, SKL_ERR_NUMERIC, "%s step %lld: %lld non-finite steps in a row: stopping. Lower %s, "
                           "check the data, or resume from the last checkpoint", s->o.phase,
                           (long long)s->st.step + 1, (long long)s->st.bad_streak, lr_key);
    return SKL_OK;
  }
  if (us) {
    *err = e2;
    return us;
  }
  s->st.bad_streak = 0;
  return SKL_OK;
}

json_t *rl_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

skl_status rl_session_save_final(rl_session *s, skl_error *err) {
  if (s->dist.rank != 0) return SKL_OK;
  char *dir = skl_path_join(s->run_dir, "final");
  if (!dir) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  skl_status st = skl_ckpt_save_model(&s->model, dir, s->o.cfg->save_bf16 ? SKL_DTYPE_BF16 : SKL_DTYPE_F32,
                                      s->tokenizer_path, err);
  free(dir);
  if (!st && s->metrics) {
    fflush(s->metrics);
    skl_error pe; /* the PNG is a convenience: a machine without gnuplot still finishes the run */
    rl_plot_curves(s->run_dir, s->o.phase, &pe);
  }
  return st;
}
