/* skill answers: extraction, normalisation and comparison of final answers.
 * Not a judge: only rule-based checks of the five answer types (see answer.h). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "skills/answer.h"

/* ---- small string helpers ------------------------------------------------ */

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static int ci_prefix(const char *s, const char *end, const char *lit) {
  for (; *lit; s++, lit++) {
    if (s >= end || tolower((unsigned char)*s) != tolower((unsigned char)*lit)) return 0;
  }
  return 1;
}

/* Copy [b, e) into out (cap bytes), cut to fit; a cut never splits a UTF-8
 * character (it backs up over at most 3 continuation bytes), so what is kept
 * of valid text stays valid. */
static void copy_span(char *out, size_t cap, const char *b, const char *e) {
  size_t n = (size_t)(e - b);
  if (cap == 0) return;
  if (n > cap - 1) {
    n = cap - 1;
    for (int k = 0; k < 3 && n > 0 && ((unsigned char)b[n] & 0xC0) == 0x80; k++) n--;
  }
  memcpy(out, b, n);
  out[n] = '\0';
}

static void trim_ws(char *s) {
  size_t n = strlen(s), i = 0;
  while (n && is_ws((unsigned char)s[n - 1])) n--;
  while (i < n && is_ws((unsigned char)s[i])) i++;
  memmove(s, s + i, n - i);
  s[n - i] = '\0';
}

/* Remove a wrapper "pre...post" when s starts with pre and ends with post. */
static int strip_pair(char *s, const char *pre, const char *post) {
  size_t n = strlen(s), a = strlen(pre), b = strlen(post);
  if (n < a + b || strncmp(s, pre, a) || strcmp(s + n - b, post)) return 0;
  memmove(s, s + a, n - a - b);
  s[n - a - b] = '\0';
  return 1;
}

/* Remove the first k bytes of s (k <= strlen(s)); a loop, not memmove, so the
 * compiler sees no out-of-bounds copy after inlining into small buffers. */
static void drop_front(char *s, size_t k) {
  size_t i = 0;
  do s[i] = s[i + k];
  while (s[i++]);
}

/* Clean an extracted answer in place until nothing changes (answer.h, top). */
static void clean_answer(char *s) {
  for (int changed = 1; changed;) {
    changed = 0;
    trim_ws(s);
    size_t n = strlen(s);
    if (ci_prefix(s, s + n, "the answer is")) {
      drop_front(s, 13);
      if (s[0] == ':') drop_front(s, 1);
      changed = 1;
      continue;
    }
    static const char *pairs[][2] = {{"\\boxed{", "}"}, {"\\text{", "}"}, {"\\(", "\\)"}, {"\\[", "\\]"},
                                      {"**", "**"},     {"__", "__"},     {"$", "$"},     {"\"", "\""},
                                      {"'", "'"},       {"\xe2\x80\x9c", "\xe2\x80\x9d"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0] && !changed; i++) changed = strip_pair(s, pairs[i][0], pairs[i][1]);
    if (changed) continue;
    /* unpaired markdown left over from "**Answer: 42**" and friends */
    if (n && (s[0] == '*' || s[0] == '`')) { drop_front(s, 1); changed = 1; continue; }
    if (n && (s[n - 1] == '*' || s[n - 1] == '`' || s[n - 1] == '.')) { s[n - 1] = '\0'; changed = 1; continue; }
  }
}

/* ---- hedges (answer.h, "Strict") ----------------------------------------- */

/* Words that turn one answer into several, or into its negation. */
static const char *const hedge_words[] = {"or",      "nor",    "not",        "no",    "never",
                                          "neither", "either", "except",     "unless", "excluding"};
#define N_HEDGE_WORDS (int)(sizeof hedge_words / sizeof hedge_words[0])

/* Marker bits: one per hedge word, then these. */
enum {
  HEDGE_NT = 1u << N_HEDGE_WORDS, /* a word ending in n't: "isn't 42" */
  HEDGE_SLASH = HEDGE_NT << 1,    /* "A/B", "42 +/- 1" */
  HEDGE_BAR = HEDGE_NT << 2,      /* "A|B" */
  HEDGE_NE = HEDGE_NT << 3,       /* "!=", U+2260, U+00B1 (plus-minus) */
  HEDGE_CMP = HEDGE_NT << 4,      /* '<', '>', U+2264, U+2265 */
};

