/* skl config loader: walks YAML documents (libyaml) and key=value overrides
 * to the schema's keys, with "did you mean" and duplicate checks; the public
 * load/defaults/free entry points. Not the value parser (config_value.c). */
#include "config/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_internal.h"
#include "core/text.h"
#include "core/fs.h"

static const char *last_segment(const char *key) {
  const char *d = strrchr(key, '.');
  return d ? d + 1 : key;
}

/* ---- keys ---- */

static int field_index(const skl_cfg_schema *sc, const char *key) {
  for (int i = 0; i < sc->n_fields; i++)
    if (!strcmp(sc->fields[i].key, key)) return i;
  return -1;
}

const skl_cfg_field *skl_cfg_find(const skl_cfg_schema *schema, const char *key) {
  int i = field_index(schema, key);
  return i < 0 ? NULL : &schema->fields[i];
}

/* Is `key` a section, i.e. the prefix of some field "key.xxx"? */
static bool is_section(const skl_cfg_schema *sc, const char *key) {
  size_t n = strlen(key);
  for (int i = 0; i < sc->n_fields; i++)
    if (!strncmp(sc->fields[i].key, key, n) && sc->fields[i].key[n] == '.') return true;
  return false;
}

/* The FLOAT_MAP field that "mixture.niah" addresses, with *sub = "niah". */
static const skl_cfg_field *map_prefix(const skl_cfg_schema *sc, const char *key, const char **sub) {
  for (int i = 0; i < sc->n_fields; i++) {
    const skl_cfg_field *f = &sc->fields[i];
    size_t n = strlen(f->key);
    if (f->type == SKL_CFG_FLOAT_MAP && !strncmp(key, f->key, n) && key[n] == '.' && key[n + 1]) {
      *sub = key + n + 1;
      return f;
    }
  }
  return NULL;
}

/* The closest known key or section for a "did you mean". */
static const char *suggest(const skl_cfg_schema *sc, const char *key, char *buf, size_t n) {
  int bd = (int)strlen(key) / 3;
  if (bd < 2) bd = 2;
  if (bd > 3) bd = 3;
  bd++;
  const char *best = NULL;
  for (int i = 0; i < sc->n_fields; i++) {
    const char *k = sc->fields[i].key;
    int d = skl_edit_distance(key, k);
    if (d < bd) {
      bd = d;
      best = k;
    }
    /* sections: every proper dotted prefix of k */
    for (const char *dot = strchr(k, '.'); dot; dot = strchr(dot + 1, '.')) {
      char sec[SKL_CFG_KEY_MAX];
      snprintf(sec, sizeof sec, "%.*s", (int)(dot - k), k);
      d = skl_edit_distance(key, sec);
      if (d < bd) {
        bd = d;
        snprintf(buf, n, "%s", sec);
        best = buf;
      }
    }
  }
  if (best) return best;
  /* the right name in the wrong section: 'temperature' -> 'rollout.temperature' */
  for (int i = 0; i < sc->n_fields; i++)
    if (!strcmp(last_segment(sc->fields[i].key), last_segment(key))) return sc->fields[i].key;
  return NULL;
}

/* "seed, rollout.*, mixture" : the names valid under prefix (with its dot). */
static void keys_here(const skl_cfg_schema *sc, const char *prefix, char *buf, size_t n) {
  size_t pl = strlen(prefix), len = 0;
  buf[0] = '\0';
  for (int i = 0; i < sc->n_fields && len + 1 < n; i++) {
    const char *k = sc->fields[i].key;
    if (strncmp(k, prefix, pl)) continue;
    const char *rest = k + pl, *dot = strchr(rest, '.');
    int seg = dot ? (int)(dot - rest) : (int)strlen(rest);
    bool dup = false;
    for (int j = 0; j < i && !dup; j++) {
      const char *kj = sc->fields[j].key;
      dup = !strncmp(kj, prefix, pl) && !strncmp(kj + pl, rest, (size_t)seg) &&
            (kj[pl + (size_t)seg] == '.' || kj[pl + (size_t)seg] == '\0');
    }
    if (dup) continue;
    int w = snprintf(buf + len, n - len, "%s%.*s%s", len ? ", " : "", seg, rest, dot ? ".*" : "");
    if (w > 0) len += (size_t)w;
  }
  if (len >= n) len = n - 1;
}

