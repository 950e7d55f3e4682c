/* rl pretrain: next-token pretraining on a generated stream (a length
 * curriculum of rows from a token source), data parallel over ranks, with
 * rl/session's checkpoints, bit-exact resume, metrics and signals.
 * Not the stream: the CLI hands in a source (synth/pt_stream.h makes one), so
 * rl knows nothing of how the rows are written. */
#ifndef RL_PRETRAIN_H
#define RL_PRETRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "model/optim.h"
#include "rl/session.h"

/* The stages of a run: random-token induction until its phase change, then
 * (when pretrain.lookup_steps > 0) recall rows at a fixed length until the
 * lookup's phase change, then the mixture with the length curriculum. */
typedef enum { RL_PT_INDUCTION, RL_PT_LOOKUP, RL_PT_MIXTURE } rl_pt_stage;

/* Where rows come from. row() must be a pure function of (seed, step, row, T)
 * (resume and any rank or thread count give the same batch) and safe to call
 * from several threads at once with distinct `thread` ids (0 .. threads-1,
 * threads as omp_get_max_threads() at rl_pretrain_run's start). */
typedef struct {
  void *ctx;
  int n_labels;                         /* kinds of rows, for per-label metrics */
  const char *(*label_name)(int label); /* "recall", ... */
  int min_len;                          /* shortest row the source can fill */
  /* Fill tokens[T], targets[T] (< 0: no loss), probe[T] (1: counted in the
   * label's accuracy) and *label, a row of the stage's kind (induction:
   * random-token repeats; lookup: recall; mixture: any). @return SKL_OK or
   * an error naming the row. */
  skl_status (*row)(void *ctx, int thread, uint64_t seed, int64_t step, int64_t row, int T, rl_pt_stage stage,
                    int32_t *tokens, int32_t *targets, uint8_t *probe, int *label, skl_error *err);
  int induction_label;                  /* the label of the induction stage's rows (their accuracy ends it) */
  int lookup_label;                     /* the label whose accuracy ends the lookup stage */
  int lookup_min_len;                   /* shortest row of the lookup stage */
  unsigned lookup_labels;               /* bit l: label l's probes weigh pretrain.lookup_weight */
} rl_pt_source;

/* Row length of step `step` (0-based) in `stage`, the mixture having begun at
 * `stage_step`: pretrain.induction_seq in the induction stage,
 * pretrain.lookup_seq in the lookup stage, then pretrain.seq_start growing
 * quadratically to pretrain.seq over the pretrain.curriculum share of the
 * steps left, in multiples of 32 (pure). */
int rl_pt_seq_at(const rl_train_cfg *c, int64_t step, rl_pt_stage stage, int64_t stage_step);
/* The stage of a run state: the mixture once stage_step >= 0, the lookup
 * stage once lookup_step >= 0, else the induction stage (pure). */
rl_pt_stage rl_pt_stage_of(const rl_run_state *st);
/* Learning rate of step `step`: warm-up, then the peak through the
 * induction and lookup stages (stage_step < 0; a decay there would delay
 * their phase changes, whose steps are not known in advance), then the cosine to min_lr_ratio over the
 * steps left (pure). */
double rl_pt_lr_at(const skl_adamw_config *ac, int64_t step, int64_t stage_step);
/* Whether the induction-first stage ends after step `step` (0-based), given
 * that step's repeat accuracy (NaN: no such rows): at pretrain.induction_until
 * (when > 0), or after pretrain.induction_steps steps at the most (pure). */
bool rl_pt_stage_ends(const rl_train_cfg *c, int64_t step, double acc);
/* Whether the lookup stage, begun at `from`, ends after step `step` given that
 * step's recall accuracy (NaN: none): at pretrain.lookup_until (when > 0), or
 * after pretrain.lookup_steps steps in it at the most (pure). */
bool rl_pt_lookup_ends(const rl_train_cfg *c, int64_t from, int64_t step, double acc);
/* Rows of a step at length T over `ranks` ranks: pretrain.tokens / T, at
 * least one per rank, a multiple of ranks (pure). */
int rl_pt_rows_at(const rl_train_cfg *c, int T, int ranks);

/* Run pretrain.steps steps (or up to them on resume) into pretrain.out.
 * o->phase is set to "pretrain". Metrics per step: loss, and per label the
 * mean loss over its supervised tokens (loss_<label>) and the share of its
 * probe positions whose target is the argmax (acc_<label>).
 * @return SKL_OK or the first error (checkpoints so far stay valid): a
 *         curriculum longer than the model's window or shorter than the
 *         source's minimum names the pretrain.* key. */
skl_status rl_pretrain_run(const rl_session_opts *o, const rl_pt_source *src, skl_error *err);

#endif
