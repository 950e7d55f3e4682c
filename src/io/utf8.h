/* skl utf8: strict UTF-8 validation, fast enough to run over every record.
 * Not a Unicode library: no normalisation or categories (tok/ uses utf8proc). */
#ifndef SKL_IO_UTF8_H
#define SKL_IO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Check that s[0..n) is well-formed UTF-8 (RFC 3629): rejects overlong
 * forms, UTF-16 surrogates (U+D800..U+DFFF), code points above U+10FFFF,
 * stray continuation bytes and sequences cut short by the end of the buffer.
 * NUL bytes are valid UTF-8 and accepted.
 * @return true if valid; otherwise false and, if bad_offset is non-NULL,
 *         the byte offset of the first byte of the first bad sequence. */
bool skl_utf8_valid(const char *s, size_t n, size_t *bad_offset);

#endif
