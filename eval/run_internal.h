/* eval run internals: the task list (one prompt per probe or benchmark
 * sample, tokenized and fitted to the window) shared by run.c and
 * run_tasks.c. Not public: eval/run.h is. */
#ifndef EVAL_RUN_INTERNAL_H
#define EVAL_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "chat/chat.h"
#include "eval/run.h"
#include "eval/score.h"
#include "tok/tokenizer.h"

typedef struct {
  char *key;          /* "SET/GROUP/ID", unique */
  const char *set;    /* "probe" or the benchmark name (borrowed) */
  eval_scorer *sc;    /* borrowed from the task list */
  size_t idx;         /* record index in sc */
  int32_t *ids;       /* [n_ids] prompt, fitted to the window */
  int n_ids;
  int n_tokens;       /* prompt tokens before truncation */
  double depth;       /* needle depth in [0, 1], or -1 */
  bool truncated;
} eval_task;

typedef struct {
  eval_task *t;       /* [n] */
  size_t n, cap;
  eval_scorer **sc;   /* [n_sc] owned */
  size_t n_sc;
  char **names;       /* [n_names] owned set names */
  size_t n_names;
  char dataset_hash[65];   /* probes' manifest.json + benchmark files */
  char manifest_hash[65];  /* probes' manifest.json alone ("" without probes) */
  size_t n_truncated, n_too_long;
} eval_tasks;

typedef struct {
  const eval_cfg *cfg;
  const skl_tokenizer *tok;
  skl_chat_format fmt;
  int budget;         /* window - max_new: the longest prompt */
  int window;
} eval_task_ctx;

skl_status eval_tasks_build(const eval_task_ctx *c, eval_tasks *ts, skl_error *err);
void eval_tasks_free(eval_tasks *ts);

#endif
