/* skl jsonl reader: lines out of a plain or zstd JSONL file, checked for
 * UTF-8 and parsed by jansson. Not a schema check (io/record.h). */
#include <stdlib.h>
#include <string.h>

#include "io/jsonl.h"
#include "io/utf8.h"
#include "io/zread_internal.h"

#define SKL_JSONL_INIT_CAP ((size_t)1 << 20)
#define SKL_JSONL_MAX_LINE ((size_t)1 << 30)

struct skl_jsonl_reader {
  skl_zread z;
  char *buf;      /* [cap + 1]: window of decompressed bytes */
  size_t cap;
  size_t start;   /* first byte not yet returned */
  size_t end;     /* one past the last byte read */
  size_t scan;    /* bytes [start, scan) hold no '\n' */
  size_t lineno;
  bool at_eof;
  bool failed;    /* sticky error, see `sticky` */
  skl_error sticky;
};

skl_status skl_jsonl_open(skl_jsonl_reader **out, const char *path, skl_error *err) {
  *out = NULL;
  skl_jsonl_reader *r = calloc(1, sizeof *r);
  if (!r) return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  skl_status s = skl_zread_open(&r->z, path, err);
  if (s) { free(r); return s; }
  r->cap = SKL_JSONL_INIT_CAP;
  r->buf = malloc(r->cap + 1);
  if (!r->buf) { skl_jsonl_close(r); return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); }
  *out = r;
  return SKL_OK;
}

/* Record *err (never NULL here) as the sticky error; returns its code. */
static skl_status fail(skl_jsonl_reader *r, skl_error *err) {
  r->failed = true;
  r->sticky = *err;
  return r->sticky.code;
}

static skl_status replay(skl_jsonl_reader *r, skl_error *err) {
  if (err) *err = r->sticky;
  return r->sticky.code;
}

/* Make room for more input: compact the window, or grow it geometrically. */
static skl_status make_room(skl_jsonl_reader *r, skl_error *err) {
  if (r->end < r->cap) return SKL_OK;
  if (r->start > 0) {
    size_t keep = r->end - r->start;
    memmove(r->buf, r->buf + r->start, keep);
    r->scan -= r->start;
    r->end = keep;
    r->start = 0;
    return SKL_OK;
  }
  if (r->cap >= SKL_JSONL_MAX_LINE)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "%s:%zu: line longer than %zu bytes without a newline; is this a JSONL file?",
                         r->z.path, r->lineno + 1, SKL_JSONL_MAX_LINE);
  size_t ncap = r->cap * 2;
  char *nb = realloc(r->buf, ncap + 1);
  if (!nb) return skl_error_set(err, SKL_ERR_NOMEM, "%s:%zu: out of memory for a %zu-byte line",
                                r->z.path, r->lineno + 1, ncap);
  r->buf = nb;
  r->cap = ncap;
  return SKL_OK;
}

skl_status skl_jsonl_next_line(skl_jsonl_reader *r, const char **line, size_t *len, skl_error *err) {
  *line = NULL;
  if (len) *len = 0;
  if (r->failed) return replay(r, err);
  skl_error local;
  if (!err) err = &local; /* the sticky copy needs the message */
  for (;;) {
    char *nl = r->scan < r->end ? memchr(r->buf + r->scan, '\n', r->end - r->scan) : NULL;
    size_t a = r->start, b;
    if (nl) {
      b = (size_t)(nl - r->buf);
      r->start = r->scan = b + 1;
    } else if (r->at_eof) {
      if (r->start == r->end) return SKL_OK; /* clean end of file */
      b = r->end;                            /* last line without '\n' */
      r->start = r->scan = r->end;
    } else {
      r->scan = r->end;
      skl_status s = make_room(r, err);
      if (s) return fail(r, err);
      size_t got = 0;
      s = skl_zread_read(&r->z, r->buf + r->end, r->cap - r->end, &got, err);
      if (s) {
        skl_error_prefix(err, "%s:%zu", r->z.path, r->lineno + 1);
        return fail(r, err);
      }
      if (got == 0) r->at_eof = true;
      r->end += got;
      continue;
    }
    r->lineno++;
    /* a UTF-8 byte order mark before the first line is not JSON: skip it */
    if (r->lineno == 1 && b - a >= 3 && !memcmp(r->buf + a, "\xEF\xBB\xBF", 3)) a += 3;
    if (b > a && r->buf[b - 1] == '\r') b--;
    r->buf[b] = '\0';
    if (b == a) continue; /* blank line */
    size_t bad = 0;
    if (!skl_utf8_valid(r->buf + a, b - a, &bad)) {
      skl_error_set(err, SKL_ERR_PARSE,
                    "%s:%zu: invalid UTF-8 at byte %zu of the line (byte 0x%02x); the file must be "
                    "UTF-8: re-encode it (e.g. iconv -t UTF-8) or regenerate it",
                    r->z.path, r->lineno, bad, (unsigned)(unsigned char)r->buf[a + bad]);
      return fail(r, err);
    }
    *line = r->buf + a;
    if (len) *len = b - a;
    return SKL_OK;
  }
}

static const char *json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "an unknown value";
}

skl_status skl_jsonl_next(skl_jsonl_reader *r, json_t **obj, skl_error *err) {
  *obj = NULL;
  skl_error local;
  if (!err) err = &local;
  const char *line;
  size_t len;
  skl_status s = skl_jsonl_next_line(r, &line, &len, err);
  if (s || !line) return s;
  json_error_t je;
  json_t *v = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
  if (!v) {
    skl_error_set(err, SKL_ERR_PARSE, "%s:%zu: invalid JSON at column %d (byte %d): %s; fix the line or regenerate the file",
                  r->z.path, r->lineno, je.column, je.position, je.text);
    return fail(r, err);
  }
  if (!json_is_object(v)) {
    skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: expected one JSON object per line, got %s",
                  r->z.path, r->lineno, json_type_name(v));
    json_decref(v);
    return fail(r, err);
  }
  *obj = v;
  return SKL_OK;
}

size_t skl_jsonl_lineno(const skl_jsonl_reader *r) { return r->lineno; }
const char *skl_jsonl_path(const skl_jsonl_reader *r) { return r->z.path; }
bool skl_jsonl_is_zstd(const skl_jsonl_reader *r) { return r->z.zstd; }

void skl_jsonl_close(skl_jsonl_reader *r) {
  if (!r) return;
  skl_zread_close(&r->z);
  free(r->buf);
  free(r);
}

/* ------------------------------------------------------------ plain text */

struct skl_textfile {
  skl_zread z;
  bool failed;
  skl_error sticky;
};

skl_status skl_textfile_open(skl_textfile **out, const char *path, skl_error *err) {
  *out = NULL;
  skl_textfile *t = calloc(1, sizeof *t);
  if (!t) return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  skl_status s = skl_zread_open(&t->z, path, err);
  if (s) { free(t); return s; }
  *out = t;
  return SKL_OK;
}

skl_status skl_textfile_read(skl_textfile *t, char *buf, size_t cap, size_t *got, skl_error *err) {
  *got = 0;
  if (t->failed) { if (err) *err = t->sticky; return t->sticky.code; }
  skl_error local;
  if (!err) err = &local;
  skl_status s = skl_zread_read(&t->z, buf, cap, got, err);
  if (s) {
    skl_error_prefix(err, "%s", t->z.path);
    t->failed = true;
    t->sticky = *err;
    return s;
  }
  return SKL_OK;
}

void skl_textfile_close(skl_textfile *t) {
  if (!t) return;
  skl_zread_close(&t->z);
  free(t);
}
