/* skillrl judge plugin ABI: the one header a shared-library judge includes.
 * Not linked against skillrl: plain C types only, stable across versions.
 *
 * ABI 2 renamed the score function to skillrl_judge_score (ABI 1 spelled it
 * skillskl_judge_score); the item and the calling rules are unchanged. An
 * ABI 1 plugin lacks the new symbol and is refused ("missing symbol
 * skillrl_judge_score"): rename the function, return 2 from
 * skillrl_judge_abi, rebuild.
 *
 * A plugin is a .so exporting, with C linkage:
 *
 *   int skillrl_judge_abi(void);            // return SKILLRL_JUDGE_ABI
 *   int skillrl_judge_score(const skillrl_judge_item *item, double *score,
 *                          char *err, size_t err_cap);
 *
 * skillrl_judge_score returns 0 and writes a score in [0, 1] (1 = correct),
 * or non-zero with a message in err. It may be called from several threads at
 * once. Build: cc -shared -fPIC -o myjudge.so myjudge.c
 * Use: reward.judge: {plugin: ./myjudge.so} in the train config. */
#ifndef SKILLRL_JUDGE_PLUGIN_H
#define SKILLRL_JUDGE_PLUGIN_H

#include <stddef.h>

#define SKILLRL_JUDGE_ABI 2

typedef struct {
  const char *id;       /* sample id from the dataset */
  const char *question; /* the meta-question (without the long context) */
  const char *response; /* the model's full response */
  const char *gold;     /* the synthesized gold answer */
} skillrl_judge_item;

typedef int (*skillrl_judge_abi_fn)(void);
typedef int (*skillrl_judge_score_fn)(const skillrl_judge_item *item, double *score, char *err,
                                     size_t err_cap);

#endif
