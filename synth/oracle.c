/* synth oracle: parses a rendered prompt into documents, entries and problem
 * parts, then answers each skill's question shapes from that text alone.
 * Not allowed to see the blueprint: everything here comes from `user`. */
#include "synth/oracle.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills/answer.h"
#include "skills/phrases.h"

typedef struct {
  const char *name; /* into the text */
  int name_len;
  const char *spec;
  int spec_len;
  int doc;          /* 0-based */
  size_t pos;       /* offset in text: reading order */
} entry;

typedef struct {
  const char *text;
  size_t len;
  int n_docs;
  size_t doc_start[1024], doc_end[1024];
  entry *e;
  int n, cap;
  const char *q; /* question text (without the format line) */
  size_t q_len;
  skl_error *err;
} ctx;

static int starts(const char *s, const char *end, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)(end - s) >= n && !memcmp(s, lit, n);
}

static const char *find(const char *s, const char *end, const char *lit) {
  size_t n = strlen(lit);
  for (const char *p = s; p + n <= end; p++) {
    p = memchr(p, lit[0], (size_t)(end - p));
    if (!p || p + n > end) return NULL;
    if (!memcmp(p, lit, n)) return p;
  }
  return NULL;
}

/* Split into documents and the question. */
static skl_status parse_layout(ctx *c) {
  const char *t = c->text, *end = t + c->len;
  /* the question: the last "\n\nQuestion: " */
  const char *q = NULL;
  for (const char *p = t; (p = find(p, end, "\n\n" SKILL_PH_QUESTION)); p++) q = p;
  if (!q) return skl_error_set(c->err, SKL_ERR_PARSE, "oracle: no \"Question: \" section in the prompt");
  c->q = q + 12;
  const char *qe = end;
  while (qe > c->q && qe[-1] != '\n') qe--; /* drop the answer-format line */
  if (qe > c->q) qe--;
  c->q_len = (size_t)(qe - c->q);
  /* documents: "Document k\n" at the start of a line, k = 1, 2, ... in order */
  c->n_docs = 0;
  const char *p = t;
  for (;;) {
    char head[32];
    snprintf(head, sizeof head, SKILL_PH_DOCUMENT "%d\n", c->n_docs + 1);
    const char *h = NULL;
    for (const char *s = p; (s = find(s, q, head)); s++)
      if (s == t || s[-1] == '\n') { h = s; break; }
    if (!h) break;
    if (c->n_docs) c->doc_end[c->n_docs - 1] = (size_t)(h - t);
    if (c->n_docs == 1024) return skl_error_set(c->err, SKL_ERR_PARSE, "oracle: more than 1024 documents");
    c->doc_start[c->n_docs++] = (size_t)(h - t) + strlen(head);
    p = h + strlen(head);
  }
  if (!c->n_docs) return skl_error_set(c->err, SKL_ERR_PARSE, "oracle: no \"Document 1\" header in the prompt");
  c->doc_end[c->n_docs - 1] = (size_t)(q - t);
  return SKL_OK;
}

static skl_status add_entry(ctx *c, entry e) {
  if (c->n == c->cap) {
    int nc = c->cap ? c->cap * 2 : 64;
    entry *ne = realloc(c->e, (size_t)nc * sizeof *ne);
    if (!ne) return skl_error_set(c->err, SKL_ERR_NOMEM, "oracle: out of memory");
    c->e = ne;
    c->cap = nc;
  }
  c->e[c->n++] = e;
  return SKL_OK;
}

/* End of a sentence that starts at s: a '.' or '?' followed by space, newline or the end. */
static const char *sentence_end(const char *s, const char *end) {
  for (const char *p = s; p < end; p++)
    if ((*p == '.' || *p == '?') && (p + 1 == end || p[1] == ' ' || p[1] == '\n')) return p;
  return end;
}

