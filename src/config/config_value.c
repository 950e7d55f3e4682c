/* skl config values: one YAML node into one typed field (numbers with
 * ranges, enums, lists, maps), positioned messages, and freeing. Not the walker. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/text.h"

/* ---- messages ---- */

static skl_status failv(skl_cfg_ctx *c, const yaml_node_t *at, skl_status code, const char *fmt, va_list ap) {
  char msg[900];
  vsnprintf(msg, sizeof msg, fmt, ap);
  switch (c->src) {
    case SKL_CFG_SRC_FILE:
      if (at)
        return skl_error_set(c->err, code, "%s:%zu:%zu: %s", c->name, at->start_mark.line + 1,
                             at->start_mark.column + 1, msg);
      return skl_error_set(c->err, code, "%s: %s", c->name, msg);
    case SKL_CFG_SRC_OVERRIDE: return skl_error_set(c->err, code, "override '%s': %s", c->name, msg);
    case SKL_CFG_SRC_DEFAULT:
      return skl_error_set(c->err, SKL_ERR_INTERNAL, "schema '%s': default of '%s' is invalid: %s", c->schema->kind,
                           c->name, msg);
  }
  return code;
}

skl_status skl_cfg_fail(skl_cfg_ctx *c, const yaml_node_t *at, skl_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  skl_status st = failv(c, at, code, fmt, ap);
  va_end(ap);
  return st;
}

/* What the user wrote, for "got '...'". */
void skl_cfg_got_text(const yaml_node_t *n, char *buf, size_t size) {
  if (!n)
    snprintf(buf, size, "nothing");
  else if (n->type == YAML_MAPPING_NODE)
    snprintf(buf, size, "a mapping");
  else if (n->type == YAML_SEQUENCE_NODE)
    snprintf(buf, size, "a list");
  else {
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) > 60)
      snprintf(buf, size, "'%.57s...'", v);
    else
      snprintf(buf, size, "'%s'", v);
  }
}

