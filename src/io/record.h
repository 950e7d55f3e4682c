/* skl record: the dataset record schema of DESIGN.md §3 (verl-compatible)
 * and checks of one parsed record. Not a reader: see io/jsonl.h. */
#ifndef SKL_IO_RECORD_H
#define SKL_IO_RECORD_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

/* One record, one JSON object per line:
 *   id           string, non-empty
 *   skill        string, non-empty (a skill id, e.g. "niah")
 *   split        string, non-empty ("train", "val", "test", ...)
 *   data_source  string
 *   ability      string
 *   prompt       array (>= 1) of {role: system|user|assistant, content: string}
 *   answer       string
 *   answer_type  number|string|choice|list|set
 *   reward_model {style: string, ground_truth: string|number|array}
 *   extra_info   {n_tokens: integer >= 0, seed: integer >= 0,
 *                 difficulty: number|string, blueprint: object}
 * Unknown extra fields are allowed (verl ignores them too). */

typedef enum {
  SKL_ANSWER_NUMBER = 0,
  SKL_ANSWER_STRING,
  SKL_ANSWER_CHOICE,
  SKL_ANSWER_LIST,
  SKL_ANSWER_SET,
  SKL_ANSWER_COUNT
} skl_answer_type;

/* @return the schema name ("number", ...), or NULL if out of range. */
const char *skl_answer_type_name(skl_answer_type t);
/* @return SKL_OK and *t, or SKL_ERR_INVALID naming the allowed values. */
skl_status skl_answer_type_parse(const char *name, skl_answer_type *t, skl_error *err);

/* Check rec against the schema. The message names the field path and what
 * was expected, e.g. "extra_info.n_tokens: expected an integer, got string";
 * the caller prefixes "FILE:LINE: ".
 * @return SKL_OK or SKL_ERR_INVALID. */
skl_status skl_record_validate(const json_t *rec, skl_error *err);

/* The prompt's contents concatenated in order, separated by "\n" (the text
 * the model reads, without chat template), as a malloc'd NUL-terminated
 * string. @return NULL if rec has no valid prompt array, or on OOM. */
char *skl_record_prompt_text(const json_t *rec);

#endif
