/* eval correlate: Spearman correlation of per-skill probe scores with
 * real-benchmark scores across models, from one result folder per model;
 * markdown table, JSON and a gnuplot heatmap. Not the probe runner: it only
 * reads summaries that eval runs (or a person) wrote.
 *
 * RESULT_DIR/summary.json (all scores in percent, 0..100):
 *   {"format": "skillrl.eval.summary", "version": 1,
 *    "model": "Qwen2.5-14B-Instruct",
 *    "probe_set": {"dataset_hash": "<sha256>", "tokenizer_hash": "<sha256>"},
 *    "skills":     {"niah": 81.5, "anti_interference": 64.0, ...},
 *    "benchmarks": {"ruler": 70.1, "longbench_v2": 31.2, ...}}
 * probe_set (from the probe dataset's manifest.json) is optional, but when
 * one summary has it, all must, with equal values: the probes must be the
 * same dataset for the scores to be comparable. Every summary must list the
 * same skills and benchmarks. */
#ifndef EVAL_CORRELATE_H
#define EVAL_CORRELATE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct {
  size_t n_models;   /* M, >= 3 */
  char **models;     /* [M] model names */
  char **dirs;       /* [M] result folders */
  size_t n_skills;   /* S */
  char **skills;     /* [S] in the first summary's order */
  size_t n_bench;    /* Bn */
  char **bench;      /* [Bn] */
  double *skill_scores; /* [M][S + 1], last column: mean over skills */
  double *bench_scores; /* [M][Bn + 1], last column: mean over benchmarks */
  double *rho;       /* [S + 1][Bn + 1]; row S = skill mean, column Bn = benchmark mean; NaN when undefined */
  double *p;         /* [S + 1][Bn + 1] two-sided p-values (scipy.stats.spearmanr) */
} eval_correlation;

/* One named score of a summary (percent). */
typedef struct {
  const char *name;
  double score;
} eval_named_score;

/* Write a summary.json as described above, atomically. dataset_hash and
 * tokenizer_hash may be NULL (then probe_set is omitted).
 * @return SKL_OK, SKL_ERR_INVALID (no scores, a non-finite score, a
 *         duplicate name) or SKL_ERR_IO */
skl_status eval_summary_write(const char *path, const char *model, const char *dataset_hash,
                              const char *tokenizer_hash, const eval_named_score *skills, size_t n_skills,
                              const eval_named_score *bench, size_t n_bench, skl_error *err);

/* Read DIR/summary.json for each of n dirs and correlate.
 * @return SKL_OK, or SKL_ERR_INVALID (fewer than 3 dirs, mismatched
 *         probe_set hashes or skill/benchmark names, bad values),
 *         SKL_ERR_NOTFOUND / SKL_ERR_PARSE naming the summary file */
skl_status eval_correlate_dirs(const char *const *dirs, size_t n, eval_correlation *c, skl_error *err);
void eval_correlation_free(eval_correlation *c);

/* Markdown: a table of rho (p) per skill row x benchmark column, and a table
 * of the input scores per model. */
skl_status eval_correlation_markdown(const eval_correlation *c, skl_buf *out, skl_error *err);

/* correlation.json: {models, skills, benchmarks, rho: {skill: {bench: x}},
 * p: {...}} with null for undefined values; written atomically. */
skl_status eval_correlation_write_json(const eval_correlation *c, const char *path, skl_error *err);

/* Heatmap of rho as a PNG through gnuplot (pngcairo, else png): writes
 * OUT_PREFIX.dat, OUT_PREFIX.gp and OUT_PREFIX.png; gnuplot's messages go to
 * OUT_PREFIX.log. @return SKL_ERR_UNSUPPORTED when gnuplot is missing or
 *         fails (message: its last output lines) */
skl_status eval_correlation_plot(const eval_correlation *c, const char *out_prefix, skl_error *err);

/* The same heatmap for any matrix m[rows][cols] (NaN: "n/a"), colour range
 * [lo, hi] from red through white to blue (e.g. probe change per removed
 * skill in `skillrl ablate`). Files and errors as eval_correlation_plot. */
skl_status eval_plot_heatmap(const double *m, size_t rows, size_t cols, const char *const *row_names,
                             const char *const *col_names, const char *title, const char *cblabel, double lo,
                             double hi, const char *out_prefix, skl_error *err);

/* Clustered bar chart: v[groups][series], one cluster per group (x axis),
 * one coloured bar per series (key). Files and errors as above. */
skl_status eval_plot_bars(const double *v, size_t groups, size_t series, const char *const *group_names,
                          const char *const *series_names, const char *title, const char *ylabel,
                          const char *out_prefix, skl_error *err);

#endif
