/* skl buf: append-only growable buffer. Not thread-safe. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

skl_status skl_buf_reserve(skl_buf *b, size_t extra) {
  if (extra > SIZE_MAX / 2 - b->len) return SKL_ERR_NOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return SKL_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  char *d = realloc(b->data, cap);
  if (!d) return SKL_ERR_NOMEM;
  b->data = d;
  b->cap = cap;
  return SKL_OK;
}

skl_status skl_buf_append(skl_buf *b, const void *data, size_t n) {
  if (skl_buf_reserve(b, n)) return SKL_ERR_NOMEM;
  if (n) memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  return SKL_OK;
}

skl_status skl_buf_puts(skl_buf *b, const char *s) { return skl_buf_append(b, s, strlen(s)); }

skl_status skl_buf_printf(skl_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return SKL_ERR_INTERNAL;
  if (skl_buf_reserve(b, (size_t)n)) return SKL_ERR_NOMEM;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return SKL_OK;
}

void skl_buf_clear(skl_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void skl_buf_free(skl_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
