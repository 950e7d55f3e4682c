/* skl jsonl writer: compact JSON lines, optionally zstd-compressed in
 * zstd's multi-threaded mode, committed atomically with a sha256.
 * Not a reader (jsonl_read.c) and not a manifest (manifest.c). */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "io/jsonl.h"
#include "io/utf8.h"

/* Lines are staged and handed to zstd (or fwrite) in batches of this size:
 * one compressStream2 call per record would cost more than the copy. */
#define SKL_JSONL_STAGE ((size_t)1 << 20)

struct skl_jsonl_writer {
  skl_atomic_file af;
  ZSTD_CCtx *cctx;     /* NULL for plain output */
  unsigned char *out;  /* [out_cap] compressed bytes on their way to the file */
  size_t out_cap;
  skl_buf stage;       /* JSONL bytes not yet compressed/written */
  skl_sha256 sha;      /* of the file's bytes */
  uint64_t records, ubytes, fbytes;
  bool failed;         /* a write failed: close() refuses to commit */
};

skl_jsonl_writer_opts skl_jsonl_writer_opts_default(void) {
  skl_jsonl_writer_opts o = {3, 0};
  return o;
}

void skl_jsonl_writer_abort(skl_jsonl_writer *w) {
  if (!w) return;
  skl_atomic_abort(&w->af);
  ZSTD_freeCCtx(w->cctx);
  free(w->out);
  skl_buf_free(&w->stage);
  free(w);
}

static skl_status zparam(skl_jsonl_writer *w, ZSTD_cParameter p, int v, const char *path,
                         skl_error *err) {
  size_t r = ZSTD_CCtx_setParameter(w->cctx, p, v);
  if (ZSTD_isError(r))
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "%s: zstd refused parameter %d = %d: %s", path,
                         (int)p, v, ZSTD_getErrorName(r));
  return SKL_OK;
}

skl_status skl_jsonl_writer_open(skl_jsonl_writer **out, const char *path,
                                 const skl_jsonl_writer_opts *opts, skl_error *err) {
  *out = NULL;
  skl_jsonl_writer_opts o = opts ? *opts : skl_jsonl_writer_opts_default();
  if (o.zstd_level < 0 || o.zstd_level > ZSTD_maxCLevel())
    return skl_error_set(err, SKL_ERR_RANGE, "%s: zstd level %d out of range: use 0 (plain) to %d",
                         path, o.zstd_level, ZSTD_maxCLevel());
  if (o.zstd_workers < 0 || o.zstd_workers > 256)
    return skl_error_set(err, SKL_ERR_RANGE, "%s: zstd workers %d out of range: use 0 to 256", path,
                         o.zstd_workers);
  skl_jsonl_writer *w = calloc(1, sizeof *w);
  if (!w) return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  skl_sha256_init(&w->sha);
  if (skl_buf_reserve(&w->stage, SKL_JSONL_STAGE + 4096)) {
    skl_jsonl_writer_abort(w);
    return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  }
  if (o.zstd_level > 0) {
    w->cctx = ZSTD_createCCtx();
    w->out_cap = ZSTD_CStreamOutSize();
    w->out = malloc(w->out_cap);
    if (!w->cctx || !w->out) {
      skl_jsonl_writer_abort(w);
      return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
    }
    skl_status s = zparam(w, ZSTD_c_compressionLevel, o.zstd_level, path, err);
    if (!s) s = zparam(w, ZSTD_c_checksumFlag, 1, path, err);
    if (!s) {
      /* Always MT mode (>= 1 worker): its bytes do not depend on the worker
       * count. Fall back to single-threaded only if libzstd has no threads
       * and one worker was asked for. */
      int nw = o.zstd_workers < 1 ? 1 : o.zstd_workers;
      if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, nw)) && nw > 1)
        s = skl_error_set(err, SKL_ERR_UNSUPPORTED,
                          "%s: this libzstd has no thread support; use zstd_workers = 0", path);
    }
    if (s) { skl_jsonl_writer_abort(w); return s; }
  }
  skl_status s = skl_atomic_open(&w->af, path, err);
  if (s) { skl_jsonl_writer_abort(w); return s; }
  *out = w;
  return SKL_OK;
}

static skl_status emit(skl_jsonl_writer *w, const void *data, size_t n, skl_error *err) {
  if (n == 0) return SKL_OK;
  if (fwrite(data, 1, n, w->af.f) != n) {
    w->failed = true;
    return skl_error_set(err, SKL_ERR_IO, "%s: write failed (disk full?)", w->af.path);
  }
  skl_sha256_update(&w->sha, data, n);
  w->fbytes += n;
  return SKL_OK;
}