const char *skl_cfg_scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML's null: an unquoted ~, null, Null, NULL or nothing at all. */
bool skl_cfg_is_null(const yaml_node_t *n) {
  if (!n) return true;
  if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const char *v = skl_cfg_scalar(n);
  return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* "an integer in [1, 64]", "a number", ... */
static void expect_text(const skl_cfg_field *f, const char *what, char *buf, size_t n) {
  if (!skl_cfg_has_range(f)) {
    snprintf(buf, n, "%s", what);
    return;
  }
  char lo[40], hi[40];
  skl_cfg_fmt_bound(f->min, lo, sizeof lo);
  skl_cfg_fmt_bound(f->max, hi, sizeof hi);
  snprintf(buf, n, "%s in [%s, %s]", what, lo, hi);
}

/* A number for field f (FLOAT, FLOAT_LIST element, FLOAT_MAP value). */
skl_status skl_cfg_get_double(skl_cfg_ctx *c, const skl_cfg_field *f, const char *what, const yaml_node_t *n,
                              double *out) {
  char exp[128], got[80];
  const char *v = skl_cfg_scalar(n);
  double d = 0;
  bool ok = v && !skl_cfg_is_null(n) && skl_cfg_parse_double(v, &d);
  bool in = ok && (skl_cfg_has_range(f) ? (d >= f->min && d <= f->max) : isfinite(d));
  if (in) {
    *out = d;
    return SKL_OK;
  }
  expect_text(f, skl_cfg_has_range(f) ? "a number" : "a finite number", exp, sizeof exp);
  skl_cfg_got_text(n, got, sizeof got);
  return skl_cfg_fail(c, n, ok ? SKL_ERR_RANGE : SKL_ERR_INVALID, "%s: expected %s, got %s", what, exp, got);
}

/* An integer for field f, within [lo, hi] of its C type and its range. */
static skl_status get_int(skl_cfg_ctx *c, const skl_cfg_field *f, const char *what, const yaml_node_t *n, double lo,
                          double hi, int64_t *out) {
  char exp[128], got[80];
  const char *v = skl_cfg_scalar(n);
  int64_t x = 0;
  bool ok = v && !skl_cfg_is_null(n) && skl_cfg_parse_i64(v, &x);
  bool in = ok && (double)x >= lo && (double)x <= hi &&
            (!skl_cfg_has_range(f) || ((double)x >= f->min && (double)x <= f->max));
  if (in) {
    *out = x;
    return SKL_OK;
  }
  if (ok && !skl_cfg_has_range(f)) {
    char a[40], b[40];
    skl_cfg_fmt_bound(lo, a, sizeof a);
    skl_cfg_fmt_bound(hi, b, sizeof b);
    snprintf(exp, sizeof exp, "an integer in [%s, %s]", a, b);
  } else {
    expect_text(f, "an integer", exp, sizeof exp);
  }
  skl_cfg_got_text(n, got, sizeof got);
  return skl_cfg_fail(c, n, ok ? SKL_ERR_RANGE : SKL_ERR_INVALID, "%s: expected %s, got %s", what, exp, got);
}

static skl_status get_string(skl_cfg_ctx *c, const char *what, const yaml_node_t *n, char **out) {
  if (skl_cfg_is_null(n)) {
    *out = NULL;
    return SKL_OK;
  }
  if (n->type != YAML_SCALAR_NODE) {
    char got[80];
    skl_cfg_got_text(n, got, sizeof got);
    return skl_cfg_fail(c, n, SKL_ERR_INVALID, "%s: expected a string, got %s", what, got);
  }
  *out = strdup(skl_cfg_scalar(n));
  return *out ? SKL_OK : skl_cfg_fail(c, n, SKL_ERR_NOMEM, "%s: out of memory", what);
}

/* ---- values by field type ---- */

static void free_strs(char **v, int n) {
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

void skl_cfg_free_field(const skl_cfg_field *f, void *s) {
  void *p = skl_cfg_ptr(s, f);
  switch (f->type) {
    case SKL_CFG_STRING:
      free(*(char **)p);
      *(char **)p = NULL;
      break;
    case SKL_CFG_STR_LIST: {
      skl_cfg_strs *l = p;
      free_strs(l->v, l->n);
      memset(l, 0, sizeof *l);
      break;
    }
    case SKL_CFG_FLOAT_LIST:
      free(((skl_cfg_floats *)p)->v);
      memset(p, 0, sizeof(skl_cfg_floats));
      break;
    case SKL_CFG_INT_LIST:
      free(((skl_cfg_ints *)p)->v);
      memset(p, 0, sizeof(skl_cfg_ints));
      break;
    case SKL_CFG_FLOAT_MAP: {
      skl_cfg_map *m = p;
      free_strs(m->keys, m->n);
      free(m->vals);
      memset(m, 0, sizeof *m);
      break;
    }
    default: break;
  }
}

skl_status skl_cfg_check_map_key(skl_cfg_ctx *c, const skl_cfg_field *f, const char *key, const yaml_node_t *at) {
  if (!f->choices) return SKL_OK;
  const char *best = NULL;
  int bd = 3;
  for (const char *const *k = f->choices; *k; k++) {
    if (!strcmp(*k, key)) return SKL_OK;
    int d = skl_edit_distance(key, *k);
    if (d < bd) {
      bd = d;
      best = *k;
    }
  }
  char allowed[512] = "";
  size_t len = 0;
  for (const char *const *k = f->choices; *k && len < sizeof allowed - 1; k++) {
    int w = snprintf(allowed + len, sizeof allowed - len, "%s%s", len ? ", " : "", *k);
    if (w > 0) len += (size_t)w;
  }
  char hint[160] = "";
  if (best) snprintf(hint, sizeof hint, "did you mean '%s'? ", best);
  return skl_cfg_fail(c, at, SKL_ERR_INVALID, "%s: unknown key '%s' (%sallowed: %s)", f->key, key, hint, allowed);
}

/* Set or add one map entry (m owns key copies). */
skl_status skl_cfg_map_put(skl_cfg_map *m, const char *key, double v) {
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->keys[i], key)) {
      m->vals[i] = v;
      return SKL_OK;
    }
  char **k = realloc(m->keys, (size_t)(m->n + 1) * sizeof *k);
  if (!k) return SKL_ERR_NOMEM;
  m->keys = k;
  double *vals = realloc(m->vals, (size_t)(m->n + 1) * sizeof *vals);
  if (!vals) return SKL_ERR_NOMEM;
  m->vals = vals;
  if (!(m->keys[m->n] = strdup(key))) return SKL_ERR_NOMEM;
  m->vals[m->n++] = v;
  return SKL_OK;
}

