/* Tests for src/config: loading, every error path with its message shape,
 * overrides, dump round-trips, hashes, help. Not a YAML conformance suite. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fs.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "tests/harness.h"

/* ---- the demo schema (tests only) ---- */
typedef struct {
  int64_t seed;
  char *name;
  double temperature;
  int group;
  int sampler; /* 0 greedy, 1 top_p, 2 top_k */
  bool shared_prefix;
  skl_cfg_strs skills;
  skl_cfg_ints lengths;
  skl_cfg_floats clip;
  skl_cfg_map mixture;
  skl_cfg_map extra;
  int steps;
  double lr;
  char *out;
  int plain_int;
  double plain_float;
  double up_to_inf;
} demo_cfg;

static const char *const samplers[] = {"greedy", "top_p", "top_k", NULL};
static const char *const skill_ids[] = {"niah", "logic", "multi_hop", "calc_reason", NULL};

#define F(k, t, m, ...) \
  { .key = k, .type = t, .offset = offsetof(demo_cfg, m), __VA_ARGS__ }
static const skl_cfg_field demo_fields[] = {
    F("seed", SKL_CFG_INT64, seed, .def = "1234", .help = "run seed"),
    F("name", SKL_CFG_STRING, name, .def = "demo", .help = "run name"),
    F("rollout.temperature", SKL_CFG_FLOAT, temperature, .def = "1.0", .min = 0, .max = 10,
      .help = "sampling temperature"),
    F("data.skills", SKL_CFG_STR_LIST, skills, .def = "[niah, logic]", .help = "skills"),
    F("rollout.group", SKL_CFG_INT, group, .def = "8", .min = 1, .max = 64, .help = "rollouts per prompt"),
    F("rollout.sampler", SKL_CFG_ENUM, sampler, .def = "top_p", .choices = samplers, .help = "sampler"),
    F("rollout.shared_prefix", SKL_CFG_BOOL, shared_prefix, .def = "true", .help = "prefill once"),
    F("data.lengths", SKL_CFG_INT_LIST, lengths, .def = "[1024, 2048]", .min = 1, .max = 1000000,
      .help = "context lengths"),
    F("loss.clip", SKL_CFG_FLOAT_LIST, clip, .def = "[0.2, 0.28]", .min = 0, .max = 1, .help = "clip low/high"),
    F("mixture", SKL_CFG_FLOAT_MAP, mixture, .def = "{niah: 1, logic: 2}", .min = 0, .max = INFINITY,
      .choices = skill_ids, .help = "skill weights"),
    F("extra", SKL_CFG_FLOAT_MAP, extra, .help = "free-form numbers"),
    F("train.steps", SKL_CFG_INT, steps, .min = 1, .max = 1e9, .required = true, .help = "optimizer steps"),
    F("train.optim.lr", SKL_CFG_FLOAT, lr, .def = "3e-4", .min = 0, .max = 1, .help = "learning rate"),
    F("out", SKL_CFG_STRING, out, .help = "output folder"),
    F("plain_int", SKL_CFG_INT, plain_int),
    F("plain_float", SKL_CFG_FLOAT, plain_float),
    F("up_to_inf", SKL_CFG_FLOAT, up_to_inf, .def = "1", .min = 0, .max = INFINITY),
};
static const skl_cfg_schema demo = {"train", demo_fields, (int)(sizeof demo_fields / sizeof demo_fields[0]),
                                    sizeof(demo_cfg)};

static char tmpdir[256];

