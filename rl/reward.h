/* rl reward: scores one rollout against its synthesized answer — binary
 * correctness from the skill's verifier, an optional format reward and the
 * DAPO overlong penalty (DESIGN.md §1.3). Not the judge (rl/judge.h) for
 * free-form answers; this is the rule-based path every skill uses. */
#ifndef RL_REWARD_H
#define RL_REWARD_H

#include <stdbool.h>

#include "core/error.h"
#include "skills/answer.h"

typedef struct {
  float correct_reward;   /* reward for a correct answer (1) */
  float wrong_reward;     /* reward for a wrong or missing answer (0) */
  float format_reward;    /* added when the response has an "Answer:" line (0: off) */
  bool overlong_penalty;  /* DAPO soft punishment near the response budget */
  int max_response;       /* response budget in tokens */
  int overlong_cache;     /* punishment window in tokens before the budget */
  bool mask_truncated;    /* truncated responses get no gradient (trainer reads .masked) */
} rl_reward_opts;

/* Defaults: 1 / 0, no format reward, no overlong penalty, no masking. */
void rl_reward_opts_default(rl_reward_opts *o);

typedef struct {
  float reward;     /* total */
  float accuracy;   /* 1 correct, 0 not: what metrics report as pass rate */
  float format;     /* format part */
  float overlong;   /* penalty part (<= 0) */
  bool masked;      /* truncated and opts.mask_truncated */
  skill_verdict verdict;
} rl_reward_result;

/* Score a response of n_tokens tokens (truncated: hit the budget without a
 * stop token). @return SKL_OK, or SKL_ERR_INVALID when the gold is not a
 * valid answer of its type (the dataset is broken: message says so). */
skl_status rl_reward_score(const rl_reward_opts *o, skill_answer_type type, const char *gold,
                           const char *response, int n_tokens, bool truncated, rl_reward_result *out,
                           skl_error *err);

#endif
