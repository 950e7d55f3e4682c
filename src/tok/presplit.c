/* skl tokenizer pre-split: a hand-written state machine for the GPT-2,
 * Llama-3 and Qwen2/3 regexes, and a PCRE2 fallback for any other pattern,
 * both with the reference's (JavaScript) semantics. Not the BPE (encode.c). */
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

/* The exact pattern strings of tokenizer.json files we run by state machine. */
const char *const tok_pattern_llama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char *const tok_pattern_qwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/* ByteLevel's built-in regex, as the reference spells it. */
const char *const tok_pattern_gpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

bool tok_js_space(uint32_t cp) {
  switch (cp) {
  case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
  case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
    return true;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

/* Generated from Node 20's ICU 78 (Unicode 17.0): \p{L} / \p{N} code points
 * that utf8proc 2.8 calls unassigned. Sorted, disjoint. */
static const struct { uint32_t lo, hi; uint8_t cls; } new_ranges[] = {
{0x88F, 0x88F, TOK_C_L}, {0xC5C, 0xC5C, TOK_C_L}, {0xCDC, 0xCDC, TOK_C_L}, {0x1C89, 0x1C8A, TOK_C_L},
{0xA7CB, 0xA7CF, TOK_C_L}, {0xA7D2, 0xA7D2, TOK_C_L}, {0xA7D4, 0xA7D4, TOK_C_L}, {0xA7DA, 0xA7DC, TOK_C_L},
{0xA7F1, 0xA7F1, TOK_C_L}, {0x105C0, 0x105F3, TOK_C_L}, {0x10940, 0x10959, TOK_C_L}, {0x10D40, 0x10D49, TOK_C_N},
{0x10D4A, 0x10D65, TOK_C_L}, {0x10D6F, 0x10D85, TOK_C_L}, {0x10EC2, 0x10EC7, TOK_C_L}, {0x11380, 0x11389, TOK_C_L},
{0x1138B, 0x1138B, TOK_C_L}, {0x1138E, 0x1138E, TOK_C_L}, {0x11390, 0x113B5, TOK_C_L}, {0x113B7, 0x113B7, TOK_C_L},
{0x113D1, 0x113D1, TOK_C_L}, {0x113D3, 0x113D3, TOK_C_L}, {0x116D0, 0x116E3, TOK_C_N}, {0x11BC0, 0x11BE0, TOK_C_L},
{0x11BF0, 0x11BF9, TOK_C_N}, {0x11DB0, 0x11DDB, TOK_C_L}, {0x11DE0, 0x11DE9, TOK_C_N}, {0x13460, 0x143FA, TOK_C_L},
{0x16100, 0x1611D, TOK_C_L}, {0x16130, 0x16139, TOK_C_N}, {0x16D40, 0x16D6C, TOK_C_L}, {0x16D70, 0x16D79, TOK_C_N},
{0x16EA0, 0x16EB8, TOK_C_L}, {0x16EBB, 0x16ED3, TOK_C_L}, {0x16FF2, 0x16FF3, TOK_C_L}, {0x16FF4, 0x16FF6, TOK_C_N},
{0x187F8, 0x187FF, TOK_C_L}, {0x18CFF, 0x18CFF, TOK_C_L}, {0x18D09, 0x18D1E, TOK_C_L}, {0x18D80, 0x18DF2, TOK_C_L},
{0x1CCF0, 0x1CCF9, TOK_C_N}, {0x1E5D0, 0x1E5ED, TOK_C_L}, {0x1E5F0, 0x1E5F0, TOK_C_L}, {0x1E5F1, 0x1E5FA, TOK_C_N},
{0x1E6C0, 0x1E6DE, TOK_C_L}, {0x1E6E0, 0x1E6E2, TOK_C_L}, {0x1E6E4, 0x1E6E5, TOK_C_L}, {0x1E6E7, 0x1E6ED, TOK_C_L},
{0x1E6F0, 0x1E6F4, TOK_C_L}, {0x1E6FE, 0x1E6FF, TOK_C_L}, {0x2B73A, 0x2B73F, TOK_C_L}, {0x2CEA2, 0x2CEAD, TOK_C_L},
{0x2EBF0, 0x2EE5D, TOK_C_L}, {0x323B0, 0x33479, TOK_C_L}
};

int tok_class_new(uint32_t cp) {
  size_t lo = 0, hi = sizeof new_ranges / sizeof new_ranges[0];
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < new_ranges[mid].lo) hi = mid;
    else if (cp > new_ranges[mid].hi) lo = mid + 1;
    else return new_ranges[mid].cls;
  }
  return -1;
}