static skl_status check_kind(skl_cfg_ctx *c, const yaml_node_t *v) {
  const char *k = skl_cfg_scalar(v);
  if (k && !strcmp(k, c->schema->kind)) return SKL_OK;
  char got[80];
  skl_cfg_got_text(v, got, sizeof got);
  return skl_cfg_fail(c, v, SKL_ERR_INVALID, "kind: expected '%s' (this command reads %s configs), got %s",
                      c->schema->kind, c->schema->kind, got);
}

static skl_status walk_mapping(skl_cfg_ctx *c, yaml_document_t *doc, const yaml_node_t *m, const char *prefix);

/* One `full: value` entry; key_node (for positions) may be NULL. */
static skl_status entry(skl_cfg_ctx *c, yaml_document_t *doc, const char *full, const yaml_node_t *key_node,
                        const yaml_node_t *v) {
  const skl_cfg_schema *sc = c->schema;
  const yaml_node_t *at = key_node ? key_node : v;
  if (!strcmp(full, "kind")) return check_kind(c, v);
  int i = field_index(sc, full);
  if (i >= 0) {
    if (c->src == SKL_CFG_SRC_FILE) {
      if (c->first_line[i])
        return skl_cfg_fail(c, at, SKL_ERR_INVALID, "duplicate key '%s' (first set at line %d)", full,
                            c->first_line[i]);
      c->first_line[i] = at ? (int)at->start_mark.line + 1 : 1;
    }
    c->set[i] = true;
    return skl_cfg_assign(c, doc, &sc->fields[i], v);
  }
  if (is_section(sc, full)) {
    if (c->src == SKL_CFG_SRC_FILE) {
      for (int k = 0; k < c->n_sections; k++)
        if (!strcmp(c->sections[k].path, full))
          return skl_cfg_fail(c, at, SKL_ERR_INVALID, "duplicate key '%s' (first set at line %d)", full,
                              c->sections[k].line);
      if (c->n_sections == c->cap_sections) {
        int cap = c->cap_sections ? 2 * c->cap_sections : 8;
        skl_cfg_section *ns = realloc(c->sections, (size_t)cap * sizeof *ns);
        if (!ns) return skl_cfg_fail(c, at, SKL_ERR_NOMEM, "out of memory");
        c->sections = ns;
        c->cap_sections = cap;
      }
      char *dup = strdup(full);
      if (!dup) return skl_cfg_fail(c, at, SKL_ERR_NOMEM, "out of memory");
      c->sections[c->n_sections++] = (skl_cfg_section){dup, at ? (int)at->start_mark.line + 1 : 1};
    }
    /* an empty section in a file is harmless; an override KEY=null changed
     * nothing while reading as "reset" (issue 18), so it is refused */
    if (skl_cfg_is_null(v) && c->src == SKL_CFG_SRC_FILE) return SKL_OK;
    if (skl_cfg_is_null(v)) {
      char keys[400], pre[SKL_CFG_KEY_MAX + 2];
      snprintf(pre, sizeof pre, "%s.", full);
      keys_here(sc, pre, keys, sizeof keys);
      return skl_cfg_fail(c, v, SKL_ERR_INVALID,
                          "%s: is a section (keys: %s); null does not reset it: set its keys (%s.KEY=VALUE) or "
                          "give a mapping", full, keys, full);
    }
    if (v->type != YAML_MAPPING_NODE) {
      char got[80], keys[400];
      skl_cfg_got_text(v, got, sizeof got);
      char pre[SKL_CFG_KEY_MAX + 2];
      snprintf(pre, sizeof pre, "%s.", full);
      keys_here(sc, pre, keys, sizeof keys);
      return skl_cfg_fail(c, v, SKL_ERR_INVALID, "%s: is a section (keys: %s), expected a mapping, got %s", full, keys,
                          got);
    }
    char pre[SKL_CFG_KEY_MAX + 2];
    snprintf(pre, sizeof pre, "%s.", full);
    return walk_mapping(c, doc, v, pre);
  }
  const char *sub;
  const skl_cfg_field *mf = map_prefix(sc, full, &sub);
  if (mf) {
    skl_status st = skl_cfg_check_map_key(c, mf, sub, at);
    if (st) return st;
    double x;
    if ((st = skl_cfg_get_double(c, mf, full, v, &x))) return st;
    c->set[mf - sc->fields] = true;
    if (skl_cfg_map_put(skl_cfg_ptr(c->s, mf), sub, x)) return skl_cfg_fail(c, at, SKL_ERR_NOMEM, "out of memory");
    return SKL_OK;
  }
  char sbuf[SKL_CFG_KEY_MAX];
  const char *best = suggest(sc, full, sbuf, sizeof sbuf);
  if (best) return skl_cfg_fail(c, at, SKL_ERR_INVALID, "unknown key '%s' (did you mean '%s'?)", full, best);
  /* no close match: list what is valid where the key was written */
  char keys[600], sec[SKL_CFG_KEY_MAX + 2] = "", pre[SKL_CFG_KEY_MAX + 4];
  const char *dot = strrchr(full, '.');
  if (dot && dot - full < SKL_CFG_KEY_MAX) {
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - full), full);
    if (!is_section(sc, sec)) sec[0] = '\0';
  }
  snprintf(pre, sizeof pre, "%s%s", sec, *sec ? "." : "");
  keys_here(sc, pre, keys, sizeof keys);
  if (*sec) return skl_cfg_fail(c, at, SKL_ERR_INVALID, "unknown key '%s' (keys under '%s': %s)", full, sec, keys);
  return skl_cfg_fail(c, at, SKL_ERR_INVALID, "unknown key '%s' (valid keys: kind, %s)", full, keys);
}

