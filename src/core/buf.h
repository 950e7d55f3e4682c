/* skl buf: growable byte buffer (amortised doubling) for building text.
 * Not a string library: bytes in, bytes out, always NUL-terminated. */
#ifndef SKL_BUF_H
#define SKL_BUF_H

#include <stddef.h>

#include "core/error.h"

typedef struct {
  char *data; /* NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
} skl_buf;

/* All return SKL_OK or SKL_ERR_NOMEM; a zeroed skl_buf is a valid empty one. */
skl_status skl_buf_reserve(skl_buf *b, size_t extra);
skl_status skl_buf_append(skl_buf *b, const void *data, size_t n);
skl_status skl_buf_puts(skl_buf *b, const char *s);
skl_status skl_buf_printf(skl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void skl_buf_clear(skl_buf *b); /* keeps capacity */
void skl_buf_free(skl_buf *b);

#endif
