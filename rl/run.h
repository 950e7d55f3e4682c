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
                       * induction and lookup stages (-1: still in one) */
  int64_t lookup_step; /* pretrain: the step its lookup stage began at (-1: not begun) */
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
 * RUN/ckpt into path[cap]. With verify, a checkpoint whose files differ from
 * its checksums.json (rl_ckpt_verify) or whose trainer_state.json is
 * unreadable is skipped for the previous one, and the reason for the newest
 * skipped goes to skipped[skipped_cap] (may be NULL; "" when none).
 * @return SKL_OK or SKL_ERR_NOTFOUND (saying what was skipped). */
skl_status rl_ckpt_find(const char *run_dir, const char *phase, bool verify, char *path, size_t cap, char *skipped,
                        size_t skipped_cap, skl_error *err);
/* rl_ckpt_find with verify, not reporting what it skipped. */
skl_status rl_ckpt_latest(const char *run_dir, const char *phase, char *path, size_t cap, skl_error *err);

/* Check DIR's files against DIR/checksums.json (sha256 of config.json,
 * model.safetensors, tokenizer.json, optimizer.safetensors and
 * trainer_state.json, written by rl_ckpt_save after them). A checkpoint
 * without checksums.json (an older skillrl's) passes.
 * @return SKL_OK or SKL_ERR_INVALID / NOTFOUND naming the damaged file. */
skl_status rl_ckpt_verify(const char *ckpt_dir, skl_error *err);

/* Claim RUN for this process before it writes anything there (every
 * training phase calls it through rl_session_init, rank 0 only):
 * - without resume, a folder that already holds a checkpoint (RUN/ckpt/step-*)
 *   or a final model (RUN/final) is refused, naming the folder and the fix
 *   (--resume, --overwrite, another out), unless overwrite: then ckpt/ and
 *   final/ are removed once the lock is held;
 * - RUN is created and RUN/.lock is locked (flock, exclusive, not waiting;
 *   it holds the owner's pid), so a second process writing the same folder
 *   is refused instead of interleaving checkpoints and metrics. The lock
 *   ends with rl_run_release or the process (even kill -9).
 * *lock_fd gets the lock's descriptor (-1 on error).
 * @return SKL_OK, SKL_ERR_STATE (finished run, or folder in use) or an I/O error. */
skl_status rl_run_claim(const char *run_dir, bool resume, bool overwrite, int *lock_fd, skl_error *err);
/* Release a claim (accepts -1). */
void rl_run_release(int lock_fd);

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
