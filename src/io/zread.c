/* skl io: plain-or-zstd byte source (see zread_internal.h).
 * Not line-aware: the JSONL reader splits lines on top of it. */
#include "io/zread_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};

skl_status skl_zread_open(skl_zread *z, const char *path, skl_error *err) {
  memset(z, 0, sizeof *z);
  z->f = fopen(path, "rb");
  if (!z->f)
    return skl_error_set(err, errno == ENOENT ? SKL_ERR_NOTFOUND : SKL_ERR_IO, "%s: cannot open: %s",
                         path, strerror(errno));
  z->path = strdup(path);
  z->in_cap = ZSTD_DStreamInSize();
  if (z->in_cap < 4096) z->in_cap = 4096;
  z->in = malloc(z->in_cap);
  if (!z->path || !z->in) { skl_zread_close(z); return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); }
  /* Sniff the magic; the sniffed bytes stay in `in` as the first input. */
  size_t n = fread(z->in, 1, 4, z->f);
  if (n < 4 && ferror(z->f)) {
    int e = errno;
    skl_zread_close(z);
    return skl_error_set(err, SKL_ERR_IO, "%s: read failed: %s", path, strerror(e));
  }
  z->inb.src = z->in;
  z->inb.size = n;
  z->inb.pos = 0;
  if (n == 4 && !memcmp(z->in, zstd_magic, 4)) {
    z->zstd = true;
    z->dctx = ZSTD_createDCtx();
    if (!z->dctx) { skl_zread_close(z); return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); }
  }
  return SKL_OK;
}

static skl_status refill(skl_zread *z, skl_error *err) {
  z->in_consumed += z->inb.size;
  z->inb.size = fread(z->in, 1, z->in_cap, z->f);
  z->inb.pos = 0;
  if (z->inb.size == 0) {
    if (ferror(z->f)) return skl_error_set(err, SKL_ERR_IO, "read failed: %s", strerror(errno));
    z->eof = true;
  }
  return SKL_OK;
}

skl_status skl_zread_read(skl_zread *z, void *dst, size_t cap, size_t *got, skl_error *err) {
  *got = 0;
  if (cap == 0) return SKL_OK;
  if (!z->zstd) {
    size_t n = 0;
    if (z->inb.pos < z->inb.size) { /* sniffed bytes first */
      n = z->inb.size - z->inb.pos;
      if (n > cap) n = cap;
      memcpy(dst, z->in + z->inb.pos, n);
      z->inb.pos += n;
    }
    if (n < cap && !z->eof) {
      size_t m = fread((char *)dst + n, 1, cap - n, z->f);
      if (m < cap - n) {
        if (ferror(z->f)) return skl_error_set(err, SKL_ERR_IO, "read failed: %s", strerror(errno));
        z->eof = true;
      }
      n += m;
    }
    *got = n;
    return SKL_OK;
  }
  for (;;) {
    if (z->inb.pos == z->inb.size && !z->eof) {
      skl_status s = refill(z, err);
      if (s) return s;
    }
    ZSTD_outBuffer out = {dst, cap, 0};
    size_t pos0 = z->inb.pos;
    size_t ret = ZSTD_decompressStream(z->dctx, &out, &z->inb);
    if (ZSTD_isError(ret))
      return skl_error_set(err, SKL_ERR_PARSE,
                           "corrupt zstd data (%s) near compressed byte %llu; the file is damaged: "
                           "regenerate it (check it with `zstd -t`)",
                           ZSTD_getErrorName(ret), (unsigned long long)(z->in_consumed + z->inb.pos));
    /* An idle call (no input, no output) reports the next frame's header
     * size, not an open frame: keep the hint of the last real progress. */
    if (z->inb.pos != pos0 || out.pos > 0) z->last_ret = ret;
    if (out.pos > 0) { *got = out.pos; return SKL_OK; }
    if (z->eof && z->inb.pos == z->inb.size) {
      if (z->last_ret != 0)
        return skl_error_set(err, SKL_ERR_PARSE,
                             "truncated zstd stream: the file ends inside a frame after %llu "
                             "compressed bytes; it was cut short (interrupted copy or write): "
                             "regenerate or re-copy it",
                             (unsigned long long)z->in_consumed);
      return SKL_OK;
    }
  }
}

void skl_zread_close(skl_zread *z) {
  if (!z) return;
  if (z->f) fclose(z->f);
  ZSTD_freeDCtx(z->dctx);
  free(z->in);
  free(z->path);
  memset(z, 0, sizeof *z);
}
