/* eval run: `skillrl eval -c CONFIG --model DIR` — the probe runner. Skill
 * probes (a dataset's held-out split) and benchmark files are rendered with
 * the model's chat format, decoded in batches (greedy pass@1, optionally n
 * sampled responses for pass@k), scored with eval/score.h's metrics, and
 * written as OUT/results.jsonl (resumable), summary.md and summary.json.
 * Not the metrics (metrics.h) and not outside predictions (score.h).
 *
 * OUT/results.jsonl, one line per sample, appended as batches finish:
 *   {"key": "probe/niah/niah-test-000003", "set": "probe", "group": "niah",
 *    "id": "niah-test-000003", "prediction": "...", "score": 1, "tokens": 12,
 *    "prompt_tokens": 1634, "n_tokens": 1634, "length_bucket": "1k-2k",
 *    "depth": 0.44, "truncated": false, "latency_s": 0.8,
 *    "samples": 8, "samples_correct": 3, "sample_predictions": [...]}
 *                                               (the last three when sampling)
 * latency_s is the wall time of the sample's batch divided by its size.
 * pass@k counts a sampled response correct when its score is 1 (binary
 * metrics; for f1/mrcr that means a perfect match). Sample g of a prompt is
 * seeded from (seed, the sample's key), so a resumed run draws the same ones.
 * summary.json (eval correlate's input) is written when the run has both
 * probe and benchmark scores.
 * A rerun with the same OUT skips the keys already there (an interrupted
 * last line is dropped); OUT/eval_state.json holds the dataset, tokenizer
 * and generation-settings hashes, and a rerun with other data, another
 * tokenizer or other generation settings is refused. */
#ifndef EVAL_RUN_H
#define EVAL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/error.h"

typedef struct {
  char *probes;              /* skill dataset dir (manifest.json), NULL: no probes */
  char *split;               /* its held-out split, "test" */
  char *skills;              /* comma-separated subset, "" = all */
  int max_per_skill;         /* 0 = all */
  skl_cfg_strs benchmarks;   /* "NAME=PATH" or "NAME=PATH#METRIC" (eval/score.h metric names) */
  int max_per_benchmark;     /* 0 = all */
  char *system;              /* system message for benchmark prompts, NULL: none */
  int chat_format;           /* index into auto, chatml, llama3, plain */
  int max_new;               /* generated tokens per response */
  int batch;                 /* prompts decoded together */
  int max_context;           /* 0: the model's max_position_embeddings */
  int samples;               /* n sampled responses per prompt for pass@k, 0: greedy only */
  skl_cfg_ints pass_k;       /* k values (each <= samples) */
  double temperature, top_p; /* sampling */
  int64_t seed;             /* sampling seed */
  skl_cfg_ints length_buckets; /* bucket lower bounds in tokens (ascending) */
  int depth_bins;            /* needle-depth bins over [0, 1] */
  char *judge_command;       /* judge for free-form answers (src/judge/judge.h), or NULL */
  char *judge_plugin;        /* or a judge plugin .so */
  double judge_timeout;
  int judge_retries;
} eval_cfg;

/* The "eval" config kind (`skillrl config keys eval`). */
const skl_cfg_schema *eval_cfg_schema(void);

typedef struct {
  const eval_cfg *cfg;
  const char *model_dir;     /* HF layout with tokenizer.json */
  const char *out_dir;
  int64_t limit;             /* stop after this many new samples (testing, 0: off) */
  volatile int *stop;        /* set asynchronously: finish the batch, write the summary, return */
  void (*on_progress)(const char *line, void *user);
  void *user;
} eval_run_opts;

typedef struct {
  size_t n_total;            /* samples in the probe + benchmark sets */
  size_t n_resumed;          /* already in results.jsonl */
  size_t n_new;              /* decoded by this run */
  size_t n_truncated;        /* benchmark prompts cut in the middle */
  size_t n_too_long;         /* probes longer than the window: skipped */
  bool complete;             /* every sample has a result */
  double seconds;            /* decode wall time of this run */
  double prefill_s, decode_s;
  int64_t prefill_tokens, decode_tokens;
} eval_run_stats;

/* Run (or resume) the evaluation into o->out_dir.
 * @return SKL_OK or the first error: the config, model, data or benchmark
 *         file (naming file:line and field), a hash mismatch with an older
 *         OUT, a window smaller than every sample. */
skl_status eval_run(const eval_run_opts *o, eval_run_stats *st, skl_error *err);

/* Unbiased pass@k from n samples with c correct (Chen et al. 2021):
 * 1 - C(n-c, k) / C(n, k), computed as a product; NaN when k > n or k < 1. */
double eval_pass_at_k(int n, int c, int k);

/* Middle truncation as LongBench: keep the first keep/2 and the last
 * keep - keep/2 of ids[n] (in place). @return the new length. */
int eval_truncate_middle(int32_t *ids, int n, int keep);

#endif
