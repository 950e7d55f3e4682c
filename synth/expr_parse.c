/* synth expr parser: lexer and recursive-descent parser from expression text
 * to the AST, with column-precise errors. Not the evaluator (synth/expr.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/expr_internal.h"

static void node_free(node *n) {
  if (!n) return;
  for (int i = 0; i < n->nkids; i++) node_free(n->kids[i]);
  free(n->kids);
  free(n->str);
  free(n);
}

void synth_expr_free(synth_expr *e) {
  if (!e) return;
  node_free(e->root);
  free(e->src);
  free(e);
}

/* ---------- lexer ---------- */

typedef enum { T_EOF, T_NUM, T_STR, T_ID, T_OP } tok_kind;

typedef struct {
  const char *src;
  size_t p;       /* cursor */
  tok_kind kind;  /* current token */
  size_t start;   /* its offset */
  size_t len;
  double num;
  skl_error *err;
  int failed;
  int depth;
} parser;

static skl_status perr(parser *ps, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static skl_status perr(parser *ps, size_t at, const char *fmt, ...) {
  if (ps->failed) return SKL_ERR_PARSE;
  ps->failed = 1;
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  size_t n = strlen(ps->src);
  /* show up to 60 bytes around the position and a caret under it */
  size_t lo = at > 40 ? at - 40 : 0, hi = at + 20 < n ? at + 20 : n;
  char caret[64];
  size_t k = at - lo < sizeof caret - 2 ? at - lo : sizeof caret - 2;
  memset(caret, ' ', k);
  caret[k] = '^';
  caret[k + 1] = '\0';
  return skl_error_set(ps->err, SKL_ERR_PARSE, "expression parse error at col %zu: %s\n  %.*s\n  %s", at + 1,
                       what, (int)(hi - lo), ps->src + lo, caret);
}

static void lex(parser *ps) {
  const char *s = ps->src;
  while (s[ps->p] == ' ' || s[ps->p] == '\t' || s[ps->p] == '\n' || s[ps->p] == '\r') ps->p++;
  ps->start = ps->p;
  char c = s[ps->p];
  if (!c) { ps->kind = T_EOF; ps->len = 0; return; }
  if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[ps->p + 1]))) {
    char *end;
    ps->num = strtod(s + ps->p, &end);
    ps->p = (size_t)(end - s);
    ps->kind = T_NUM;
  } else if (isalpha((unsigned char)c) || c == '_') {
    while (isalnum((unsigned char)s[ps->p]) || s[ps->p] == '_') ps->p++;
    ps->kind = T_ID;
  } else if (c == '"' || c == '\'') {
    size_t q = ps->p + 1;
    while (s[q] && s[q] != c) q += (s[q] == '\\' && s[q + 1]) ? 2 : 1;
    if (!s[q]) { perr(ps, ps->p, "unterminated string literal"); ps->kind = T_EOF; return; }
    ps->p = q + 1;
    ps->kind = T_STR;
  } else {
    static const char *two[] = {"<=", ">=", "==", "!="};
    ps->kind = T_OP;
    ps->p++;
    for (int i = 0; i < 4; i++)
      if (c == two[i][0] && s[ps->p] == two[i][1]) { ps->p++; break; }
    if (!strchr("()[],+-*/%<>=!&|", c)) perr(ps, ps->start, "unexpected character '%c'", c);
    if ((c == '=' || c == '!') && ps->p - ps->start == 1)
      perr(ps, ps->start, "'%c' alone is not an operator (use == or !=)", c);
  }
  ps->len = ps->p - ps->start;
}

static int is_op(parser *ps, const char *op) {
  return ps->kind == T_OP && ps->len == strlen(op) && !strncmp(ps->src + ps->start, op, ps->len);
}
static int is_kw(parser *ps, const char *kw) {
  return ps->kind == T_ID && ps->len == strlen(kw) && !strncmp(ps->src + ps->start, kw, ps->len);
}
static int expect_op(parser *ps, const char *op, const char *ctx) {
  if (is_op(ps, op)) { lex(ps); return 1; }
  if (ps->kind == T_EOF)
    perr(ps, ps->start, "expected '%s' %s, found end of expression", op, ctx);
  else
    perr(ps, ps->start, "expected '%s' %s, found '%.*s'", op, ctx, (int)ps->len, ps->src + ps->start);
  return 0;
}

