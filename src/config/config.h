/* skl config: YAML config files parsed into typed C structs by a small
 * declarative schema, with key=value overrides, resolved dumps and hashes.
 * Not a general YAML library: one mapping per file, the schema says the rest. */
#ifndef SKL_CONFIG_H
#define SKL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Usage (one schema per config kind, owned by its module):
 *
 *   typedef struct { int64_t seed; double temperature; skl_cfg_map mixture; } train_cfg;
 *   static const skl_cfg_field fields[] = {
 *     {.key = "seed", .type = SKL_CFG_INT64, .offset = offsetof(train_cfg, seed), .def = "0"},
 *     {.key = "rollout.temperature", .type = SKL_CFG_FLOAT,
 *      .offset = offsetof(train_cfg, temperature), .def = "1.0", .min = 0, .max = 10,
 *      .help = "sampling temperature"},
 *     {.key = "mixture", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(train_cfg, mixture),
 *      .def = "{niah: 1}", .min = 0, .max = INFINITY, .choices = skill_ids},
 *   };
 *   static const skl_cfg_schema schema = {"train", fields, 3, sizeof(train_cfg)};
 *   const skl_cfg_schema *train_cfg_schema(void) { return &schema; }  // for `config show`
 *
 *   train_cfg cfg;
 *   if (skl_cfg_load(&schema, &cfg, path, argv + 1, npos, &err)) return fail(err.msg);
 *   skl_cfg_write_resolved(&schema, &cfg, run_dir, &err);   // RUN/config.yaml
 *   skl_cfg_free(&schema, &cfg);
 */

/* Field types and the C type each one stores at its offset:
 *   SKL_CFG_INT        int        (YAML integer; 1e6 and 4096.0 accepted if integral)
 *   SKL_CFG_INT64      int64_t    (seeds, large counts)
 *   SKL_CFG_FLOAT      double     (.inf/-.inf accepted if the range allows; NaN never)
 *   SKL_CFG_BOOL       bool       (true/false, yes/no, on/off)
 *   SKL_CFG_STRING     char *     (owned, malloc'd; NULL when unset: default NULL, ~ or null)
 *   SKL_CFG_ENUM       int        (index into .choices)
 *   SKL_CFG_STR_LIST   skl_cfg_strs
 *   SKL_CFG_FLOAT_LIST skl_cfg_floats
 *   SKL_CFG_INT_LIST   skl_cfg_ints
 *   SKL_CFG_FLOAT_MAP  skl_cfg_map   (string -> double, e.g. mixture weights) */
typedef enum {
  SKL_CFG_INT,
  SKL_CFG_INT64,
  SKL_CFG_FLOAT,
  SKL_CFG_BOOL,
  SKL_CFG_STRING,
  SKL_CFG_ENUM,
  SKL_CFG_STR_LIST,
  SKL_CFG_FLOAT_LIST,
  SKL_CFG_INT_LIST,
  SKL_CFG_FLOAT_MAP,
} skl_cfg_type;

typedef struct {
  char **v;
  int n;
} skl_cfg_strs; /* v[n], each owned */
typedef struct {
  double *v;
  int n;
} skl_cfg_floats; /* v[n] */
typedef struct {
  int64_t *v;
  int n;
} skl_cfg_ints;  /* v[n] */
typedef struct { /* in file order */
  char **keys;   /* keys[n], each owned */
  double *vals;  /* vals[n] */
  int n;
} skl_cfg_map;

/* One schema entry. Write them with designated initializers:
 *   {.key = "rollout.temperature", .type = SKL_CFG_FLOAT,
 *    .offset = offsetof(train_cfg, temperature), .def = "1.0",
 *    .min = 0, .max = 10, .help = "sampling temperature"}
 * Dotted keys nest in YAML (`rollout: {temperature: 1.0}`); the flat spelling
 * `rollout.temperature: 1.0` is accepted too. */
typedef struct {
  const char *key;
  skl_cfg_type type;
  size_t offset;              /* offsetof(struct, field) */
  const char *def;            /* default as YAML text ("0.7", "[1, 2]", "{niah: 1}");
                                 NULL: zero / NULL / empty */
  double min, max;            /* inclusive range of numbers and of every list/map
                                 element; min == max == 0: no range (use
                                 -INFINITY/INFINITY for one side) */
  const char *const *choices; /* ENUM: allowed values, NULL-terminated (required);
                                 FLOAT_MAP: allowed keys, or NULL for any key */
  bool required;              /* error if neither the file nor an override sets it */
  const char *help;           /* one line for --help */
} skl_cfg_field;