static skl_status parse_map(skl_cfg_ctx *c, yaml_document_t *doc, const skl_cfg_field *f, const yaml_node_t *n,
                            skl_cfg_map *out) {
  memset(out, 0, sizeof *out);
  if (skl_cfg_is_null(n)) return SKL_OK;
  if (n->type != YAML_MAPPING_NODE) {
    char got[80];
    skl_cfg_got_text(n, got, sizeof got);
    return skl_cfg_fail(c, n, SKL_ERR_INVALID, "%s: expected a mapping of names to numbers ({a: 1, b: 2}), got %s",
                        f->key, got);
  }
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *kn = yaml_document_get_node(doc, p->key), *vn = yaml_document_get_node(doc, p->value);
    const char *k = skl_cfg_scalar(kn);
    if (!k)
      return skl_cfg_fail(c, kn, SKL_ERR_INVALID, "%s: keys must be names, got a %s", f->key,
                          kn && kn->type == YAML_MAPPING_NODE ? "mapping" : "list");
    skl_status st = skl_cfg_check_map_key(c, f, k, kn);
    if (st) return st;
    for (int i = 0; i < out->n; i++)
      if (!strcmp(out->keys[i], k)) return skl_cfg_fail(c, kn, SKL_ERR_INVALID, "%s: duplicate key '%s'", f->key, k);
    char what[SKL_CFG_KEY_MAX + 80];
    snprintf(what, sizeof what, "%s.%s", f->key, k);
    double v;
    if ((st = skl_cfg_get_double(c, f, what, vn, &v))) return st;
    if (skl_cfg_map_put(out, k, v)) return skl_cfg_fail(c, n, SKL_ERR_NOMEM, "%s: out of memory", f->key);
  }
  return SKL_OK;
}

/* Lists: every element checked; the old list is replaced only on success. */
static skl_status parse_list(skl_cfg_ctx *c, yaml_document_t *doc, const skl_cfg_field *f, const yaml_node_t *n,
                             void **items, int *count) {
  *items = NULL;
  *count = 0;
  if (skl_cfg_is_null(n)) return SKL_OK;
  const char *kind = f->type == SKL_CFG_STR_LIST ? "strings" : f->type == SKL_CFG_INT_LIST ? "integers" : "numbers";
  if (n->type != YAML_SEQUENCE_NODE) {
    char got[80];
    skl_cfg_got_text(n, got, sizeof got);
    return skl_cfg_fail(c, n, SKL_ERR_INVALID, "%s: expected a list of %s ([a, b, ...]), got %s", f->key, kind, got);
  }
  int len = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
  size_t esz = f->type == SKL_CFG_STR_LIST   ? sizeof(char *)
               : f->type == SKL_CFG_INT_LIST ? sizeof(int64_t)
                                             : sizeof(double);
  void *arr = calloc(len ? (size_t)len : 1, esz);
  if (!arr) return skl_cfg_fail(c, n, SKL_ERR_NOMEM, "%s: out of memory", f->key);
  skl_status st = SKL_OK;
  int i = 0;
  for (; i < len && !st; i++) {
    yaml_node_t *e = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
    char what[SKL_CFG_KEY_MAX + 24];
    snprintf(what, sizeof what, "%s[%d]", f->key, i);
    if (f->type == SKL_CFG_INT_LIST)
      st = get_int(c, f, what, e, (double)INT64_MIN, (double)INT64_MAX, (int64_t *)arr + i);
    else if (f->type == SKL_CFG_FLOAT_LIST)
      st = skl_cfg_get_double(c, f, what, e, (double *)arr + i);
    else if (!e || e->type != YAML_SCALAR_NODE || skl_cfg_is_null(e)) {
      char got[80];
      skl_cfg_got_text(e, got, sizeof got);
      st =
          skl_cfg_fail(c, e, SKL_ERR_INVALID, "%s: expected a string, got %s", what, skl_cfg_is_null(e) ? "null" : got);
    } else if (!(((char **)arr)[i] = strdup(skl_cfg_scalar(e))))
      st = skl_cfg_fail(c, e, SKL_ERR_NOMEM, "%s: out of memory", what);
  }
  if (st) {
    if (f->type == SKL_CFG_STR_LIST)
      free_strs(arr, len);
    else
      free(arr);
    return st;
  }
  *items = arr;
  *count = len;
  return SKL_OK;
}

