/* skl error values: one status enum, a name function, and a context buffer.
 * Not a logger: library code fills an skl_error and returns; only main prints. */
#ifndef SKL_ERROR_H
#define SKL_ERROR_H

#include <stddef.h>

typedef enum {
  SKL_OK = 0,
  SKL_ERR_NOMEM,       /* allocation failed */
  SKL_ERR_IO,          /* open/read/write/rename failed (errno text in message) */
  SKL_ERR_PARSE,       /* malformed input: JSON, YAML, zstd frame, UTF-8, safetensors header */
  SKL_ERR_INVALID,     /* well-formed but wrong: unknown key, bad type, missing field */
  SKL_ERR_RANGE,       /* value out of its allowed range */
  SKL_ERR_NOTFOUND,    /* file, key, tensor or item absent */
  SKL_ERR_UNSUPPORTED, /* valid but not implemented by skillrl (say what is) */
  SKL_ERR_STATE,       /* call at the wrong time (e.g. write after close), refused overwrite */
  SKL_ERR_NUMERIC,     /* NaN/inf where a finite number is required */
  SKL_ERR_INTERNAL,    /* a bug in skillrl: report it */
  SKL_ERR_COUNT
} skl_status;

/* Error context carried to the user. Functions that can fail take an
 * `skl_error *err` (may be NULL) and return an skl_status; on failure the
 * message names the file, line, key or tensor and what to do. */
typedef struct {
  skl_status code;
  char msg[1024];
} skl_error;

/* @return stable lower-case name of a status, e.g. "parse" */
const char *skl_status_name(skl_status s);

/* Set err (if non-NULL) to code and a printf-style message.
 * @return code, so callers can write `return skl_error_set(err, ...)`. */
skl_status skl_error_set(skl_error *err, skl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend context to an existing message: "CTX: old message".
 * @return err->code (or code SKL_ERR_INTERNAL if err is NULL). */
skl_status skl_error_prefix(skl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to SKL_OK with an empty message. */
void skl_error_clear(skl_error *err);

/* Programming-error check that stays on in release builds (ggml style). */
#define SKL_ASSERT(cond)                                                       \
  do {                                                                         \
    if (!(cond)) skl_assert_fail(#cond, __FILE__, __LINE__);                   \
  } while (0)
_Noreturn void skl_assert_fail(const char *cond, const char *file, int line);

#endif
