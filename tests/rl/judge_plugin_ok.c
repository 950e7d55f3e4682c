/* A test judge plugin: score 1 iff the response contains the gold.
 * Not a real judge. */
#include <stdio.h>
#include <string.h>

#include "judge/judge_plugin.h"

int skillrl_judge_abi(void);
int skillrl_judge_score(const skillrl_judge_item *item, double *score, char *err, size_t cap);

int skillrl_judge_abi(void) { return SKILLRL_JUDGE_ABI; }

int skillrl_judge_score(const skillrl_judge_item *item, double *score, char *err, size_t cap) {
  if (!strcmp(item->id, "nonul")) { /* fills err to the brim, no NUL */
    memset(err, 'x', cap);
    return 1;
  }
  if (!strcmp(item->id, "boom")) {
    snprintf(err, cap, "cannot judge this one");
    return 1;
  }
  *score = strstr(item->response, item->gold) ? 1.0 : 0.0;
  return 0;
}