static skl_status walk_mapping(skl_cfg_ctx *c, yaml_document_t *doc, const yaml_node_t *m, const char *prefix) {
  for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    yaml_node_t *kn = yaml_document_get_node(doc, p->key), *vn = yaml_document_get_node(doc, p->value);
    const char *k = skl_cfg_scalar(kn);
    if (!k)
      return skl_cfg_fail(c, kn, SKL_ERR_INVALID, "keys must be names, got a %s",
                          kn && kn->type == YAML_MAPPING_NODE ? "mapping" : "list");
    char full[SKL_CFG_KEY_MAX + 64];
    if ((size_t)snprintf(full, sizeof full, "%s%s", prefix, k) >= sizeof full)
      return skl_cfg_fail(c, kn, SKL_ERR_INVALID, "unknown key '%s%.40s...' (too long)", prefix, k);
    skl_status st = entry(c, doc, full, kn, vn);
    if (st) return st;
  }
  return SKL_OK;
}

/* ---- YAML documents ---- */

/* Deepest nesting of mappings and sequences a config may have: real ones
 * nest a few levels. libyaml's loader takes time growing with the square of
 * the depth (200k '[' ran for minutes), so the depth is checked first, by
 * events, stopping at the first level too deep. */
#define CFG_MAX_DEPTH 64

/* @return SKL_OK, or SKL_ERR_RANGE naming where the nesting got too deep.
 * Syntax errors are left to the loader (it reports them with context). */
