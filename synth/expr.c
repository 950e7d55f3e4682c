/* synth expr: the tree-walking evaluator with a per-evaluation arena, and
 * answer rendering per type. Not the parser (synth/expr_parse.c). */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills/answer.h"
#include "synth/expr_internal.h"

/* ---------- values and evaluation ---------- */

typedef enum { V_NUM, V_BOOL, V_STR, V_ANCHOR, V_DOC, V_Q, V_LIST, V_SET } vtype;

typedef struct val {
  vtype t;
  double num;         /* V_NUM, V_BOOL */
  int idx;            /* V_ANCHOR, V_DOC, V_Q (anchor index) */
  const char *str;    /* V_STR (arena) */
  struct val *items;  /* V_LIST, V_SET (arena) */
  int n;
} val;

typedef struct block { struct block *next; size_t used, cap; char data[]; } block;

typedef struct binding { const char *name; val v; struct binding *up; } binding;

typedef struct {
  const skill_blueprint *bp;
  const char *src;
  skl_error *err;
  block *arena;
  binding *vars;
  int steps;
} evalctx;

static const char *vname(vtype t) {
  static const char *n[] = {"number", "bool", "string", "anchor", "document", "question", "list", "set"};
  return n[t];
}

static skl_status eerr(evalctx *c, const node *at, skl_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static skl_status eerr(evalctx *c, const node *at, skl_status code, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return skl_error_set(c->err, code, "expression '%.200s' at col %d: %s", c->src, at->pos + 1, what);
}

static void *aalloc(evalctx *c, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!c->arena || c->arena->cap - c->arena->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    block *b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = c->arena;
    b->used = 0;
    b->cap = cap;
    c->arena = b;
  }
  void *p = c->arena->data + c->arena->used;
  c->arena->used += n;
  return p;
}

static val mknum(double x) { val v = {.t = V_NUM, .num = x}; return v; }

static int doc_count(const skill_blueprint *bp) { return bp->n_docs; }

/* Reading order of inserts: (doc, depth, array order). */
static int ins_before(const skill_blueprint *bp, int a, int b) {
  const skill_insert *x = &bp->inserts[a], *y = &bp->inserts[b];
  if (x->doc != y->doc) return x->doc < y->doc;
  if (x->depth != y->depth) return x->depth < y->depth;
  return a < b;
}

static int same_name(const skill_blueprint *bp, int a, int b) {
  return a == b || !strcmp(bp->anchors[a].name, bp->anchors[b].name);
}

/* Canonical order of values in a set. */
static int val_cmp(const val *a, const val *b) {
  if (a->t != b->t) return a->t < b->t ? -1 : 1;
  switch (a->t) {
  case V_NUM: case V_BOOL: return a->num < b->num ? -1 : a->num > b->num;
  case V_STR: return strcmp(a->str, b->str);
  case V_ANCHOR: case V_DOC: case V_Q: return a->idx < b->idx ? -1 : a->idx > b->idx;
  case V_LIST: case V_SET:
    for (int i = 0; i < a->n && i < b->n; i++) {
      int r = val_cmp(&a->items[i], &b->items[i]);
      if (r) return r;
    }
    return a->n < b->n ? -1 : a->n > b->n;
  }
  return 0;
}
static int val_cmp_q(const void *a, const void *b) { return val_cmp(a, b); }

static val mkset(val *items, int n) {
  qsort(items, (size_t)n, sizeof *items, val_cmp_q);
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!m || val_cmp(&items[m - 1], &items[i])) items[m++] = items[i];
  val v = {.t = V_SET, .items = items, .n = m};
  return v;
}

static skl_status ev(evalctx *c, const node *n, val *out);

static skl_status want_num(evalctx *c, const node *n, const val *v, double *x) {
  if (v->t == V_NUM || v->t == V_BOOL) { *x = v->num; return SKL_OK; }
  if (v->t == V_DOC) { *x = v->idx + 1; return SKL_OK; }
  return eerr(c, n, SKL_ERR_INVALID, "expected a number, got %s", vname(v->t));
}
static int truthy(const val *v) {
  switch (v->t) {
  case V_NUM: case V_BOOL: return v->num != 0;
  case V_STR: return v->str[0] != 0;
  case V_LIST: case V_SET: return v->n > 0;
  default: return 1;
  }
}
/* Items of a list or set; a single doc/anchor counts as a one-item set. */
static skl_status want_items(evalctx *c, const node *n, val *v) {
  if (v->t == V_LIST || v->t == V_SET) return SKL_OK;
  if (v->t == V_DOC || v->t == V_ANCHOR) {
    val *it = aalloc(c, sizeof *it);
    if (!it) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
    *it = *v;
    v->t = V_SET;
    v->items = it;
    v->n = 1;
    return SKL_OK;
  }
  return eerr(c, n, SKL_ERR_INVALID, "expected a set or list, got %s", vname(v->t));
}