static node *mk(parser *ps, node_kind k, size_t pos) {
  node *n = calloc(1, sizeof *n);
  if (!n) { if (!ps->failed) { ps->failed = 1; skl_error_set(ps->err, SKL_ERR_NOMEM, "expression: out of memory"); } return NULL; }
  n->kind = k;
  n->pos = (int)pos;
  return n;
}
static int add_kid(parser *ps, node *n, node *k) {
  if (!n || !k) { node_free(k); return 0; }
  node **nk = realloc(n->kids, (size_t)(n->nkids + 1) * sizeof *nk);
  if (!nk) { node_free(k); perr(ps, (size_t)n->pos, "out of memory"); return 0; }
  n->kids = nk;
  n->kids[n->nkids++] = k;
  return 1;
}

static node *p_expr(parser *ps);
static node *p_or(parser *ps);

static int keyword(const char *s, size_t n) {
  static const char *kws[] = {"if", "then", "else", "for", "in", "and", "or", "not", "true", "false"};
  for (size_t i = 0; i < sizeof kws / sizeof kws[0]; i++)
    if (strlen(kws[i]) == n && !strncmp(kws[i], s, n)) return 1;
  return 0;
}

/* After the first element inside (...) or [...]: "for NAME in ITER [if COND]". */
static node *p_gen_tail(parser *ps, node *g, node *elem) {
  add_kid(ps, g, elem);
  lex(ps); /* 'for' */
  if (ps->kind != T_ID || keyword(ps->src + ps->start, ps->len)) {
    perr(ps, ps->start, "expected a loop variable name after 'for'");
    return g;
  }
  snprintf(g->name, sizeof g->name, "%.*s", (int)(ps->len < 31 ? ps->len : 31), ps->src + ps->start);
  lex(ps);
  if (!is_kw(ps, "in")) { perr(ps, ps->start, "expected 'in' after 'for %s'", g->name); return g; }
  lex(ps);
  add_kid(ps, g, p_or(ps));
  if (is_kw(ps, "if")) {
    lex(ps);
    add_kid(ps, g, p_or(ps));
  } else {
    add_kid(ps, g, mk(ps, N_BOOL, ps->start));
    if (g->nkids == 3) g->kids[2]->num = 1;
  }
  return g;
}

