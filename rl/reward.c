/* rl reward: verifier + format + overlong, combined.
 * Not a learned reward model. */
#include "rl/reward.h"

#include <string.h>

#include "rl/grpo.h"

void rl_reward_opts_default(rl_reward_opts *o) {
  memset(o, 0, sizeof *o);
  o->correct_reward = 1.0f;
  o->wrong_reward = 0.0f;
  o->max_response = 512;
  o->overlong_cache = 64;
}

skl_status rl_reward_score(const rl_reward_opts *o, skill_answer_type type, const char *gold,
                           const char *response, int n_tokens, bool truncated, rl_reward_result *out,
                           skl_error *err) {
  memset(out, 0, sizeof *out);
  skl_status s = skill_verify(type, gold, response, &out->verdict, err);
  if (s) return skl_error_prefix(err, "reward: gold answer '%s'", gold);
  out->accuracy = out->verdict.correct ? 1.0f : 0.0f;
  out->reward = out->verdict.correct ? o->correct_reward : o->wrong_reward;
  if (o->format_reward != 0 && out->verdict.has_format) out->format = o->format_reward;
  if (o->overlong_penalty) out->overlong = rl_overlong_penalty(n_tokens, o->max_response, o->overlong_cache);
  out->reward += out->format + out->overlong;
  out->masked = truncated && o->mask_truncated;
  return SKL_OK;
}