/* Every "Entry NAME: its value is SPEC." in every document, in text order. */
static skl_status parse_entries(ctx *c) {
  for (int d = 0; d < c->n_docs; d++) {
    const char *s = c->text + c->doc_start[d], *end = c->text + c->doc_end[d];
    while ((s = find(s, end, SKILL_PH_ENTRY))) {
      if (s > c->text && s[-1] != ' ' && s[-1] != '\n') { s++; continue; }
      const char *nm = s + SKILL_PH_LEN(SKILL_PH_ENTRY);
      const char *line_end = memchr(nm, '\n', (size_t)(end - nm));
      if (!line_end) line_end = end;
      const char *colon = find(nm, line_end, SKILL_PH_ENTRY_IS);
      if (!colon) { s++; continue; }
      const char *sp = colon + SKILL_PH_LEN(SKILL_PH_ENTRY_IS);
      const char *se = sentence_end(sp, line_end);
      entry e = {nm, (int)(colon - nm), sp, (int)(se - sp), d, (size_t)(s - c->text)};
      skl_status st = add_entry(c, e);
      if (st) return st;
      s = se;
    }
  }
  return SKL_OK;
}

static int name_eq(const entry *e, const char *name, size_t n) {
  return (size_t)e->name_len == n && !memcmp(e->name, name, n);
}

/* Parse "a op b" integers (op + - *), or "(a op b) * z". */
static int parse_arith(const char *s, const char *end, double *v) {
  char buf[160];
  size_t n = (size_t)(end - s);
  if (n >= sizeof buf) return 0;
  memcpy(buf, s, n);
  buf[n] = 0;
  long a, b, z;
  char op;
  int k = 0;
  if (sscanf(buf, "(%ld %c %ld) * %ld%n", &a, &op, &b, &z, &k) == 4 && (size_t)k == n) {
    double x = op == '+' ? a + b : op == '-' ? a - b : op == '*' ? (double)a * b : NAN;
    *v = x * (double)z;
    return !isnan(x);
  }
  if (sscanf(buf, "%ld %c %ld%n", &a, &op, &b, &k) == 3 && (size_t)k == n) {
    *v = op == '+' ? a + b : op == '-' ? a - b : op == '*' ? (double)a * b : NAN;
    return !isnan(*v);
  }
  return 0;
}

static skl_status entry_value(ctx *c, const entry *e, int depth, double *v);

/* The unique entry with this name (any document). */
static skl_status unique_entry(ctx *c, const char *name, size_t n, const entry **out) {
  const entry *f = NULL;
  for (int i = 0; i < c->n; i++)
    if (name_eq(&c->e[i], name, n)) {
      if (f) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: entry '%.*s' occurs more than once", (int)n, name);
      f = &c->e[i];
    }
  if (!f) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: entry '%.*s' not found in the text", (int)n, name);
  *out = f;
  return SKL_OK;
}

static skl_status entry_value(ctx *c, const entry *e, int depth, double *v) {
  /* a NUL-terminated copy: strtod must not read the sentence's final '.' */
  char copy[512];
  int cl = e->spec_len < (int)sizeof copy - 1 ? e->spec_len : (int)sizeof copy - 1;
  memcpy(copy, e->spec, (size_t)cl);
  copy[cl] = 0;
  const char *s = copy, *end = copy + cl;
  if (depth > 64) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: entry chain longer than 64 (a cycle?)");
  if (starts(s, end, SKILL_PH_VALUE_OF_ENTRY)) {
    const size_t k = SKILL_PH_LEN(SKILL_PH_VALUE_OF_ENTRY);
    const entry *nx;
    skl_status st = unique_entry(c, e->spec + k, (size_t)(end - s) - k, &nx);
    return st ? st : entry_value(c, nx, depth + 1, v);
  }
  if (starts(s, end, SKILL_PH_RESULT_OF)) {
    if (parse_arith(s + SKILL_PH_LEN(SKILL_PH_RESULT_OF), end, v)) return SKL_OK;
  } else if (starts(s, end, SKILL_PH_LARGEST_OF) || starts(s, end, SKILL_PH_SMALLEST_OF)) {
    int largest = starts(s, end, SKILL_PH_LARGEST_OF);
    const char *p = s + (largest ? SKILL_PH_LEN(SKILL_PH_LARGEST_OF) : SKILL_PH_LEN(SKILL_PH_SMALLEST_OF));
    int any = 0;
    double best = 0;
    while (p < end) {
      char *q;
      double x = strtod(p, &q);
      if (q == p) break;
      if (!any || (largest ? x > best : x < best)) best = x;
      any = 1;
      p = q;
      while (p < end && (*p == ',' || *p == ' ')) p++;
    }
    if (any && p == end) { *v = best; return SKL_OK; }
  } else {
    char *q;
    double x = strtod(s, &q);
    if (q == end && q != s) { *v = x; return SKL_OK; }
  }
  return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: cannot read the value of entry '%.*s': '%.*s'",
                       e->name_len, e->name, e->spec_len, e->spec);
}

