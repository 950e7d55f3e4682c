/* Tests for io/utf8.h: RFC 3629 edge cases, offsets past the ASCII fast path,
 * and a randomized cross-check against a plain reference decoder.
 * Not a speed test. */
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "harness.h"
#include "io/utf8.h"

/* Straightforward reference: decode each sequence, reject overlong,
 * surrogates and > U+10FFFF. Returns true or the bad offset. */
static bool ref_valid(const unsigned char *s, size_t n, size_t *bad) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) { i++; continue; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else { *bad = i; return false; }
    if (i + len > n) { *bad = i; return false; }
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) { *bad = i; return false; }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { *bad = i; return false; }
    i += len;
  }
  return true;
}

static void check_bad(const char *s, size_t n, size_t want_off) {
  size_t off = 12345;
  CHECK_MSG(!skl_utf8_valid(s, n, &off), "accepted invalid input");
  CHECK_MSG(off == want_off, "offset %zu, want %zu", off, want_off);
}

int main(void) {
  size_t off = 99;
  CHECK(skl_utf8_valid("", 0, &off) && off == 99);
  CHECK(skl_utf8_valid("plain ascii text longer than eight", 34, NULL));
  CHECK(skl_utf8_valid("a\0b", 3, NULL)); /* NUL is a valid code point */
  const char *good[] = {"é", "€", "日本語", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
                        "\xed\x9f\xbf", "\xee\x80\x80", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    CHECK_MSG(skl_utf8_valid(good[i], strlen(good[i]), NULL), "rejected good[%zu]", i);

  check_bad("\xc0\x80", 2, 0);             /* overlong NUL */
  check_bad("\xc1\xbf", 2, 0);             /* overlong 2-byte */
  check_bad("\xe0\x9f\xbf", 3, 0);         /* overlong 3-byte */
  check_bad("\xf0\x8f\xbf\xbf", 4, 0);     /* overlong 4-byte */
  check_bad("\xed\xa0\x80", 3, 0);         /* high surrogate */
  check_bad("\xed\xbf\xbf", 3, 0);         /* low surrogate */
  check_bad("\xf4\x90\x80\x80", 4, 0);     /* U+110000 */
  check_bad("\xf5\x80\x80\x80", 4, 0);
  check_bad("\xff", 1, 0);
  check_bad("ab\x80", 3, 2);               /* stray continuation */
  check_bad("abc\xe2\x82", 5, 3);          /* cut short by the end */
  check_bad("abc\xe2\x82x", 6, 3);         /* cut short by ASCII */
  check_bad("0123456789abcdef0123\xc3", 21, 20); /* after the 8-byte fast path */
  check_bad("0123456789abcdefé01234567\xa9", 27, 26);
  CHECK(!skl_utf8_valid("\xff", 1, NULL)); /* NULL offset is fine */

  /* randomized: mostly-valid strings with a few random bytes, vs the reference */
  skl_rng r;
  skl_rng_seed(&r, 2026);
  unsigned char buf[64];
  int mismatches = 0, invalid_seen = 0;
  for (int t = 0; t < 200000; t++) {
    size_t n = skl_rng_below(&r, sizeof buf + 1);
    for (size_t i = 0; i < n; i++) {
      uint64_t k = skl_rng_below(&r, 10);
      buf[i] = k < 6 ? (unsigned char)('a' + k) : k < 8 ? (unsigned char)(0x80 + skl_rng_below(&r, 64))
                                                        : (unsigned char)(0xC0 + skl_rng_below(&r, 64));
    }
    size_t o1 = 0, o2 = 0;
    bool v1 = skl_utf8_valid((const char *)buf, n, &o1), v2 = ref_valid(buf, n, &o2);
    invalid_seen += !v2;
    if (v1 != v2 || (!v1 && o1 != o2)) mismatches++;
  }
  CHECK_MSG(mismatches == 0, "%d mismatches with the reference", mismatches);
  CHECK(invalid_seen > 1000 && invalid_seen < 200000);
  /* every 1-4 byte sequence with a valid lead byte in a short window */
  int m2 = 0;
  for (uint32_t a = 0xC0; a <= 0xFF; a++)
    for (uint32_t b = 0x70; b <= 0xC0; b++)
      for (uint32_t c = 0x70; c <= 0xC0; c += 3) {
        unsigned char s[4] = {(unsigned char)a, (unsigned char)b, (unsigned char)c, 0x80};
        for (size_t n = 1; n <= 4; n++) {
          size_t o1 = 0, o2 = 0;
          bool v1 = skl_utf8_valid((const char *)s, n, &o1), v2 = ref_valid(s, n, &o2);
          if (v1 != v2 || (!v1 && o1 != o2)) m2++;
        }
      }
  CHECK_MSG(m2 == 0, "%d mismatches in the exhaustive window", m2);
  return test_report();
}