static int is_apos(const char *p) { return *p == '\'' || !strncmp(p, "\xe2\x80\x99", 3); }

/* @return the markers present in s: hedge words (ASCII case-insensitive, whole
 * words of letters, digits and apostrophes) and symbols. */
static unsigned hedge_mask(const char *s) {
  unsigned m = 0;
  for (size_t i = 0; s[i];) {
    if (isalnum((unsigned char)s[i]) || is_apos(s + i)) {
      char w[16];
      size_t n = 0, len = 0;
      while (s[i] && (isalnum((unsigned char)s[i]) || is_apos(s + i))) {
        size_t step = s[i] == '\'' || isalnum((unsigned char)s[i]) ? 1 : 3;
        if (n < sizeof w - 1) w[n++] = step == 3 ? '\'' : (char)tolower((unsigned char)s[i]);
        i += step;
        len++;
      }
      w[n] = '\0';
      if (len < sizeof w - 1) {
        for (int k = 0; k < N_HEDGE_WORDS; k++) if (!strcmp(w, hedge_words[k])) m |= 1u << k;
        if (n >= 3 && !strcmp(w + n - 3, "n't")) m |= HEDGE_NT;
      }
      continue;
    }
    if (s[i] == '/') m |= HEDGE_SLASH;
    else if (s[i] == '|') m |= HEDGE_BAR;
    else if ((s[i] == '!' && s[i + 1] == '=') || !strncmp(s + i, "\xe2\x89\xa0", 3) || !strncmp(s + i, "\xc2\xb1", 2))
      m |= HEDGE_NE;
    else if (s[i] == '<' || s[i] == '>' || !strncmp(s + i, "\xe2\x89\xa4", 3) || !strncmp(s + i, "\xe2\x89\xa5", 3))
      m |= HEDGE_CMP;
    i++;
  }
  return m;
}

/* @return 1 when answer holds a marker the gold lacks. ignore: markers judged elsewhere. */
static int hedged(const char *gold, const char *answer, unsigned ignore) {
  return (hedge_mask(answer) & ~hedge_mask(gold) & ~ignore) != 0;
}

/* ---- types --------------------------------------------------------------- */

static const char *type_names[SKILL_ANSWER_TYPE_COUNT] = {"number", "string", "choice", "list", "set"};

const char *skill_answer_type_name(skill_answer_type t) {
  return (unsigned)t < SKILL_ANSWER_TYPE_COUNT ? type_names[t] : "unknown";
}

skl_status skill_answer_type_parse(const char *name, skill_answer_type *out, skl_error *err) {
  for (int i = 0; i < SKILL_ANSWER_TYPE_COUNT; i++) {
    if (name && !strcmp(name, type_names[i])) {
      *out = (skill_answer_type)i;
      return SKL_OK;
    }
  }
  return skl_error_set(err, SKL_ERR_INVALID,
                       "unknown answer_type '%s': use one of number, string, choice, list, set",
                       name ? name : "(null)");
}

const char *skill_answer_instruction(skill_answer_type t) {
  switch (t) {
  case SKILL_ANSWER_NUMBER:
    return "End your response with a line of the form \"Answer: <number>\", the number rounded to 2 decimals.";
  case SKILL_ANSWER_STRING: return "End your response with a line of the form \"Answer: <text>\".";
  case SKILL_ANSWER_CHOICE: return "End your response with a line of the form \"Answer: <letter>\" (one of the option letters).";
  case SKILL_ANSWER_LIST: return "End your response with a line of the form \"Answer: <item>, <item>, ...\" in order.";
  case SKILL_ANSWER_SET: return "End your response with a line of the form \"Answer: <item>, <item>, ...\" (any order).";
  default: return "End your response with a line of the form \"Answer: <answer>\".";
  }
}

/* ---- numbers ------------------------------------------------------------- */

