/* synth corpus_read: whole-file reads of user corpora (.txt, .jsonl, either
 * optionally .zst) with the checks a corpus needs. Not a streaming reader.
 * (The IO room's skl_textfile_* may replace the zstd part once it lands.) */
#ifndef SYNTH_CORPUS_READ_H
#define SYNTH_CORPUS_READ_H

#include <stddef.h>

#include "core/error.h"

/* Read path (decompressing a .zst), refuse an empty file or binary content
 * (NUL bytes, invalid UTF-8: offset and line named). *is_jsonl is set from
 * the name (".jsonl" or ".jsonl.zst"). *out is malloc'd and NUL-terminated.
 * @return SKL_OK, SKL_ERR_NOTFOUND, SKL_ERR_IO, SKL_ERR_PARSE (bad zstd
 *         frame), SKL_ERR_INVALID (empty or binary), SKL_ERR_NOMEM. */
skl_status synth_corpus_read(const char *path, char **out, size_t *len, int *is_jsonl, skl_error *err);

/* The "text" string field of every non-blank JSONL line, malloc'd copies.
 * @return SKL_OK, SKL_ERR_PARSE (bad JSON: path:line:col), SKL_ERR_INVALID
 *         (no string "text" field: path:line), SKL_ERR_NOMEM. */
skl_status synth_corpus_jsonl_texts(const char *path, const char *data, size_t len, char ***texts, size_t *n,
                                    skl_error *err);

#endif