static skl_status want_anchor(evalctx *c, const node *n, const val *v, int *a) {
  if (v->t == V_ANCHOR || v->t == V_Q) { *a = v->idx; return SKL_OK; }
  return eerr(c, n, SKL_ERR_INVALID, "expected an anchor, got %s", vname(v->t));
}

/* Format a value as answer text into a fresh arena string. */
static const char *val_text(evalctx *c, const val *v, int sorted);

static skl_status call_builtin(evalctx *c, const node *n, val *args, int na, val *out);

/* Reduce a list of values with a named aggregate (sum, product, min, ...). */
static skl_status aggregate(evalctx *c, const node *n, const char *f, val *xs, int cnt, val *keys, val *out) {
  if (!strcmp(f, "count") || !strcmp(f, "len")) { *out = mknum(cnt); return SKL_OK; }
  if (!strcmp(f, "any") || !strcmp(f, "all")) {
    int any = 0, all = 1;
    for (int i = 0; i < cnt; i++) { int t = truthy(&xs[i]); any |= t; all &= t; }
    out->t = V_BOOL;
    out->num = !strcmp(f, "any") ? any : all;
    return SKL_OK;
  }
  if (!strcmp(f, "list") || !strcmp(f, "set") || !strcmp(f, "sorted")) {
    out->t = V_LIST;
    out->items = xs;
    out->n = cnt;
    if (!strcmp(f, "set")) *out = mkset(xs, cnt);
    else if (!strcmp(f, "sorted")) qsort(xs, (size_t)cnt, sizeof *xs, val_cmp_q);
    return SKL_OK;
  }
  int is_arg = !strcmp(f, "argmax") || !strcmp(f, "argmin");
  if (!strcmp(f, "sum") || !strcmp(f, "product")) {
    double acc = !strcmp(f, "sum") ? 0 : 1;
    for (int i = 0; i < cnt; i++) {
      double x = 0;
      skl_status s = want_num(c, n, &xs[i], &x);
      if (s) return s;
      acc = f[0] == 's' ? acc + x : acc * x;
    }
    *out = mknum(acc);
    return SKL_OK;
  }
  if (!strcmp(f, "min") || !strcmp(f, "max") || is_arg) {
    if (!cnt) return eerr(c, n, SKL_ERR_RANGE, "%s() of an empty collection", f);
    int want_max = !strcmp(f, "max") || !strcmp(f, "argmax");
    const val *k = is_arg ? keys : xs;
    int best = 0, ties = 0;
    for (int i = 1; i < cnt; i++) {
      int r;
      if ((k[i].t == V_NUM || k[i].t == V_BOOL) && (k[best].t == V_NUM || k[best].t == V_BOOL))
        r = k[i].num < k[best].num ? -1 : k[i].num > k[best].num;
      else if (k[i].t == k[best].t) r = val_cmp(&k[i], &k[best]);
      else return eerr(c, n, SKL_ERR_INVALID, "%s() over mixed types %s and %s", f, vname(k[i].t), vname(k[best].t));
      if (!want_max) r = -r;
      if (r > 0) { best = i; ties = 0; }
      else if (r == 0) ties++;
    }
    if (is_arg && ties)
      return eerr(c, n, SKL_ERR_RANGE, "%s() has a tie (%d items share the best key): the answer is not unique", f,
                  ties + 1);
    *out = xs[best];
    return SKL_OK;
  }
  return eerr(c, n, SKL_ERR_INVALID, "'%s' does not take a generator (use sum, product, min, max, count, any, all, "
              "argmax, argmin, list, set, sorted)", f);
}

static skl_status ev_gen(evalctx *c, const node *call, val *out) {
  const node *g = call->kids[0];
  val it;
  skl_status s = ev(c, g->kids[1], &it);
  if (s) return s;
  if ((s = want_items(c, g->kids[1], &it))) return s;
  val *xs = aalloc(c, sizeof *xs * (size_t)(it.n + 1));
  val *keys = aalloc(c, sizeof *keys * (size_t)(it.n + 1));
  if (!xs || !keys) return eerr(c, g, SKL_ERR_NOMEM, "out of memory");
  int cnt = 0;
  int is_arg = !strcmp(call->name, "argmax") || !strcmp(call->name, "argmin");
  binding b = {.name = g->name, .up = c->vars};
  c->vars = &b;
  for (int i = 0; i < it.n; i++) {
    b.v = it.items[i];
    val cond, x;
    if ((s = ev(c, g->kids[2], &cond))) break;
    if (!truthy(&cond)) continue;
    if ((s = ev(c, g->kids[0], &x))) break;
    if (is_arg) { keys[cnt] = x; xs[cnt++] = it.items[i]; }
    else xs[cnt++] = x;
  }
  c->vars = b.up;
  if (s) return s;
  if (call->kind == N_LISTGEN) { out->t = V_LIST; out->items = xs; out->n = cnt; return SKL_OK; }
  return aggregate(c, call, call->name, xs, cnt, keys, out);
}

