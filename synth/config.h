/* synth config: the "synth" config kind — skills and mixture, counts per
 * split, lengths, difficulty knobs per skill, genres/corpus, template, output.
 * Not the loader (src/config) and not the pipeline (synth/pipeline.h). */
#ifndef SYNTH_CONFIG_H
#define SYNTH_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

typedef struct {
  skl_cfg_map mixture;        /* skill id -> weight (default 5:3:2:2:2:1) */
  int64_t train;              /* samples in the train split, over all skills */
  int64_t test;               /* samples in the test split */
  int64_t seed;               /* run seed */
  int length_min, length_max; /* target context length range (tokens), uniform */
  skl_cfg_ints buckets;       /* if set: target lengths drawn from these instead */
  int response_budget;        /* tokens kept free for the response: prompt <= target - this */
  char *tokenizer;            /* tokenizer.json, or NULL: built-in approximate counter */
  int template_kind;          /* 0 plain, 1 chat */
  int template_format;        /* synth_count_format: whose chat tokens lengths count (0: none) */
  char *system;               /* chat system prompt (NULL: default) */
  char *preamble;             /* first paragraph of the user message (NULL: default) */
  skl_cfg_strs genres;        /* built-in genres to draw from (empty: all) */
  skl_cfg_strs corpus;        /* user corpus files (.txt/.jsonl, optionally .zst) */
  double corpus_share;        /* share of documents drawn from the corpus when given */
  skl_cfg_map difficulty[6];  /* per skill (registry order): knob -> value */
  int shard_size;             /* records per shard */
  int zstd_level;
  int max_attempts;           /* regenerations per sample before giving up */
  char *out;                  /* output folder (-o overrides) */
} synth_cfg;

/* The schema of kind "synth" (static; for skl_cfg_load and `config show`). */
const skl_cfg_schema *synth_cfg_schema(void);

#endif
