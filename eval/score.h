/* eval score: score a predictions file made elsewhere (vLLM, an API) against
 * a benchmark file or a skillrl skill dataset shard, with eval/metrics.h,
 * and summarise per group (skill or task) as mean and standard error.
 * Not a runner: nothing here calls a model.
 *
 * Data: JSONL or JSONL.zst, one sample per line. Its format is detected from
 * the first record's fields (first match wins):
 *   skill         answer_type + answer (+ skill)      -> metric verify
 *   mrcr          random_string_to_prepend + answer   -> metric mrcr
 *   ruler         outputs [..]                        -> string_match_all, or
 *                 string_match_part for qa tasks (task field or file name)
 *   longbench_v2  choice_A + answer letter            -> metric choice
 *   babilong      target + question                   -> metric babilong
 *                 (task qa1..qa10 from a task field, --task or file name)
 *   longbench     answers [..]                        -> metric f1 (LongBench's
 *                 qa_f1 datasets only; triviaqa scores the first line, as
 *                 LongBench does; rouge/classification/code datasets: error)
 *   qa            answer                              -> metric em
 * Sample ids: the first of id, _id, index present in the first record
 * (string or integer); when none is, the 0-based record number.
 *
 * Predictions: JSONL {"id": ID, "prediction": TEXT} ("pred" accepted too).
 * Every data id needs exactly one prediction and every prediction id must be
 * in the data; anything else is an error naming file:line. */
#ifndef EVAL_SCORE_H
#define EVAL_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

typedef enum {
  EVAL_METRIC_AUTO = 0,       /* from the data format */
  EVAL_METRIC_EM,             /* exact match, SQuAD normalisation */
  EVAL_METRIC_F1,             /* token F1, SQuAD normalisation */
  EVAL_METRIC_RULER_ALL,      /* string_match_all */
  EVAL_METRIC_RULER_PART,     /* string_match_part */
  EVAL_METRIC_MRCR,           /* prefix gate + difflib ratio */
  EVAL_METRIC_CHOICE,         /* LongBench v2 letter accuracy */
  EVAL_METRIC_BABILONG,       /* closed label set, first sentence */
  EVAL_METRIC_VERIFY,         /* skill verifier by answer_type */
  EVAL_METRIC_COUNT
} eval_metric;

/* Stable names: "auto", "em", "f1", "string_match_all", "string_match_part",
 * "mrcr", "choice", "babilong", "verify". */
const char *eval_metric_name(eval_metric m);
/* Also accepts "ruler" (all/part chosen per task, as RULER does).
 * @return SKL_OK or SKL_ERR_INVALID listing the names */
skl_status eval_metric_parse(const char *name, eval_metric *out, bool *ruler_auto, skl_error *err);

typedef struct {
  const char *data_path; /* benchmark file or skill shard */
  const char *pred_path; /* {id, prediction} JSONL */
  const char *metric;    /* NULL or "auto": from the data format */
  const char *task;      /* NULL: from records / file name (BABILong, RULER) */
} eval_score_opts;

typedef struct {
  char *id;
  size_t line;       /* line in the data file */
  char *group;       /* skill id, task, dataset or format name */
  eval_metric metric;
  double score;      /* in [0, 1] */
  char *extracted;   /* what the metric read from the prediction: the choice
                        letter (choice) or the verifier's answer (verify);
                        NULL for the other metrics */
} eval_sample;

typedef struct {
  char *group;       /* "all" for the per-metric total rows */
  eval_metric metric;
  size_t n;
  double mean, se;   /* of per-sample scores in [0, 1]; se NaN when n < 2 */
} eval_group;

typedef struct {
  const char *format;   /* detected data format name (static) */
  eval_sample *samples; /* [n] in data order */
  size_t n;
  eval_group *groups;   /* [n_groups]: groups in first-seen order, then one
                           "all" row per metric */
  size_t n_groups;
} eval_score_result;

/* Read both files, check ids, score every sample, aggregate.
 * @return SKL_OK or an error naming file:line and the fix */
skl_status eval_score_files(const eval_score_opts *opts, eval_score_result *res, skl_error *err);
void eval_score_result_free(eval_score_result *res);

/* Markdown table: | group | metric | n | score | stderr | with scores as
 * percentages (100 x mean, 2 decimals, as RULER/LongBench report them). */
skl_status eval_score_markdown(const eval_score_result *res, skl_buf *out, skl_error *err);

/* Per-sample scores as JSONL {id, line, group, metric, score[, extracted]},
 * written atomically (zstd-compressed when path ends in .zst). */
skl_status eval_score_write_samples(const eval_score_result *res, const char *path, skl_error *err);

/* A loaded benchmark or skill file that scores one prediction at a time (the
 * probe runner's path: same detection, fields and metrics as
 * eval_score_files). Records keep data order, index 0..n-1.
 *   eval_scorer *sc; eval_scorer_load(&opts, &sc, &err);   // opts.pred_path unused
 *   eval_scorer_score(sc, i, prediction, &score, &err);
 * @return SKL_OK or an error naming file:line (missing fields, bad ids) */
typedef struct eval_scorer eval_scorer;
skl_status eval_scorer_load(const eval_score_opts *opts, eval_scorer **out, skl_error *err);
void eval_scorer_free(eval_scorer *sc); /* NULL ok */
size_t eval_scorer_count(const eval_scorer *sc);
const char *eval_scorer_format(const eval_scorer *sc);   /* "skill", "ruler", ... */
const char *eval_scorer_id(const eval_scorer *sc, size_t i);
const char *eval_scorer_group(const eval_scorer *sc, size_t i);
eval_metric eval_scorer_metric(const eval_scorer *sc, size_t i);
/* Record i's first gold answer and its question ("" when the format has none). */
const char *eval_scorer_gold(const eval_scorer *sc, size_t i);
const char *eval_scorer_question(const eval_scorer *sc, size_t i);
/* True when record i is a free-form answer (EM/F1 QA, or a skill STRING
 * answer): the kind a judge (--judge) scores instead of the metric. */
bool eval_scorer_free_form(const eval_scorer *sc, size_t i);
/* Score prediction pred for record i into *score (in [0, 1]). */
skl_status eval_scorer_score(eval_scorer *sc, size_t i, const char *pred, double *score, skl_error *err);

#endif