/* Parse node n as the value of field f and store it in c->s. */
skl_status skl_cfg_assign(skl_cfg_ctx *c, yaml_document_t *doc, const skl_cfg_field *f, const yaml_node_t *n) {
  void *p = skl_cfg_ptr(c->s, f);
  skl_status st = SKL_OK;
  char got[80];
  switch (f->type) {
    case SKL_CFG_INT: {
      int64_t x;
      if ((st = get_int(c, f, f->key, n, (double)INT_MIN, (double)INT_MAX, &x))) return st;
      *(int *)p = (int)x;
      return SKL_OK;
    }
    case SKL_CFG_INT64: return get_int(c, f, f->key, n, (double)INT64_MIN, (double)INT64_MAX, (int64_t *)p);
    case SKL_CFG_FLOAT: return skl_cfg_get_double(c, f, f->key, n, (double *)p);
    case SKL_CFG_BOOL: {
      const char *v = skl_cfg_scalar(n);
      int b = v ? skl_cfg_parse_bool(v) : -1;
      if (b < 0) {
        skl_cfg_got_text(n, got, sizeof got);
        return skl_cfg_fail(c, n, SKL_ERR_INVALID, "%s: expected true or false, got %s", f->key, got);
      }
      *(bool *)p = b;
      return SKL_OK;
    }
    case SKL_CFG_STRING: {
      char *v;
      if ((st = get_string(c, f->key, n, &v))) return st;
      free(*(char **)p);
      *(char **)p = v;
      return SKL_OK;
    }
    case SKL_CFG_ENUM: {
      const char *v = skl_cfg_scalar(n);
      const char *best = NULL;
      int bd = 3;
      for (int i = 0; v && f->choices[i]; i++) {
        if (!strcmp(v, f->choices[i])) {
          *(int *)p = i;
          return SKL_OK;
        }
        int d = skl_edit_distance(v, f->choices[i]);
        if (d < bd) {
          bd = d;
          best = f->choices[i];
        }
      }
      char allowed[512] = "";
      size_t len = 0;
      for (int i = 0; f->choices[i] && len < sizeof allowed - 1; i++) {
        int w = snprintf(allowed + len, sizeof allowed - len, "%s%s", i ? ", " : "", f->choices[i]);
        if (w > 0) len += (size_t)w;
      }
      char hint[160] = "";
      if (best) snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
      skl_cfg_got_text(n, got, sizeof got);
      return skl_cfg_fail(c, n, SKL_ERR_INVALID, "%s: expected one of {%s}, got %s%s", f->key, allowed, got, hint);
    }
    case SKL_CFG_STR_LIST:
    case SKL_CFG_FLOAT_LIST:
    case SKL_CFG_INT_LIST: {
      void *items;
      int count;
      if ((st = parse_list(c, doc, f, n, &items, &count))) return st;
      skl_cfg_free_field(f, c->s);
      /* all three list structs are {pointer, int} */
      if (f->type == SKL_CFG_STR_LIST)
        *(skl_cfg_strs *)p = (skl_cfg_strs){items, count};
      else if (f->type == SKL_CFG_INT_LIST)
        *(skl_cfg_ints *)p = (skl_cfg_ints){items, count};
      else
        *(skl_cfg_floats *)p = (skl_cfg_floats){items, count};
      return SKL_OK;
    }
    case SKL_CFG_FLOAT_MAP: {
      skl_cfg_map m;
      if ((st = parse_map(c, doc, f, n, &m))) {
        free_strs(m.keys, m.n);
        free(m.vals);
        return st;
      }
      skl_cfg_free_field(f, c->s);
      *(skl_cfg_map *)p = m;
      return SKL_OK;
    }
  }
  return skl_cfg_fail(c, n, SKL_ERR_INTERNAL, "%s: unknown field type %d", f->key, (int)f->type);
}
