/* eval general: a held-out "general" long-context set with tasks that are
 * not in the training mixture — RULER-style qa (one fact among distractor
 * documents), variable tracking and common-word extraction — generated
 * deterministically from a seed, as RULER-format JSONL records
 *   {"id", "task", "input", "outputs": [...], "length", "extra_info": {"n_tokens"}}
 * so `skillrl eval` scores it like any RULER file (qa: string_match_part,
 * vt/cwe: string_match_all). Not RULER itself: the texts are synthetic.
 * A record is a pure function of (seed, task, index, length, tokenizer). */
#ifndef EVAL_GENERAL_H
#define EVAL_GENERAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "tok/tokenizer.h"

typedef struct {
  const char *out_path;     /* JSONL, written atomically */
  int count;                /* records per task */
  int length;               /* target prompt length in tokens (>= 64) */
  const skl_tokenizer *tok; /* counts tokens; NULL: 4 bytes per token */
  uint64_t seed;
  const char *tasks;        /* comma-separated subset of "qa,vt,cwe"; NULL/"": all */
} eval_general_opts;

/* @return SKL_OK, SKL_ERR_INVALID/RANGE (options, unknown task) or SKL_ERR_IO */
skl_status eval_general_write(const eval_general_opts *o, size_t *n_written, skl_error *err);

#endif