static skl_status check_depth(skl_cfg_ctx *c, const char *text, size_t len) {
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) return skl_cfg_fail(c, NULL, SKL_ERR_NOMEM, "out of memory");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
  skl_status st = SKL_OK;
  int depth = 0;
  for (;;) {
    yaml_event_t e;
    if (!yaml_parser_parse(&p, &e)) break;
    yaml_event_type_t t = e.type;
    yaml_mark_t m = e.start_mark;
    yaml_event_delete(&e);
    if (t == YAML_STREAM_END_EVENT) break;
    if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) depth++;
    else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) depth--;
    if (depth > CFG_MAX_DEPTH) {
      if (c->src == SKL_CFG_SRC_FILE)
        st = skl_error_set(c->err, SKL_ERR_RANGE,
                           "%s:%zu:%zu: nesting deeper than %d levels (lists and mappings inside each other); "
                           "a config nests a few levels: is this the right file?",
                           c->name, m.line + 1, m.column + 1, CFG_MAX_DEPTH);
      else
        st = skl_cfg_fail(c, NULL, SKL_ERR_RANGE, "the value nests deeper than %d levels", CFG_MAX_DEPTH);
      break;
    }
  }
  yaml_parser_delete(&p);
  return st;
}

/* Parse text into doc. On a syntax error, fill err with the position. */
static skl_status load_doc(skl_cfg_ctx *c, const char *text, size_t len, yaml_document_t *doc, bool *has_doc) {
  yaml_parser_t p;
  *has_doc = false;
  if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) { /* a UTF-8 BOM: not content */
    text += 3;
    len -= 3;
  }
  skl_status dst = check_depth(c, text, len);
  if (dst) return dst;
  if (!yaml_parser_initialize(&p)) return skl_cfg_fail(c, NULL, SKL_ERR_NOMEM, "out of memory");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  /* configs are UTF-8; without this a leading FF FE would be read as UTF-16 */
  yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
  skl_status st = SKL_OK;
  if (!yaml_parser_load(&p, doc)) {
    const char *what = p.problem ? p.problem : "malformed YAML";
    char ctxt[200] = "";
    if (p.context) snprintf(ctxt, sizeof ctxt, " (%s, at line %zu)", p.context, p.context_mark.line + 1);
    if (c->src == SKL_CFG_SRC_FILE)
      st = skl_error_set(c->err, SKL_ERR_PARSE, "%s:%zu:%zu: YAML syntax error: %s%s", c->name, p.problem_mark.line + 1,
                         p.problem_mark.column + 1, what, ctxt);
    else /* one-line values: positions say little, the value is in the prefix */
      st = skl_cfg_fail(c, NULL, SKL_ERR_PARSE, "YAML syntax error in the value: %s%s%s%s", what, p.context ? " (" : "",
                        p.context ? p.context : "", p.context ? ")" : "");
  } else {
    *has_doc = true;
    yaml_document_t extra;
    if (yaml_document_get_root_node(doc) && yaml_parser_load(&p, &extra)) {
      yaml_node_t *r = yaml_document_get_root_node(&extra);
      if (r)
        st = skl_cfg_fail(c, r, SKL_ERR_INVALID,
                          "a config holds one YAML document; remove the second one (after '---')");
      yaml_document_delete(&extra);
    }
  }
  yaml_parser_delete(&p);
  if (st && *has_doc) {
    yaml_document_delete(doc);
    *has_doc = false;
  }
  return st;
}

static skl_status apply_text(skl_cfg_ctx *c, const char *text, size_t len) {
  yaml_document_t doc;
  bool has;
  skl_status st = load_doc(c, text, len, &doc, &has);
  if (st) return st;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (root && !skl_cfg_is_null(root)) {
    if (root->type != YAML_MAPPING_NODE) {
      char got[80];
      skl_cfg_got_text(root, got, sizeof got);
      st = skl_cfg_fail(c, root, SKL_ERR_INVALID, "a config must be a mapping of keys (key: value), got %s", got);
    } else {
      st = walk_mapping(c, &doc, root, "");
    }
  }
  yaml_document_delete(&doc);
  return st;
}