skl_status skill_answer_render_number(double v, char *out, size_t cap, skl_error *err) {
  if (!isfinite(v)) return skl_error_set(err, SKL_ERR_NUMERIC, "answer value is %s: a number answer must be finite", isnan(v) ? "NaN" : "infinite");
  char tmp[400];
  double r = round(v * 100) / 100; /* half away from zero, as synth's round(x, 2) */
  if (r == 0) r = 0;                /* no "-0" */
  int n = snprintf(tmp, sizeof tmp, "%.2f", r);
  if (n < 0 || (size_t)n >= sizeof tmp) return skl_error_set(err, SKL_ERR_RANGE, "answer value %g is too large to render", v);
  char *dot = strchr(tmp, '.');
  if (dot) {
    char *e = tmp + n - 1;
    while (e > dot && *e == '0') *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  if (!strcmp(tmp, "-0")) strcpy(tmp, "0");
  if (strlen(tmp) + 1 > cap) return skl_error_set(err, SKL_ERR_RANGE, "answer buffer of %zu bytes cannot hold '%s'", cap, tmp);
  strcpy(out, tmp);
  return SKL_OK;
}

/* Scan one number token at s: sign, digits (with 3-digit comma groups), fraction,
 * exponent. Writes the value and the token length. @return 1 if a number starts at s */
static int scan_number(const char *s, size_t *len, double *v) {
  char buf[128];
  size_t o = 0, i = 0;
  if (s[i] == '-' || s[i] == '+') buf[o++] = s[i++];
  else if (!strncmp(s, "\xe2\x88\x92", 3)) { buf[o++] = '-'; i += 3; } /* U+2212 minus */
  size_t int_digits = 0, frac_digits = 0;
  while (isdigit((unsigned char)s[i])) {
    if (o < 100) buf[o++] = s[i];
    i++;
    int_digits++;
  }
  /* thousands separators: only when the first group has 1-3 digits */
  if (int_digits >= 1 && int_digits <= 3) {
    while (s[i] == ',' && isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i + 2]) &&
           isdigit((unsigned char)s[i + 3]) && !isdigit((unsigned char)s[i + 4])) {
      for (int k = 1; k <= 3; k++) if (o < 100) buf[o++] = s[i + k];
      i += 4;
      int_digits += 3;
    }
  }
  if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
    buf[o++] = s[i++];
    while (isdigit((unsigned char)s[i])) {
      if (o < 120) buf[o++] = s[i];
      i++;
      frac_digits++;
    }
  }
  if (int_digits + frac_digits == 0) return 0;
  if ((s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (s[j] == '+' || s[j] == '-') j++;
    if (isdigit((unsigned char)s[j]) && o < 120) {
      buf[o++] = 'e';
      if (s[i + 1] == '-' || s[i + 1] == '+') buf[o++] = s[i + 1];
      while (isdigit((unsigned char)s[j])) {
        if (o < 126) buf[o++] = s[j];
        j++;
      }
      i = j;
    }
  }
  buf[o] = '\0';
  char *end;
  double x = strtod(buf, &end);
  if (!isfinite(x)) return 0;
  *v = x;
  *len = i;
  return 1;
}

static int has_digit(const char *s) {
  for (; *s; s++) if (isdigit((unsigned char)*s)) return 1;
  return 0;
}

/* Currency prefixes accepted before a number. */
static size_t skip_currency(const char *s) {
  if (*s == '$') return 1;
  if (!strncmp(s, "\xe2\x82\xac", 3)) return 3; /* euro */
  if (!strncmp(s, "\xc2\xa3", 2)) return 2;     /* pound */
  return 0;
}

int skill_answer_parse_number(const char *s, double *out) {
  if (!s) return 0;
  while (is_ws((unsigned char)*s)) s++;
  size_t c = skip_currency(s);
  const char *p = s + c;
  int neg_before = 0;
  if (c == 0 && (*s == '-' || *s == '+') && skip_currency(s + 1)) { /* "-$5" */
    neg_before = *s == '-';
    p = s + 1 + skip_currency(s + 1);
  }
  size_t len;
  double v;
  if (!scan_number(p, &len, &v)) return 0;
  if (neg_before) v = -v;
  const char *r = p + len;
  if (*r == '%') r++;
  else if (*r && !is_ws((unsigned char)*r)) return 0; /* "42abc" is not a number */
  if (has_digit(r)) return 0;                         /* "42 or 43" */
  *out = v;
  return 1;
}

/* Lenient reading of an extracted NUMBER answer (answer.h, NUMBER). A slash
 * is allowed only left of the last '=' ("100/3 = 33.33"): in the number itself
 * it is a fraction or a hedge ("42/43"). */
