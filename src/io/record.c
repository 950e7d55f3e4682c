/* skl record: schema checks for one dataset record (DESIGN.md §3).
 * Not a reader or a generator: it looks at one parsed json_t. */
#include "io/record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static const char *const answer_type_names[SKL_ANSWER_COUNT] = {"number", "string", "choice", "list",
                                                                "set"};

const char *skl_answer_type_name(skl_answer_type t) {
  return (unsigned)t < SKL_ANSWER_COUNT ? answer_type_names[t] : NULL;
}

skl_status skl_answer_type_parse(const char *name, skl_answer_type *t, skl_error *err) {
  for (int i = 0; i < SKL_ANSWER_COUNT; i++)
    if (name && !strcmp(name, answer_type_names[i])) { *t = (skl_answer_type)i; return SKL_OK; }
  return skl_error_set(err, SKL_ERR_INVALID,
                       "unknown answer type \"%s\": expected one of number, string, choice, list, set",
                       name ? name : "(null)");
}

static const char *type_name(const json_t *v) {
  if (!v) return "nothing";
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "real";
  case JSON_TRUE: case JSON_FALSE: return "boolean";
  case JSON_NULL: return "null";
  }
  return "unknown";
}

/* Fetch a required field; "PATH: missing required field". */
static skl_status get(const json_t *obj, const char *parent, const char *key, json_t **out,
                      skl_error *err) {
  *out = json_object_get(obj, key);
  if (!*out)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s%s%s: missing required field (record schema: DESIGN.md §3)", parent,
                         *parent ? "." : "", key);
  return SKL_OK;
}

static skl_status want(bool ok, const json_t *v, const char *parent, const char *key,
                       const char *expected, skl_error *err) {
  if (ok) return SKL_OK;
  return skl_error_set(err, SKL_ERR_INVALID, "%s%s%s: expected %s, got %s", parent, *parent ? "." : "",
                       key, expected, type_name(v));
}

static skl_status req_string(const json_t *obj, const char *parent, const char *key, bool nonempty,
                             skl_error *err) {
  json_t *v;
  skl_status s = get(obj, parent, key, &v, err);
  if (s) return s;
  s = want(json_is_string(v), v, parent, key, "a string", err);
  if (s) return s;
  if (nonempty && json_string_length(v) == 0)
    return skl_error_set(err, SKL_ERR_INVALID, "%s%s%s: must not be empty", parent, *parent ? "." : "",
                         key);
  return SKL_OK;
}

static skl_status check_prompt(const json_t *rec, skl_error *err) {
  json_t *p;
  skl_status s = get(rec, "", "prompt", &p, err);
  if (s) return s;
  s = want(json_is_array(p), p, "", "prompt", "an array of {role, content} messages", err);
  if (s) return s;
  if (json_array_size(p) == 0)
    return skl_error_set(err, SKL_ERR_INVALID, "prompt: must hold at least one message");
  size_t i;
  json_t *m;
  json_array_foreach(p, i, m) {
    char path[32];
    snprintf(path, sizeof path, "prompt[%zu]", i);
    s = want(json_is_object(m), m, "", path, "an object {role, content}", err);
    if (s) return s;
    s = req_string(m, path, "role", true, err);
    if (!s) s = req_string(m, path, "content", false, err);
    if (s) return s;
    const char *role = json_string_value(json_object_get(m, "role"));
    if (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant"))
      return skl_error_set(err, SKL_ERR_INVALID,
                           "%s.role: expected one of system, user, assistant; got \"%.64s\"", path, role);
  }
  return SKL_OK;
}

static skl_status check_int(const json_t *obj, const char *parent, const char *key, skl_error *err) {
  json_t *v;
  skl_status s = get(obj, parent, key, &v, err);
  if (!s) s = want(json_is_integer(v), v, parent, key, "an integer", err);
  if (!s && json_integer_value(v) < 0)
    s = skl_error_set(err, SKL_ERR_INVALID, "%s.%s: must be >= 0, got %lld", parent, key,
                      (long long)json_integer_value(v));
  return s;
}

skl_status skl_record_validate(const json_t *rec, skl_error *err) {
  if (!json_is_object(rec))
    return skl_error_set(err, SKL_ERR_INVALID, "record: expected an object, got %s", type_name(rec));
  static const char *const strings[] = {"id", "skill", "split", "data_source", "ability", "answer"};
  for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
    bool nonempty = i < 3; /* id, skill, split name files and groups */
    skl_status s = req_string(rec, "", strings[i], nonempty, err);
    if (s) return s;
  }
  skl_status s = check_prompt(rec, err);
  if (s) return s;

  s = req_string(rec, "", "answer_type", true, err);
  if (s) return s;
  skl_answer_type t;
  if (skl_answer_type_parse(json_string_value(json_object_get(rec, "answer_type")), &t, err))
    return skl_error_prefix(err, "answer_type");

  json_t *rm;
  s = get(rec, "", "reward_model", &rm, err);
  if (!s) s = want(json_is_object(rm), rm, "", "reward_model", "an object {style, ground_truth}", err);
  if (!s) s = req_string(rm, "reward_model", "style", true, err);
  if (s) return s;
  json_t *gt;
  s = get(rm, "reward_model", "ground_truth", &gt, err);
  if (!s)
    s = want(json_is_string(gt) || json_is_number(gt) || json_is_array(gt), gt, "reward_model",
             "ground_truth", "a string, number or array", err);
  if (s) return s;

  json_t *ei;
  s = get(rec, "", "extra_info", &ei, err);
  if (!s)
    s = want(json_is_object(ei), ei, "", "extra_info",
             "an object {n_tokens, seed, difficulty, blueprint}", err);
  if (!s) s = check_int(ei, "extra_info", "n_tokens", err);
  if (!s) s = check_int(ei, "extra_info", "seed", err);
  if (s) return s;
  json_t *d;
  s = get(ei, "extra_info", "difficulty", &d, err);
  if (!s)
    s = want(json_is_number(d) || json_is_string(d), d, "extra_info", "difficulty",
             "a number or a string", err);
  if (s) return s;
  json_t *bp;
  s = get(ei, "extra_info", "blueprint", &bp, err);
  if (!s) s = want(json_is_object(bp), bp, "extra_info", "blueprint", "an object", err);
  return s;
}

char *skl_record_prompt_text(const json_t *rec) {
  json_t *p = json_object_get(rec, "prompt");
  if (!json_is_array(p) || json_array_size(p) == 0) return NULL;
  skl_buf b = {0};
  size_t i;
  json_t *m;
  json_array_foreach(p, i, m) {
    json_t *c = json_object_get(m, "content");
    if (!json_is_string(c) || (i && skl_buf_append(&b, "\n", 1)) ||
        skl_buf_append(&b, json_string_value(c), json_string_length(c))) {
      skl_buf_free(&b);
      return NULL;
    }
  }
  if (!b.data) return calloc(1, 1);
  return b.data;
}