static skl_status apply_override(skl_cfg_ctx *c, const char *kv) {
  c->src = SKL_CFG_SRC_OVERRIDE;
  c->name = kv;
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) return skl_cfg_fail(c, NULL, SKL_ERR_INVALID, "expected key.sub=value");
  char key[SKL_CFG_KEY_MAX + 64];
  if ((size_t)(eq - kv) >= sizeof key) return skl_cfg_fail(c, NULL, SKL_ERR_INVALID, "key too long");
  snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
  const char *val = eq + 1;
  yaml_document_t doc;
  bool has;
  skl_error saved = c->err ? *c->err : (skl_error){0};
  skl_status st = load_doc(c, val, strlen(val), &doc, &has);
  const skl_cfg_field *f = skl_cfg_find(c->schema, key);
  if (st == SKL_ERR_PARSE && f && (f->type == SKL_CFG_STRING || f->type == SKL_CFG_ENUM) && skl_cfg_valid_utf8(val)) {
    /* not YAML (e.g. "@file" or "`x"): take the text as it is */
    if (c->err) *c->err = saved;
    yaml_node_t n = {0};
    n.type = YAML_SCALAR_NODE;
    n.data.scalar.value = (yaml_char_t *)val;
    n.data.scalar.length = strlen(val);
    n.data.scalar.style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
    int i = (int)(f - c->schema->fields);
    c->set[i] = true;
    return skl_cfg_assign(c, NULL, f, &n);
  }
  if (st) return st;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  yaml_node_t empty = {0};
  if (!root) { /* "key=" : an empty plain scalar, i.e. null */
    empty.type = YAML_SCALAR_NODE;
    empty.data.scalar.value = (yaml_char_t *)"";
    empty.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
    root = &empty;
  }
  st = entry(c, &doc, key, NULL, root);
  yaml_document_delete(&doc);
  return st;
}

/* ---- schema ---- */

static size_t type_size(skl_cfg_type t) {
  switch (t) {
    case SKL_CFG_INT:
    case SKL_CFG_ENUM: return sizeof(int);
    case SKL_CFG_INT64: return sizeof(int64_t);
    case SKL_CFG_FLOAT: return sizeof(double);
    case SKL_CFG_BOOL: return sizeof(bool);
    case SKL_CFG_STRING: return sizeof(char *);
    case SKL_CFG_STR_LIST: return sizeof(skl_cfg_strs);
    case SKL_CFG_FLOAT_LIST: return sizeof(skl_cfg_floats);
    case SKL_CFG_INT_LIST: return sizeof(skl_cfg_ints);
    case SKL_CFG_FLOAT_MAP: return sizeof(skl_cfg_map);
  }
  return 0;
}

static skl_status check_schema(const skl_cfg_schema *sc, skl_error *err) {
  if (!sc->kind || !*sc->kind || (sc->n_fields > 0 && !sc->fields))
    return skl_error_set(err, SKL_ERR_INTERNAL, "config schema without kind or fields");
  for (int i = 0; i < sc->n_fields; i++) {
    const skl_cfg_field *f = &sc->fields[i];
    const char *k = f->key;
    size_t n = k ? strlen(k) : 0;
    if (!n || n >= SKL_CFG_KEY_MAX || k[0] == '.' || k[n - 1] == '.' || strstr(k, "..") || !strcmp(k, "kind"))
      return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': field %d has an invalid key '%s'", sc->kind, i,
                           k ? k : "(null)");
    size_t ts = type_size(f->type);
    if (!ts) return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': key '%s' has an unknown type", sc->kind, k);
    if (f->offset + ts > sc->struct_size)
      return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': key '%s' lies outside the struct (offset %zu)",
                           sc->kind, k, f->offset);
    if (f->type == SKL_CFG_ENUM && (!f->choices || !f->choices[0]))
      return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': enum key '%s' has no choices", sc->kind, k);
    if (skl_cfg_has_range(f) && !(f->min <= f->max))
      return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': key '%s' has min > max", sc->kind, k);
    for (int j = 0; j < sc->n_fields; j++) {
      if (j == i) continue;
      const char *o = sc->fields[j].key;
      if (!o) continue;
      if (j < i && !strcmp(o, k))
        return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': key '%s' is declared twice", sc->kind, k);
      if (!strncmp(o, k, n) && o[n] == '.')
        return skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': key '%s' is both a value and a section ('%s')",
                             sc->kind, k, o);
    }
  }
  return SKL_OK;
}

