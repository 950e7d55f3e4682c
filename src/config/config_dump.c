/* skl config writer: resolved YAML dumps (schema order, nested sections),
 * config hashes, DIR/config.yaml, and --help key references. Not the loader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "core/fs.h"
#include "core/sha256.h"

/* One value, as it would follow "key: " (maps handled by the caller). */
static skl_status put_value(skl_buf *b, const skl_cfg_field *f, const void *s) {
  const void *p = skl_cfg_ptr(s, f);
  char num[48];
  skl_status st = SKL_OK;
  switch (f->type) {
    case SKL_CFG_INT: return skl_buf_printf(b, "%d", *(const int *)p);
    case SKL_CFG_INT64: return skl_buf_printf(b, "%lld", (long long)*(const int64_t *)p);
    case SKL_CFG_FLOAT: skl_cfg_fmt_double(*(const double *)p, true, num, sizeof num); return skl_buf_puts(b, num);
    case SKL_CFG_BOOL: return skl_buf_puts(b, *(const bool *)p ? "true" : "false");
    case SKL_CFG_STRING: return skl_cfg_put_string(b, *(char *const *)p);
    case SKL_CFG_ENUM: {
      int i = *(const int *)p, n = 0;
      while (f->choices[n]) n++;
      SKL_ASSERT(i >= 0 && i < n);
      return skl_cfg_put_string(b, f->choices[i]);
    }
    case SKL_CFG_STR_LIST: {
      const skl_cfg_strs *l = p;
      st = skl_buf_puts(b, "[");
      for (int i = 0; i < l->n && !st; i++) {
        if (i) st = skl_buf_puts(b, ", ");
        if (!st) st = skl_cfg_put_string(b, l->v[i]);
      }
      return st ? st : skl_buf_puts(b, "]");
    }
    case SKL_CFG_FLOAT_LIST: {
      const skl_cfg_floats *l = p;
      st = skl_buf_puts(b, "[");
      for (int i = 0; i < l->n && !st; i++) {
        skl_cfg_fmt_double(l->v[i], true, num, sizeof num);
        st = skl_buf_printf(b, "%s%s", i ? ", " : "", num);
      }
      return st ? st : skl_buf_puts(b, "]");
    }
    case SKL_CFG_INT_LIST: {
      const skl_cfg_ints *l = p;
      st = skl_buf_puts(b, "[");
      for (int i = 0; i < l->n && !st; i++) st = skl_buf_printf(b, "%s%lld", i ? ", " : "", (long long)l->v[i]);
      return st ? st : skl_buf_puts(b, "]");
    }
    case SKL_CFG_FLOAT_MAP: {
      const skl_cfg_map *m = p;
      st = skl_buf_puts(b, "{");
      for (int i = 0; i < m->n && !st; i++) {
        if (i) st = skl_buf_puts(b, ", ");
        if (!st) st = skl_cfg_put_string(b, m->keys[i]);
        skl_cfg_fmt_double(m->vals[i], true, num, sizeof num);
        if (!st) st = skl_buf_printf(b, ": %s", num);
      }
      return st ? st : skl_buf_puts(b, "}");
    }
  }
  return SKL_ERR_INTERNAL;
}

/* Emit the fields under prefix (with its trailing dot) at this indent;
 * a section is emitted, whole, where its first field appears. */
static skl_status dump_level(const skl_cfg_schema *sc, const void *s, skl_buf *b, const char *prefix, int indent) {
  size_t pl = strlen(prefix);
  skl_status st = SKL_OK;
  for (int i = 0; i < sc->n_fields && !st; i++) {
    const skl_cfg_field *f = &sc->fields[i];
    if (strncmp(f->key, prefix, pl)) continue;
    const char *rest = f->key + pl, *dot = strchr(rest, '.');
    if (!dot) {
      st = skl_buf_printf(b, "%*s%s:", indent, "", rest);
      if (st) break;
      if (f->type == SKL_CFG_FLOAT_MAP) {
        const skl_cfg_map *m = skl_cfg_ptr(s, f);
        if (m->n == 0) {
          st = skl_buf_puts(b, " {}\n");
          continue;
        }
        st = skl_buf_puts(b, "\n");
        for (int k = 0; k < m->n && !st; k++) {
          char num[48];
          skl_cfg_fmt_double(m->vals[k], true, num, sizeof num);
          st = skl_buf_printf(b, "%*s", indent + 2, "");
          if (!st) st = skl_cfg_put_string(b, m->keys[k]);
          if (!st) st = skl_buf_printf(b, ": %s\n", num);
        }
        continue;
      }
      st = skl_buf_puts(b, " ");
      if (!st) st = put_value(b, f, s);
      if (!st) st = skl_buf_puts(b, "\n");
      continue;
    }
    size_t seg = (size_t)(dot - rest);
    bool done = false;
    for (int j = 0; j < i && !done; j++) {
      const char *kj = sc->fields[j].key;
      done = !strncmp(kj, prefix, pl) && !strncmp(kj + pl, rest, seg + 1);
    }
    if (done) continue;
    char sub[SKL_CFG_KEY_MAX + 2];
    snprintf(sub, sizeof sub, "%.*s", (int)(pl + seg + 1), f->key);
    st = skl_buf_printf(b, "%*s%.*s:\n", indent, "", (int)seg, rest);
    if (!st) st = dump_level(sc, s, b, sub, indent + 2);
  }
  return st;
}