/* Write text to tmpdir/name; return the path (static buffer). */
static const char *put(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

/* Load text as file cfg.yaml; expect failure code and exact message
 * "<path>:<suffix>". */
static void expect_file_err(const char *text, skl_status code, const char *suffix, int line) {
  const char *path = put("cfg.yaml", text);
  demo_cfg c;
  skl_error err = {0};
  skl_status st = skl_cfg_load(&demo, &c, path, NULL, 0, &err);
  char want[1200];
  snprintf(want, sizeof want, "%s:%s", path, suffix);
  CHECK_MSG(st == code, "line %d: status %s, want %s (%s)", line, skl_status_name(st), skl_status_name(code), err.msg);
  CHECK_MSG(!strcmp(err.msg, want), "line %d:\n got  '%s'\n want '%s'", line, err.msg, want);
  /* a failed load leaves nothing owned */
  CHECK(c.name == NULL && c.skills.v == NULL && c.mixture.n == 0);
}

static void expect_override_err(const char *kv, skl_status code, const char *want, int line) {
  demo_cfg c;
  skl_error err = {0};
  char *ov[2] = {"train.steps=5", (char *)kv};
  skl_status st = skl_cfg_load(&demo, &c, NULL, ov, 2, &err);
  CHECK_MSG(st == code, "line %d: status %s, want %s (%s)", line, skl_status_name(st), skl_status_name(code), err.msg);
  CHECK_MSG(!strcmp(err.msg, want), "line %d:\n got  '%s'\n want '%s'", line, err.msg, want);
}

static void test_defaults(void) {
  demo_cfg c;
  skl_error err = {0};
  CHECK(skl_cfg_set_defaults(&demo, &c, &err) == SKL_OK);
  CHECK(c.seed == 1234);
  CHECK_STR(c.name, "demo");
  CHECK_NEAR(c.temperature, 1.0, 0);
  CHECK(c.group == 8 && c.sampler == 1 && c.shared_prefix);
  CHECK(c.skills.n == 2 && !strcmp(c.skills.v[0], "niah") && !strcmp(c.skills.v[1], "logic"));
  CHECK(c.lengths.n == 2 && c.lengths.v[0] == 1024 && c.lengths.v[1] == 2048);
  CHECK(c.clip.n == 2 && c.clip.v[1] == 0.28);
  CHECK(c.mixture.n == 2 && !strcmp(c.mixture.keys[1], "logic") && c.mixture.vals[1] == 2.0);
  CHECK(c.extra.n == 0 && c.extra.keys == NULL);
  CHECK(c.lr == 3e-4 && c.out == NULL && c.steps == 0);
  skl_cfg_free(&demo, &c);
  CHECK(c.name == NULL && c.skills.n == 0);
  skl_cfg_free(&demo, &c); /* twice is fine */
  skl_cfg_free(&demo, NULL);

  /* several missing required keys: one message names them all */
  skl_cfg_field two[] = {F("a", SKL_CFG_INT, group, .required = true), F("b.c", SKL_CFG_STRING, name, .required = true),
                         F("d", SKL_CFG_INT, steps)};
  skl_cfg_schema s2 = {"t", two, 3, sizeof(demo_cfg)};
  CHECK(skl_cfg_load_string(&s2, &c, "x.yaml", "d: 1\n", NULL, 0, &err) == SKL_ERR_INVALID);
  CHECK_STR(err.msg, "x.yaml: missing 2 required keys: a, b.c; set them in the file or as key=value");

  /* defaults only: the required key must come from somewhere */
  CHECK(skl_cfg_load(&demo, &c, NULL, NULL, 0, &err) == SKL_ERR_INVALID);
  CHECK_STR(err.msg,
            "config: missing required key 'train.steps' (optimizer steps); set it in the file or as "
            "train.steps=...");
}

static void test_load_file(void) {
  const char *path = put("ok.yaml",
                         "kind: train\n"
                         "seed: 7\n"
                         "name: \"my run: 2\"\n"
                         "rollout:\n"
                         "  temperature: 0.7\n"
                         "  group: 1e1\n"
                         "  sampler: top_k\n"
                         "  shared_prefix: no\n"
                         "data.skills: [multi_hop]\n"
                         "data:\n"
                         "  lengths:\n"
                         "    - 4096\n"
                         "    - 8192.0\n"
                         "mixture: {niah: 1, multi_hop: 3.5}\n"
                         "mixture.logic: 2\n"
                         "extra: {anything: -1}\n"
                         "train: {steps: 100, optim: {lr: 1e-5}}\n"
                         "out: ~\n"
                         "up_to_inf: .inf\n");
  demo_cfg c;
  skl_error err = {0};
  skl_status st = skl_cfg_load(&demo, &c, path, NULL, 0, &err);
  CHECK_MSG(st == SKL_OK, "%s", err.msg);
  if (st) return;
  CHECK(c.seed == 7);
  CHECK_STR(c.name, "my run: 2");
  CHECK(c.temperature == 0.7 && c.group == 10 && c.sampler == 2 && !c.shared_prefix);
  CHECK(c.skills.n == 1 && !strcmp(c.skills.v[0], "multi_hop"));
  CHECK(c.lengths.n == 2 && c.lengths.v[0] == 4096 && c.lengths.v[1] == 8192);
  /* the file's mapping replaces the default map; the flat key adds to it */
  CHECK(c.mixture.n == 3);
  CHECK(c.mixture.n == 3 && !strcmp(c.mixture.keys[0], "niah") && !strcmp(c.mixture.keys[1], "multi_hop") &&
        c.mixture.vals[1] == 3.5 && !strcmp(c.mixture.keys[2], "logic") && c.mixture.vals[2] == 2);
  CHECK(c.extra.n == 1 && c.extra.vals[0] == -1);
  CHECK(c.steps == 100 && c.lr == 1e-5 && c.out == NULL && isinf(c.up_to_inf));
  skl_cfg_free(&demo, &c);

  /* empty file: defaults (+ the required key from an override) */
  path = put("empty.yaml", "");
  char *ov[] = {"train.steps=3"};
  CHECK(skl_cfg_load(&demo, &c, path, ov, 1, &err) == SKL_OK);
  CHECK(c.steps == 3 && c.group == 8);
  skl_cfg_free(&demo, &c);
}

static void test_file_errors(void) {
  expect_file_err("rollout:\n  temprature: 1\n", SKL_ERR_INVALID,
                  "2:3: unknown key 'rollout.temprature' (did you mean 'rollout.temperature'?)", __LINE__);
  expect_file_err("train: {steps: 1}\nrollout:\n  temperature: hot\n", SKL_ERR_INVALID,
                  "3:16: rollout.temperature: expected a number in [0, 10], got 'hot'", __LINE__);
  expect_file_err("rollout.temperature: 11\n", SKL_ERR_RANGE,
                  "1:22: rollout.temperature: expected a number in [0, 10], got '11'", __LINE__);
  expect_file_err("rollout: {group: 3.5}\n", SKL_ERR_INVALID,
                  "1:18: rollout.group: expected an integer in [1, 64], got '3.5'", __LINE__);
  expect_file_err("rollout: {group: 0}\n", SKL_ERR_RANGE,
                  "1:18: rollout.group: expected an integer in [1, 64], got '0'", __LINE__);
  expect_file_err("plain_int: 1e12\n", SKL_ERR_RANGE,
                  "1:12: plain_int: expected an integer in [-2147483648, 2147483647], got '1e12'", __LINE__);
  expect_file_err("plain_int: [1]\n", SKL_ERR_INVALID, "1:12: plain_int: expected an integer, got a list", __LINE__);
  expect_file_err("plain_float: .inf\n", SKL_ERR_RANGE, "1:14: plain_float: expected a finite number, got '.inf'",
                  __LINE__);
  expect_file_err("plain_float: .nan\n", SKL_ERR_INVALID, "1:14: plain_float: expected a finite number, got '.nan'",
                  __LINE__);
  expect_file_err("rollout: {sampler: topp}\n", SKL_ERR_INVALID,
                  "1:20: rollout.sampler: expected one of {greedy, top_p, top_k}, got 'topp' (did you mean 'top_p'?)",
                  __LINE__);
  expect_file_err("rollout: {shared_prefix: maybe}\n", SKL_ERR_INVALID,
                  "1:26: rollout.shared_prefix: expected true or false, got 'maybe'", __LINE__);
  expect_file_err("name: {a: 1}\n", SKL_ERR_INVALID, "1:7: name: expected a string, got a mapping", __LINE__);
  expect_file_err("rollout:\n  temperature: 1\n  temperature: 2\n", SKL_ERR_INVALID,
                  "3:3: duplicate key 'rollout.temperature' (first set at line 2)", __LINE__);
  expect_file_err("rollout.temperature: 1\nrollout: {temperature: 2}\n", SKL_ERR_INVALID,
                  "2:11: duplicate key 'rollout.temperature' (first set at line 1)", __LINE__);
  expect_file_err("rollout: {group: 2}\nseed: 1\nrollout: {temperature: 2}\n", SKL_ERR_INVALID,
                  "3:1: duplicate key 'rollout' (first set at line 1)", __LINE__);
  expect_file_err("rollout: 5\n", SKL_ERR_INVALID,
                  "1:10: rollout: is a section (keys: temperature, group, sampler, shared_prefix), expected a "
                  "mapping, got '5'",
                  __LINE__);
  { /* issue 18: 200k nested '[' took minutes in libyaml; refused at depth 65 */
    size_t n = 200000;
    char *deep = malloc(n + 8);
    SKL_ASSERT(deep);
    memcpy(deep, "a: ", 3);
    memset(deep + 3, '[', n);
    memcpy(deep + 3 + n, "\n", 2);
    expect_file_err(deep, SKL_ERR_RANGE,
                    "1:67: nesting deeper than 64 levels (lists and mappings inside each other); a config nests a "
                    "few levels: is this the right file?", __LINE__);
    free(deep);
  }
  expect_file_err("rolout:\n  group: 2\n", SKL_ERR_INVALID, "1:1: unknown key 'rolout' (did you mean 'rollout'?)",
                  __LINE__);
  expect_file_err("temperature: 2\n", SKL_ERR_INVALID,
                  "1:1: unknown key 'temperature' (did you mean 'rollout.temperature'?)", __LINE__);
  expect_file_err("zzz: 2\n", SKL_ERR_INVALID,
                  "1:1: unknown key 'zzz' (valid keys: kind, seed, name, rollout.*, data.*, loss.*, mixture, extra, "
                  "train.*, out, plain_int, plain_float, up_to_inf)",
                  __LINE__);
  expect_file_err("train:\n  qqqqqqq: 1\n", SKL_ERR_INVALID,
                  "2:3: unknown key 'train.qqqqqqq' (keys under 'train': steps, optim.*)", __LINE__);
  expect_file_err("kind: synth\n", SKL_ERR_INVALID,
                  "1:7: kind: expected 'train' (this command reads train configs), got 'synth'", __LINE__);
  expect_file_err("\xef\xbb\xbfkind: synth\n", SKL_ERR_INVALID, /* a BOM does not shift columns */
                  "1:7: kind: expected 'train' (this command reads train configs), got 'synth'", __LINE__);
  expect_file_err("- a\n- b\n", SKL_ERR_INVALID, "1:1: a config must be a mapping of keys (key: value), got a list",
                  __LINE__);
  expect_file_err("just text\n", SKL_ERR_INVALID,
                  "1:1: a config must be a mapping of keys (key: value), got 'just text'", __LINE__);
  expect_file_err("seed: 1\n---\nseed: 2\n", SKL_ERR_INVALID,
                  "3:1: a config holds one YAML document; remove the second one (after '---')", __LINE__);
  expect_file_err("? [a]\n: 1\n", SKL_ERR_INVALID, "1:3: keys must be names, got a list", __LINE__);
  /* lists and maps: the element's own position and index */
  expect_file_err("data:\n  lengths: [10, x, 30]\n", SKL_ERR_INVALID,
                  "2:17: data.lengths[1]: expected an integer in [1, 1000000], got 'x'", __LINE__);
  expect_file_err("data:\n  lengths:\n    - 10\n    - 0\n", SKL_ERR_RANGE,
                  "4:7: data.lengths[1]: expected an integer in [1, 1000000], got '0'", __LINE__);
  expect_file_err("loss: {clip: 0.2}\n", SKL_ERR_INVALID,
                  "1:14: loss.clip: expected a list of numbers ([a, b, ...]), got '0.2'", __LINE__);
  expect_file_err("data: {skills: [niah, [x]]}\n", SKL_ERR_INVALID,
                  "1:23: data.skills[1]: expected a string, got a list", __LINE__);
  expect_file_err("mixture: {nah: 1}\n", SKL_ERR_INVALID,
                  "1:11: mixture: unknown key 'nah' (did you mean 'niah'? allowed: niah, logic, multi_hop, "
                  "calc_reason)",
                  __LINE__);
  expect_file_err("mixture: {niah: -1}\n", SKL_ERR_RANGE, "1:17: mixture.niah: expected a number in [0, inf], got '-1'",
                  __LINE__);
  expect_file_err("mixture: {niah: 1, niah: 2}\n", SKL_ERR_INVALID, "1:20: mixture: duplicate key 'niah'", __LINE__);
  expect_file_err("mixture: [niah]\n", SKL_ERR_INVALID,
                  "1:10: mixture: expected a mapping of names to numbers ({a: 1, b: 2}), got a list", __LINE__);
  expect_file_err("mixture.bogus: 1\n", SKL_ERR_INVALID,
                  "1:1: mixture: unknown key 'bogus' (allowed: niah, logic, multi_hop, calc_reason)", __LINE__);

  /* YAML syntax: libyaml's problem and position */
  const char *path = put("bad.yaml", "seed: 1\nrollout: {group: 2\n");
  demo_cfg c;
  skl_error err = {0};
  CHECK(skl_cfg_load(&demo, &c, path, NULL, 0, &err) == SKL_ERR_PARSE);
  char want[600];
  snprintf(want, sizeof want, "%s:3:1: YAML syntax error: ", path);
  CHECK_MSG(!strncmp(err.msg, want, strlen(want)), "got '%s' want prefix '%s'", err.msg, want);
  CHECK_CONTAINS(err.msg, "(while parsing a flow mapping, at line 2)");
  path = put("tab.yaml", "seed: 1\n\tname: x\n");
  CHECK(skl_cfg_load(&demo, &c, path, NULL, 0, &err) == SKL_ERR_PARSE);
  snprintf(want, sizeof want, "%s:2:", path);
  CHECK_CONTAINS(err.msg, want);

  /* missing file: the path, and nothing owned */
  snprintf(want, sizeof want, "%s/nope.yaml", tmpdir);
  skl_status st = skl_cfg_load(&demo, &c, want, NULL, 0, &err);
  CHECK(st == SKL_ERR_NOTFOUND || st == SKL_ERR_IO);
  CHECK_CONTAINS(err.msg, want);
  CHECK(c.name == NULL);
}

static void test_overrides(void) {
  const char *path = put("base.yaml", "train: {steps: 10}\nrollout: {temperature: 0.5}\n");
  char *ov[] = {"rollout.temperature=0.9",
                "data.lengths=[1, 2, 3]",
                "mixture={logic: 4}",
                "mixture.niah=2",
                "name=hello world",
                "out=@weird`path",
                "rollout={group: 3}",
                "train.steps=20",
                "extra.k=1.5",
                "seed=-5",
                "kind=train",
                "name=",
                "data.skills=[]"};
  int n = (int)(sizeof ov / sizeof ov[0]);
  demo_cfg c;
  skl_error err = {0};
  skl_status st = skl_cfg_load(&demo, &c, path, ov, n, &err);
  CHECK_MSG(st == SKL_OK, "%s", err.msg);
  if (st) return;
  CHECK(c.temperature == 0.9);
  CHECK(c.lengths.n == 3 && c.lengths.v[2] == 3);
  CHECK(c.mixture.n == 2 && !strcmp(c.mixture.keys[0], "logic") && !strcmp(c.mixture.keys[1], "niah") &&
        c.mixture.vals[1] == 2);
  CHECK(c.name == NULL); /* "name=" is YAML null, the later override wins */
  CHECK_STR(c.out, "@weird`path");
  CHECK(c.group == 3 && c.steps == 20 && c.seed == -5);
  CHECK(c.extra.n == 1 && c.extra.vals[0] == 1.5);
  CHECK(c.skills.n == 0);
  /* skl_cfg_override on a loaded struct */
  CHECK(skl_cfg_override(&demo, &c, "rollout.sampler=greedy", &err) == SKL_OK && c.sampler == 0);
  CHECK(skl_cfg_override(&demo, &c, "rollout.sampler=nope", &err) == SKL_ERR_INVALID);
  CHECK(c.sampler == 0);
  skl_cfg_free(&demo, &c);

  /* issue 18: "batch=null" was silently ignored */
  expect_override_err("rollout=null", SKL_ERR_INVALID,
                      "override 'rollout=null': rollout: is a section (keys: temperature, group, sampler, "
                      "shared_prefix); null does not reset it: set its keys (rollout.KEY=VALUE) or give a mapping",
                      __LINE__);
  expect_override_err("rollout.temprature=1", SKL_ERR_INVALID,
                      "override 'rollout.temprature=1': unknown key 'rollout.temprature' (did you mean "
                      "'rollout.temperature'?)",
                      __LINE__);
  expect_override_err("rollout.temperature=hot", SKL_ERR_INVALID,
                      "override 'rollout.temperature=hot': rollout.temperature: expected a number in [0, 10], got "
                      "'hot'",
                      __LINE__);
  expect_override_err("rollout.temperature=-1", SKL_ERR_RANGE,
                      "override 'rollout.temperature=-1': rollout.temperature: expected a number in [0, 10], got "
                      "'-1'",
                      __LINE__);
  expect_override_err("rollout.temperature", SKL_ERR_INVALID, "override 'rollout.temperature': expected key.sub=value",
                      __LINE__);
  expect_override_err("=3", SKL_ERR_INVALID, "override '=3': expected key.sub=value", __LINE__);
  expect_override_err("data.lengths=[1, 2", SKL_ERR_PARSE,
                      "override 'data.lengths=[1, 2': YAML syntax error in the value: did not find expected "
                      "',' or ']' (while parsing a flow sequence)",
                      __LINE__);
  expect_override_err("name=\xff\xfe", SKL_ERR_PARSE,
                      "override 'name=\xff\xfe': YAML syntax error in the value: invalid leading UTF-8 octet",
                      __LINE__);
  expect_override_err("mixture.nah=1", SKL_ERR_INVALID,
                      "override 'mixture.nah=1': mixture: unknown key 'nah' (did you mean 'niah'? allowed: niah, "
                      "logic, multi_hop, calc_reason)",
                      __LINE__);
  expect_override_err("kind=eval", SKL_ERR_INVALID,
                      "override 'kind=eval': kind: expected 'train' (this command reads train configs), got 'eval'",
                      __LINE__);
  expect_override_err("rollout.group=", SKL_ERR_INVALID,
                      "override 'rollout.group=': rollout.group: expected an integer in [1, 64], got ''", __LINE__);
}

static void test_dump_roundtrip(void) {
  char *ov[] = {"train.steps=5",
                "name=\"yes\"",
                "out=\"a \\\"quoted\\\" path\\twith: colon # not a comment\\n\"",
                "data.skills=[\"1abc\", \"null\", \"ünï\", plain-ok_1/x.y, \"\"]",
                "extra={\"k 1\": 0.1, k2: 1e300}",
                "loss.clip=[0, 1]",
                "rollout.temperature=0.30000000000000004",
                "seed=-9007199254740993"};
  demo_cfg a, b;
  skl_error err = {0};
  skl_status st = skl_cfg_load(&demo, &a, NULL, ov, (int)(sizeof ov / sizeof ov[0]), &err);
  CHECK_MSG(st == SKL_OK, "%s", err.msg);
  if (st) return;
  CHECK_STR(a.name, "yes");
  CHECK_STR(a.out, "a \"quoted\" path\twith: colon # not a comment\n");
  skl_buf d1 = {0}, d2 = {0};
  CHECK(skl_cfg_dump_yaml(&demo, &a, &d1) == SKL_OK);
  st = skl_cfg_load_string(&demo, &b, "dump", d1.data, NULL, 0, &err);
  CHECK_MSG(st == SKL_OK, "%s\n%s", err.msg, d1.data);
  if (st) {
    skl_buf_free(&d1);
    skl_cfg_free(&demo, &a);
    return;
  }
  CHECK(skl_cfg_dump_yaml(&demo, &b, &d2) == SKL_OK);
  CHECK_STR(d1.data, d2.data);
  CHECK_STR(b.name, "yes");
  CHECK_STR(b.out, a.out);
  CHECK(b.skills.n == 5 && !strcmp(b.skills.v[1], "null") && !strcmp(b.skills.v[2], "ünï") && !b.skills.v[4][0]);
  CHECK(b.temperature == a.temperature && b.seed == a.seed && b.extra.vals[1] == 1e300);
  CHECK(b.extra.n == 2 && !strcmp(b.extra.keys[0], "k 1"));
  /* sections grouped at their first field, keys in schema order */
  CHECK_CONTAINS(d1.data,
                 "kind: train\nseed: -9007199254740993\nname: \"yes\"\nrollout:\n  temperature: "
                 "0.30000000000000004\n  group: 8\n  sampler: top_p\n  shared_prefix: true\ndata:\n"
                 "  skills: [\"1abc\", \"null\", \"ünï\", plain-ok_1/x.y, \"\"]\n  lengths: [1024, 2048]\n"
                 "loss:\n  clip: [0.0, 1.0]\nmixture:\n  niah: 1.0\n  logic: 2.0\nextra:\n  \"k 1\": 0.1\n"
                 "  k2: 1.0e+300\ntrain:\n  steps: 5\n  optim:\n    lr: 0.0003\nout: ");
  CHECK_CONTAINS(d1.data, "\nplain_int: 0\nplain_float: 0.0\nup_to_inf: 1.0\n");
  skl_cfg_free(&demo, &b);

  /* NULL strings and empty collections round-trip too */
  char *ov2[] = {"train.steps=1", "name=~", "mixture={}", "data.lengths=[]", "up_to_inf=.inf"};
  skl_buf_clear(&d1);
  skl_buf_clear(&d2);
  skl_cfg_free(&demo, &a);
  CHECK(skl_cfg_load(&demo, &a, NULL, ov2, 5, &err) == SKL_OK);
  CHECK(skl_cfg_dump_yaml(&demo, &a, &d1) == SKL_OK);
  CHECK_CONTAINS(d1.data, "name: null\n");
  CHECK_CONTAINS(d1.data, "mixture: {}\n");
  CHECK_CONTAINS(d1.data, "lengths: []\n");
  CHECK_CONTAINS(d1.data, "up_to_inf: .inf\n");
  st = skl_cfg_load_string(&demo, &b, "dump", d1.data, NULL, 0, &err);
  CHECK_MSG(st == SKL_OK, "%s", err.msg);
  if (!st) {
    CHECK(b.name == NULL && b.mixture.n == 0 && b.lengths.n == 0 && isinf(b.up_to_inf));
    CHECK(skl_cfg_dump_yaml(&demo, &b, &d2) == SKL_OK);
    CHECK_STR(d1.data, d2.data);
  }
  skl_cfg_free(&demo, &a);
  skl_cfg_free(&demo, &b);
  skl_buf_free(&d1);
  skl_buf_free(&d2);
}

/* Any valid UTF-8 string survives dump -> load: quoting, escapes, YAML's
 * folded line breaks (NEL, LS, PS), control characters, indicators. */
static void roundtrip_name(const char *name, int line) {
  demo_cfg a, b;
  skl_error err = {0};
  char *ov[] = {"train.steps=1"};
  CHECK(skl_cfg_load(&demo, &a, NULL, ov, 1, &err) == SKL_OK);
  free(a.name);
  a.name = strdup(name);
  skl_buf d = {0};
  CHECK(skl_cfg_dump_yaml(&demo, &a, &d) == SKL_OK);
  skl_status st = skl_cfg_load_string(&demo, &b, "dump", d.data, NULL, 0, &err);
  CHECK_MSG(st == SKL_OK && b.name && !strcmp(b.name, name), "line %d: '%s' -> %s (%s)", line, name, d.data, err.msg);
  skl_buf_free(&d);
  skl_cfg_free(&demo, &a);
  skl_cfg_free(&demo, &b);
}

static void test_string_roundtrip(void) {
  static const char *const tricky[] = {
      "\xc2\x85"
      "nel",
      "ls\xe2\x80\xa8ps\xe2\x80\xa9",
      "\x01\x7f\x1b",
      "tab\tcr\r",
      "\xc3\xa9\xf0\x9f\x98\x80",
      "- x",
      "#c",
      " lead",
      "trail ",
      "a: b",
      "{x}",
      "[",
      "'q'",
      "%x",
      "@x",
      "`x",
      "!x",
      "&x",
      "*x",
      "|",
      ">",
      "? x",
      "1.5",
      "0x10",
      "~",
      "",
      "true",
      "NO",
      "null",
      "\xef\xbb\xbf"
      "bom",
      "a\\b",
      "x\"y",
      ".inf",
      "-"};
  for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) roundtrip_name(tricky[i], (int)i);
  /* random strings over a pool of awkward code points (UTF-8 encoded) */
  static const char *const pool[] = {"a",
                                     "Z",
                                     "0",
                                     " ",
                                     ":",
                                     "#",
                                     "-",
                                     "'",
                                     "\"",
                                     "\\",
                                     "\n",
                                     "\t",
                                     "\x01",
                                     "\x7f",
                                     "\xc2\x85",
                                     "\xc2\xa0",
                                     "\xe2\x80\xa8",
                                     "\xef\xbb\xbf",
                                     "\xef\xbf\xbd",
                                     "\xf0\x9f\x98\x80",
                                     "{",
                                     "]",
                                     ",",
                                     "&",
                                     "*",
                                     "!",
                                     "%",
                                     "@"};
  skl_rng r;
  skl_rng_seed(&r, 2024);
  for (int it = 0; it < 300; it++) {
    char s[128] = "";
    int n = 1 + (int)skl_rng_below(&r, 12);
    for (int k = 0; k < n; k++) strcat(s, pool[skl_rng_below(&r, sizeof pool / sizeof pool[0])]);
    roundtrip_name(s, 1000 + it);
  }
}