void tok_ctable_init(tok_ctable *t) {
  for (uint32_t cp = 0; cp < 65536; cp++)
    t->bmp[cp] = (cp >= 0xD800 && cp <= 0xDFFF) ? TOK_C_OTHER : (uint8_t)tok_class_slow(cp);
}

skl_status tok_spans_push(tok_spans *s, size_t off, size_t len) {
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 256;
    tok_span *v = realloc(s->v, nc * sizeof *v);
    if (!v) return SKL_ERR_NOMEM;
    s->v = v;
    s->cap = nc;
  }
  s->v[s->n].off = off;
  s->v[s->n].len = len;
  s->n++;
  return SKL_OK;
}

/* ------------------------------------------------------------ state machine */

typedef struct {
  const unsigned char *s;
  size_t n;
  const tok_ctable *ct;
} scan;

/* Class of the character at p (p < n) and its byte length. */
static inline int cls_at(const scan *x, size_t p, size_t *len) {
  unsigned c = x->s[p];
  if (c < 0x80) { *len = 1; return x->ct->bmp[c]; }
  uint32_t cp = tok_utf8_next(x->s + p, x->n - p, len);
  return tok_class(x->ct, cp);
}

/* End of the run of characters of class k (or of WS/CRLF when k == TOK_C_WS)
 * starting at p; *count gets how many characters, up to max. */
static inline size_t run_end(const scan *x, size_t p, int k, size_t max, size_t *count) {
  size_t c = 0, len;
  while (p < x->n && c < max) {
    int cl = cls_at(x, p, &len);
    bool ok = k == TOK_C_WS ? (cl == TOK_C_WS || cl == TOK_C_CRLF) : cl == k;
    if (!ok) break;
    p += len;
    c++;
  }
  if (count) *count = c;
  return p;
}

static inline bool lower_is(unsigned char c, char want) { return (c | 0x20) == want && ((c & ~0x20u) >= 'A' && (c & ~0x20u) <= 'Z'); }

/* Length of the match at p (p < n) of the known pattern `kind`. Every
 * character matches some alternative, so matches tile the text. */
