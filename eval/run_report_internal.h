/* eval run report: summary.md (mean +- standard error per skill and
 * benchmark, pass@k, by length bucket and needle depth) and summary.json
 * from all result lines. Internal to eval/run.c; not the decoding. */
#ifndef EVAL_RUN_REPORT_INTERNAL_H
#define EVAL_RUN_REPORT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "eval/run.h"

typedef struct {
  const eval_cfg *cfg;
  const char *model_dir, *out_dir;
  json_t *results;              /* array of result objects (borrowed) */
  const eval_run_stats *stats;
  const char *const *set_names; /* [n_sets] benchmark names in config order */
  size_t n_sets;
  bool has_probes;
  const char *manifest_hash, *tokenizer_hash;
} eval_report_in;

/* Write OUT/summary.md, OUT/summary.json (eval_summary_write; only when
 * there are both probe and benchmark scores, as eval correlate needs) and
 * OUT/stats.json, atomically. */
skl_status eval_report_write(const eval_report_in *in, skl_error *err);

#endif
