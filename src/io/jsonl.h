/* skl jsonl: streaming JSON Lines reader and atomic writer over plain or
 * zstd-compressed files, plus a plain-text stream for corpora.
 * Not a JSON library (jansson is) and not a schema check (see io/record.h). */
#ifndef SKL_IO_JSONL_H
#define SKL_IO_JSONL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ---------------------------------------------------------------- reader */

/* Reader over FILE.jsonl or FILE.jsonl.zst. Compression is detected from the
 * zstd magic number (28 b5 2f fd), not from the extension. Lines are streamed:
 * one decompressed window grown geometrically, so a 500 KB record costs
 * O(record) work. Blank lines (also "\r\n" endings) are skipped; a last line
 * without a trailing newline is accepted.
 *
 * Errors read "FILE:LINE: what; what to do" and are sticky: after an error,
 * every further next/next_line call returns the same error again.
 *
 *   skl_jsonl_reader *r;
 *   if (skl_jsonl_open(&r, path, &err)) return err.code;
 *   json_t *obj;
 *   while (!(s = skl_jsonl_next(r, &obj, &err)) && obj) { ...; json_decref(obj); }
 *   skl_jsonl_close(r);
 */
typedef struct skl_jsonl_reader skl_jsonl_reader;

/* @return SKL_OK, SKL_ERR_NOTFOUND / SKL_ERR_IO (cannot open), SKL_ERR_NOMEM. */
skl_status skl_jsonl_open(skl_jsonl_reader **r, const char *path, skl_error *err);

/* Next non-blank line, without its newline (and without a trailing '\r' or
 * a leading UTF-8 BOM on line 1), NUL-terminated. *line stays valid until
 * the next call on r; *line == NULL at end of file. The line is checked to
 * be valid UTF-8.
 * Integrity: truncation is always caught (the file ends inside a frame) and
 * no line cut by it is returned. A flipped byte is usually caught by the
 * block decoder at once, at the latest by the frame's content checksum at
 * its end; lines decoded before that point were already returned, so check
 * a dataset with skl_manifest_verify (sha256 of every shard) before use.
 * @return SKL_OK; SKL_ERR_PARSE for corrupt/truncated zstd or invalid UTF-8
 *         (message gives the byte offset in the line); SKL_ERR_IO. */
skl_status skl_jsonl_next_line(skl_jsonl_reader *r, const char **line, size_t *len, skl_error *err);

/* Next record parsed as a JSON object (caller owns it: json_decref);
 * *obj == NULL at end of file.
 * @return as next_line, plus SKL_ERR_PARSE for invalid JSON (jansson's
 *         message and column) and SKL_ERR_INVALID for a line that is valid
 *         JSON but not an object. */
skl_status skl_jsonl_next(skl_jsonl_reader *r, json_t **obj, skl_error *err);

/* 1-based number of the line last returned (blank lines count); 0 before the
 * first call. Use it to prefix your own errors: "PATH:LINE: ...". */
size_t skl_jsonl_lineno(const skl_jsonl_reader *r);

/* The path given to open (for messages). */
const char *skl_jsonl_path(const skl_jsonl_reader *r);

/* true if the file is zstd-compressed. */
bool skl_jsonl_is_zstd(const skl_jsonl_reader *r);

/* Close and free; accepts NULL. */
void skl_jsonl_close(skl_jsonl_reader *r);

/* ---------------------------------------------------------------- writer */

/* Writer options. Determinism: compressed output is always produced in
 * zstd's multi-threaded mode (at least 1 worker), whose bytes do not depend
 * on the worker count; so zstd_workers = 0, 1 or 8 give identical files.
 * (zstd's single-threaded mode would give different bytes; we never use it
 * unless libzstd was built without threads.) Frames carry a content
 * checksum so `zstd -t` and our reader detect corruption. */
typedef struct {
  int zstd_level;   /* 1..19 (22 with --ultra semantics); 0 = plain .jsonl. Default 3. */
  int zstd_workers; /* compression threads; 0 or 1 = one worker. Default 0. */
} skl_jsonl_writer_opts;

/* The defaults: level 3, one worker. */
skl_jsonl_writer_opts skl_jsonl_writer_opts_default(void);

/* What close() reports about the committed file. */
typedef struct {
  uint64_t records;            /* lines written */
  uint64_t uncompressed_bytes; /* JSONL bytes including newlines */
  uint64_t file_bytes;         /* bytes on disk */
  char sha256[65];             /* lower-case hex of the file's bytes */
} skl_shard_info;

typedef struct skl_jsonl_writer skl_jsonl_writer;

/* Open a writer for path. Bytes go to "PATH.tmp.PID"; only close() makes
 * them visible under path (fsync + rename), so a crash or abort never leaves
 * a file under the final name that looks complete. opts NULL = defaults.
 * @return SKL_OK, SKL_ERR_IO, SKL_ERR_RANGE (bad level/workers), SKL_ERR_NOMEM. */
skl_status skl_jsonl_writer_open(skl_jsonl_writer **w, const char *path,
                                 const skl_jsonl_writer_opts *opts, skl_error *err);

/* Append obj (must be a JSON object) as one compact line: keys in insertion
 * order, UTF-8 kept as UTF-8 (no \u escapes), no spaces.
 * @return SKL_OK, SKL_ERR_INVALID (not an object / not serialisable), SKL_ERR_IO. */
skl_status skl_jsonl_write(skl_jsonl_writer *w, const json_t *obj, skl_error *err);

/* Append a pre-serialised line (without newline). It must not contain '\n'
 * and must be valid UTF-8; it is not parsed.
 * @return SKL_OK, SKL_ERR_INVALID, SKL_ERR_IO. */
skl_status skl_jsonl_write_line(skl_jsonl_writer *w, const char *line, size_t len, skl_error *err);

/* Finish the stream, fsync, rename to the final path, fill info (may be
 * NULL) and free w. On failure the temp file is removed and w is freed too.
 * @return SKL_OK or SKL_ERR_IO. */
skl_status skl_jsonl_writer_close(skl_jsonl_writer *w, skl_shard_info *info, skl_error *err);

/* Discard everything written, remove the temp file, free w; accepts NULL. */
void skl_jsonl_writer_abort(skl_jsonl_writer *w);

/* ------------------------------------------------------------ plain text */

/* Raw byte stream over a .txt file or a zstd-compressed one (detected by
 * magic), for background corpora. Not line-oriented and not UTF-8 checked. */
typedef struct skl_textfile skl_textfile;

skl_status skl_textfile_open(skl_textfile **r, const char *path, skl_error *err);
/* Read up to cap bytes into buf; *got == 0 means end of file.
 * @return SKL_OK, SKL_ERR_PARSE (corrupt/truncated zstd, "FILE: ..."), SKL_ERR_IO. */
skl_status skl_textfile_read(skl_textfile *r, char *buf, size_t cap, size_t *got, skl_error *err);
void skl_textfile_close(skl_textfile *r);

#endif
