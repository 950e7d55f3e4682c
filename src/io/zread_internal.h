/* skl io internal: a byte source over a plain or zstd file (magic-detected),
 * shared by the JSONL reader and the text stream. Not public API. */
#ifndef SKL_IO_ZREAD_INTERNAL_H
#define SKL_IO_ZREAD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <zstd.h>

#include "core/error.h"

typedef struct {
  FILE *f;
  char *path;
  bool zstd;
  bool eof;          /* the file has no more bytes */
  ZSTD_DCtx *dctx;
  unsigned char *in; /* [in_cap] compressed (or first plain) bytes */
  size_t in_cap;
  ZSTD_inBuffer inb;
  size_t last_ret;   /* last ZSTD_decompressStream hint: 0 = frame complete */
  uint64_t in_consumed; /* file bytes handed to the decoder before inb */
} skl_zread;

/* Errors name the path only ("PATH: cannot open: ..."). */
skl_status skl_zread_open(skl_zread *z, const char *path, skl_error *err);
/* Up to cap decompressed bytes; *got == 0 at end. Errors are
 * "corrupt zstd data (...) near compressed byte N; ..." without a path
 * prefix, so callers can add "PATH:LINE: ". */
skl_status skl_zread_read(skl_zread *z, void *dst, size_t cap, size_t *got, skl_error *err);
void skl_zread_close(skl_zread *z);

#endif