void skl_cfg_free(const skl_cfg_schema *schema, void *s) {
  if (!s) return;
  for (int i = 0; i < schema->n_fields; i++) skl_cfg_free_field(&schema->fields[i], s);
  memset(s, 0, schema->struct_size);
}

skl_status skl_cfg_set_defaults(const skl_cfg_schema *schema, void *out, skl_error *err) {
  skl_status st = check_schema(schema, err);
  if (st) return st;
  memset(out, 0, schema->struct_size);
  skl_cfg_ctx c = {.schema = schema, .s = out, .src = SKL_CFG_SRC_DEFAULT, .err = err};
  for (int i = 0; i < schema->n_fields && !st; i++) {
    const skl_cfg_field *f = &schema->fields[i];
    c.name = f->key;
    if (f->def) {
      yaml_document_t doc;
      bool has;
      if ((st = load_doc(&c, f->def, strlen(f->def), &doc, &has))) break;
      yaml_node_t *root = yaml_document_get_root_node(&doc);
      yaml_node_t empty = {0};
      if (!root) {
        empty.type = YAML_SCALAR_NODE;
        empty.data.scalar.value = (yaml_char_t *)"";
        empty.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        root = &empty;
      }
      st = skl_cfg_assign(&c, &doc, f, root);
      yaml_document_delete(&doc);
    } else if (!f->required && (f->type == SKL_CFG_INT || f->type == SKL_CFG_INT64 || f->type == SKL_CFG_FLOAT)) {
      /* the zero default must still satisfy the range */
      if (skl_cfg_has_range(f) && (f->min > 0 || f->max < 0))
        st = skl_error_set(err, SKL_ERR_INTERNAL, "schema '%s': key '%s' needs a default inside its range",
                           schema->kind, f->key);
    }
  }
  if (st) skl_cfg_free(schema, out);
  return st;
}

/* Name every required key nobody set, in one message. */
static skl_status check_required(const skl_cfg_schema *sc, const bool *set, const char *name, skl_error *err) {
  int missing = 0, first = -1;
  for (int i = 0; i < sc->n_fields; i++)
    if (sc->fields[i].required && !set[i] && missing++ == 0) first = i;
  if (!missing) return SKL_OK;
  const skl_cfg_field *f = &sc->fields[first];
  if (missing == 1)
    return skl_error_set(err, SKL_ERR_INVALID, "%s: missing required key '%s' (%s); set it in the file or as %s=...",
                         name, f->key, f->help ? f->help : skl_cfg_type_name(f->type), f->key);
  char list[700];
  size_t len = 0;
  list[0] = '\0';
  for (int i = 0; i < sc->n_fields && len + 1 < sizeof list; i++) {
    if (!sc->fields[i].required || set[i]) continue;
    int w = snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", sc->fields[i].key);
    if (w > 0) len += (size_t)w;
  }
  return skl_error_set(err, SKL_ERR_INVALID, "%s: missing %d required keys: %s; set them in the file or as key=value",
                       name, missing, list);
}

static skl_status load_impl(const skl_cfg_schema *schema, void *out, const char *name, const char *text, size_t len,
                            char **overrides, int n_overrides, skl_error *err) {
  skl_status st = skl_cfg_set_defaults(schema, out, err);
  if (st) return st;
  int nf = schema->n_fields;
  skl_cfg_ctx c = {.schema = schema, .s = out, .err = err};
  c.first_line = calloc((size_t)nf + 1, sizeof *c.first_line);
  c.set = calloc((size_t)nf + 1, sizeof *c.set);
  if (!c.first_line || !c.set) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory loading a config");
  if (!st && text) {
    c.src = SKL_CFG_SRC_FILE;
    c.name = name;
    st = apply_text(&c, text, len);
  }
  for (int i = 0; i < n_overrides && !st; i++) st = apply_override(&c, overrides[i]);
  if (!st) st = check_required(schema, c.set, text ? name : "config", err);
  for (int k = 0; k < c.n_sections; k++) free(c.sections[k].path);
  free(c.sections);
  free(c.first_line);
  free(c.set);
  if (st) skl_cfg_free(schema, out);
  return st;
}

