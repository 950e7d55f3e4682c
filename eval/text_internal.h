/* eval text: Unicode code-point helpers that behave like Python's str
 * (lower(), isspace(), isalnum(), strip()), so metrics match the benchmarks'
 * Python scorers. Internal to eval/; not a general Unicode library. */
#ifndef EVAL_TEXT_INTERNAL_H
#define EVAL_TEXT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* A code-point string: cp[n], owned (eval_u32_free). */
typedef struct {
  uint32_t *cp;
  size_t n;
  size_t cap;
} eval_u32;

/* Decode UTF-8 (len bytes) into code points. Invalid bytes decode as U+FFFD
 * (input from jansson is always valid UTF-8; this only guards raw buffers).
 * @return SKL_OK or SKL_ERR_NOMEM */
skl_status eval_u32_from_utf8(eval_u32 *out, const char *s, size_t len);
skl_status eval_u32_push(eval_u32 *s, uint32_t c);
void eval_u32_free(eval_u32 *s);
/* Encode back to a malloc'd NUL-terminated UTF-8 string (NULL on OOM). */
char *eval_u32_to_utf8(const uint32_t *cp, size_t n, size_t *len_out);

/* Python str.isspace() for one code point. */
bool eval_py_isspace(uint32_t c);
/* Python str.isalnum() for one code point (letters L*, numbers N*). */
bool eval_py_isalnum(uint32_t c);
/* Python str.lower() over a whole string (full mapping incl. U+0130 and the
 * Greek final-sigma rule). Writes a new string into out (out != in). */
skl_status eval_py_lower(const eval_u32 *in, eval_u32 *out);
/* Python str.lower() applied to UTF-8 text; result malloc'd UTF-8. */
skl_status eval_py_lower_utf8(const char *s, size_t len, char **out, size_t *out_len);

#endif
