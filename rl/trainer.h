/* rl trainer: GRPO with DAPO dynamic sampling — rollouts of G responses per
 * prompt with shared-prefix decoding, rule-based rewards (or a judge),
 * group-relative advantages, the clipped surrogate (optional KL to the
 * starting model), AdamW; data parallel over MPI ranks with groups whole on
 * one rank; metrics, checkpoints, bit-exact resume.
 * Not SFT (rl/sft.h) and not the pass-rate filter (rl/filter.h). */
#ifndef RL_TRAINER_H
#define RL_TRAINER_H

#include "rl/session.h"

/* Run cfg->steps GRPO steps (o->phase is set to "grpo").
 * @return SKL_OK or the first error (checkpoints so far stay valid). */
skl_status rl_train_run(const rl_session_opts *o, skl_error *err);

#endif