skl_status skl_cfg_load_string(const skl_cfg_schema *schema, void *out, const char *name, const char *yaml,
                               char **overrides, int n_overrides, skl_error *err) {
  return load_impl(schema, out, name ? name : "config", yaml, yaml ? strlen(yaml) : 0, overrides, n_overrides, err);
}

skl_status skl_cfg_load(const skl_cfg_schema *schema, void *out, const char *path, char **overrides, int n_overrides,
                        skl_error *err) {
  char *text = NULL;
  size_t len = 0;
  if (path) {
    skl_status st = skl_fs_read_all(path, &text, &len, err);
    if (st) {
      memset(out, 0, schema->struct_size);
      return st;
    }
  }
  skl_status st = load_impl(schema, out, path, text, len, overrides, n_overrides, err);
  free(text);
  return st;
}

skl_status skl_cfg_override(const skl_cfg_schema *schema, void *s, const char *kv, skl_error *err) {
  int nf = schema->n_fields;
  skl_cfg_ctx c = {.schema = schema, .s = s, .err = err};
  c.first_line = calloc((size_t)nf + 1, sizeof *c.first_line);
  c.set = calloc((size_t)nf + 1, sizeof *c.set);
  skl_status st =
      (!c.first_line || !c.set) ? skl_error_set(err, SKL_ERR_NOMEM, "out of memory") : apply_override(&c, kv);
  free(c.first_line);
  free(c.set);
  return st;
}

skl_status skl_cfg_peek_kind(const char *path, char *kind, size_t n, skl_error *err) {
  if (n) kind[0] = '\0';
  char *text;
  size_t len;
  skl_status st = skl_fs_read_all(path, &text, &len, err);
  if (st) return st;
  static const skl_cfg_schema none = {.kind = "?"};
  skl_cfg_ctx c = {.schema = &none, .src = SKL_CFG_SRC_FILE, .name = path, .err = err};
  yaml_document_t doc;
  bool has;
  st = load_doc(&c, text, len, &doc, &has);
  free(text);
  if (st) return st;
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  st = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no top-level 'kind:' key", path);
  if (root && root->type == YAML_MAPPING_NODE) {
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
      const char *k = skl_cfg_scalar(yaml_document_get_node(&doc, p->key));
      yaml_node_t *v = yaml_document_get_node(&doc, p->value);
      if (k && !strcmp(k, "kind")) {
        if (skl_cfg_scalar(v) && !skl_cfg_is_null(v)) {
          snprintf(kind, n, "%s", skl_cfg_scalar(v));
          skl_error_clear(err);
          st = SKL_OK;
        } else {
          st = skl_cfg_fail(&c, v, SKL_ERR_INVALID, "kind: expected a name such as synth or train");
        }
        break;
      }
    }
  } else if (root && !skl_cfg_is_null(root)) {
    char got[80];
    skl_cfg_got_text(root, got, sizeof got);
    st = skl_cfg_fail(&c, root, SKL_ERR_INVALID, "a config must be a mapping of keys (key: value), got %s", got);
  }
  yaml_document_delete(&doc);
  return st;
}

const char *skl_cfg_type_name(skl_cfg_type t) {
  switch (t) {
    case SKL_CFG_INT: return "int";
    case SKL_CFG_INT64: return "int64";
    case SKL_CFG_FLOAT: return "float";
    case SKL_CFG_BOOL: return "bool";
    case SKL_CFG_STRING: return "string";
    case SKL_CFG_ENUM: return "enum";
    case SKL_CFG_STR_LIST: return "string list";
    case SKL_CFG_FLOAT_LIST: return "float list";
    case SKL_CFG_INT_LIST: return "int list";
    case SKL_CFG_FLOAT_MAP: return "name->float map";
  }
  return "unknown";
}
