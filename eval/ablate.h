/* eval ablate: the plan and the report of `skillrl ablate` — one full-mixture
 * run, one leave-one-skill-out run per skill and optionally one single-skill
 * run per skill, each trained and evaluated with the same seed and budget —
 * and a markdown report with the per-benchmark table, a heatmap of probe
 * change per removed skill and a bar chart of benchmark change per removed
 * skill. Not the driver: training lives in rl/, which eval/ may not call, so
 * cli/cmd_ablate.c runs the plan.
 *
 * Layout: OUT/runs/NAME/train (the train run folder, NAME/train/final the
 * model) and OUT/runs/NAME/eval (an eval results folder with summary.json).
 * NAME is "full", "minus-SKILL" or "only-SKILL". */
#ifndef EVAL_ABLATE_H
#define EVAL_ABLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/error.h"

typedef struct {
  char *train_config;          /* kind: train YAML (the budget: steps, batch, lr, seed) */
  char *eval_config;           /* kind: eval YAML (probes + benchmarks; both needed) */
  char *model;                 /* base model dir; NULL: the train config's model */
  char *out;                   /* ablation folder */
  char *skills;                /* comma-separated skills to ablate; "": every skill in the train data */
  bool single_skill;           /* also one run trained on each skill alone */
  skl_cfg_strs train_overrides; /* key=value applied to every train config */
  skl_cfg_strs eval_overrides;  /* key=value applied to the eval config */
} eval_ablate_cfg;

/* The "ablate" config kind. */
const skl_cfg_schema *eval_ablate_schema(void);

typedef enum { EVAL_ABLATE_FULL, EVAL_ABLATE_MINUS, EVAL_ABLATE_ONLY } eval_ablate_kind;

typedef struct {
  char *name;                  /* "full", "minus-niah", "only-niah" */
  char *skills;                /* the train config's skills= value (comma-separated) */
  const char *skill;           /* removed / kept skill (borrowed from plan), NULL for full */
  eval_ablate_kind kind;
} eval_ablate_run;

typedef struct {
  char **skills;               /* [n_skills] owned */
  size_t n_skills;
  eval_ablate_run *runs;       /* [n_runs]: full, minus-* (skill order), only-* */
  size_t n_runs;
} eval_ablate_plan;

/* Skills of a dataset's train split (DIR/manifest.json "counts", in order),
 * filtered by subset (comma-separated, "" = all; an unknown one is an error
 * listing the dataset's), then the plan. At least 2 skills.
 * @return SKL_OK, SKL_ERR_NOTFOUND/PARSE (manifest), SKL_ERR_INVALID */
skl_status eval_ablate_plan_make(const char *data_dir, const char *subset, bool single_skill, eval_ablate_plan *p,
                                 skl_error *err);
void eval_ablate_plan_free(eval_ablate_plan *p);

/* OUT/runs/NAME/SUB as a malloc'd path (SUB "train", "train/final", "eval"). */
char *eval_ablate_path(const char *out, const eval_ablate_run *r, const char *sub);

/* Read every run's eval/summary.json and write OUT/report.md, OUT/ablation.json
 * and (plot) OUT/probe_change.png and OUT/bench_change.png; md (may be NULL)
 * gets the report text.
 * @return SKL_OK, SKL_ERR_NOTFOUND (a run's summary, naming it),
 *         SKL_ERR_INVALID (summaries that list different skills/benchmarks),
 *         SKL_ERR_UNSUPPORTED (gnuplot missing; the markdown is written) */
skl_status eval_ablate_report(const eval_ablate_plan *p, const char *out, bool plot, skl_buf *md, skl_error *err);

#endif
