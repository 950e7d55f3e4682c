/* skl parquet: a small Apache Parquet writer for JSON rows with a fixed
 * nested schema (structs, lists, strings, int64, double, bool): PLAIN values,
 * RLE levels, one v1 data page per column chunk, uncompressed or zstd pages.
 * Not a reader, and no dictionary encoding, statistics or Arrow schema.
 *
 * Layout: "PAR1", row groups (one page per column each), the thrift-compact
 * FileMetaData, its length, "PAR1". Lists use the standard three-level form
 * (LIST group / repeated group "list" / "element"), the shape pyarrow, Hugging
 * Face datasets and verl's pandas reader expect for chat messages:
 *
 *   static const skl_parquet_node msg[] = {{"role", SKL_PARQUET_STRING}, {"content", SKL_PARQUET_STRING}};
 *   static const skl_parquet_node elem[] = {{"element", SKL_PARQUET_STRUCT, false, msg, 2}};
 *   static const skl_parquet_node cols[] = {{"id", SKL_PARQUET_STRING},
 *                                           {"prompt", SKL_PARQUET_LIST, false, elem, 1}};
 *   skl_parquet_writer *w;
 *   skl_parquet_writer_open(&w, "out.parquet", cols, 2, &opts, &err);
 *   skl_parquet_write_row(w, row, &err);   // row: {"id": "...", "prompt": [{"role":..,"content":..}]}
 *   skl_parquet_writer_close(w, &err);     // footer, fsync, rename
 *
 * Writes are atomic: bytes go to "PATH.tmp.PID" and close renames. */
#ifndef SKL_IO_PARQUET_H
#define SKL_IO_PARQUET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum {
  SKL_PARQUET_STRING = 0, /* BYTE_ARRAY, logical type STRING (UTF-8) */
  SKL_PARQUET_INT64,      /* INT64 */
  SKL_PARQUET_DOUBLE,     /* DOUBLE */
  SKL_PARQUET_BOOL,       /* BOOLEAN */
  SKL_PARQUET_STRUCT,     /* group of children[n_children] */
  SKL_PARQUET_LIST,       /* LIST of children[0] (name it "element") */
} skl_parquet_kind;

typedef struct skl_parquet_node {
  const char *name;
  skl_parquet_kind kind;
  bool optional;                             /* false: a missing or null value is an error */
  const struct skl_parquet_node *children;   /* STRUCT: fields; LIST: the element */
  int n_children;
} skl_parquet_node;

typedef enum { SKL_PARQUET_UNCOMPRESSED = 0, SKL_PARQUET_ZSTD } skl_parquet_codec;

typedef struct {
  skl_parquet_codec codec; /* default SKL_PARQUET_ZSTD */
  int zstd_level;          /* 1..19, default 3 */
  uint64_t row_group_bytes;/* flush a row group past this many buffered bytes; default 64 MiB */
} skl_parquet_opts;

/* The defaults above. */
skl_parquet_opts skl_parquet_opts_default(void);

typedef struct skl_parquet_writer skl_parquet_writer;

/* Open a writer for path with the top-level columns cols[n] (kept by
 * reference: they must outlive the writer). opts NULL = defaults.
 * @return SKL_OK, SKL_ERR_INVALID (bad schema: empty struct, list without
 *   one element, level depth over 200), SKL_ERR_RANGE (zstd level), SKL_ERR_IO. */
skl_status skl_parquet_writer_open(skl_parquet_writer **w, const char *path, const skl_parquet_node *cols, int n,
                                   const skl_parquet_opts *opts, skl_error *err);

/* Append one row, a JSON object holding the columns (extra keys ignored).
 * Integers are accepted for DOUBLE. On a type error nothing of the row is kept.
 * @return SKL_OK, SKL_ERR_INVALID naming the field path and what was expected
 *   ("prompt[1].role: expected a string, got integer"), SKL_ERR_IO, SKL_ERR_NOMEM. */
skl_status skl_parquet_write_row(skl_parquet_writer *w, const json_t *row, skl_error *err);

/* Rows written so far. */
uint64_t skl_parquet_rows(const skl_parquet_writer *w);

/* Flush the last row group, write the footer, fsync and rename to the final
 * path; frees w (also on failure, when the temp file is removed).
 * @return SKL_OK, SKL_ERR_IO, SKL_ERR_NOMEM. */
skl_status skl_parquet_writer_close(skl_parquet_writer *w, skl_error *err);

/* Discard everything, remove the temp file, free w; accepts NULL. */
void skl_parquet_writer_abort(skl_parquet_writer *w);

#endif