static skl_status binop(evalctx *c, const node *n, val *l, val *r, val *out) {
  const char *op = n->op;
  if (op[0] == 'i' || op[0] == 'n') { /* membership */
    skl_status s = want_items(c, n->kids[1], r);
    if (s) return s;
    int in = 0;
    for (int i = 0; i < r->n && !in; i++) in = !val_cmp(l, &r->items[i]);
    out->t = V_BOOL;
    out->num = op[0] == 'i' ? in : !in;
    return SKL_OK;
  }
  int lset = l->t == V_SET || l->t == V_LIST, rset = r->t == V_SET || r->t == V_LIST;
  if ((op[0] == '&' || op[0] == '|' || (op[0] == '-' && lset)) && !op[1]) {
    skl_status s;
    if ((s = want_items(c, n->kids[0], l)) || (s = want_items(c, n->kids[1], r))) return s;
    val *xs = aalloc(c, sizeof *xs * (size_t)(l->n + r->n + 1));
    if (!xs) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
    int m = 0;
    if (op[0] == '|') {
      for (int i = 0; i < l->n; i++) xs[m++] = l->items[i];
      for (int i = 0; i < r->n; i++) xs[m++] = r->items[i];
    } else {
      for (int i = 0; i < l->n; i++) {
        int in = 0;
        for (int j = 0; j < r->n && !in; j++) in = !val_cmp(&l->items[i], &r->items[j]);
        if (in == (op[0] == '&')) xs[m++] = l->items[i];
      }
    }
    *out = mkset(xs, m);
    return SKL_OK;
  }
  if (op[0] == '=' || op[0] == '!') {
    int eq, ln = l->t == V_NUM || l->t == V_BOOL, rn = r->t == V_NUM || r->t == V_BOOL;
    if (ln && rn) eq = fabs(l->num - r->num) < 1e-9;
    else if (l->t == r->t) eq = !val_cmp(l, r);
    else eq = 0;
    out->t = V_BOOL;
    out->num = op[0] == '=' ? eq : !eq;
    return SKL_OK;
  }
  if (lset || rset || l->t == V_STR || r->t == V_STR) {
    if (op[0] == '+' && l->t == V_STR && r->t == V_STR) {
      size_t a = strlen(l->str), b = strlen(r->str);
      char *s = aalloc(c, a + b + 1);
      if (!s) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
      memcpy(s, l->str, a);
      memcpy(s + a, r->str, b + 1);
      out->t = V_STR;
      out->str = s;
      return SKL_OK;
    }
    if ((op[0] == '<' || op[0] == '>') && l->t == V_STR && r->t == V_STR) {
      int k = strcmp(l->str, r->str);
      out->t = V_BOOL;
      out->num = op[0] == '<' ? (op[1] ? k <= 0 : k < 0) : (op[1] ? k >= 0 : k > 0);
      return SKL_OK;
    }
    return eerr(c, n, SKL_ERR_INVALID, "operator '%s' does not apply to %s and %s", op, vname(l->t), vname(r->t));
  }
  double x = 0, y = 0;
  skl_status s;
  if ((s = want_num(c, n->kids[0], l, &x)) || (s = want_num(c, n->kids[1], r, &y))) return s;
  double z = 0;
  switch (op[0]) {
  case '+': z = x + y; break;
  case '-': z = x - y; break;
  case '*': z = x * y; break;
  case '/':
    if (y == 0) return eerr(c, n, SKL_ERR_NUMERIC, "division by zero");
    z = x / y;
    break;
  case '%':
    if (y == 0) return eerr(c, n, SKL_ERR_NUMERIC, "modulo by zero");
    z = fmod(x, y);
    break;
  case '<': out->t = V_BOOL; out->num = op[1] ? x <= y : x < y; return SKL_OK;
  case '>': out->t = V_BOOL; out->num = op[1] ? x >= y : x > y; return SKL_OK;
  default: return eerr(c, n, SKL_ERR_INTERNAL, "unknown operator '%s'", op);
  }
  if (!isfinite(z)) return eerr(c, n, SKL_ERR_NUMERIC, "result of '%s' is not finite", op);
  *out = mknum(z);
  return SKL_OK;
}

