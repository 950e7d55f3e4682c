/* rl run: a training run's folder — resolved config, metrics.jsonl, and
 * checkpoints RUN/ckpt/step-N/ (model dir + optimizer + trainer_state.json)
 * written whole or not at all, keep-last-K, found again by --resume.
 * Not the loops (rl/sft.h, rl/trainer.h). */
#ifndef RL_RUN_H
#define RL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "model/model.h"
#include "model/optim.h"

/* Everything besides weights and moments that a bit-exact resume needs.
 * All randomness is derived from (seed, step, ...), so no RNG state is kept. */
typedef struct {
  char phase[16];     /* "sft" or "grpo" */
  int64_t step;       /* completed optimizer steps */
  int64_t epoch;      /* data epoch of the cursor */
  int64_t cursor;     /* next index into the epoch's order */
  int64_t bad_streak; /* consecutive non-finite steps */
  int64_t bad_total;
  uint64_t seed;
  int64_t samples_seen;
  int64_t stage_step; /* pretrain: the step its mixture stage began at, after the
                       * induction-first stage (-1: still in that stage) */
} rl_run_state;

/* Save a checkpoint as RUN/ckpt/step-<step> (its phase is recorded in
 * trainer_state.json; SFT and RL use separate run folders): written into a temporary
 * folder, fsynced, then renamed, so a crash (even kill -9) mid-write leaves
 * either the previous checkpoints or the complete new one. Weights are fp32
 * unless bf16 (bf16 breaks bit-exact resume). Keeps the newest `keep`, and
 * removes temp folders of processes killed mid-save.
 * @return SKL_OK or the I/O error naming the file. */
skl_status rl_ckpt_save(const char *run_dir, const skl_model *m, const skl_adamw *o, const rl_run_state *st,
                        const char *tokenizer_json, bool bf16, int keep, skl_error *err);

/* Path of the newest complete checkpoint of phase `phase` (NULL: any) under
 * RUN/ckpt into path[cap]. @return SKL_OK or SKL_ERR_NOTFOUND. */
skl_status rl_ckpt_latest(const char *run_dir, const char *phase, char *path, size_t cap, skl_error *err);

/* Read / write DIR/trainer_state.json. */
skl_status rl_state_read(const char *ckpt_dir, rl_run_state *st, skl_error *err);
skl_status rl_state_write(const char *ckpt_dir, const rl_run_state *st, skl_error *err);

/* Open RUN/metrics.jsonl for appending. When resuming at `keep_upto` (>= 0),
 * lines with "step" > keep_upto of the same phase are dropped first (the run
 * recomputes them), atomically. @return SKL_OK or I/O error. */
skl_status rl_metrics_open(const char *run_dir, const char *phase, int64_t keep_upto, FILE **f, skl_error *err);

/* RUN/curves.png from RUN/metrics.jsonl: reward and accuracy per step
 * (grpo) or loss per step (sft), via gnuplot (sys/plot.h).
 * @return SKL_OK, SKL_ERR_UNSUPPORTED (no gnuplot), SKL_ERR_NOTFOUND (no
 *         metrics of that phase) or an I/O error */
skl_status rl_plot_curves(const char *run_dir, const char *phase, skl_error *err);

#endif