static size_t match_known(tok_pattern_kind kind, const scan *x, size_t p) {
  const unsigned char *s = x->s;
  size_t n = x->n, l;
  unsigned b0 = s[p];
  bool gpt2 = kind == TOK_PAT_GPT2;

  /* 1. contractions: (?i:'s|'t|'re|'ve|'m|'ll|'d), case-sensitive for GPT-2 */
  if (b0 == '\'' && p + 1 < n) {
    unsigned char c1 = s[p + 1], c2 = p + 2 < n ? s[p + 2] : 0;
    if (gpt2) {
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
      if ((c1 == 'r' || c1 == 'v') && c2 == 'e') return 3;
      if (c1 == 'l' && c2 == 'l') return 3;
    } else {
      if (lower_is(c1, 's') || lower_is(c1, 't') || lower_is(c1, 'm') || lower_is(c1, 'd')) return 2;
      if ((lower_is(c1, 'r') || lower_is(c1, 'v')) && lower_is(c2, 'e')) return 3;
      if (lower_is(c1, 'l') && lower_is(c2, 'l')) return 3;
    }
  }
  int c = cls_at(x, p, &l);
  size_t nl = 0;
  int cn = p + l < n ? cls_at(x, p + l, &nl) : -1;

  /* 2. letters: [^\r\n\p{L}\p{N}]?\p{L}+  (GPT-2: ' ?\p{L}+') */
  if (c == TOK_C_L) return run_end(x, p + l, TOK_C_L, SIZE_MAX, NULL) - p;
  if (cn == TOK_C_L && (gpt2 ? b0 == ' ' : (c == TOK_C_WS || c == TOK_C_OTHER)))
    return run_end(x, p + l + nl, TOK_C_L, SIZE_MAX, NULL) - p;

  /* 3. numbers: \p{N}{1,3} | \p{N} | ' ?\p{N}+' */
  if (kind == TOK_PAT_LLAMA3 && c == TOK_C_N) return run_end(x, p + l, TOK_C_N, 2, NULL) - p;
  if (kind == TOK_PAT_QWEN2 && c == TOK_C_N) return l;
  if (gpt2) {
    if (c == TOK_C_N) return run_end(x, p + l, TOK_C_N, SIZE_MAX, NULL) - p;
    if (b0 == ' ' && cn == TOK_C_N) return run_end(x, p + l + nl, TOK_C_N, SIZE_MAX, NULL) - p;
  }

  /* 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*' (no [\r\n]* for GPT-2) */
  size_t q = SIZE_MAX;
  if (c == TOK_C_OTHER) q = p + l;
  else if (b0 == ' ' && cn == TOK_C_OTHER) q = p + l + nl;
  if (q != SIZE_MAX) {
    size_t e = run_end(x, q, TOK_C_OTHER, SIZE_MAX, NULL);
    if (!gpt2)
      while (e < n && (s[e] == '\r' || s[e] == '\n')) e++;
    return e - p;
  }

  /* whitespace: c is WS or CRLF here */
  size_t e = p, last_crlf = SIZE_MAX, prev = p;
  while (e < n) {
    size_t cl;
    int k = cls_at(x, e, &cl);
    if (k != TOK_C_WS && k != TOK_C_CRLF) break;
    if (k == TOK_C_CRLF) last_crlf = e;
    prev = e;
    e += cl;
  }
  /* 5. \s*[\r\n]+ : up to and including the last \r or \n of the run */
  if (!gpt2 && last_crlf != SIZE_MAX) return last_crlf + 1 - p;
  /* 6. \s+(?!\S) : the run, less its last character when text follows */
  if (e == n) return e - p;
  if (prev > p) return prev - p;
  /* 7. \s+ */
  return e - p;
}

size_t tok_match_known(tok_pattern_kind kind, const tok_ctable *ct, const char *s, size_t n, size_t p) {
  scan x = {(const unsigned char *)s, n, ct};
  return match_known(kind, &x, p);
}

skl_status tok_split_known(tok_pattern_kind kind, const tok_ctable *ct, const char *s, size_t n,
                           size_t base, tok_spans *out) {
  scan x = {(const unsigned char *)s, n, ct};
  size_t p = 0;
  while (p < n) {
    size_t m = match_known(kind, &x, p);
    if (out->n < out->cap) out->v[out->n++] = (tok_span){base + p, m};
    else if (tok_spans_push(out, base + p, m)) return SKL_ERR_NOMEM;
    p += m;
  }
  return SKL_OK;
}

/* ------------------------------------------------------------ PCRE2 fallback */

/* JavaScript's \s, as the body of a PCRE2 character class. */
#define JS_WS "\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

/* Rewrites the reference applies before building its RegExp. */
static const char *const js_rewrites[][2] = {
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))"},
    {" ?[^(\\s|[.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c])]+",
     " ?[^\\s.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c]+"},
};