static int read_number_answer(const char *s, double *out) {
  if (!strchr(s, '/') && skill_answer_parse_number(s, out)) return 1;
  const char *eq = strrchr(s, '=');
  if (eq && !strchr(eq + 1, '/') && skill_answer_parse_number(eq + 1, out)) return 1;
  if (strchr(s, '/')) return 0;
  /* exactly one distinct number token anywhere in the text */
  int n = 0;
  double first = 0;
  for (size_t i = 0; s[i];) {
    unsigned char prev = i ? (unsigned char)s[i - 1] : ' ';
    size_t len;
    double v;
    if (!isalnum(prev) && prev != '.' && prev != ',' && scan_number(s + i, &len, &v) &&
        !isalnum((unsigned char)s[i + len])) {
      if (n == 0) first = v;
      else if (v != first) return 0;
      n++;
      i += len;
    } else {
      i++;
    }
  }
  if (n == 0) return 0;
  *out = first;
  return 1;
}

static int numbers_match(double x, double gold) {
  /* volatile: the product is rounded on its own, never fused into the sum
   * (-march=native allows FMA), so python/skillrl_reward.py gets the same bits */
  volatile double rel = 1e-12 * fmax(1.0, fabs(gold));
  return fabs(x - gold) <= SKILL_NUMBER_TOL + rel;
}

/* ---- strings ------------------------------------------------------------- */

/* NFKC + case fold (ASCII lower for invalid UTF-8), whitespace collapsed,
 * surrounding quotes and a final period removed. */
static void normalise_string(const char *in, char *out, size_t cap) {
  char tmp[SKILL_ANSWER_MAX];
  copy_span(tmp, sizeof tmp, in, in + strlen(in));
  clean_answer(tmp);
  utf8proc_uint8_t *folded = NULL;
  utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)tmp, 0, &folded,
                                    UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                        UTF8PROC_CASEFOLD);
  const char *src = tmp;
  if (r >= 0 && folded) src = (const char *)folded;
  size_t o = 0;
  int space = 0;
  for (const char *p = src; *p && o + 1 < cap; p++) {
    unsigned char ch = (unsigned char)*p;
    if (is_ws(ch)) { space = o > 0; continue; }
    if (space && o + 2 < cap) out[o++] = ' ';
    space = 0;
    out[o++] = (char)(r >= 0 ? ch : (unsigned char)tolower(ch));
  }
  out[o] = '\0';
  free(folded);
}

/* ---- choices ------------------------------------------------------------- */

/* @return the option letter (upper case) or 0 */
static int read_choice(const char *in) {
  char s[SKILL_ANSWER_MAX];
  copy_span(s, sizeof s, in, in + strlen(in));
  clean_answer(s);
  const char *p = s, *end = s + strlen(s);
  if (ci_prefix(p, end, "option")) p += 6;
  else if (ci_prefix(p, end, "choice")) p += 6;
  while (is_ws((unsigned char)*p)) p++;
  int open = 0;
  if (*p == '(' || *p == '[') { open = *p; p++; }
  if (!isalpha((unsigned char)*p)) return 0;
  int letter = (unsigned char)*p++;
  if (open) {
    if (*p != (open == '(' ? ')' : ']')) return 0;
    p++;
  } else if (*p == ')' || *p == '.' || *p == ':') {
    p++;
  } else if (*p && !is_ws((unsigned char)*p)) {
    return 0; /* "Apple" is a word, not option A */
  }
  while (is_ws((unsigned char)*p)) p++;
  /* a lower-case letter is a choice only on its own ("a" could be the article) */
  if (islower(letter) && *p) return 0;
  /* option text may follow, but no second letter: "A B", "A and (B)", "A, C" */
  for (const char *q = p; *q; q++) {
    int before = q == p || is_ws((unsigned char)q[-1]) || q[-1] == '(' || q[-1] == '[';
    if (before && isalpha((unsigned char)q[0]) && (!q[1] || is_ws((unsigned char)q[1]) || strchr(")].:,;", q[1])))
      return 0;
  }
  return toupper(letter);
}

/* ---- lists and sets ------------------------------------------------------ */

#define MAX_ITEMS 256

