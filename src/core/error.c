/* skl error values: names, formatting and context prefixes.
 * Not I/O: nothing here prints except the assertion failure handler. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[SKL_ERR_COUNT] = {
    [SKL_OK] = "ok",
    [SKL_ERR_NOMEM] = "out of memory",
    [SKL_ERR_IO] = "i/o error",
    [SKL_ERR_PARSE] = "parse error",
    [SKL_ERR_INVALID] = "invalid input",
    [SKL_ERR_RANGE] = "out of range",
    [SKL_ERR_NOTFOUND] = "not found",
    [SKL_ERR_UNSUPPORTED] = "unsupported",
    [SKL_ERR_STATE] = "invalid state",
    [SKL_ERR_NUMERIC] = "non-finite number",
    [SKL_ERR_INTERNAL] = "internal error",
};

const char *skl_status_name(skl_status s) {
  if ((int)s < 0 || s >= SKL_ERR_COUNT) return "unknown status";
  return status_names[s];
}

skl_status skl_error_set(skl_error *err, skl_status code, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

skl_status skl_error_prefix(skl_error *err, const char *fmt, ...) {
  if (!err) return SKL_ERR_INTERNAL;
  char head[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  char old[sizeof err->msg];
  memcpy(old, err->msg, sizeof old);
  size_t hl = strlen(head);
  if (hl > sizeof err->msg - 3) hl = sizeof err->msg - 3;
  memcpy(err->msg, head, hl);
  memcpy(err->msg + hl, ": ", 2);
  size_t room = sizeof err->msg - hl - 3, ol = strlen(old);
  if (ol > room) ol = room;
  memcpy(err->msg + hl + 2, old, ol);
  err->msg[hl + 2 + ol] = '\0';
  return err->code;
}

void skl_error_clear(skl_error *err) {
  if (!err) return;
  err->code = SKL_OK;
  err->msg[0] = '\0';
}

void skl_assert_fail(const char *cond, const char *file, int line) {
  fprintf(stderr, "skillrl: internal assertion failed: %s (%s:%d); please report this\n", cond,
          file, line);
  abort();
}
