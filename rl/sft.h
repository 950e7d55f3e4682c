/* rl sft: supervised warm-up — cross-entropy on the gold response tokens
 * only (prompt masked), several samples packed per row, data parallel over
 * ranks, checkpoints and bit-exact resume through rl/session.
 * Not RL: rl/trainer.h is GRPO. */
#ifndef RL_SFT_H
#define RL_SFT_H

#include "rl/session.h"

/* Run cfg->sft_steps steps (or up to them, on resume). o->phase is set to
 * "sft". @return SKL_OK, or the first error (the run's checkpoints so far
 * stay valid). */
skl_status rl_sft_run(const rl_session_opts *o, skl_error *err);

#endif
