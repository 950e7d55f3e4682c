/* rl filter: the pass-rate filter that builds an RL training set — sample k
 * answers per item with a model, score them with the reward verifiers, keep
 * items whose pass rate lies in [low, high] (default 0.3-0.6), and write a
 * new dataset (same layout, manifest) with each item's pass rate recorded
 * in extra_info.pass_rate. Not training. */
#ifndef RL_FILTER_H
#define RL_FILTER_H

#include "rl/config.h"

typedef struct {
  int64_t seen, kept;        /* items over all splits */
  double mean_pass_rate;     /* over seen items */
} rl_filter_stats;

/* Filter every split of cfg->data into cfg->filter_out using the model at
 * cfg->model (sampling with cfg's rollout parameters, k = filter.k).
 * Refuses an output folder that already holds a manifest unless overwrite.
 * @return SKL_OK or the first error; nothing is left half-written. */
skl_status rl_filter_run(const rl_train_cfg *cfg, bool overwrite, rl_filter_stats *stats, skl_error *err);

#endif
