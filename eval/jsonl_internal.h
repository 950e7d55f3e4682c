/* eval jsonl: call a function for each JSON object line of a .jsonl or
 * .jsonl.zst file (io/jsonl.h reads it), with its 1-based line number.
 * Internal to eval/; not a writer. Blank lines are skipped. */
#ifndef EVAL_JSONL_INTERNAL_H
#define EVAL_JSONL_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

/* Return non-OK to stop; the status is passed through. obj is borrowed. */
typedef skl_status (*eval_jsonl_fn)(json_t *obj, size_t line, void *ctx, skl_error *err);

/* @return SKL_OK, SKL_ERR_NOTFOUND/IO (path), SKL_ERR_PARSE/INVALID
 *         ("PATH:LINE: ..." from io/jsonl.h), or what fn returned */
skl_status eval_jsonl_foreach(const char *path, eval_jsonl_fn fn, void *ctx, skl_error *err);

#endif