static node *p_primary(parser *ps) {
  if (ps->failed) return NULL;
  size_t at = ps->start;
  if (ps->kind == T_NUM) {
    node *n = mk(ps, N_NUM, at);
    if (n) n->num = ps->num;
    lex(ps);
    return n;
  }
  if (ps->kind == T_STR) {
    node *n = mk(ps, N_STR, at);
    if (!n) return NULL;
    n->str = malloc(ps->len);
    if (!n->str) { node_free(n); perr(ps, at, "out of memory"); return NULL; }
    size_t o = 0;
    for (size_t i = at + 1; i < at + ps->len - 1; i++) {
      if (ps->src[i] == '\\' && i + 1 < at + ps->len - 1) i++;
      n->str[o++] = ps->src[i];
    }
    n->str[o] = '\0';
    lex(ps);
    return n;
  }
  if (is_op(ps, "(")) {
    lex(ps);
    node *n = p_expr(ps);
    if (!expect_op(ps, ")", "to close '('")) { node_free(n); return NULL; }
    return n;
  }
  if (is_op(ps, "[")) {
    lex(ps);
    node *n = mk(ps, N_LIST, at);
    if (is_op(ps, "]")) { lex(ps); return n; }
    node *first = p_expr(ps);
    if (is_kw(ps, "for")) {
      if (n) n->kind = N_LISTGEN;
      p_gen_tail(ps, n, first);
      if (!expect_op(ps, "]", "to close the list comprehension")) { node_free(n); return NULL; }
      return n;
    }
    add_kid(ps, n, first);
    while (!ps->failed && is_op(ps, ",")) {
      lex(ps);
      add_kid(ps, n, p_expr(ps));
    }
    if (!expect_op(ps, "]", "to close the list")) { node_free(n); return NULL; }
    return n;
  }
  if (ps->kind == T_ID) {
    const char *s = ps->src + ps->start;
    size_t len = ps->len;
    if (keyword(s, len)) {
      if (len == 4 && !strncmp(s, "true", 4)) { node *n = mk(ps, N_BOOL, at); if (n) n->num = 1; lex(ps); return n; }
      if (len == 5 && !strncmp(s, "false", 5)) { node *n = mk(ps, N_BOOL, at); lex(ps); return n; }
      perr(ps, at, "unexpected keyword '%.*s'", (int)len, s);
      return NULL;
    }
    if (len >= 32) { perr(ps, at, "name too long"); return NULL; }
    char name[32];
    memcpy(name, s, len);
    name[len] = '\0';
    lex(ps);
    if (is_op(ps, "(")) {
      lex(ps);
      node *n = mk(ps, N_CALL, at);
      if (!n) return NULL;
      memcpy(n->name, name, len + 1);
      if (is_op(ps, ")")) { lex(ps); return n; }
      node *first = p_expr(ps);
      if (is_kw(ps, "for")) {
        n->kind = N_GEN;
        node *g = n;
        char fname[32];
        memcpy(fname, name, len + 1);
        p_gen_tail(ps, g, first);
        /* the loop variable went into g->name; keep the function in op-less slot */
        node *wrap = mk(ps, N_CALL, at);
        if (!wrap) { node_free(g); return NULL; }
        memcpy(wrap->name, fname, len + 1);
        add_kid(ps, wrap, g);
        if (!expect_op(ps, ")", "to close the generator")) { node_free(wrap); return NULL; }
        return wrap;
      }
      add_kid(ps, n, first);
      while (!ps->failed && is_op(ps, ",")) {
        lex(ps);
        add_kid(ps, n, p_expr(ps));
      }
      if (!expect_op(ps, ")", "after the arguments")) { node_free(n); return NULL; }
      return n;
    }
    /* a12 / d3 references; anything else is a loop variable */
    if ((name[0] == 'a' || name[0] == 'd') && len > 1) {
      int digits = 1;
      for (size_t i = 1; i < len; i++) digits &= isdigit((unsigned char)name[i]) != 0;
      if (digits) {
        node *n = mk(ps, name[0] == 'a' ? N_ANCHOR : N_DOC, at);
        if (n) n->idx = atoi(name + 1);
        return n;
      }
    }
    node *n = mk(ps, N_VAR, at);
    if (n) memcpy(n->name, name, len + 1);
    return n;
  }
  if (ps->kind == T_EOF) perr(ps, at, "unexpected end of expression");
  else perr(ps, at, "unexpected '%.*s'", (int)ps->len, ps->src + at);
  return NULL;
}

static node *p_postfix(parser *ps) {
  node *n = p_primary(ps);
  while (n && !ps->failed && is_op(ps, "[")) {
    node *ix = mk(ps, N_INDEX, ps->start);
    lex(ps);
    add_kid(ps, ix, n);
    add_kid(ps, ix, p_expr(ps));
    if (!expect_op(ps, "]", "to close the index")) { node_free(ix); return NULL; }
    n = ix;
  }
  return n;
}

static node *p_unary(parser *ps) {
  if (++ps->depth > 200) { perr(ps, ps->start, "expression nested too deeply"); return NULL; }
  node *r;
  if (is_op(ps, "-")) {
    node *n = mk(ps, N_NEG, ps->start);
    lex(ps);
    add_kid(ps, n, p_unary(ps));
    r = n;
  } else {
    r = p_postfix(ps);
  }
  ps->depth--;
  return r;
}