static skl_status replace_all(skl_buf *b, const char *from, const char *to) {
  size_t fl = strlen(from);
  if (!b->data || !strstr(b->data, from)) return SKL_OK;
  skl_buf o = {0};
  const char *p = b->data, *hit;
  while ((hit = strstr(p, from))) {
    if (skl_buf_append(&o, p, (size_t)(hit - p)) || skl_buf_puts(&o, to)) { skl_buf_free(&o); return SKL_ERR_NOMEM; }
    p = hit + fl;
  }
  if (skl_buf_puts(&o, p)) { skl_buf_free(&o); return SKL_ERR_NOMEM; }
  skl_buf_free(b);
  *b = o;
  return SKL_OK;
}

skl_status tok_regex_compile(const char *pattern, bool literal, pcre2_code **out, skl_error *err) {
  *out = NULL;
  skl_buf a = {0}, b = {0};
  skl_status st = SKL_ERR_NOMEM;
  if (literal) {
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, strlen(pattern), PCRE2_UTF | PCRE2_LITERAL, &ec, &eo, NULL);
    if (!re) return skl_error_set(err, SKL_ERR_INVALID, "split string '%s' is not valid UTF-8", pattern);
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    *out = re;
    return SKL_OK;
  }
  /* the reference unescapes \# \& \~ first */
  for (const char *p = pattern; *p; p++) {
    if (p[0] == '\\' && (p[1] == '#' || p[1] == '&' || p[1] == '~')) continue;
    if (skl_buf_append(&a, p, 1)) goto done;
  }
  if (!a.data && skl_buf_puts(&a, "")) goto done;
  for (size_t i = 0; i < sizeof js_rewrites / sizeof js_rewrites[0]; i++)
    if (replace_all(&a, js_rewrites[i][0], js_rewrites[i][1])) goto done;
  /* \s and \S spelled as JS's set (PCRE2's differs at U+0085, U+180E, U+FEFF) */
  bool in_class = false;
  for (size_t i = 0; i < a.len; i++) {
    char c = a.data[i];
    if (c == '\\' && i + 1 < a.len) {
      char d = a.data[i + 1];
      skl_status s2;
      if (d == 's') s2 = skl_buf_puts(&b, in_class ? JS_WS : "[" JS_WS "]");
      else if (d == 'S' && !in_class) s2 = skl_buf_puts(&b, "[^" JS_WS "]");
      else s2 = skl_buf_append(&b, a.data + i, 2);
      if (s2) goto done;
      i++;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      if (skl_buf_append(&b, "[", 1)) goto done;
      /* a ']' right after '[' or '[^' is literal */
      if (i + 1 < a.len && a.data[i + 1] == '^') { if (skl_buf_append(&b, "^", 1)) goto done; i++; }
      if (i + 1 < a.len && a.data[i + 1] == ']') { if (skl_buf_append(&b, "]", 1)) goto done; i++; }
      continue;
    }
    if (in_class && c == ']') in_class = false;
    if (skl_buf_append(&b, &c, 1)) goto done;
  }
  if (!b.data && skl_buf_puts(&b, "")) goto done;
  /* UTF without UCP: JS's u flag keeps \d \w \b ASCII; \p{..} works either way. */
  int ecode;
  PCRE2_SIZE eoff;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)b.data, b.len, PCRE2_UTF | PCRE2_NO_UTF_CHECK, &ecode, &eoff, NULL);
  if (!re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(ecode, msg, sizeof msg);
    st = skl_error_set(err, SKL_ERR_INVALID, "regex '%s' does not compile (at offset %zu of '%s'): %s", pattern,
                       (size_t)eoff, b.data, (const char *)msg);
    goto done;
  }
  (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if JIT is unavailable */
  *out = re;
  st = SKL_OK;
done:
  if (st == SKL_ERR_NOMEM) skl_error_set(err, st, "out of memory compiling a regex");
  skl_buf_free(&a);
  skl_buf_free(&b);
  return st;
}

