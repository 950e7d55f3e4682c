/* synth pipeline: config -> checked samples -> DIR/<skill>/<split>-NNNNN.jsonl.zst
 * + DIR/manifest.json (DESIGN.md §3). Every sample is a pure function of
 * (config, skill, split, index): blueprint, expression answer, rendering and
 * length fitting, oracle agreement, split disjointness, then one JSON line.
 * Not the CLI (cli/cmd_synth.c prints progress and errors).
 *
 *   synth_ctx *c;  if (synth_ctx_init(&c, &cfg, &err)) ...;
 *   synth_generate(c, "data/synth", false, 4, NULL, &stats, &err);
 *   synth_ctx_free(c);
 */
#ifndef SYNTH_PIPELINE_H
#define SYNTH_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "synth/config.h"

typedef struct synth_ctx synth_ctx;

enum { SYNTH_SPLIT_TRAIN = 0, SYNTH_SPLIT_TEST = 1 };

/* Resolve a loaded config: skills and weights (unknown skill, negative or
 * all-zero weights are errors), knobs per skill (validated by the registry),
 * genres, corpus files, tokenizer, lengths (min <= max, every target able to
 * hold each skill's content).
 * @return SKL_OK or an error naming the config key and the fix. */
skl_status synth_ctx_init(synth_ctx **out, const synth_cfg *cfg, skl_error *err);
void synth_ctx_free(synth_ctx *c);

/* Samples of skill `skill_id` per split, as split by the mixture (largest
 * remainder, ties to registry order). */
int64_t synth_ctx_count(const synth_ctx *c, const char *skill_id, int split);

/* Where a sample's time goes. */
typedef enum {
  SYNTH_PHASE_BLUEPRINT, /* skill generator + expression evaluation */
  SYNTH_PHASE_RENDER,    /* background text, token counting, length fitting */
  SYNTH_PHASE_ORACLE,    /* the independent solver */
  SYNTH_PHASE_RECORD,    /* JSON serialisation */
  SYNTH_PHASE_COUNT
} synth_phase;

/* One finished sample. */
typedef struct {
  char *line;          /* the JSON record, one line without newline (malloc'd) */
  size_t len;
  int64_t n_tokens;    /* prompt tokens (extra_info.n_tokens) */
  int attempts;        /* 1 when the first seed passed every check */
  int oracle_rejects;  /* attempts dropped: oracle != expression answer */
  int expr_rejects;    /* attempts dropped: expression failed or != generator's intent */
  int overlap_rejects; /* attempts dropped: an anchor name also used by the train split */
  uint64_t *anchor_hashes; /* [n_anchor_hashes] hashes of the anchor names (for disjointness) */
  int n_anchor_hashes;
  double seconds[SYNTH_PHASE_COUNT]; /* wall time per phase, all attempts (for bench synth) */
} synth_sample;

void synth_sample_free(synth_sample *s);

/* Names that a test sample must not reuse (hashes of train anchor names). */
typedef struct {
  uint64_t *slot; /* open addressing, 0 = empty */
  size_t cap, n;
} synth_nameset;
skl_status synth_nameset_add(synth_nameset *s, uint64_t h);
int synth_nameset_has(const synth_nameset *s, uint64_t h);
void synth_nameset_free(synth_nameset *s);

/* Make sample `index` of a skill and split. Bounded regeneration with the
 * next seed when a check fails; exclude (may be NULL) lists anchor names the
 * sample must not use. target_tokens > 0 overrides the config's length draw.
 * @return SKL_OK; SKL_ERR_RANGE when the length cannot hold the content;
 *         SKL_ERR_INTERNAL when every attempt failed a check (the last
 *         disagreement is in the message). */
skl_status synth_sample_make(const synth_ctx *c, const char *skill_id, int split, int64_t index,
                             const synth_nameset *exclude, int64_t target_tokens, synth_sample *out, skl_error *err);

typedef struct {
  void (*fn)(void *ud, const char *what, int64_t done, int64_t total, uint64_t bytes);
  void *ud;
} synth_progress;

typedef struct {
  int64_t samples;
  int64_t oracle_rejects, expr_rejects, overlap_rejects;
  uint64_t bytes;       /* uncompressed JSONL bytes */
  uint64_t file_bytes;  /* compressed bytes on disk */
  int64_t tokens;       /* sum of n_tokens */
} synth_stats;

/* Generate the whole dataset into dir with `threads` OpenMP threads (0: the
 * OpenMP default). Output bytes do not depend on threads. Everything is built
 * in "DIR.tmp-PID" and moved into place at the end: a failure leaves dir as it
 * was. A dir that exists and is not empty is refused unless overwrite.
 * @return SKL_OK, SKL_ERR_STATE (refused overwrite), or the first sample's
 *         error in index order, or IO errors. */
skl_status synth_generate(const synth_ctx *c, const char *dir, bool overwrite, int threads,
                          const synth_progress *progress, synth_stats *stats, skl_error *err);

#endif