static void test_hash_and_write(void) {
  const char *p1 = put("h1.yaml", "train: {steps: 4}\nrollout: {group: 2, temperature: 0.5}\n");
  char path1[512];
  snprintf(path1, sizeof path1, "%s", p1);
  /* same values, other order and spelling */
  const char *p2 = put("h2.yaml", "rollout.temperature: 0.50\nrollout.group: 2\ntrain.steps: 4\nkind: train\n");
  demo_cfg a, b;
  skl_error err = {0};
  char h1[65], h2[65], h3[65];
  CHECK(skl_cfg_load(&demo, &a, path1, NULL, 0, &err) == SKL_OK);
  CHECK(skl_cfg_load(&demo, &b, p2, NULL, 0, &err) == SKL_OK);
  CHECK(skl_cfg_hash(&demo, &a, h1) == SKL_OK && skl_cfg_hash(&demo, &b, h2) == SKL_OK);
  CHECK(strlen(h1) == 64);
  CHECK_STR(h1, h2);
  skl_buf d = {0};
  CHECK(skl_cfg_dump_yaml(&demo, &a, &d) == SKL_OK);
  char direct[65];
  skl_sha256_buf_hex(d.data, d.len, direct);
  CHECK_STR(h1, direct);
  CHECK(skl_cfg_override(&demo, &b, "rollout.temperature=0.5000001", &err) == SKL_OK);
  CHECK(skl_cfg_hash(&demo, &b, h3) == SKL_OK);
  CHECK(strcmp(h1, h3) != 0);

  /* DIR/config.yaml: created with its folder, loads back to the same hash */
  char dir[512];
  snprintf(dir, sizeof dir, "%s/run/a", tmpdir);
  CHECK(skl_cfg_write_resolved(&demo, &a, dir, &err) == SKL_OK);
  char cfgpath[600];
  snprintf(cfgpath, sizeof cfgpath, "%s/config.yaml", dir);
  char *text = NULL;
  size_t len = 0;
  CHECK(skl_fs_read_all(cfgpath, &text, &len, &err) == SKL_OK);
  CHECK(text && len == d.len && !memcmp(text, d.data, len));
  free(text);
  skl_cfg_free(&demo, &b);
  CHECK(skl_cfg_load(&demo, &b, cfgpath, NULL, 0, &err) == SKL_OK);
  CHECK(skl_cfg_hash(&demo, &b, h2) == SKL_OK);
  CHECK_STR(h1, h2);
  /* a folder that cannot be created */
  char bad_dir[600];
  snprintf(bad_dir, sizeof bad_dir, "%s/config.yaml/sub", dir);
  CHECK(skl_cfg_write_resolved(&demo, &a, bad_dir, &err) != SKL_OK);
  CHECK_CONTAINS(err.msg, "config.yaml/sub");
  skl_buf_free(&d);
  skl_cfg_free(&demo, &a);
  skl_cfg_free(&demo, &b);
}