static skl_status put_number(ctx *c, double v, char *out, size_t cap) {
  return skill_answer_render_number(v, out, cap, c->err);
}

/* Text of the question between `after` and the next `upto` (within the question). */
static int q_field(const ctx *c, const char *after, const char *upto, const char **s, size_t *n) {
  const char *qe = c->q + c->q_len;
  const char *a = find(c->q, qe, after);
  if (!a) return 0;
  a += strlen(after);
  const char *b = find(a, qe, upto);
  if (!b) return 0;
  *s = a;
  *n = (size_t)(b - a);
  return 1;
}

/* Documents holding an entry with this name (bitmask over <= 1024 docs as a count). */
static int docs_with(const ctx *c, const char *name, size_t n, unsigned char *mark) {
  memset(mark, 0, (size_t)c->n_docs);
  int k = 0;
  for (int i = 0; i < c->n; i++)
    if (name_eq(&c->e[i], name, n) && !mark[c->e[i].doc]) {
      mark[c->e[i].doc] = 1;
      k++;
    }
  return k;
}

/* ---- multi_source: assemble "Problem NAME (part i of n): ..." parts ---- */

typedef struct { char name[48]; double v; } var;

static skl_status solve_problem(ctx *c, const char *name, size_t nlen, double *out) {
  char head[128];
  if (nlen > 80) return skl_error_set(c->err, SKL_ERR_PARSE, "oracle: problem name too long");
  int hl = snprintf(head, sizeof head, SKILL_PH_PROBLEM "%.*s" SKILL_PH_PART, (int)nlen, name);
  const char *parts[64] = {0};
  size_t plen[64] = {0};
  int total = -1;
  for (int d = 0; d < c->n_docs; d++) {
    const char *s = c->text + c->doc_start[d], *end = c->text + c->doc_end[d];
    while ((s = find(s, end, head))) {
      int i, n, k = 0;
      if (sscanf(s + hl, "%d" SKILL_PH_PART_OF "%d" SKILL_PH_PART_END "%n", &i, &n, &k) != 2 || !k || i < 1 || n > 64 || i > n) { s++; continue; }
      if (total >= 0 && total != n)
        return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: problem parts disagree on their count");
      total = n;
      const char *body = s + hl + k;
      while (*body == ' ') body++;
      const char *le = memchr(body, '\n', (size_t)(end - body));
      if (!le) le = end;
      /* a part is one sentence: up to ". " / "? " (the Setup part may hold several sentences:
         it ends before the next "Problem " head or the line end) */
      const char *nx = find(body, le, SKILL_PH_PROBLEM);
      const char *pe = nx ? nx : le;
      while (pe > body && pe[-1] == ' ') pe--;
      if (parts[i - 1]) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: problem part %d appears twice", i);
      parts[i - 1] = body;
      plen[i - 1] = (size_t)(pe - body);
      s = pe;
    }
  }
  if (total < 0) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: no part of problem '%.*s'", (int)nlen, name);
  for (int i = 0; i < total; i++)
    if (!parts[i]) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: part %d of problem '%.*s' is missing", i + 1, (int)nlen, name);
  var vars[64];
  int nv = 0;
  char asked[48] = "";
  /* givens first, then steps in part order (a step may use a later-numbered given) */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < total; i++) {
      char buf[512];
      size_t n = plen[i] < sizeof buf - 1 ? plen[i] : sizeof buf - 1;
      memcpy(buf, parts[i], n);
      buf[n] = 0;
      char a[48], b[48], r[48], op;
      long x;
      if (pass == 0 && sscanf(buf, SKILL_PH_GIVEN "%47s = %ld.", a, &x) == 2) {
        snprintf(vars[nv].name, sizeof vars[nv].name, "%s", a);
        vars[nv++].v = (double)x;
      } else if (pass == 0 && sscanf(buf, SKILL_PH_ASK_PART "%47[^?]?", a) == 1) {
        snprintf(asked, sizeof asked, "%s", a);
      } else if (pass == 1 && sscanf(buf, SKILL_PH_STEP "%47s = %47s %c %47[^.].", r, a, &op, b) == 4) {
        double va = NAN, vb = NAN;
        for (int k = 0; k < nv; k++) {
          if (!strcmp(vars[k].name, a)) va = vars[k].v;
          if (!strcmp(vars[k].name, b)) vb = vars[k].v;
        }
        if (isnan(va) || isnan(vb))
          return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: step '%s' uses an unknown quantity", buf);
        if (nv == 64) return skl_error_set(c->err, SKL_ERR_RANGE, "oracle: too many quantities");
        snprintf(vars[nv].name, sizeof vars[nv].name, "%s", r);
        vars[nv++].v = op == '+' ? va + vb : op == '-' ? va - vb : va * vb;
      }
    }
  for (int k = nv - 1; k >= 0; k--)
    if (asked[0] && !strcmp(vars[k].name, asked)) { *out = vars[k].v; return SKL_OK; }
  return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: problem '%.*s' asks for '%s', which no part defines",
                       (int)nlen, name, asked);
}