typedef struct {
  const char *kind; /* "synth", "model", "train", "eval", "ablate" */
  const skl_cfg_field *fields;
  int n_fields;
  size_t struct_size; /* sizeof(the struct) */
} skl_cfg_schema;

/* Zero *out (struct_size bytes) and apply every field's default. Also checks
 * the schema itself (duplicate keys, a key that is also a section, a default
 * that does not parse, an ENUM without choices) as SKL_ERR_INTERNAL.
 * *out must not own anything (fresh, or after skl_cfg_free). */
skl_status skl_cfg_set_defaults(const skl_cfg_schema *schema, void *out, skl_error *err);

/* Defaults, then the YAML file at path (NULL: none), then overrides in order
 * ("rollout.temperature=0.5", "mixture={niah: 1}", "mixture.niah=3",
 * "lengths=[1024, 2048]"; values are YAML). A top-level `kind:` key must match
 * schema->kind. Errors look like
 *   cfg.yaml:4:16: rollout.temperature: expected a number in [0, 10], got 'hot'
 *   cfg.yaml:3:3: unknown key 'rollout.temprature' (did you mean 'rollout.temperature'?)
 *   override 'rollout.temperature=hot': rollout.temperature: expected a number in [0, 10], got 'hot'
 * On failure *out is left freed (zeroed), owning nothing.
 * @return SKL_OK, SKL_ERR_IO/NOTFOUND (file), SKL_ERR_PARSE (YAML syntax),
 *         SKL_ERR_INVALID (unknown/duplicate key, wrong type, kind mismatch,
 *         missing required), SKL_ERR_RANGE (out of range). */
skl_status skl_cfg_load(const skl_cfg_schema *schema, void *out, const char *path, char **overrides, int n_overrides,
                        skl_error *err);

/* As skl_cfg_load, from YAML text in memory; name is used in messages. */
skl_status skl_cfg_load_string(const skl_cfg_schema *schema, void *out, const char *name, const char *yaml,
                               char **overrides, int n_overrides, skl_error *err);

/* Apply one override to an already loaded *s (same rules and messages). */
skl_status skl_cfg_override(const skl_cfg_schema *schema, void *s, const char *kv, skl_error *err);

/* Fully resolved YAML: `kind:` first, then every field in schema order
 * (sections grouped at their first field), appended to out. Loading the dump
 * gives back the same struct, and dumping that gives the same bytes. */
skl_status skl_cfg_dump_yaml(const skl_cfg_schema *schema, const void *s, skl_buf *out);

/* sha256 (lower-case hex) of skl_cfg_dump_yaml: the config's identity in
 * manifests and run directories. */
skl_status skl_cfg_hash(const skl_cfg_schema *schema, const void *s, char hex[65]);

/* Atomically write the resolved dump to DIR/config.yaml (creating DIR). */
skl_status skl_cfg_write_resolved(const skl_cfg_schema *schema, const void *s, const char *dir, skl_error *err);

/* Free owned strings, lists and maps, and zero the struct. Accepts NULL s. */
void skl_cfg_free(const skl_cfg_schema *schema, void *s);

/* Key reference for --help epilogs: one line per field with type, default,
 * range/choices and help. */
skl_status skl_cfg_help(const skl_cfg_schema *schema, skl_buf *out);

/* @return the field with this dotted key, or NULL. */
const skl_cfg_field *skl_cfg_find(const skl_cfg_schema *schema, const char *key);

/* Read only the top-level `kind:` of a YAML file into kind[n].
 * @return SKL_OK, SKL_ERR_NOTFOUND (no kind key; kind = ""), or the
 *         file/parse errors of skl_cfg_load. */
skl_status skl_cfg_peek_kind(const char *path, char *kind, size_t n, skl_error *err);

/* @return "int", "float", "bool", "string", "enum", "string list", ... */
const char *skl_cfg_type_name(skl_cfg_type t);

#endif