static void test_help_find_peek(void) {
  skl_buf h = {0};
  CHECK(skl_cfg_help(&demo, &h) == SKL_OK);
  CHECK_CONTAINS(h.data, "  rollout.temperature (float, default 1.0, in [0, 10]): sampling temperature\n");
  CHECK_CONTAINS(h.data, "  rollout.sampler (enum, default top_p, one of greedy|top_p|top_k): sampler\n");
  CHECK_CONTAINS(h.data, "  train.steps (int, required, in [1, 1000000000]): optimizer steps\n");
  CHECK_CONTAINS(h.data,
                 "  mixture (name->float map, default {niah: 1, logic: 2}, in [0, inf], keys "
                 "niah|logic|multi_hop|calc_reason): skill weights\n");
  CHECK_CONTAINS(h.data, "  out (string, default null): output folder\n");
  skl_buf_free(&h);
  CHECK(skl_cfg_find(&demo, "train.optim.lr") == &demo_fields[12]);
  CHECK(skl_cfg_find(&demo, "train.optim") == NULL);
  CHECK_STR(skl_cfg_type_name(SKL_CFG_FLOAT_MAP), "name->float map");

  char kind[32];
  skl_error err = {0};
  CHECK(skl_cfg_peek_kind(put("k.yaml", "seed: 1\nkind: synth\n"), kind, sizeof kind, &err) == SKL_OK);
  CHECK_STR(kind, "synth");
  CHECK(skl_cfg_peek_kind(put("k.yaml", "seed: 1\n"), kind, sizeof kind, &err) == SKL_ERR_NOTFOUND);
  CHECK_STR(kind, "");
  CHECK_CONTAINS(err.msg, "no top-level 'kind:' key");
  CHECK(skl_cfg_peek_kind(put("k.yaml", "kind: [a]\n"), kind, sizeof kind, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "k.yaml:1:7: kind: expected a name");
  CHECK(skl_cfg_peek_kind(put("k.yaml", "kind: {\n"), kind, sizeof kind, &err) == SKL_ERR_PARSE);
  CHECK(skl_cfg_peek_kind(put("k.yaml", "[1]\n"), kind, sizeof kind, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "must be a mapping");
  char missing[300];
  snprintf(missing, sizeof missing, "%s/none.yaml", tmpdir);
  CHECK(skl_cfg_peek_kind(missing, kind, sizeof kind, &err) != SKL_OK);
}

/* Schema mistakes are programming errors, reported as SKL_ERR_INTERNAL. */
static void test_schema_errors(void) {
  demo_cfg c;
  skl_error err = {0};
  skl_cfg_field dup[] = {F("a", SKL_CFG_INT, group), F("a", SKL_CFG_INT, steps)};
  skl_cfg_schema s = {"t", dup, 2, sizeof(demo_cfg)};
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_STR(err.msg, "schema 't': key 'a' is declared twice");
  skl_cfg_field sec[] = {F("a", SKL_CFG_INT, group), F("a.b", SKL_CFG_INT, steps)};
  s.fields = sec;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_STR(err.msg, "schema 't': key 'a' is both a value and a section ('a.b')");
  skl_cfg_field en[] = {F("e", SKL_CFG_ENUM, sampler)};
  s.fields = en;
  s.n_fields = 1;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_STR(err.msg, "schema 't': enum key 'e' has no choices");
  skl_cfg_field bad[] = {F("x", SKL_CFG_INT, group, .def = "[1]")};
  s.fields = bad;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_STR(err.msg, "schema 't': default of 'x' is invalid: x: expected an integer, got a list");
  skl_cfg_field rng[] = {F("x", SKL_CFG_INT, group, .min = 1, .max = 5)};
  s.fields = rng;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_STR(err.msg, "schema 't': key 'x' needs a default inside its range");
  skl_cfg_field out[] = {{.key = "x", .type = SKL_CFG_FLOAT, .offset = sizeof(demo_cfg) - 4}};
  s.fields = out;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_CONTAINS(err.msg, "lies outside the struct");
  skl_cfg_field kindkey[] = {F("kind", SKL_CFG_STRING, name)};
  s.fields = kindkey;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_CONTAINS(err.msg, "invalid key 'kind'");
  /* a bad default of a string list frees what it had built */
  skl_cfg_field lst[] = {F("l", SKL_CFG_STR_LIST, skills, .def = "[a, b, [c]]")};
  s.fields = lst;
  CHECK(skl_cfg_set_defaults(&s, &c, &err) == SKL_ERR_INTERNAL);
  CHECK_CONTAINS(err.msg, "l[2]: expected a string, got a list");
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/skl_test_config_XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_defaults();
  test_load_file();
  test_file_errors();
  test_overrides();
  test_dump_roundtrip();
  test_string_roundtrip();
  test_hash_and_write();
  test_help_find_peek();
  test_schema_errors();
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