/* Split s (modified) into trimmed items. @return count, or -1 when too many */
static int split_items(char *s, char **items) {
  clean_answer(s);
  size_t n = strlen(s);
  if (n >= 2 && ((s[0] == '[' && s[n - 1] == ']') || (s[0] == '(' && s[n - 1] == ')') || (s[0] == '{' && s[n - 1] == '}'))) {
    s[n - 1] = '\0';
    s++;
  }
  trim_ws(s);
  if (!*s || !strcmp(s, "none") || !strcmp(s, "None") || !strcmp(s, "empty")) return 0;
  int k = 0;
  char *p = s;
  for (;;) {
    while (is_ws((unsigned char)*p)) p++;
    char *sep = NULL;
    size_t seplen = 0;
    for (char *q = p; *q; q++) {
      if (*q == ',' || *q == ';') { sep = q; seplen = 1; break; }
      if (!strncmp(q, " and ", 5)) { sep = q; seplen = 5; break; }
    }
    if (k == MAX_ITEMS) return -1;
    if (sep) *sep = '\0';
    clean_answer(p);
    if (!strncmp(p, "and ", 4)) p += 4; /* "x, y, and z" */
    items[k++] = p;
    if (!sep) break;
    p = sep + seplen;
  }
  return k;
}

static int items_equal(const char *a, const char *b) {
  double x, y;
  if (skill_answer_parse_number(a, &x) && skill_answer_parse_number(b, &y)) return numbers_match(x, y);
  char na[SKILL_ANSWER_MAX], nb[SKILL_ANSWER_MAX];
  normalise_string(a, na, sizeof na);
  normalise_string(b, nb, sizeof nb);
  return !strcmp(na, nb);
}

/* Remove duplicates in place. @return new count */
static int dedupe(char **items, int n) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    int dup = 0;
    for (int j = 0; j < k && !dup; j++) dup = items_equal(items[i], items[j]);
    if (!dup) items[k++] = items[i];
  }
  return k;
}

static int match_items(int is_set, const char *gold, const char *answer) {
  char gb[SKILL_ANSWER_MAX * 2], ab[SKILL_ANSWER_MAX];
  char *gi[MAX_ITEMS], *ai[MAX_ITEMS];
  copy_span(gb, sizeof gb, gold, gold + strlen(gold));
  copy_span(ab, sizeof ab, answer, answer + strlen(answer));
  int ng = split_items(gb, gi), na = split_items(ab, ai);
  if (ng < 0) return -1;
  for (int i = 0; i < ng; i++) if (!*gi[i]) return -1; /* "a,,b" is not a valid gold */
  if (na < 0) return 0;
  if (is_set) {
    ng = dedupe(gi, ng);
    na = dedupe(ai, na);
  }
  if (ng != na) return 0;
  for (int i = 0; i < ng; i++) {
    if (!is_set) {
      if (!items_equal(gi[i], ai[i])) return 0;
      continue;
    }
    int found = 0;
    for (int j = 0; j < na && !found; j++) found = items_equal(gi[i], ai[j]);
    if (!found) return 0;
  }
  return 1;
}

/* ---- extraction ---------------------------------------------------------- */

/* If [b, e) is an "Answer:" line, @return the position after the colon, else NULL. */
static const char *answer_line(const char *b, const char *e) {
  const char *q = b;
  while (q < e && (is_ws((unsigned char)*q) || strchr("*_#>-`", *q))) q++;
  if (ci_prefix(q, e, "final answer")) q += 12;
  else if (ci_prefix(q, e, "answer")) q += 6;
  else return NULL;
  while (q < e && (*q == '*' || *q == '_' || *q == ' ')) q++;
  if (q >= e || *q != ':') return NULL;
  return q + 1;
}

static const char *line_end(const char *p) {
  const char *e = strchr(p, '\n');
  return e ? e : p + strlen(p);
}

/* Find the last case-insensitive occurrence of lit. */
static const char *ci_rfind(const char *s, const char *lit) {
  const char *last = NULL, *end = s + strlen(s);
  size_t n = strlen(lit);
  for (const char *p = s; (size_t)(end - p) >= n; p++) {
    if (tolower((unsigned char)*p) == tolower((unsigned char)*lit) && ci_prefix(p, end, lit)) last = p;
  }
  return last;
}