/* Push the staged bytes through zstd (mode: continue or end). */
static skl_status flush_stage(skl_jsonl_writer *w, ZSTD_EndDirective mode, skl_error *err) {
  if (!w->cctx) {
    skl_status s = emit(w, w->stage.data, w->stage.len, err);
    skl_buf_clear(&w->stage);
    return s;
  }
  ZSTD_inBuffer in = {w->stage.data, w->stage.len, 0};
  for (;;) {
    ZSTD_outBuffer o = {w->out, w->out_cap, 0};
    size_t rem = ZSTD_compressStream2(w->cctx, &o, &in, mode);
    if (ZSTD_isError(rem)) {
      w->failed = true;
      return skl_error_set(err, SKL_ERR_IO, "%s: zstd compression failed: %s", w->af.path,
                           ZSTD_getErrorName(rem));
    }
    skl_status s = emit(w, w->out, o.pos, err);
    if (s) return s;
    if (mode == ZSTD_e_end ? rem == 0 : in.pos == in.size) break;
  }
  skl_buf_clear(&w->stage);
  return SKL_OK;
}

static skl_status finish_line(skl_jsonl_writer *w, size_t mark, skl_error *err) {
  if (skl_buf_append(&w->stage, "\n", 1)) {
    w->stage.len = mark;
    return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", w->af.path);
  }
  w->records++;
  w->ubytes += w->stage.len - mark;
  if (w->stage.len >= SKL_JSONL_STAGE) return flush_stage(w, ZSTD_e_continue, err);
  return SKL_OK;
}

static int dump_cb(const char *buffer, size_t size, void *data) {
  return skl_buf_append(data, buffer, size) ? -1 : 0;
}

static skl_status check_open(skl_jsonl_writer *w, skl_error *err) {
  if (w->failed)
    return skl_error_set(err, SKL_ERR_STATE, "%s: an earlier write failed; abort this writer",
                         w->af.path);
  return SKL_OK;
}

skl_status skl_jsonl_write(skl_jsonl_writer *w, const json_t *obj, skl_error *err) {
  skl_status s = check_open(w, err);
  if (s) return s;
  if (!json_is_object(obj))
    return skl_error_set(err, SKL_ERR_INVALID, "%s: record %llu: expected a JSON object", w->af.path,
                         (unsigned long long)w->records + 1);
  size_t mark = w->stage.len;
  /* jansson >= 2.14 keeps insertion order; no ENSURE_ASCII: UTF-8 out. */
  if (json_dump_callback(obj, dump_cb, &w->stage, JSON_COMPACT) != 0) {
    w->stage.len = mark;
    if (w->stage.data) w->stage.data[mark] = '\0';
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s: record %llu: cannot serialise (out of memory or a non-finite number)",
                         w->af.path, (unsigned long long)w->records + 1);
  }
  return finish_line(w, mark, err);
}

skl_status skl_jsonl_write_line(skl_jsonl_writer *w, const char *line, size_t len, skl_error *err) {
  skl_status s = check_open(w, err);
  if (s) return s;
  if (memchr(line, '\n', len))
    return skl_error_set(err, SKL_ERR_INVALID, "%s: record %llu: a line must not contain '\\n'",
                         w->af.path, (unsigned long long)w->records + 1);
  size_t bad;
  if (!skl_utf8_valid(line, len, &bad))
    return skl_error_set(err, SKL_ERR_INVALID, "%s: record %llu: invalid UTF-8 at byte %zu",
                         w->af.path, (unsigned long long)w->records + 1, bad);
  size_t mark = w->stage.len;
  if (skl_buf_append(&w->stage, line, len)) {
    w->stage.len = mark;
    return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", w->af.path);
  }
  return finish_line(w, mark, err);
}

skl_status skl_jsonl_writer_close(skl_jsonl_writer *w, skl_shard_info *info, skl_error *err) {
  skl_status s = check_open(w, err);
  if (!s) s = flush_stage(w, ZSTD_e_end, err);
  if (!s) s = skl_atomic_commit(&w->af, err); /* removes the temp file on failure */
  if (!s && info) {
    uint8_t d[32];
    skl_sha256_final(&w->sha, d);
    skl_sha256_hex(d, info->sha256);
    info->records = w->records;
    info->uncompressed_bytes = w->ubytes;
    info->file_bytes = w->fbytes;
  }
  skl_jsonl_writer_abort(w); /* frees; the temp is gone (renamed or removed) */
  return s;
}