static skl_status ev(evalctx *c, const node *n, val *out) {
  if (++c->steps > 10000000) return eerr(c, n, SKL_ERR_RANGE, "evaluation too long (over 10M steps)");
  memset(out, 0, sizeof *out);
  skl_status s;
  const skill_blueprint *bp = c->bp;
  switch (n->kind) {
  case N_NUM: *out = mknum(n->num); return SKL_OK;
  case N_BOOL: out->t = V_BOOL; out->num = n->num; return SKL_OK;
  case N_STR: out->t = V_STR; out->str = n->str; return SKL_OK;
  case N_ANCHOR:
    if (n->idx < 0 || n->idx >= bp->n_anchors)
      return eerr(c, n, SKL_ERR_RANGE, "anchor a%d does not exist (the blueprint has %d anchors: a0..a%d)", n->idx,
                  bp->n_anchors, bp->n_anchors - 1);
    out->t = V_ANCHOR;
    out->idx = n->idx;
    return SKL_OK;
  case N_DOC:
    if (n->idx < 0 || n->idx >= doc_count(bp))
      return eerr(c, n, SKL_ERR_RANGE, "document d%d does not exist (the blueprint has %d documents: d0..d%d)", n->idx,
                  bp->n_docs, bp->n_docs - 1);
    out->t = V_DOC;
    out->idx = n->idx;
    return SKL_OK;
  case N_VAR:
    for (binding *b = c->vars; b; b = b->up)
      if (!strcmp(b->name, n->name)) { *out = b->v; return SKL_OK; }
    return eerr(c, n, SKL_ERR_INVALID, "unknown name '%s' (anchors are a0..aN, documents d0..dN)", n->name);
  case N_NEG: {
    val x;
    double d = 0;
    if ((s = ev(c, n->kids[0], &x)) || (s = want_num(c, n->kids[0], &x, &d))) return s;
    *out = mknum(-d);
    return SKL_OK;
  }
  case N_NOT: {
    val x;
    if ((s = ev(c, n->kids[0], &x))) return s;
    out->t = V_BOOL;
    out->num = !truthy(&x);
    return SKL_OK;
  }
  case N_AND: case N_OR: {
    val x;
    if ((s = ev(c, n->kids[0], &x))) return s;
    if (truthy(&x) == (n->kind == N_OR)) { out->t = V_BOOL; out->num = n->kind == N_OR; return SKL_OK; }
    if ((s = ev(c, n->kids[1], &x))) return s;
    out->t = V_BOOL;
    out->num = truthy(&x);
    return SKL_OK;
  }
  case N_COND: {
    val x;
    if ((s = ev(c, n->kids[0], &x))) return s;
    return ev(c, n->kids[truthy(&x) ? 1 : 2], out);
  }
  case N_BIN: {
    val l, r;
    if ((s = ev(c, n->kids[0], &l)) || (s = ev(c, n->kids[1], &r))) return s;
    return binop(c, n, &l, &r, out);
  }
  case N_INDEX: {
    val x, i;
    double d = 0;
    if ((s = ev(c, n->kids[0], &x)) || (s = ev(c, n->kids[1], &i))) return s;
    if ((s = want_items(c, n->kids[0], &x)) || (s = want_num(c, n->kids[1], &i, &d))) return s;
    int k = (int)d;
    if (k != d) return eerr(c, n, SKL_ERR_INVALID, "index %g is not an integer", d);
    if (k < 0) k += x.n;
    if (k < 0 || k >= x.n) return eerr(c, n, SKL_ERR_RANGE, "index %g out of range for a %s of %d items", d, vname(x.t), x.n);
    *out = x.items[k];
    return SKL_OK;
  }
  case N_LIST: {
    val *xs = aalloc(c, sizeof *xs * (size_t)(n->nkids + 1));
    if (!xs) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n->nkids; i++)
      if ((s = ev(c, n->kids[i], &xs[i]))) return s;
    out->t = V_LIST;
    out->items = xs;
    out->n = n->nkids;
    return SKL_OK;
  }
  case N_LISTGEN: {
    node wrap = {.kind = N_LISTGEN, .pos = n->pos};
    node *k = (node *)n;
    wrap.kids = &k;
    wrap.nkids = 1;
    return ev_gen(c, &wrap, out);
  }
  case N_GEN: return eerr(c, n, SKL_ERR_INTERNAL, "bare generator");
  case N_CALL: {
    if (n->nkids == 1 && n->kids[0]->kind == N_GEN) return ev_gen(c, n, out);
    val args[8];
    if (n->nkids > 8) return eerr(c, n, SKL_ERR_INVALID, "%s() takes at most 8 arguments", n->name);
    for (int i = 0; i < n->nkids; i++)
      if ((s = ev(c, n->kids[i], &args[i]))) return s;
    return call_builtin(c, n, args, n->nkids, out);
  }
  }
  return eerr(c, n, SKL_ERR_INTERNAL, "unknown node");
}

