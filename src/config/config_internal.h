/* skl config internals shared by the loader (config.c, config_value.c), the
 * scalar text helpers (config_text.c) and the writer (config_dump.c). Not public. */
#ifndef SKL_CONFIG_INTERNAL_H
#define SKL_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <yaml.h>

#include "config/config.h"

#define SKL_CFG_KEY_MAX 256 /* longest dotted key a schema may declare */

/* Address of field f inside struct s. */
static inline void *skl_cfg_ptr(const void *s, const skl_cfg_field *f) { return (char *)s + f->offset; }

static inline bool skl_cfg_has_range(const skl_cfg_field *f) { return !(f->min == 0 && f->max == 0); }

/* Levenshtein distance (999 for strings over 128 bytes): "did you mean". */

/* YAML-style scalars. parse_i64 also takes integral floats (1e6, 4096.0);
 * parse_double takes .inf/-.inf and never NaN; parse_bool: 1, 0, or -1 for
 * neither (true/false, yes/no, on/off, any case). */
bool skl_cfg_parse_i64(const char *v, int64_t *out);
bool skl_cfg_parse_double(const char *v, double *out);
int skl_cfg_parse_bool(const char *v);

/* Decode one UTF-8 sequence at p into *len bytes. @return the code point,
 * or -1 for an invalid sequence (then *len = 1). Stops at a NUL. */
long skl_cfg_utf8_next(const unsigned char *p, int *len);
/* Strict UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
bool skl_cfg_valid_utf8(const char *s);

/* Shortest text that reads back to exactly v ("0.7", "1e-05", ".inf");
 * as_float adds ".0" to integral values so they read as floats. */
void skl_cfg_fmt_double(double v, bool as_float, char *buf, size_t n);

/* Range bound as text: integral values without decimals, "inf", "-inf". */
void skl_cfg_fmt_bound(double v, char *buf, size_t n);

/* Append s as a YAML scalar: plain when unambiguous, else double-quoted
 * with escapes; NULL becomes `null`. */
skl_status skl_cfg_put_string(skl_buf *b, const char *s);

/* ---- the loader's context (config.c walks, config_value.c assigns) ---- */

/* Where values come from, for messages: a file (positions), an override
 * (its text), or a schema default (a bug in the schema if it fails). */
typedef enum { SKL_CFG_SRC_FILE, SKL_CFG_SRC_OVERRIDE, SKL_CFG_SRC_DEFAULT } skl_cfg_src;

typedef struct {
  char *path; /* dotted section, e.g. "rollout" */
  int line;
} skl_cfg_section;

typedef struct {
  const skl_cfg_schema *schema;
  void *s;
  skl_cfg_src src;
  const char *name; /* file name, override text, or default's key */
  skl_error *err;
  int *first_line; /* [n_fields] line where a file set the field, 0 = not yet */
  bool *set;       /* [n_fields] set by a file or an override */
  skl_cfg_section *sections;
  int n_sections, cap_sections;
} skl_cfg_ctx;

/* Set c->err to "FILE:LINE:COL: msg" (file, at = node or NULL),
 * "override 'k=v': msg", or for a schema default SKL_ERR_INTERNAL.
 * @return the status set. */
skl_status skl_cfg_fail(skl_cfg_ctx *c, const yaml_node_t *at, skl_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "'hot'", "a list", "a mapping", "nothing" for messages. */
void skl_cfg_got_text(const yaml_node_t *n, char *buf, size_t size);
/* The scalar's text, or NULL for a list/mapping. */
const char *skl_cfg_scalar(const yaml_node_t *n);
/* YAML null: an unquoted ~, null, Null, NULL or empty value (or n NULL). */
bool skl_cfg_is_null(const yaml_node_t *n);
/* A finite (or in-range infinite) number for f's range; what names it. */
skl_status skl_cfg_get_double(skl_cfg_ctx *c, const skl_cfg_field *f, const char *what, const yaml_node_t *n,
                              double *out);
/* FLOAT_MAP key allowed by f->choices (any if NULL)? */
skl_status skl_cfg_check_map_key(skl_cfg_ctx *c, const skl_cfg_field *f, const char *key, const yaml_node_t *at);
/* Set or append one map entry. @return SKL_OK or SKL_ERR_NOMEM. */
skl_status skl_cfg_map_put(skl_cfg_map *m, const char *key, double v);
/* Parse node n as field f's value into c->s (replacing, freeing the old). */
skl_status skl_cfg_assign(skl_cfg_ctx *c, yaml_document_t *doc, const skl_cfg_field *f, const yaml_node_t *n);
/* Free what field f owns in s and zero it. */
void skl_cfg_free_field(const skl_cfg_field *f, void *s);

#endif