/* Left-associative binary level over the given operators. */
static node *p_bin(parser *ps, node *(*sub)(parser *), const char *const *ops) {
  node *l = sub(ps);
  for (;;) {
    if (!l || ps->failed) return l;
    int hit = -1;
    for (int i = 0; ops[i]; i++)
      if (is_op(ps, ops[i])) { hit = i; break; }
    if (hit < 0) return l;
    node *b = mk(ps, N_BIN, ps->start);
    if (!b) { node_free(l); return NULL; }
    snprintf(b->op, sizeof b->op, "%s", ops[hit]);
    lex(ps);
    add_kid(ps, b, l);
    add_kid(ps, b, sub(ps));
    l = b;
  }
}
static node *p_mul(parser *ps) { static const char *const o[] = {"*", "/", "%", NULL}; return p_bin(ps, p_unary, o); }
static node *p_add(parser *ps) { static const char *const o[] = {"+", "-", NULL}; return p_bin(ps, p_mul, o); }
static node *p_band(parser *ps) { static const char *const o[] = {"&", NULL}; return p_bin(ps, p_add, o); }
static node *p_bor(parser *ps) { static const char *const o[] = {"|", NULL}; return p_bin(ps, p_band, o); }
/* Comparisons, plus membership `x in S` / `x not in S` (ops "in", "ni"). */
static node *p_cmp(parser *ps) {
  static const char *const o[] = {"<=", ">=", "==", "!=", "<", ">", NULL};
  node *l = p_bin(ps, p_bor, o);
  while (l && !ps->failed) {
    size_t at = ps->start;
    int neg = 0;
    if (is_kw(ps, "not")) {
      parser save = *ps;
      lex(ps);
      if (!is_kw(ps, "in")) { *ps = save; return l; }
      neg = 1;
    } else if (!is_kw(ps, "in")) {
      return l;
    }
    lex(ps);
    node *b = mk(ps, N_BIN, at);
    if (!b) { node_free(l); return NULL; }
    snprintf(b->op, sizeof b->op, "%s", neg ? "ni" : "in");
    add_kid(ps, b, l);
    add_kid(ps, b, p_bin(ps, p_bor, o));
    l = b;
  }
  return l;
}
static node *p_not(parser *ps) {
  if (is_kw(ps, "not")) {
    node *n = mk(ps, N_NOT, ps->start);
    lex(ps);
    add_kid(ps, n, p_not(ps));
    return n;
  }
  return p_cmp(ps);
}
static node *p_logic(parser *ps, int is_and) {
  node *l = is_and ? p_not(ps) : p_logic(ps, 1);
  while (l && !ps->failed && is_kw(ps, is_and ? "and" : "or")) {
    node *b = mk(ps, is_and ? N_AND : N_OR, ps->start);
    lex(ps);
    add_kid(ps, b, l);
    add_kid(ps, b, is_and ? p_not(ps) : p_logic(ps, 1));
    l = b;
  }
  return l;
}
static node *p_or(parser *ps) { return p_logic(ps, 0); }

static node *p_expr(parser *ps) {
  if (ps->failed) return NULL;
  if (++ps->depth > 200) { perr(ps, ps->start, "expression nested too deeply"); return NULL; }
  node *r;
  if (is_kw(ps, "if")) {
    node *n = mk(ps, N_COND, ps->start);
    lex(ps);
    add_kid(ps, n, p_expr(ps));
    if (!ps->failed && !is_kw(ps, "then")) perr(ps, ps->start, "expected 'then' after the condition of 'if'");
    lex(ps);
    add_kid(ps, n, p_expr(ps));
    if (!ps->failed && !is_kw(ps, "else")) perr(ps, ps->start, "expected 'else' after 'if ... then ...'");
    lex(ps);
    add_kid(ps, n, p_expr(ps));
    r = n;
  } else {
    node *x = p_or(ps);
    if (x && !ps->failed && is_kw(ps, "if")) {
      /* x if c else y: kids stored as (c, x, y) like the prefix form */
      node *n = mk(ps, N_COND, ps->start);
      lex(ps);
      add_kid(ps, n, p_or(ps));
      add_kid(ps, n, x);
      if (!ps->failed && !is_kw(ps, "else")) perr(ps, ps->start, "expected 'else' after 'x if c'");
      lex(ps);
      add_kid(ps, n, p_expr(ps));
      r = n;
    } else {
      r = x;
    }
  }
  ps->depth--;
  if (ps->failed) { node_free(r); return NULL; }
  return r;
}

skl_status synth_expr_parse(const char *src, synth_expr **out, skl_error *err) {
  *out = NULL;
  parser ps = {.src = src, .err = err};
  lex(&ps);
  node *root = ps.failed ? NULL : p_expr(&ps);
  if (!ps.failed && ps.kind != T_EOF)
    perr(&ps, ps.start, "unexpected '%.*s' after a complete expression", (int)ps.len, src + ps.start);
  if (ps.failed || !root) {
    node_free(root);
    if (!ps.failed) return skl_error_set(err, SKL_ERR_PARSE, "expression parse error: empty expression");
    return err ? err->code : SKL_ERR_PARSE;
  }
  synth_expr *e = calloc(1, sizeof *e);
  if (!e || !(e->src = strdup(src))) {
    free(e);
    node_free(root);
    return skl_error_set(err, SKL_ERR_NOMEM, "expression: out of memory");
  }
  e->root = root;
  *out = e;
  return SKL_OK;
}

