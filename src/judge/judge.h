/* skl judge: scores free-form answers through a pluggable judge — an external
 * command speaking JSON lines on stdin/stdout (batched), or a C plugin loaded
 * with dlopen (src/judge/judge_plugin.h). Failures name the sample id.
 * Used by the RL reward (rl/reward.h) and by eval (--judge). Not the
 * rule-based verifiers (skills/answer.h). */
#ifndef SKL_JUDGE_H
#define SKL_JUDGE_H

#include "core/error.h"
#include "judge/judge_plugin.h"

typedef enum { SKL_JUDGE_COMMAND, SKL_JUDGE_PLUGIN } skl_judge_kind;

typedef struct {
  skl_judge_kind kind;
  const char *target;  /* command line (run with /bin/sh -c) or plugin path */
  double timeout_s;    /* per batch; a judge that answers nothing for this long has hung */
  int retries;         /* restarts of a crashed/hung/garbled command before giving up */
} skl_judge_opts;

typedef struct skl_judge skl_judge;

/* Start the command or load the plugin (checks its ABI).
 * @return SKL_OK, SKL_ERR_IO (cannot start), SKL_ERR_INVALID (plugin lacks
 *         the symbols or has another ABI). */
skl_status skl_judge_open(skl_judge **j, const skl_judge_opts *o, skl_error *err);

/* Score n items; scores[i] in [0, 1].
 * Command protocol: one request line per item
 *   {"id": ..., "question": ..., "response": ..., "gold": ...}
 * then one answer line per item, in any order: {"id": ..., "score": 0.0-1.0}.
 * @return SKL_OK; SKL_ERR_IO (crashed or hung past timeout, after retries),
 *         SKL_ERR_PARSE (garbage answer), SKL_ERR_RANGE (score outside
 *         [0, 1]): the message names the sample id. */
skl_status skl_judge_score(skl_judge *j, const skillrl_judge_item *items, int n, double *scores,
                          skl_error *err);

/* Stop the command / unload the plugin. NULL ok. */
void skl_judge_close(skl_judge *j);

#endif
