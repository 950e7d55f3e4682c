/* skl CLI training glue: what `skillrl pretrain` runs once its arguments and
 * signals are set up (cmd_sft.c parses for sft, train and pretrain).
 * Not a library API: only the CLI joins synth's stream to rl's loop. */
#ifndef SKL_CLI_TRAIN_H
#define SKL_CLI_TRAIN_H

#include "rl/session.h"

/* Build the pretraining stream from so->cfg's pretrain.* keys and run
 * rl_pretrain_run on it. @return SKL_OK or the first error. */
skl_status skl_cli_pretrain_run(const rl_session_opts *so, skl_error *err);

#endif
