/* skl utf8: strict UTF-8 validation with an 8-byte ASCII fast path.
 * Not a decoder: it only says where the first bad sequence starts. */
#include "io/utf8.h"

#include <stdint.h>
#include <string.h>

bool skl_utf8_valid(const char *s, size_t n, size_t *bad_offset) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    /* ASCII fast path: most JSONL bytes are ASCII. */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned c = p[i];
    if (c < 0x80) { i++; continue; }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }          /* no overlongs */
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }          /* no surrogates */
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) { need = 3; lo = 0x90; }          /* no overlongs */
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }          /* <= U+10FFFF */
    else goto bad;                                        /* 80..C1, F5..FF */
    if (n - i <= need) goto bad;
    if (p[i + 1] < lo || p[i + 1] > hi) goto bad;
    for (size_t k = 2; k <= need; k++)
      if ((p[i + k] & 0xC0) != 0x80) goto bad;
    i += need + 1;
  }
  return true;
bad:
  if (bad_offset) *bad_offset = i;
  return false;
}