/* ---- calc_reason ---- */

static int op_word(const char *s, const char *end) {
  static const char *w[] = SKILL_PH_OP_WORDS;
  for (int i = 0; i < 5; i++)
    if (starts(s, end, w[i])) return i;
  return -1;
}

static double apply_op(int op, const double *v, int n) {
  double r = v[0];
  for (int i = 1; i < n; i++) {
    if (op == 0 || op == 2) r += v[i];
    else if (op == 1) r *= v[i];
    else if (op == 3) r = v[i] > r ? v[i] : r;
    else r = v[i] < r ? v[i] : r;
  }
  return op == 2 ? r / n : r;
}

static skl_status solve_calc(ctx *c, char *out, size_t cap) {
  const char *qe = c->q + c->q_len, *x, *y = NULL;
  size_t xn, yn = 0;
  if (!q_field(c, SKILL_PH_COUNT, ".", &x, &xn))
    return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: unknown calc_reason question");
  /* X may be followed by ", and m the number ..." */
  static const char and_m[] = SKILL_PH_AND_M;
  const char *comma = find(x, x + xn, and_m);
  int two = comma != NULL;
  if (two) {
    y = comma + sizeof and_m - 1;
    yn = (size_t)(x + xn - y);
    xn = (size_t)(comma - x);
  }
  unsigned char *mark = malloc((size_t)c->n_docs + 1);
  if (!mark) return skl_error_set(c->err, SKL_ERR_NOMEM, "oracle: out of memory");
  int n = docs_with(c, x, xn, mark), m = two ? docs_with(c, y, yn, mark) : 0;
  free(mark);
  const char *p = find(c->q, qe, SKILL_PH_IF_N);
  if (!p) return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: calc_reason question without a condition");
  int t1 = atoi(p + SKILL_PH_LEN(SKILL_PH_IF_N)), t2 = 0;
  const char *c1 = find(p, qe, ", " SKILL_PH_COMPUTE);
  if (!c1) return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: calc_reason question without an operation");
  int op[3] = {op_word(c1 + SKILL_PH_LEN(", " SKILL_PH_COMPUTE), qe), -1, -1};
  const char *list = find(c1, qe, SKILL_PH_OPERANDS);
  const char *le = list ? find(list, qe, SKILL_PH_OTHERWISE) : NULL;
  if (!list || !le) return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: calc_reason question without operands");
  list += SKILL_PH_LEN(SKILL_PH_OPERANDS);
  const char *o2 = find(le, qe, SKILL_PH_COMPUTE);
  op[1] = o2 ? op_word(o2 + SKILL_PH_LEN(SKILL_PH_COMPUTE), qe) : -1;
  if (two) {
    const char *pm = find(le, qe, SKILL_PH_IF_M);
    if (!pm) return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: calc_reason question without m's condition");
    t2 = atoi(pm + SKILL_PH_LEN(SKILL_PH_IF_M));
    const char *o3 = find(o2 + SKILL_PH_LEN(SKILL_PH_COMPUTE), qe, SKILL_PH_COMPUTE);
    op[2] = o3 ? op_word(o3 + SKILL_PH_LEN(SKILL_PH_COMPUTE), qe) : -1;
  }
  /* operand names: "A, B and C" / "A and B" / "A" */
  double vals[16];
  int nv = 0;
  const char *s = list;
  while (s < le && nv < 16) {
    const char *a = find(s, le, " and "), *b = find(s, le, ", ");
    const char *e = le;
    if (a && (!b || a < b)) e = a;
    else if (b) e = b;
    const entry *en;
    skl_status st = unique_entry(c, s, (size_t)(e - s), &en);
    if (!st) st = entry_value(c, en, 0, &vals[nv]);
    if (st) return st;
    nv++;
    s = e == le ? le : e + (e == a ? 5 : 2);
  }
  int pick = n > t1 ? 0 : (!two || m > t2) ? 1 : 2;
  if (!nv || op[pick] < 0) return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: calc_reason operation not understood");
  double r = apply_op(op[pick], vals, nv);
  return put_number(c, round(r * 100) / 100, out, cap);
}