int skill_answer_extract(const char *response, char *out, size_t cap, int *has_format) {
  if (has_format) *has_format = 0;
  if (cap) out[0] = '\0';
  if (!response || cap == 0) return 0;

  /* rule 1: the last "Answer:" line with something in it (or on the next line) */
  int found = 0;
  char tmp[SKILL_ANSWER_MAX];
  size_t tcap = cap < sizeof tmp ? cap : sizeof tmp;
  for (const char *p = response; *p;) {
    const char *e = line_end(p);
    const char *a = answer_line(p, e);
    if (a) {
      if (has_format) *has_format = 1;
      while (a < e && is_ws((unsigned char)*a)) a++;
      copy_span(tmp, tcap, a, e);
      clean_answer(tmp);
      /* "Answer:" alone on its line: the answer is on the next non-empty line */
      for (const char *q = *e ? e + 1 : e; !tmp[0] && *q;) {
        const char *qe = line_end(q);
        while (q < qe && is_ws((unsigned char)*q)) q++;
        copy_span(tmp, tcap, q, qe);
        clean_answer(tmp);
        q = *qe ? qe + 1 : qe;
      }
      if (tmp[0]) {
        memcpy(out, tmp, strlen(tmp) + 1);
        found = 1;
      }
    }
    p = *e ? e + 1 : e;
  }
  if (found) return 1;

  /* rule 2: the last balanced \boxed{...} */
  const char *box = NULL, *box_end = NULL;
  for (const char *p = strstr(response, "\\boxed{"); p; p = strstr(p + 1, "\\boxed{")) {
    const char *q = p + 7;
    int depth = 1;
    for (; *q && depth; q++) {
      if (*q == '{') depth++;
      else if (*q == '}') depth--;
    }
    if (!depth) { box = p + 7; box_end = q - 1; }
  }
  if (box) {
    copy_span(out, cap, box, box_end);
    clean_answer(out);
    if (out[0]) return 1;
  }

  /* rule 3: the last "the answer is X", to the end of its sentence or line */
  const char *t = ci_rfind(response, "the answer is");
  if (t) {
    const char *b = t + 13, *e = line_end(b);
    while (b < e && (is_ws((unsigned char)*b) || *b == ':')) b++;
    for (const char *q = b; q + 1 < e; q++) {
      if (*q == '.' && is_ws((unsigned char)q[1])) { e = q; break; }
    }
    copy_span(out, cap, b, e);
    clean_answer(out);
    if (out[0]) return 1;
  }
  out[0] = '\0';
  return 0;
}

/* ---- comparison ---------------------------------------------------------- */

int skill_answer_match(skill_answer_type t, const char *gold, const char *answer) {
  if (!gold) return -1;
  if (!answer) answer = "";
  switch (t) {
  case SKILL_ANSWER_NUMBER: {
    double g, x;
    if (!skill_answer_parse_number(gold, &g)) return -1;
    if (hedged(gold, answer, HEDGE_SLASH)) return 0; /* slashes: read_number_answer */
    return read_number_answer(answer, &x) && numbers_match(x, g);
  }
  case SKILL_ANSWER_STRING: {
    char ng[SKILL_ANSWER_MAX], na[SKILL_ANSWER_MAX];
    normalise_string(gold, ng, sizeof ng);
    if (!ng[0]) return -1;
    if (hedged(gold, answer, 0)) return 0;
    normalise_string(answer, na, sizeof na);
    return !strcmp(ng, na);
  }
  case SKILL_ANSWER_CHOICE: {
    int g = read_choice(gold);
    if (!g) return -1;
    if (hedged(gold, answer, 0)) return 0;
    return read_choice(answer) == g;
  }
  case SKILL_ANSWER_LIST:
  case SKILL_ANSWER_SET: {
    int m = match_items(t == SKILL_ANSWER_SET, gold, answer);
    return m == 1 && hedged(gold, answer, 0) ? 0 : m;
  }
  default: return -1;
  }
}

skl_status skill_verify(skill_answer_type t, const char *gold, const char *response, skill_verdict *out,
                        skl_error *err) {
  memset(out, 0, sizeof *out);
  if ((unsigned)t >= SKILL_ANSWER_TYPE_COUNT)
    return skl_error_set(err, SKL_ERR_INVALID, "unknown answer type %d: use number, string, choice, list or set", (int)t);
  out->found = skill_answer_extract(response, out->extracted, sizeof out->extracted, &out->has_format);
  int m = skill_answer_match(t, gold, out->extracted);
  if (m < 0)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "gold answer '%.200s' is not a valid %s answer: fix the dataset's answer or answer_type",
                         gold ? gold : "(null)", skill_answer_type_name(t));
  out->correct = out->found && m == 1;
  return SKL_OK;
}