/* Anchors' occurrences (insert indices) in reading order, optionally only
 * inserts naming anchor `a` (by name) and/or lying in doc set `docs`. */
static int occ_list(evalctx *c, int a, const val *docs, int *out) {
  const skill_blueprint *bp = c->bp;
  int m = 0;
  for (int i = 0; i < bp->n_inserts; i++) {
    const skill_insert *in = &bp->inserts[i];
    if (in->anchor < 0 || in->anchor >= bp->n_anchors) continue;
    if (a >= 0 && !same_name(bp, a, in->anchor)) continue;
    if (docs) {
      int hit = 0;
      for (int j = 0; j < docs->n && !hit; j++) hit = docs->items[j].t == V_DOC && docs->items[j].idx == in->doc;
      if (!hit) continue;
    }
    out[m++] = i;
  }
  for (int i = 1; i < m; i++) /* insertion sort: few inserts, and no shared state for qsort */
    for (int j = i; j > 0 && ins_before(bp, out[j], out[j - 1]); j--) {
      int t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return m;
}

/* A builtin: args[na] evaluated, their count checked against its row; tmp
 * has room for an index per insert, anchor and document. Rows that share a
 * handler tell themselves apart by n->name. */
typedef skl_status (*builtin_fn)(evalctx *c, const node *n, val *args, int na, int *tmp, val *out);

/* docs(A), doc(A), mentions(A), occurrences(A): where anchor A (or its namesakes) occur. */
static skl_status bi_occurrences(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const skill_blueprint *bp = c->bp;
  const char *f = n->name;
  skl_status s;
  int a = 0;
  if ((s = want_anchor(c, n, &args[0], &a))) return s;
  int m = occ_list(c, a, NULL, tmp);
  if (!strcmp(f, "mentions")) { *out = mknum(m); return SKL_OK; }
  val *xs = aalloc(c, sizeof *xs * (size_t)(m + 1));
  if (!xs) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  if (!strcmp(f, "occurrences")) {
    int k = 0;
    for (int i = 0; i < m; i++) {
      int an = bp->inserts[tmp[i]].anchor, dup = 0;
      for (int j = 0; j < k; j++) dup |= xs[j].idx == an;
      if (!dup) { xs[k].t = V_ANCHOR; xs[k++].idx = an; }
    }
    out->t = V_LIST;
    out->items = xs;
    out->n = k;
    return SKL_OK;
  }
  /* docs(A): documents of A's own occurrences (same index), not of namesakes */
  int k = 0;
  for (int i = 0; i < m; i++)
    if (bp->inserts[tmp[i]].anchor == a) { xs[k].t = V_DOC; xs[k++].idx = bp->inserts[tmp[i]].doc; }
  if (!strcmp(f, "doc")) {
    if (!k) return eerr(c, n, SKL_ERR_RANGE, "anchor a%d is not placed in any document", a);
    *out = xs[0];
    return SKL_OK;
  }
  *out = mkset(xs, k);
  return SKL_OK;
}

/* anchors_in(D), in_doc(D), sequence([D]): anchors over a set of documents. */
static skl_status bi_anchors_in(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const skill_blueprint *bp = c->bp;
  const char *f = n->name;
  skl_status s;
  val d;
  if (na) {
    d = args[0];
    if ((s = want_items(c, n, &d))) return s;
    for (int i = 0; i < d.n; i++)
      if (d.items[i].t != V_DOC)
        return eerr(c, n, SKL_ERR_INVALID, "%s() expects documents, got a %s among them", f, vname(d.items[i].t));
  }
  if (!strcmp(f, "in_doc")) { *out = mkset(d.items, d.n); return SKL_OK; }
  int m = occ_list(c, -1, na ? &d : NULL, tmp);
  val *xs = aalloc(c, sizeof *xs * (size_t)(m + 1));
  if (!xs) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  for (int i = 0; i < m; i++) { xs[i].t = V_ANCHOR; xs[i].idx = bp->inserts[tmp[i]].anchor; }
  if (!strcmp(f, "sequence")) { out->t = V_LIST; out->items = xs; out->n = m; return SKL_OK; }
  *out = mkset(xs, m);
  return SKL_OK;
}

/* anchors(), all_docs(): every anchor or document. */
static skl_status bi_all(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const skill_blueprint *bp = c->bp;
  const char *f = n->name;
  int m = f[0] == 'a' && f[1] == 'n' ? bp->n_anchors : bp->n_docs;
  val *xs = aalloc(c, sizeof *xs * (size_t)(m + 1));
  if (!xs) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  for (int i = 0; i < m; i++) { xs[i].t = f[1] == 'n' ? V_ANCHOR : V_DOC; xs[i].idx = i; }
  out->t = V_SET;
  out->items = xs;
  out->n = m;
  return SKL_OK;
}

static skl_status bi_q(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const skill_blueprint *bp = c->bp;
  skl_status s;
  int a = 0;
  if ((s = want_anchor(c, n, &args[0], &a))) return s;
  out->t = V_Q;
  out->idx = a;
  if (na == 1) return SKL_OK;
  val d = args[1];
  if ((s = want_items(c, n, &d))) return s;
  int m = occ_list(c, a, &d, tmp), found = -1;
  for (int i = 0; i < m; i++) {
    int an = bp->inserts[tmp[i]].anchor;
    if (found >= 0 && found != an)
      return eerr(c, n, SKL_ERR_RANGE, "Q(a%d, ...) is ambiguous: anchors a%d and a%d named '%s' both lie in the "
                  "given documents", a, found, an, bp->anchors[a].name);
    found = an;
  }
  if (found < 0)
    return eerr(c, n, SKL_ERR_RANGE, "Q(a%d, ...): no occurrence of '%s' in the given documents", a,
                bp->anchors[a].name);
  out->idx = found;
  return SKL_OK;
}

static skl_status bi_solve(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const skill_blueprint *bp = c->bp;
  const char *f = n->name;
  skl_status s;
  int a = 0;
  if ((s = want_anchor(c, n, &args[0], &a))) return s;
  if (f[0] == 'n') { out->t = V_STR; out->str = bp->anchors[a].name; return SKL_OK; }
  const skill_value *v = &bp->anchors[a].value;
  if (v->is_number) *out = mknum(v->num);
  else { out->t = V_STR; out->str = v->str; }
  return SKL_OK;
}

static skl_status bi_count(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const char *f = n->name;
  skl_status s;
  if (args[0].t == V_STR && f[0] == 'l') { *out = mknum((double)strlen(args[0].str)); return SKL_OK; }
  if ((s = want_items(c, n, &args[0]))) return s;
  *out = mknum(args[0].n);
  return SKL_OK;
}

static skl_status bi_first(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const char *f = n->name;
  skl_status s;
  if ((s = want_items(c, n, &args[0]))) return s;
  if (!args[0].n) return eerr(c, n, SKL_ERR_RANGE, "%s() of an empty %s", f, vname(args[0].t));
  *out = args[0].items[f[0] == 'f' ? 0 : args[0].n - 1];
  return SKL_OK;
}

/* sum(xs) or sum(x, y, ...), and the like: over a collection or the arguments. */
static skl_status bi_aggregate(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const char *f = n->name;
  skl_status s;
  if (!na) return eerr(c, n, SKL_ERR_INVALID, "%s() needs a collection or arguments", f);
  val xs;
  if (na == 1 && (args[0].t == V_LIST || args[0].t == V_SET)) xs = args[0];
  else if (na == 1 && (s = want_items(c, n, &args[0]))) return s;
  else if (na == 1) xs = args[0];
  else { xs.t = V_LIST; xs.items = args; xs.n = na; }
  val *copy = aalloc(c, sizeof *copy * (size_t)(xs.n + 1));
  if (!copy) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  memcpy(copy, xs.items, sizeof *copy * (size_t)xs.n);
  return aggregate(c, n, f, copy, xs.n, copy, out);
}

static skl_status bi_round(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  skl_status s;
  double x = 0, d = 0;
  if ((s = want_num(c, n, &args[0], &x)) || (na == 2 && (s = want_num(c, n, &args[1], &d)))) return s;
  if (d < 0 || d > 9 || d != (int)d) return eerr(c, n, SKL_ERR_RANGE, "round() digits must be 0..9, got %g", d);
  double p = pow(10, d);
  *out = mknum(round(x * p) / p);
  return SKL_OK;
}

/* abs, floor, ceil, num: one number (num() also parses a string). */
static skl_status bi_unary(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const char *f = n->name;
  skl_status s;
  double x = 0;
  if (args[0].t == V_STR && f[0] == 'n') {
    char *end;
    x = strtod(args[0].str, &end);
    if (end == args[0].str || *end) return eerr(c, n, SKL_ERR_INVALID, "num(): '%s' is not a number", args[0].str);
  } else if ((s = want_num(c, n, &args[0], &x))) {
    return s;
  }
  *out = mknum(f[0] == 'a' ? fabs(x) : f[0] == 'f' ? floor(x) : f[0] == 'c' ? ceil(x) : x);
  return SKL_OK;
}

static skl_status bi_str(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  out->t = V_STR;
  out->str = val_text(c, &args[0], 0);
  if (!out->str) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  return SKL_OK;
}

static skl_status bi_letter(evalctx *c, const node *n, val *args, int na, int *tmp, val *out) {
  const skill_blueprint *bp = c->bp;
  const char *t = val_text(c, &args[0], 0);
  if (!t) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  for (int i = 0; i < bp->n_choices && i < 4; i++)
    if (!strcmp(bp->choices[i], t)) {
      char *l = aalloc(c, 2);
      if (!l) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
      l[0] = (char)('A' + i);
      l[1] = 0;
      out->t = V_STR;
      out->str = l;
      return SKL_OK;
    }
  return eerr(c, n, SKL_ERR_NOTFOUND, "letter(): no choice reads '%s'", t);
}
#define VARIADIC -1 /* lo: any count; the handler checks it */

/* The functions of synth/expr.h, with the argument counts they take. */
static const struct {
  const char *name;
  int lo, hi;
  builtin_fn fn;
} builtins[] = {
    {"docs", 1, 1, bi_occurrences},    {"doc", 1, 1, bi_occurrences},     {"mentions", 1, 1, bi_occurrences},
    {"occurrences", 1, 1, bi_occurrences},
    {"anchors_in", 1, 1, bi_anchors_in}, {"in_doc", 1, 1, bi_anchors_in}, {"sequence", 0, 1, bi_anchors_in},
    {"anchors", 0, 0, bi_all},         {"all_docs", 0, 0, bi_all},
    {"Q", 1, 2, bi_q},
    {"solve", 1, 1, bi_solve},         {"name", 1, 1, bi_solve},
    {"count", 1, 1, bi_count},         {"len", 1, 1, bi_count},
    {"first", 1, 1, bi_first},         {"last", 1, 1, bi_first},
    {"sum", VARIADIC, 0, bi_aggregate},  {"product", VARIADIC, 0, bi_aggregate}, {"min", VARIADIC, 0, bi_aggregate},
    {"max", VARIADIC, 0, bi_aggregate},  {"any", VARIADIC, 0, bi_aggregate},     {"all", VARIADIC, 0, bi_aggregate},
    {"set", VARIADIC, 0, bi_aggregate},  {"sorted", VARIADIC, 0, bi_aggregate},  {"list", VARIADIC, 0, bi_aggregate},
    {"argmax", VARIADIC, 0, bi_aggregate}, {"argmin", VARIADIC, 0, bi_aggregate},
    {"round", 1, 2, bi_round},
    {"abs", 1, 1, bi_unary},           {"floor", 1, 1, bi_unary},         {"ceil", 1, 1, bi_unary},
    {"num", 1, 1, bi_unary},
    {"str", 1, 1, bi_str},
    {"letter", 1, 1, bi_letter},
};

static skl_status call_builtin(evalctx *c, const node *n, val *args, int na, val *out) {
  const skill_blueprint *bp = c->bp;
  const char *f = n->name;
  int *tmp = aalloc(c, sizeof(int) * (size_t)(bp->n_inserts + bp->n_anchors + bp->n_docs + 1));
  if (!tmp) return eerr(c, n, SKL_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    if (strcmp(f, builtins[i].name)) continue;
    int lo = builtins[i].lo, hi = builtins[i].hi;
    if (lo != VARIADIC && (na < lo || na > hi)) {
      char his[16] = "";
      if (hi > lo) snprintf(his, sizeof his, "%d", hi);
      return eerr(c, n, SKL_ERR_INVALID, "%s() takes %d%s%s argument%s, got %d", f, lo, hi > lo ? " to " : "", his,
                  hi == 1 ? "" : "s", na);
    }
    return builtins[i].fn(c, n, args, na, tmp, out);
  }
  return eerr(c, n, SKL_ERR_INVALID, "unknown function '%s' (see synth/expr.h for the list)", f);
}
#undef VARIADIC

void synth_format_number(double x, char *out, size_t cap) {
  /* one rendering for gold answers and verifiers: skills/answer.h's */
  if (skill_answer_render_number(x, out, cap, NULL)) snprintf(out, cap, "%g", x);
}

static int cmp_str_q(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *val_text(evalctx *c, const val *v, int sorted) {
  char tmp[128] = "";
  const char *t = tmp;
  switch (v->t) {
  case V_NUM: synth_format_number(v->num, tmp, sizeof tmp); break;
  case V_BOOL: t = v->num ? "yes" : "no"; break;
  case V_STR: return v->str;
  case V_ANCHOR: case V_Q: return c->bp->anchors[v->idx].name;
  case V_DOC: snprintf(tmp, sizeof tmp, "Document %d", v->idx + 1); break;
  case V_LIST: case V_SET: {
    const char **parts = aalloc(c, sizeof *parts * (size_t)(v->n + 1));
    if (!parts) return NULL;
    size_t total = 1;
    for (int i = 0; i < v->n; i++) {
      if (!(parts[i] = val_text(c, &v->items[i], sorted))) return NULL;
      total += strlen(parts[i]) + 2;
    }
    if (sorted) qsort(parts, (size_t)v->n, sizeof *parts, cmp_str_q);
    char *s = aalloc(c, total);
    if (!s) return NULL;
    s[0] = 0;
    size_t o = 0;
    for (int i = 0; i < v->n; i++) {
      o += (size_t)sprintf(s + o, "%s%s", i ? ", " : "", parts[i]);
    }
    return s;
  }
  }
  size_t n = strlen(t) + 1;
  char *s = aalloc(c, n);
  if (s) memcpy(s, t, n);
  return s;
}

skl_status synth_expr_eval(const synth_expr *e, const skill_blueprint *bp, skill_answer_type type, char *out,
                           size_t cap, skl_error *err) {
  evalctx c = {.bp = bp, .src = e->src, .err = err};
  val v;
  skl_status s = ev(&c, e->root, &v);
  if (!s) {
    const char *t = NULL;
    double x = 0;
    switch (type) {
    case SKILL_ANSWER_NUMBER:
      if (v.t == V_STR) {
        char *end;
        x = strtod(v.str, &end);
        if (end == v.str || *end) {
          s = eerr(&c, e->root, SKL_ERR_INVALID, "answer type is number but the value is the string '%s'", v.str);
          break;
        }
        v = mknum(x);
      }
      if ((s = want_num(&c, e->root, &v, &x))) break;
      v = mknum(x);
      t = val_text(&c, &v, 0);
      break;
    case SKILL_ANSWER_CHOICE: {
      t = val_text(&c, &v, 0);
      if (t && !(t[0] >= 'A' && t[0] < 'A' + (bp->n_choices ? bp->n_choices : 4) && !t[1])) {
        const char *txt = t;
        t = NULL;
        for (int i = 0; i < bp->n_choices && i < 4; i++)
          if (!strcmp(bp->choices[i], txt)) t = i == 0 ? "A" : i == 1 ? "B" : i == 2 ? "C" : "D";
        if (!t) s = eerr(&c, e->root, SKL_ERR_NOTFOUND, "answer '%s' is neither a choice letter nor any choice's text",
                         txt);
      }
      break;
    }
    case SKILL_ANSWER_LIST: case SKILL_ANSWER_SET:
      if (v.t != V_LIST && v.t != V_SET) { /* a scalar answers as a one-item list */
        val *it = aalloc(&c, sizeof *it);
        if (!it) { s = skl_error_set(err, SKL_ERR_NOMEM, "expression: out of memory"); break; }
        *it = v;
        v.t = V_LIST;
        v.items = it;
        v.n = 1;
      }
      t = val_text(&c, &v, type == SKILL_ANSWER_SET);
      break;
    default: t = val_text(&c, &v, 0); break;
    }
    if (!s && !t) s = skl_error_set(err, SKL_ERR_NOMEM, "expression: out of memory");
    if (!s) {
      if (strlen(t) >= cap)
        s = eerr(&c, e->root, SKL_ERR_RANGE, "answer is %zu bytes, room for %zu", strlen(t), cap - 1);
      else
        memcpy(out, t, strlen(t) + 1);
    }
  }
  while (c.arena) {
    block *b = c.arena->next;
    free(c.arena);
    c.arena = b;
  }
  return s;
}

skl_status synth_expr_answer(skill_blueprint *bp, skl_error *err) {
  synth_expr *e;
  skl_status s = synth_expr_parse(bp->expr, &e, err);
  if (s) return s;
  s = synth_expr_eval(e, bp, bp->answer_type, bp->answer, sizeof bp->answer, err);
  synth_expr_free(e);
  return s;
}