/* ---- logic ---- */

static skl_status solve_logic(ctx *c, char *out, size_t cap) {
  const char *qe = c->q + c->q_len;
  const char *opt[4];
  size_t on[4];
  int no = 0;
  for (const char *p = c->q; p < qe && no < 4; p++) {
    if (*p == '\n' && p + 3 < qe && p[1] == 'A' + no && p[2] == '.' && p[3] == ' ') {
      opt[no] = p + 4;
      const char *e = memchr(p + 4, '\n', (size_t)(qe - p - 4));
      on[no] = (size_t)((e ? e : qe) - opt[no]);
      no++;
    }
  }
  if (no < 2) return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: logic question without options");
  unsigned char *mark = malloc((size_t)c->n_docs + 1);
  if (!mark) return skl_error_set(c->err, SKL_ERR_NOMEM, "oracle: out of memory");
  int hit = -1, hits = 0;
  skl_status st = SKL_OK;
  if (find(c->q, qe, SKILL_PH_LOGIC_UNIQUE)) {
    for (int i = 0; i < no; i++)
      if (docs_with(c, opt[i], on[i], mark) == 1) { hit = i; hits++; }
  } else if (find(c->q, qe, SKILL_PH_LOGIC_MOST)) {
    int best = -1, bestc = -1, ties = 0;
    for (int d = 0; d < c->n_docs; d++) {
      int k = 0;
      for (int i = 0; i < c->n; i++) k += c->e[i].doc == d;
      if (k > bestc) { best = d; bestc = k; ties = 0; }
      else if (k == bestc) ties++;
    }
    char want[32];
    snprintf(want, sizeof want, SKILL_PH_DOCUMENT "%d", best + 1);
    for (int i = 0; i < no && !ties; i++)
      if (on[i] == strlen(want) && !memcmp(opt[i], want, on[i])) { hit = i; hits++; }
  } else if (find(c->q, qe, SKILL_PH_LOGIC_BEFORE_LAST)) {
    /* entries in exactly one document, in text order (entries are already in text order) */
    int seq[4096], ns = 0;
    for (int i = 0; i < c->n && ns < 4096; i++) {
      int dup = 0;
      for (int j = 0; j < ns && !dup; j++) dup = name_eq(&c->e[seq[j]], c->e[i].name, (size_t)c->e[i].name_len);
      if (!dup && docs_with(c, c->e[i].name, (size_t)c->e[i].name_len, mark) == 1) seq[ns++] = i;
    }
    if (ns >= 2) {
      const entry *want = &c->e[seq[ns - 2]];
      for (int i = 0; i < no; i++)
        if (name_eq(want, opt[i], on[i])) { hit = i; hits++; }
    }
  } else {
    int di, dj;
    const char *p = find(c->q, qe, SKILL_PH_LOGIC_BOTH);
    if (p && sscanf(p + SKILL_PH_LEN(SKILL_PH_LOGIC_BOTH), "%d and " SKILL_PH_DOCUMENT "%d?", &di, &dj) == 2 && di >= 1 && dj >= 1 && di <= c->n_docs &&
        dj <= c->n_docs) {
      for (int i = 0; i < no; i++) {
        docs_with(c, opt[i], on[i], mark);
        if (mark[di - 1] && mark[dj - 1]) { hit = i; hits++; }
      }
    } else {
      st = skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: unknown logic question '%.60s'", c->q);
    }
  }
  free(mark);
  if (st) return st;
  if (hits != 1)
    return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: %d options satisfy the logic question", hits);
  if (cap < 2) return skl_error_set(c->err, SKL_ERR_RANGE, "oracle: answer buffer too small");
  out[0] = (char)('A' + hit);
  out[1] = 0;
  return SKL_OK;
}

