/* Tests for io/record.h: a valid record passes; every missing field and
 * wrong type is named by its path; prompt text concatenation.
 * Not a generator test (skills/ and synth/ have theirs). */
#include <stddef.h>

#include "harness.h"
#include "io/record.h"
#include "io_test_util.h"

static const char *valid_json =
    "{\"id\":\"niah-000001\",\"skill\":\"niah\",\"split\":\"train\",\"data_source\":\"skillrl/niah\","
    "\"ability\":\"long_context\",\"prompt\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
    "{\"role\":\"user\",\"content\":\"Doc 1 ... What is B-292?\"}],\"answer\":\"7\",\"answer_type\":\"number\","
    "\"reward_model\":{\"style\":\"rule\",\"ground_truth\":\"7\"},"
    "\"extra_info\":{\"n_tokens\":4096,\"seed\":17,\"difficulty\":2,\"blueprint\":{\"docs\":3}}}";

static json_t *valid(void) { return json_loads(valid_json, 0, NULL); }

/* Apply "set PATH = JSON" (PATH a.b, JSON NULL = delete) and expect a message. */
static void expect(const char *parent, const char *key, const char *value_json, const char *msg) {
  json_t *rec = valid();
  json_t *obj = parent ? json_object_get(rec, parent) : rec;
  if (value_json) json_object_set_new(obj, key, json_loads(value_json, JSON_DECODE_ANY, NULL));
  else json_object_del(obj, key);
  skl_error err;
  skl_status s = skl_record_validate(rec, &err);
  CHECK_MSG(s == SKL_ERR_INVALID, "%s%s%s = %s accepted", parent ? parent : "", parent ? "." : "", key,
            value_json ? value_json : "(deleted)");
  if (s) CHECK_CONTAINS(err.msg, msg);
  json_decref(rec);
}

int main(void) {
  json_t *rec = valid();
  CHECK(rec != NULL);
  skl_error err;
  CHECK(skl_record_validate(rec, &err) == SKL_OK);
  char *text = skl_record_prompt_text(rec);
  CHECK_STR(text, "Be brief.\nDoc 1 ... What is B-292?");
  free(text);
  /* extra fields are allowed; difficulty may be a string; ground_truth a list */
  json_object_set_new(rec, "note", json_string("extra"));
  json_object_set_new(json_object_get(rec, "extra_info"), "difficulty", json_string("hard"));
  json_object_set_new(json_object_get(rec, "reward_model"), "ground_truth", json_pack("[ss]", "a", "b"));
  CHECK(skl_record_validate(rec, &err) == SKL_OK);
  json_decref(rec);

  /* the generator used by the jsonl tests writes schema-valid records */
  json_t *gen = tu_record(1, 3, 100);
  CHECK(skl_record_validate(gen, &err) == SKL_OK);
  json_decref(gen);

  const char *required[] = {"id", "skill", "split", "data_source", "ability", "prompt", "answer",
                            "answer_type", "reward_model", "extra_info"};
  for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: missing required field", required[i]);
    expect(NULL, required[i], NULL, msg);
  }
  expect("extra_info", "n_tokens", NULL, "extra_info.n_tokens: missing required field");
  expect("extra_info", "seed", NULL, "extra_info.seed: missing required field");
  expect("extra_info", "difficulty", NULL, "extra_info.difficulty: missing required field");
  expect("extra_info", "blueprint", NULL, "extra_info.blueprint: missing required field");
  expect("reward_model", "style", NULL, "reward_model.style: missing required field");
  expect("reward_model", "ground_truth", NULL, "reward_model.ground_truth: missing required field");

  expect(NULL, "id", "17", "id: expected a string, got integer");
  expect(NULL, "id", "\"\"", "id: must not be empty");
  expect(NULL, "answer", "7", "answer: expected a string, got integer");
  expect(NULL, "prompt", "\"hi\"", "prompt: expected an array of {role, content} messages, got string");
  expect(NULL, "prompt", "[]", "prompt: must hold at least one message");
  expect(NULL, "prompt", "[{\"role\":\"user\",\"content\":\"a\"}, 3]", "prompt[1]: expected an object");
  expect(NULL, "prompt", "[{\"role\":\"tool\",\"content\":\"a\"}]",
         "prompt[0].role: expected one of system, user, assistant; got \"tool\"");
  expect(NULL, "prompt", "[{\"role\":\"user\"}]", "prompt[0].content: missing required field");
  expect(NULL, "prompt", "[{\"role\":\"user\",\"content\":null}]", "prompt[0].content: expected a string, got null");
  expect(NULL, "answer_type", "\"float\"", "answer_type: unknown answer type \"float\": expected one of number");
  expect(NULL, "reward_model", "[]", "reward_model: expected an object {style, ground_truth}, got array");
  expect("reward_model", "ground_truth", "null", "reward_model.ground_truth: expected a string, number or array, got null");
  expect(NULL, "extra_info", "\"x\"", "extra_info: expected an object");
  expect("extra_info", "n_tokens", "\"4096\"", "extra_info.n_tokens: expected an integer, got string");
  expect("extra_info", "n_tokens", "4096.0", "extra_info.n_tokens: expected an integer, got real");
  expect("extra_info", "n_tokens", "-1", "extra_info.n_tokens: must be >= 0, got -1");
  expect("extra_info", "seed", "true", "extra_info.seed: expected an integer, got boolean");
  expect("extra_info", "difficulty", "[1]", "extra_info.difficulty: expected a number or a string, got array");
  expect("extra_info", "blueprint", "[]", "extra_info.blueprint: expected an object, got array");

  json_t *arr = json_array();
  CHECK(skl_record_validate(arr, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "record: expected an object, got array");
  CHECK(skl_record_prompt_text(arr) == NULL);
  json_decref(arr);
  CHECK(skl_record_validate(NULL, NULL) == SKL_ERR_INVALID);

  /* answer types */
  for (int t = 0; t < SKL_ANSWER_COUNT; t++) {
    skl_answer_type back;
    CHECK(skl_answer_type_parse(skl_answer_type_name((skl_answer_type)t), &back, NULL) == SKL_OK &&
          (int)back == t);
  }
  CHECK(skl_answer_type_name(SKL_ANSWER_COUNT) == NULL);
  CHECK_STR(skl_answer_type_name(SKL_ANSWER_SET), "set");
  return test_report();
}
