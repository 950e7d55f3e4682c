/* synth corpus_read: file -> validated UTF-8 text, and JSONL "text" fields.
 * Not a corpus model: splitting into passages is synth/genre.c's job. */
#include "synth/corpus_read.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/fs.h"

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static skl_status unzstd(const char *path, const char *in, size_t n, char **out, size_t *len, skl_error *err) {
  ZSTD_DStream *ds = ZSTD_createDStream();
  if (!ds) return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  size_t cap = n * 4 + 4096, used = 0;
  char *buf = malloc(cap + 1);
  skl_status s = SKL_OK;
  ZSTD_inBuffer ib = {in, n, 0};
  size_t r = 1;
  while (buf && (ib.pos < ib.size || r != 0)) {
    if (used == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) { free(buf); buf = NULL; break; }
      buf = nb;
      cap *= 2;
    }
    ZSTD_outBuffer ob = {buf, cap, used};
    r = ZSTD_decompressStream(ds, &ob, &ib);
    used = ob.pos;
    if (ZSTD_isError(r)) {
      s = skl_error_set(err, SKL_ERR_PARSE, "%s: not a valid zstd stream at byte %zu (%s): re-compress it with "
                        "`zstd` or drop the .zst suffix", path, ib.pos, ZSTD_getErrorName(r));
      break;
    }
    if (ib.pos == ib.size && r != 0 && ob.pos < ob.size) {
      s = skl_error_set(err, SKL_ERR_PARSE, "%s: truncated zstd stream (%zu bytes): the file is incomplete", path, n);
      break;
    }
  }
  ZSTD_freeDStream(ds);
  if (!buf) return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  if (s) { free(buf); return s; }
  buf[used] = 0;
  *out = buf;
  *len = used;
  return SKL_OK;
}

/* Offset of the first invalid UTF-8 sequence or NUL, or len. */
static size_t utf8_bad(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c == 0) return i;
    if (c < 0x80) { i++; continue; }
    int k = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
    if (k < 0 || i + (size_t)k >= len) return i;
    for (int j = 1; j <= k; j++)
      if ((s[i + (size_t)j] & 0xc0) != 0x80) return i;
    i += (size_t)k + 1;
  }
  return len;
}

skl_status synth_corpus_read(const char *path, char **out, size_t *len, int *is_jsonl, skl_error *err) {
  *out = NULL;
  *len = 0;
  char *raw = NULL;
  size_t n = 0;
  if (!skl_fs_exists(path))
    return skl_error_set(err, SKL_ERR_NOTFOUND, "corpus file %s does not exist: fix the path under corpus:", path);
  skl_status s = skl_fs_read_all(path, &raw, &n, err);
  if (s) return s;
  int zst = ends_with(path, ".zst");
  *is_jsonl = ends_with(path, ".jsonl") || ends_with(path, ".jsonl.zst");
  if (zst) {
    char *plain = NULL;
    size_t pn = 0;
    s = unzstd(path, raw, n, &plain, &pn, err);
    free(raw);
    if (s) return s;
    raw = plain;
    n = pn;
  }
  size_t nonspace = 0;
  for (size_t i = 0; i < n && !nonspace; i++) nonspace = raw[i] != ' ' && raw[i] != '\n' && raw[i] != '\r' && raw[i] != '\t';
  if (!nonspace) {
    free(raw);
    return skl_error_set(err, SKL_ERR_INVALID, "corpus file %s is empty: add text or drop it from corpus:", path);
  }
  size_t bad = utf8_bad((const unsigned char *)raw, n);
  if (bad < n) {
    size_t line = 1;
    for (size_t i = 0; i < bad; i++) line += raw[i] == '\n';
    const char *what = raw[bad] ? "invalid UTF-8" : "a NUL byte";
    s = skl_error_set(err, SKL_ERR_INVALID, "corpus file %s looks binary (%s at byte %zu, line %zu): a corpus "
                      "is UTF-8 text (.txt) or JSONL with a \"text\" field, optionally .zst", path, what, bad, line);
    free(raw);
    return s;
  }
  *out = raw;
  *len = n;
  return SKL_OK;
}

skl_status synth_corpus_jsonl_texts(const char *path, const char *data, size_t len, char ***texts, size_t *n,
                                    skl_error *err) {
  *texts = NULL;
  *n = 0;
  size_t cap = 0, line = 0, from = 0;
  skl_status s = SKL_OK;
  for (size_t i = 0; i <= len && !s; i++) {
    if (i < len && data[i] != '\n') continue;
    line++;
    const char *l = data + from;
    size_t ll = i - from;
    from = i + 1;
    size_t k = 0;
    while (k < ll && (l[k] == ' ' || l[k] == '\t' || l[k] == '\r')) k++;
    if (k == ll) continue;
    json_error_t je;
    json_t *o = json_loadb(l, ll, 0, &je);
    if (!o) {
      s = skl_error_set(err, SKL_ERR_PARSE, "%s:%zu:%d: invalid JSON: %s", path, line, je.column, je.text);
      break;
    }
    json_t *t = json_is_object(o) ? json_object_get(o, "text") : NULL;
    if (!json_is_string(t)) {
      json_decref(o);
      s = skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: expected an object with a string field \"text\"", path, line);
      break;
    }
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nt = realloc(*texts, cap * sizeof *nt);
      if (!nt) { json_decref(o); s = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); break; }
      *texts = nt;
    }
    char *c = strdup(json_string_value(t));
    json_decref(o);
    if (!c) { s = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); break; }
    (*texts)[(*n)++] = c;
  }
  if (s) {
    for (size_t i = 0; i < *n; i++) free((*texts)[i]);
    free(*texts);
    *texts = NULL;
    *n = 0;
  }
  return s;
}