/* ---- entry questions: niah, anti_interference, multi_hop ---- */

static skl_status solve_entry_question(ctx *c, char *out, size_t cap) {
  const char *qe = c->q + c->q_len, *name;
  size_t nn;
  double v;
  skl_status st;
  if (q_field(c, SKILL_PH_CONFLICT, SKILL_PH_SEVERAL, &name, &nn)) {
    const entry *pick = NULL;
    int k;
    const char *p;
    static const char in_doc[] = SKILL_PH_IN_DOC;
    if ((p = find(c->q, qe, in_doc)) && (k = atoi(p + sizeof in_doc - 1)) >= 1) {
      for (int i = 0; i < c->n; i++)
        if (name_eq(&c->e[i], name, nn) && c->e[i].doc == k - 1) {
          if (pick) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: two occurrences in Document %d", k);
          pick = &c->e[i];
        }
    } else {
      int last = find(c->q, qe, SKILL_PH_LAST_OCC) != NULL;
      if (!last && !find(c->q, qe, SKILL_PH_FIRST_OCC))
        return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: unknown conflict question '%.*s'", (int)c->q_len, c->q);
      for (int i = 0; i < c->n; i++)
        if (name_eq(&c->e[i], name, nn) && (!pick || last)) pick = &c->e[i];
    }
    if (!pick) return skl_error_set(c->err, SKL_ERR_NOTFOUND, "oracle: the asked occurrence of '%.*s' is absent", (int)nn, name);
    if ((st = entry_value(c, pick, 0, &v))) return st;
    return put_number(c, v, out, cap);
  }
  if (q_field(c, SKILL_PH_ASK_VALUE, "?", &name, &nn)) {
    const entry *e;
    if ((st = unique_entry(c, name, nn, &e)) || (st = entry_value(c, e, 0, &v))) return st;
    return put_number(c, v, out, cap);
  }
  if (q_field(c, SKILL_PH_PARTS, SKILL_PH_SCATTERED, &name, &nn)) {
    if ((st = solve_problem(c, name, nn, &v))) return st;
    return put_number(c, v, out, cap);
  }
  return skl_error_set(c->err, SKL_ERR_UNSUPPORTED, "oracle: unknown question shape '%.80s'", c->q);
}

skl_status synth_oracle_solve(const char *skill, const char *user, size_t len, char *answer, size_t cap,
                              skl_error *err) {
  ctx c = {.text = user, .len = len, .err = err};
  skl_status st = parse_layout(&c);
  if (!st) st = parse_entries(&c);
  if (!st) {
    if (!strcmp(skill, "calc_reason")) st = solve_calc(&c, answer, cap);
    else if (!strcmp(skill, "logic")) st = solve_logic(&c, answer, cap);
    else st = solve_entry_question(&c, answer, cap);
  }
  free(c.e);
  return st;
}