skl_status tok_split_pcre(const pcre2_code *re, pcre2_match_data *md, tok_split_mode mode,
                          const char *s, size_t n, size_t base, tok_spans *out, skl_error *err) {
  size_t start = 0, last = 0;
  while (start <= n) {
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, start, PCRE2_NO_UTF_CHECK, md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      return skl_error_set(err, SKL_ERR_INTERNAL, "pre-tokenizer regex failed at byte %zu: %s", start,
                           (const char *)msg);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t ms = ov[0], me = ov[1];
    if (me < ms) me = ms; /* \K tricks: treat as empty */
    if (mode != TOK_SPLIT_INVERT && ms > last && tok_spans_push(out, base + last, ms - last)) return SKL_ERR_NOMEM;
    if (mode != TOK_SPLIT_REMOVED && me > ms && tok_spans_push(out, base + ms, me - ms)) return SKL_ERR_NOMEM;
    /* JS String.split keeps what capture groups matched, in place of the separator */
    for (int g = 1; mode == TOK_SPLIT_REMOVED && g < rc; g++)
      if (ov[2 * g] != PCRE2_UNSET && ov[2 * g + 1] > ov[2 * g] &&
          tok_spans_push(out, base + ov[2 * g], ov[2 * g + 1] - ov[2 * g]))
        return SKL_ERR_NOMEM;
    last = me;
    if (me > ms) start = me;
    else { /* empty match: step one code point, like JS with the u flag */
      if (ms >= n) break;
      size_t l;
      tok_utf8_next((const unsigned char *)s + ms, n - ms, &l);
      start = ms + l;
    }
  }
  if (mode != TOK_SPLIT_INVERT && last < n && tok_spans_push(out, base + last, n - last)) return SKL_ERR_NOMEM;
  return SKL_OK;
}

/* ------------------------------------------------------------ UTF-8 and bytes */

bool tok_utf8_sanitize(const char *s_, size_t n, skl_buf *out, skl_status *st) {
  const unsigned char *s = (const unsigned char *)s_;
  *st = SKL_OK;
  size_t i = 0;
  /* fast scan: ASCII runs, then validate multi-byte sequences */
  size_t first_bad = SIZE_MAX;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else { first_bad = i; break; }
    size_t k = 1;
    for (; k <= need; k++) {
      if (i + k >= n) break;
      unsigned d = s[i + k];
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) break;
    }
    if (k <= need) { first_bad = i; break; }
    i += need + 1;
  }
  if (first_bad == SIZE_MAX) return true;
  skl_buf_clear(out);
  if (skl_buf_append(out, s, first_bad)) { *st = SKL_ERR_NOMEM; return false; }
  i = first_bad;
  static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) { if (skl_buf_append(out, s + i, 1)) { *st = SKL_ERR_NOMEM; return false; } i++; continue; }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else { if (skl_buf_append(out, fffd, 3)) { *st = SKL_ERR_NOMEM; return false; } i++; continue; }
    size_t k = 1;
    for (; k <= need; k++) {
      if (i + k >= n) break;
      unsigned d = s[i + k];
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) break;
    }
    if (k <= need) { /* maximal subpart [i, i+k) becomes one U+FFFD */
      if (skl_buf_append(out, fffd, 3)) { *st = SKL_ERR_NOMEM; return false; }
      i += k;
      continue;
    }
    if (skl_buf_append(out, s + i, need + 1)) { *st = SKL_ERR_NOMEM; return false; }
    i += need + 1;
  }
  return false;
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * others to U+0100.. in byte order. */
static bool byte_printable(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

uint32_t tok_byte_to_cp(unsigned b) {
  if (byte_printable(b)) return b;
  uint32_t k = 0;
  for (unsigned i = 0; i < b; i++) k += !byte_printable(i);
  return 256 + k;
}

int tok_cp_to_byte(uint32_t cp) {
  if (cp < 256) return byte_printable(cp) ? (int)cp : -1;
  uint32_t k = cp - 256, seen = 0;
  for (unsigned b = 0; b < 256; b++)
    if (!byte_printable(b)) {
      if (seen == k) return (int)b;
      seen++;
    }
  return -1;
}