skl_status skl_cfg_dump_yaml(const skl_cfg_schema *schema, const void *s, skl_buf *out) {
  skl_status st = skl_buf_puts(out, "kind: ");
  if (!st) st = skl_cfg_put_string(out, schema->kind);
  if (!st) st = skl_buf_puts(out, "\n");
  if (!st) st = dump_level(schema, s, out, "", 0);
  return st;
}

skl_status skl_cfg_hash(const skl_cfg_schema *schema, const void *s, char hex[65]) {
  skl_buf b = {0};
  skl_status st = skl_cfg_dump_yaml(schema, s, &b);
  if (!st)
    skl_sha256_buf_hex(b.data, b.len, hex);
  else
    hex[0] = '\0';
  skl_buf_free(&b);
  return st;
}

skl_status skl_cfg_write_resolved(const skl_cfg_schema *schema, const void *s, const char *dir, skl_error *err) {
  skl_status st = skl_fs_mkdirs(dir, err);
  if (st) return st;
  char *path = skl_path_join(dir, "config.yaml");
  skl_buf b = {0};
  if (!path || skl_cfg_dump_yaml(schema, s, &b)) {
    st = skl_error_set(err, SKL_ERR_NOMEM, "%s/config.yaml: out of memory", dir);
  } else {
    st = skl_fs_write_atomic(path, b.data, b.len, err);
  }
  skl_buf_free(&b);
  free(path);
  return st;
}

static const char *zero_default(skl_cfg_type t) {
  switch (t) {
    case SKL_CFG_INT:
    case SKL_CFG_INT64: return "0";
    case SKL_CFG_FLOAT: return "0.0";
    case SKL_CFG_BOOL: return "false";
    case SKL_CFG_STRING: return "null";
    case SKL_CFG_STR_LIST:
    case SKL_CFG_FLOAT_LIST:
    case SKL_CFG_INT_LIST: return "[]";
    case SKL_CFG_FLOAT_MAP: return "{}";
    case SKL_CFG_ENUM: return NULL;
  }
  return NULL;
}

skl_status skl_cfg_help(const skl_cfg_schema *schema, skl_buf *out) {
  skl_status st = skl_buf_printf(out, "config keys (%s; YAML file or key=value overrides):\n", schema->kind);
  for (int i = 0; i < schema->n_fields && !st; i++) {
    const skl_cfg_field *f = &schema->fields[i];
    const char *def = f->def ? f->def : zero_default(f->type);
    if (!def && f->type == SKL_CFG_ENUM) def = f->choices[0];
    st = skl_buf_printf(out, "  %s (%s", f->key, skl_cfg_type_name(f->type));
    if (!st && f->required)
      st = skl_buf_puts(out, ", required");
    else if (!st)
      st = skl_buf_printf(out, ", default %s", def);
    if (!st && skl_cfg_has_range(f)) {
      char lo[40], hi[40];
      skl_cfg_fmt_bound(f->min, lo, sizeof lo);
      skl_cfg_fmt_bound(f->max, hi, sizeof hi);
      st = skl_buf_printf(out, ", in [%s, %s]", lo, hi);
    }
    if (!st && f->choices) {
      st = skl_buf_puts(out, f->type == SKL_CFG_ENUM ? ", one of " : ", keys ");
      for (int k = 0; f->choices[k] && !st; k++) st = skl_buf_printf(out, "%s%s", k ? "|" : "", f->choices[k]);
    }
    if (!st) st = skl_buf_printf(out, ")%s%s\n", f->help ? ": " : "", f->help ? f->help : "");
  }
  return st;
}
