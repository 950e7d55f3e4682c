/* rl session: what every training command sets up and tears down — the run
 * folder, the model (from the config's model dir or from the newest
 * checkpoint on --resume), tokenizer, dataset, optimizer, metrics file,
 * data-parallel context — and the step boundary work (checkpoint, stop).
 * Not a loop: rl/sft.c and rl/trainer.c drive steps. */
#ifndef RL_SESSION_H
#define RL_SESSION_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "dist/dist.h"
#include "model/model.h"
#include "model/optim.h"
#include "rl/config.h"
#include "rl/data.h"
#include "rl/run.h"
#include "tok/tokenizer.h"

/* One line of progress, handed to the caller (the CLI prints it). */
typedef struct {
  const char *phase;
  int64_t step, total;
  double seconds;     /* since the session started */
  double eta_s;       /* estimated seconds left */
  const char *line;   /* the step's metrics as one JSON object */
} rl_progress;

typedef struct {
  const rl_train_cfg *cfg;
  const char *phase;             /* "sft" or "grpo" */
  bool resume;                   /* continue from RUN/ckpt's newest checkpoint of this phase */
  bool overwrite;                /* without resume: replace a run already in RUN (rl_run_claim) */
  volatile sig_atomic_t *stop;   /* set asynchronously (SIGINT/SIGTERM): checkpoint and return */
  void (*on_progress)(const rl_progress *p, void *user);
  void *user;
  int64_t stop_after;            /* behave as if stopped after this many steps (0: off) */
  bool *stopped_early;           /* set (may be NULL) when the run ended before its last step */
  int64_t *last_step;            /* set (may be NULL) to the last completed step */
  void (*on_note)(const char *msg, void *user); /* a notice for the user (may be NULL), e.g. a damaged
                                                  checkpoint skipped on --resume */
} rl_session_opts;

typedef struct {
  rl_session_opts o;
  skl_dist dist;
  skl_model model;
  skl_adamw opt;
  bool opt_ready;
  skl_tokenizer *tok;
  char *tokenizer_path;    /* model dir's tokenizer.json (copied into checkpoints) */
  char *run_dir;           /* this phase's run folder (rl_run_dir) */
  rl_dataset data;
  rl_run_state st;
  FILE *metrics;
  int run_lock;            /* RUN/.lock held by rank 0 (rl_run_claim), else -1 */
  int *order;              /* [data.n] current epoch's order */
  double t0;
} rl_session;

/* Set up: dist, run folder + resolved config (rank 0), tokenizer, model
 * (checkpoint on resume), dataset (split "train"), optimizer with adamw from
 * the config's lr fields given here, metrics file. max_prompt: items whose
 * prompt is longer are refused (0: no limit; -1: the model's window minus
 * rollout.max_response, known once the model is loaded).
 * @return SKL_OK or the first error (session half-built: call rl_session_free). */
skl_status rl_session_init(rl_session *s, const rl_session_opts *o, const skl_adamw_config *adam, int max_prompt,
                           skl_error *err);
void rl_session_free(rl_session *s); /* zeroed ok */

/* Next n item indices in epoch order (advancing epochs as needed; the
 * order of epoch e is rl_epoch_order(seed, e)). */
void rl_session_take(rl_session *s, int n, int *out);
/* Peek index k ahead of the cursor without consuming. */
int rl_session_peek(rl_session *s, int k);

/* End-of-step work: write the metrics line (rank 0), report progress, and
 * checkpoint when due, at the last step, or when stop is set.
 * *done is set when the session should end (last step or stop).
 * @return SKL_OK or a checkpoint/IO error. */
skl_status rl_session_end_step(rl_session *s, json_t *metrics, int64_t total_steps, bool *done, skl_error *err);

/* AdamW on the session's model at lr. A non-finite gradient skips the update
 * (*skipped set) and counts towards cfg->max_bad_steps in a row, where the
 * run stops with an error naming the phase, the step and lr_key (the config
 * key to lower). @return SKL_OK, SKL_ERR_NUMERIC at the limit, or the
 * optimizer's error. */
skl_status rl_session_update(rl_session *s, double lr, const char *lr_key, double *gnorm, bool *skipped,
                             skl_error *err);

/* A metrics number: JSON null when not finite (JSON has no NaN). */
json_t *rl_json_num(double v);

/* Save the final model as RUN/final (rank 0). */
skl_status rl_session_save_final(rl_session *s, skl_error *err);

#endif
