/* eval text: code-point strings and Python-compatible lower/isspace/isalnum.
 * Not normalisation (NFC etc.): the benchmarks' scorers do none either. */
#include "eval/text_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

skl_status eval_u32_push(eval_u32 *s, uint32_t c) {
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 32;
    uint32_t *p = realloc(s->cp, nc * sizeof *p);
    if (!p) return SKL_ERR_NOMEM;
    s->cp = p;
    s->cap = nc;
  }
  s->cp[s->n++] = c;
  return SKL_OK;
}

void eval_u32_free(eval_u32 *s) {
  if (!s) return;
  free(s->cp);
  memset(s, 0, sizeof *s);
}

skl_status eval_u32_from_utf8(eval_u32 *out, const char *s, size_t len) {
  memset(out, 0, sizeof *out);
  out->cap = len + 1; /* at most one code point per byte */
  out->cp = malloc(out->cap * sizeof *out->cp);
  if (!out->cp) return SKL_ERR_NOMEM;
  size_t i = 0;
  while (i < len) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
    if (k <= 0) { c = 0xFFFD; k = 1; }
    out->cp[out->n++] = (uint32_t)c;
    i += (size_t)k;
  }
  return SKL_OK;
}

char *eval_u32_to_utf8(const uint32_t *cp, size_t n, size_t *len_out) {
  char *o = malloc(n * 4 + 1);
  if (!o) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    utf8proc_ssize_t w = utf8proc_encode_char((utf8proc_int32_t)cp[i], (utf8proc_uint8_t *)o + k);
    if (w <= 0) { /* surrogate or out of range: keep the length honest */
      w = utf8proc_encode_char(0xFFFD, (utf8proc_uint8_t *)o + k);
    }
    k += (size_t)w;
  }
  o[k] = '\0';
  if (len_out) *len_out = k;
  return o;
}

/* Python's _PyUnicode_IsWhitespace: bidi WS/B/S or category Zs. */
bool eval_py_isspace(uint32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

bool eval_py_isalnum(uint32_t c) {
  if (c < 0x80)
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return true;
    default: return false;
  }
}

/* Unicode "cased" (Lu, Ll, Lt, or having a case mapping). */
static bool is_cased(uint32_t c) {
  utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
  if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) return true;
  return utf8proc_tolower((utf8proc_int32_t)c) != (utf8proc_int32_t)c ||
         utf8proc_toupper((utf8proc_int32_t)c) != (utf8proc_int32_t)c;
}

/* Unicode "case-ignorable": Mn, Me, Cf, Lm, Sk, or word-break MidLetter/
 * MidNumLet/Single_Quote characters. */
static bool is_case_ignorable(uint32_t c) {
  switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0x5E: case 0x60: case 0xA8: case 0xAD: case 0xAF:
    case 0xB4: case 0xB7: case 0xB8: case 0x387: case 0x5F4: case 0x2018: case 0x2019:
    case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E:
    case 0xFF1A: return true;
    default: break;
  }
  switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK: return true;
    default: return false;
  }
}

/* CPython's handle_capital_sigma: final form when preceded by a cased letter
 * and not followed by one (case-ignorable characters skipped both ways). */
static uint32_t capital_sigma(const uint32_t *s, size_t n, size_t i) {
  size_t j = i;
  uint32_t c = 0;
  bool found = false;
  while (j > 0) {
    c = s[--j];
    if (!is_case_ignorable(c)) { found = true; break; }
  }
  bool final = found && is_cased(c);
  if (final && i + 1 < n) {
    size_t k;
    for (k = i + 1; k < n; k++) {
      c = s[k];
      if (!is_case_ignorable(c)) break;
    }
    final = k == n || !is_cased(c);
  }
  return final ? 0x3C2 : 0x3C3;
}

skl_status eval_py_lower(const eval_u32 *in, eval_u32 *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < in->n; i++) {
    uint32_t c = in->cp[i];
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') c += 32;
    } else if (c == 0x130) { /* SpecialCasing: I with dot above -> i + combining dot */
      if (eval_u32_push(out, 'i') || eval_u32_push(out, 0x307)) return SKL_ERR_NOMEM;
      continue;
    } else if (c == 0x3A3) {
      c = capital_sigma(in->cp, in->n, i);
    } else {
      c = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
    }
    if (eval_u32_push(out, c)) return SKL_ERR_NOMEM;
  }
  return SKL_OK;
}

skl_status eval_py_lower_utf8(const char *s, size_t len, char **out, size_t *out_len) {
  *out = NULL;
  eval_u32 a, b;
  if (eval_u32_from_utf8(&a, s, len)) return SKL_ERR_NOMEM;
  skl_status st = eval_py_lower(&a, &b);
  eval_u32_free(&a);
  if (st) { eval_u32_free(&b); return st; }
  *out = eval_u32_to_utf8(b.cp, b.n, out_len);
  eval_u32_free(&b);
  return *out ? SKL_OK : SKL_ERR_NOMEM;
}
