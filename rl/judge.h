/* rl judge: scores free-form answers through a pluggable judge — an external
 * command speaking JSON lines on stdin/stdout (batched), or a C plugin loaded
 * with dlopen (rl/judge_plugin.h). Failures name the sample id.
 * Not the rule-based verifiers (rl/reward.h). */
#ifndef RL_JUDGE_H
#define RL_JUDGE_H

#include "core/error.h"
#include "rl/judge_plugin.h"

typedef enum { RL_JUDGE_COMMAND, RL_JUDGE_PLUGIN } rl_judge_kind;

typedef struct {
  rl_judge_kind kind;
  const char *target;  /* command line (run with /bin/sh -c) or plugin path */
  double timeout_s;    /* per batch; a judge that answers nothing for this long has hung */
  int retries;         /* restarts of a crashed/hung/garbled command before giving up */
} rl_judge_opts;

typedef struct rl_judge rl_judge;

/* Start the command or load the plugin (checks its ABI).
 * @return SKL_OK, SKL_ERR_IO (cannot start), SKL_ERR_INVALID (plugin lacks
 *         the symbols or has another ABI). */
skl_status rl_judge_open(rl_judge **j, const rl_judge_opts *o, skl_error *err);

/* Score n items; scores[i] in [0, 1].
 * Command protocol: one request line per item
 *   {"id": ..., "question": ..., "response": ..., "gold": ...}
 * then one answer line per item, in any order: {"id": ..., "score": 0.0-1.0}.
 * @return SKL_OK; SKL_ERR_IO (crashed or hung past timeout, after retries),
 *         SKL_ERR_PARSE (garbage answer), SKL_ERR_RANGE (score outside
 *         [0, 1]): the message names the sample id. */
skl_status rl_judge_score(rl_judge *j, const skillrl_judge_item *items, int n, double *scores,
                          skl_error *err);

/* Stop the command / unload the plugin. NULL ok. */
void rl_judge_close(rl_judge *j);

#endif
