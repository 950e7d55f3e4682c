/* eval run tests: the probe runner on a tiny model whose greedy output is
 * known ("Answer: 77"): scores per format, results.jsonl vs summary,
 * pass@k, middle truncation, resume after an interruption, hash refusals,
 * missing fields, a window smaller than every probe, the general set.
 * Not the metrics (test_metrics.c) or the CLI flags (test_cli.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "eval/general.h"
#include "eval/run.h"
#include "core/sha256.h"
#include "eval_testutil.h"
#include "io/manifest.h"
#include "harness.h"
#include "tok/tokenizer.h"

static char tmp[] = "/tmp/skl_test_evalrun_XXXXXX";
static char path_buf[8][1200];

static const char *P(int slot, const char *rel) {
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", tmp, rel);
  return path_buf[slot];
}

static void probe_record(skl_buf *b, const char *skill, int i, const char *answer, double depth) {
  skl_buf_printf(b,
                 "{\"id\":\"%s-test-%06d\",\"skill\":\"%s\",\"split\":\"test\",\"prompt\":[{\"role\":\"system\","
                 "\"content\":\"Answer with a number.\"},{\"role\":\"user\",\"content\":\"Entry %d: what is its "
                 "value? Some filler text to make the prompt longer than a few tokens.\"}],\"answer\":\"%s\","
                 "\"answer_type\":\"number\",\"extra_info\":{\"n_tokens\":50,\"blueprint\":{\"expr\":\"solve(Q(a1))\","
                 "\"doc_mapping\":[{\"anchor\":0,\"depth\":0.95},{\"anchor\":1,\"depth\":%.2f}]}}}\n",
                 skill, i, skill, i, answer, depth);
}

/* DIR/manifest.json listing n shards ("skill split relpath"), each with the
 * sha256 and size of its file (an absent file gets a placeholder hash: a
 * probe run must not read it). */
static int write_manifest(const char *dir, const char *const *shards, int n) {
  skl_manifest m;
  skl_error err = {0};
  int ok = skl_manifest_init(&m, &err) == SKL_OK;
  for (int i = 0; ok && i < n; i++) {
    char skill[64], split[64], rel[256], path[1600];
    ok = sscanf(shards[i], "%63s %63s %255s", skill, split, rel) == 3;
    skl_shard_info info = {0};
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *data = NULL;
    size_t len = 0;
    if (ok && skl_fs_read_all(path, &data, &len, NULL) == SKL_OK) {
      skl_sha256_buf_hex(data, len, info.sha256);
      info.file_bytes = info.uncompressed_bytes = len;
      for (size_t k = 0; k < len; k++) info.records += data[k] == '\n';
    } else {
      memset(info.sha256, '0', 64);
    }
    free(data);
    ok = ok && skl_manifest_add_shard(&m, skill, split, rel, &info, &err) == SKL_OK;
  }
  ok = ok && skl_manifest_write(&m, dir, &err) == SKL_OK;
  if (!ok) fprintf(stderr, "write_manifest %s: %s\n", dir, err.msg);
  skl_manifest_free(&m);
  return ok;
}

static void write_fixtures(void) {
  char d[1200];
  snprintf(d, sizeof d, "%s/probes/niah", tmp);
  skl_fs_mkdirs(d, NULL);
  snprintf(d, sizeof d, "%s/probes/calc_reason", tmp);
  skl_fs_mkdirs(d, NULL);
  skl_fs_mkdirs(P(0, "bench"), NULL);
  skl_buf b = {0};
  probe_record(&b, "niah", 0, "77", 0.1);
  probe_record(&b, "niah", 1, "8", 0.5);
  probe_record(&b, "niah", 2, "77", 0.9);
  CHECK(tu_write(P(0, "probes/niah/test-00000.jsonl"), b.data));
  skl_buf_clear(&b);
  probe_record(&b, "calc_reason", 0, "77", 0.3);
  probe_record(&b, "calc_reason", 1, "70", 0.3);
  CHECK(tu_write(P(0, "probes/calc_reason/test-00000.jsonl"), b.data));
  skl_buf_free(&b);
  /* the train shard is listed but absent: a probe run must not read it */
  const char *const shards[] = {"niah train niah/train-00000.jsonl.zst", "niah test niah/test-00000.jsonl",
                                "calc_reason test calc_reason/test-00000.jsonl"};
  CHECK(write_manifest(P(0, "probes"), shards, 3));
  /* RULER (task from the file name; string_match_all) */
  CHECK(tu_write(P(0, "bench/niah_single_1.jsonl"),
                 "{\"index\":0,\"input\":\"The special magic number is 77. What is the special magic number?\","
                 "\"outputs\":[\"7\"],\"length\":20}\n"
                 "{\"index\":1,\"input\":\"The special magic number is 8. What is the special magic number?\","
                 "\"outputs\":[\"8\"],\"length\":20}\n"));
  CHECK(tu_write(P(0, "bench/lbv2.jsonl"),
                 "{\"_id\":\"q1\",\"domain\":\"d\",\"context\":\"A long text.\",\"question\":\"Which?\","
                 "\"choice_A\":\"a\",\"choice_B\":\"b\",\"choice_C\":\"c\",\"choice_D\":\"d\",\"answer\":\"A\"}\n"));
  CHECK(tu_write(P(0, "bench/qa1.jsonl"),
                 "{\"input\":\"Mary went to the kitchen.\",\"question\":\"Where is Mary?\",\"target\":\"kitchen\"}\n"));
  CHECK(tu_write(P(0, "bench/mrcr.jsonl"),
                 "{\"prompt\":\"[{\\\"role\\\":\\\"user\\\",\\\"content\\\":\\\"Write a poem.\\\"}]\","
                 "\"answer\":\"Answer: 77\",\"random_string_to_prepend\":\"Answer:\",\"n_needles\":2}\n"));
  CHECK(tu_write(P(0, "bench/generic.jsonl"),
                 "{\"id\":\"g1\",\"context\":\"The code is 77.\",\"question\":\"What is the code?\",\"answers\":[\"answer 77\"]}\n"
                 "{\"id\":\"g2\",\"context\":\"The code is 7.\",\"question\":\"What is the code?\",\"answers\":[\"7\"]}\n"));
}

/* extra: overrides, one per line ("max_context=40\nprobes=null") */
static skl_status load_cfg(eval_cfg *cfg, const char *extra, skl_error *err) {
  char yaml[4096], ov_text[4096];
  char *ov[16];
  int n_ov = 0;
  snprintf(ov_text, sizeof ov_text, "%s", extra ? extra : "");
  for (char *t = strtok(ov_text, "\n"); t && n_ov < 16; t = strtok(NULL, "\n")) ov[n_ov++] = t;
  snprintf(yaml, sizeof yaml,
           "kind: eval\nprobes: %s/probes\nmax_new: 1\nbatch: 3\n"
           "benchmarks: [ruler=%s/bench/niah_single_1.jsonl, lbv2=%s/bench/lbv2.jsonl, babilong=%s/bench/qa1.jsonl,"
           " mrcr=%s/bench/mrcr.jsonl, generic=%s/bench/generic.jsonl#em]\n",
           tmp, tmp, tmp, tmp, tmp, tmp);
  return skl_cfg_load_string(eval_cfg_schema(), cfg, "test.yaml", yaml, ov, n_ov, err);
}

static skl_status run(const char *model, const char *out, const char *extra, int64_t limit, eval_run_stats *st,
                      skl_error *err) {
  eval_cfg cfg;
  skl_status s = load_cfg(&cfg, extra, err);
  if (s) return s;
  eval_run_opts o = {.cfg = &cfg, .model_dir = model, .out_dir = out, .limit = limit};
  s = eval_run(&o, st, err);
  if (getenv("EVAL_TEST_VERBOSE") && s) fprintf(stderr, "eval_run: %s\n", err->msg);
  skl_cfg_free(eval_cfg_schema(), &cfg);
  return s;
}

static json_t *load_json(const char *path) { return json_load_file(path, 0, NULL); }

/* results.jsonl as an array of objects */
static json_t *load_results(const char *dir) {
  char p[1300];
  snprintf(p, sizeof p, "%s/results.jsonl", dir);
  char *text = tu_read(p);
  json_t *arr = json_array();
  for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
    json_array_append_new(arr, json_loads(line, 0, NULL));
  free(text);
  return arr;
}

static double score_of(json_t *res, const char *key) {
  size_t i;
  json_t *o;
  json_array_foreach(res, i, o) if (!strcmp(json_string_value(json_object_get(o, "key")), key))
      return json_number_value(json_object_get(o, "score"));
  return -1;
}

static void test_pass_at_k(void) {
  /* against the closed form 1 - C(n-c,k)/C(n,k) via lgamma */
  for (int n = 1; n <= 12; n++)
    for (int c = 0; c <= n; c++)
      for (int k = 1; k <= n; k++) {
        double want = n - c < k ? 1.0
                                : 1.0 - exp(lgamma(n - c + 1) - lgamma(k + 1) - lgamma(n - c - k + 1) -
                                            (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)));
        CHECK_NEAR(eval_pass_at_k(n, c, k), want, 1e-9);
      }
  CHECK_NEAR(eval_pass_at_k(10, 3, 1), 0.3, 1e-12); /* pass@1 is the fraction correct */
  CHECK(isnan(eval_pass_at_k(3, 1, 4)));
  CHECK(isnan(eval_pass_at_k(3, 1, 0)));
}

static void test_truncate(void) {
  int32_t a[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(eval_truncate_middle(a, 10, 5) == 5);
  int32_t want[5] = {0, 1, 7, 8, 9}; /* first keep/2, last keep - keep/2 */
  CHECK(!memcmp(a, want, sizeof want));
  int32_t b[4] = {1, 2, 3, 4};
  CHECK(eval_truncate_middle(b, 4, 8) == 4 && b[3] == 4);
  CHECK(eval_truncate_middle(b, 4, 0) == 0);
}

static void test_full_run(const char *model) {
  skl_error err = {0};
  eval_run_stats st;
  const char *out = P(1, "out_full");
  CHECK(run(model, out, NULL, 0, &st, &err) == SKL_OK);
  if (err.msg[0]) fprintf(stderr, "%s\n", err.msg);
  CHECK(st.n_total == 5 + 2 + 1 + 1 + 1 + 2);
  CHECK(st.n_new == st.n_total && st.n_resumed == 0 && st.complete);
  CHECK(st.n_truncated == 0 && st.n_too_long == 0);
  CHECK(st.decode_tokens > 0 && st.prefill_tokens > 0);
  json_t *res = load_results(out);
  CHECK(json_array_size(res) == st.n_total);
  size_t i;
  json_t *o;
  json_array_foreach(res, i, o) { /* the model's greedy output is known */
    CHECK_STR(json_string_value(json_object_get(o, "prediction")), "Answer: 77");
    CHECK(json_integer_value(json_object_get(o, "tokens")) == 1);
    CHECK(json_is_number(json_object_get(o, "latency_s")));
  }
  CHECK(score_of(res, "probe/niah/niah-test-000000") == 1);
  CHECK(score_of(res, "probe/niah/niah-test-000001") == 0);
  CHECK(score_of(res, "probe/calc_reason/calc_reason-test-000001") == 0);
  CHECK(score_of(res, "ruler/niah_single_1/0") == 1);
  CHECK(score_of(res, "ruler/niah_single_1/1") == 0);
  CHECK(score_of(res, "lbv2/longbench_v2/q1") == 0);
  CHECK(score_of(res, "babilong/qa1/0") == 0);
  CHECK(score_of(res, "mrcr/mrcr-2needle/0") == 1); /* prefix "Answer:" removed from both */
  CHECK(score_of(res, "generic/longbench/g1") == 1);
  CHECK(score_of(res, "generic/longbench/g2") == 0);
  /* depth recorded from the anchor the expression reads (a1), not a0 */
  json_array_foreach(res, i, o) if (!strcmp(json_string_value(json_object_get(o, "key")), "probe/niah/niah-test-000002"))
      CHECK_NEAR(json_number_value(json_object_get(o, "depth")), 0.9, 1e-9);
  /* summary.json agrees with the per-sample lines */
  char p[1300];
  snprintf(p, sizeof p, "%s/summary.json", out);
  json_t *s = load_json(p);
  CHECK(s != NULL);
  CHECK_NEAR(json_number_value(json_object_get(json_object_get(s, "skills"), "niah")), 100.0 * 2 / 3, 1e-6);
  CHECK_NEAR(json_number_value(json_object_get(json_object_get(s, "skills"), "calc_reason")), 50, 1e-9);
  json_t *bn = json_object_get(s, "benchmarks");
  CHECK_NEAR(json_number_value(json_object_get(bn, "ruler")), 50, 1e-9);
  CHECK_NEAR(json_number_value(json_object_get(bn, "lbv2")), 0, 1e-9);
  CHECK_NEAR(json_number_value(json_object_get(bn, "mrcr")), 100, 1e-9);
  CHECK_NEAR(json_number_value(json_object_get(bn, "generic")), 50, 1e-9);
  CHECK(json_object_size(bn) == 5);
  CHECK(json_is_string(json_object_get(json_object_get(s, "probe_set"), "dataset_hash")));
  json_decref(s);
  snprintf(p, sizeof p, "%s/summary.md", out);
  char *md = tu_read(p);
  CHECK(md != NULL);
  if (md) {
    CHECK_CONTAINS(md, "complete: 12 of 12 samples");
    CHECK_CONTAINS(md, "| niah | 3 | 66.67 | 33.33 |"); /* se of {1,0,1}: sqrt(1/3)/sqrt(3) */
    CHECK_CONTAINS(md, "By needle depth");
    CHECK_CONTAINS(md, "| niah | 0.80-1.00 | 1 | 100.00 | n/a |");
    CHECK_CONTAINS(md, "By length bucket");
    CHECK_CONTAINS(md, "samples/s");
  }
  free(md);
  /* a second run finds everything done and rewrites the same summary */
  CHECK(run(model, out, NULL, 0, &st, &err) == SKL_OK);
  CHECK(st.n_new == 0 && st.n_resumed == 12 && st.complete);
  json_decref(res);
}

static void test_resume(const char *model) {
  skl_error err = {0};
  eval_run_stats st;
  const char *out = P(1, "out_resume");
  CHECK(run(model, out, NULL, 4, &st, &err) == SKL_OK);
  CHECK(st.n_new == 4 && !st.complete);
  char p[1300];
  snprintf(p, sizeof p, "%s/summary.md", out);
  char *md = tu_read(p);
  CHECK(md && strstr(md, "PARTIAL: 4 of 12"));
  free(md);
  /* an interruption mid-write leaves a cut line: it must be dropped */
  snprintf(p, sizeof p, "%s/results.jsonl", out);
  FILE *f = fopen(p, "a");
  CHECK(f != NULL);
  if (f) { fputs("{\"key\":\"probe/niah/ni", f); fclose(f); }
  CHECK(run(model, out, NULL, 0, &st, &err) == SKL_OK);
  CHECK(st.n_resumed == 4 && st.n_new == 8 && st.complete);
  json_t *res = load_results(out);
  CHECK(json_array_size(res) == 12);
  /* every key exactly once */
  size_t i, j;
  json_t *a, *b;
  int dup = 0;
  json_array_foreach(res, i, a) json_array_foreach(res, j, b) if (i < j && a && b)
      dup += !strcmp(json_string_value(json_object_get(a, "key")), json_string_value(json_object_get(b, "key")));
  CHECK(dup == 0);
  json_decref(res);
}

static void test_refusals(const char *model, const char *model_other, const char *model_weights) {
  skl_error err = {0};
  eval_run_stats st;
  const char *out = P(1, "out_full");
  /* issue 18: same tokenizer, other weights: before, "12 of 12 (12 resumed)" */
  CHECK(run(model_weights, out, NULL, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "other model weights");
  CHECK_CONTAINS(err.msg, "another -o folder");
  /* another tokenizer */
  CHECK(run(model_other, out, NULL, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "different tokenizer");
  CHECK_CONTAINS(err.msg, "another -o folder");
  /* other generation settings */
  CHECK(run(model, out, "max_new=2", 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "other generation settings");
  /* another dataset: a benchmark file changed */
  CHECK(tu_write(P(2, "bench/generic2.jsonl"),
                 "{\"id\":\"g1\",\"context\":\"x\",\"question\":\"q\",\"answers\":[\"77\"]}\n"));
  char extra[1400];
  snprintf(extra, sizeof extra, "benchmarks=[generic=%s/bench/generic2.jsonl#em]", tmp);
  CHECK(run(model, out, extra, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "different dataset");
  /* benchmark file with a missing field: file:line and the field */
  CHECK(tu_write(P(2, "bench/lbv2_bad.jsonl"),
                 "{\"_id\":\"q1\",\"context\":\"t\",\"question\":\"q\",\"choice_A\":\"a\",\"choice_B\":\"b\","
                 "\"choice_C\":\"c\",\"choice_D\":\"d\",\"answer\":\"A\"}\n"
                 "{\"_id\":\"q2\",\"context\":\"t\",\"question\":\"q\",\"choice_A\":\"a\",\"choice_B\":\"b\","
                 "\"choice_D\":\"d\",\"answer\":\"B\"}\n"));
  snprintf(extra, sizeof extra, "benchmarks=[lb=%s/bench/lbv2_bad.jsonl]", tmp);
  CHECK(run(model, P(1, "out_bad"), extra, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "lbv2_bad.jsonl:2");
  CHECK_CONTAINS(err.msg, "choice_C");
  /* RULER record without input */
  CHECK(tu_write(P(2, "bench/ruler_bad.jsonl"), "{\"index\":0,\"outputs\":[\"7\"]}\n"));
  snprintf(extra, sizeof extra, "benchmarks=[r=%s/bench/ruler_bad.jsonl]\nprobes=null", tmp);
  CHECK(run(model, P(1, "out_bad2"), extra, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "ruler_bad.jsonl:1");
  CHECK_CONTAINS(err.msg, "'input'");
  /* a bad benchmark spec */
  CHECK(run(model, P(1, "out_bad3"), "benchmarks=[nopath]", 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "NAME=PATH");
  /* a probe whose gold answer is not of its answer_type: the shard and line
   * (the scorer keeps its own copy of the path, which the runner frees) */
  skl_fs_mkdirs(P(2, "probes_bad/niah"), NULL);
  skl_buf b = {0};
  probe_record(&b, "niah", 0, "77", 0.1);
  probe_record(&b, "niah", 1, "seventy", 0.5);
  CHECK(tu_write(P(2, "probes_bad/niah/test-00000.jsonl"), b.data));
  skl_buf_free(&b);
  const char *const bad_shards[] = {"niah test niah/test-00000.jsonl"};
  CHECK(write_manifest(P(2, "probes_bad"), bad_shards, 1));
  snprintf(extra, sizeof extra, "probes=%s/probes_bad\nbenchmarks=[]", tmp);
  CHECK(run(model, P(1, "out_bad5"), extra, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "probes_bad/niah/test-00000.jsonl:2");
  CHECK_CONTAINS(err.msg, "'seventy' is not a valid number answer");
  /* issue 18: a manifest path with "../" outside the dataset (train refused
   * it, eval followed it), and a shard whose bytes differ from its sha256 */
  char *man = tu_read(P(2, "probes_bad/manifest.json"));
  CHECK(man != NULL);
  if (man) {
    skl_fs_mkdirs(P(2, "probes_esc"), NULL);
    skl_buf esc = {0};
    char *at = strstr(man, "\"niah/test-00000.jsonl\"");
    CHECK(at != NULL);
    if (at) {
      skl_buf_printf(&esc, "%.*s\"../probes_bad/niah/test-00000.jsonl\"%s", (int)(at - man), man,
                     at + strlen("\"niah/test-00000.jsonl\""));
      CHECK(tu_write(P(2, "probes_esc/manifest.json"), esc.data));
    }
    skl_buf_free(&esc);
    free(man);
  }
  snprintf(extra, sizeof extra, "probes=%s/probes_esc\nbenchmarks=[]", tmp);
  CHECK(run(model, P(1, "out_esc"), extra, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "probes_esc/manifest.json");
  CHECK_CONTAINS(err.msg, "without \"..\"");
  skl_buf sw = {0};
  probe_record(&sw, "niah", 0, "77", 0.1);
  probe_record(&sw, "niah", 1, "eighty", 0.5);
  CHECK(tu_write(P(2, "probes_bad/niah/test-00000.jsonl"), sw.data)); /* the manifest not updated */
  skl_buf_free(&sw);
  snprintf(extra, sizeof extra, "probes=%s/probes_bad\nbenchmarks=[]", tmp);
  CHECK(run(model, P(1, "out_bad6"), extra, 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "probes_bad/niah/test-00000.jsonl: sha256 mismatch");
  /* pass@k with k > n */
  CHECK(run(model, P(1, "out_bad4"), "sample={n: 2, k: [1, 4]}", 0, &st, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "sample.k 4 exceeds sample.n 2");
}

static void test_window(const char *model) {
  skl_error err = {0};
  eval_run_stats st;
  /* every probe (>= 60 tokens) is longer than 40 - 1: refused, naming the window */
  CHECK(run(model, P(1, "out_small"), "benchmarks=[]\nmax_context=40", 0, &st, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "every probe sample (5)");
  CHECK_CONTAINS(err.msg, "window of 40 tokens");
  /* benchmarks are cut in the middle to the window instead */
  CHECK(run(model, P(1, "out_trunc"), "probes=null\nmax_context=30", 0, &st, &err) == SKL_OK);
  CHECK(st.n_truncated == 7 && st.n_total == 7 && st.complete);
  json_t *res = load_results(P(1, "out_trunc"));
  size_t i;
  json_t *o;
  json_array_foreach(res, i, o) {
    CHECK(json_is_true(json_object_get(o, "truncated")));
    CHECK(json_integer_value(json_object_get(o, "prompt_tokens")) == 29);
    CHECK(json_integer_value(json_object_get(o, "n_tokens")) > 29);
  }
  json_decref(res);
  char p[1300];
  snprintf(p, sizeof p, "%s/summary.md", P(1, "out_trunc"));
  char *md = tu_read(p);
  CHECK(md && strstr(md, "7 benchmark prompts truncated in the middle"));
  free(md);
}

static void test_sampled(const char *model) {
  skl_error err = {0};
  eval_run_stats st;
  const char *out = P(1, "out_sampled");
  CHECK(run(model, out, "benchmarks=[]\nsample={n: 4, k: [1, 2], temperature: 1.0}\nseed=5", 0, &st, &err) ==
        SKL_OK);
  json_t *res = load_results(out);
  CHECK(json_array_size(res) == 5);
  /* recompute the niah pass@2 from the lines and find it in the summary */
  double sum1 = 0, sum2 = 0;
  int n = 0;
  size_t i;
  json_t *o;
  json_array_foreach(res, i, o) {
    CHECK(json_integer_value(json_object_get(o, "samples")) == 4);
    int c = (int)json_integer_value(json_object_get(o, "samples_correct"));
    CHECK(c >= 0 && c <= 4);
    if (!strcmp(json_string_value(json_object_get(o, "group")), "niah")) {
      sum1 += eval_pass_at_k(4, c, 1);
      sum2 += eval_pass_at_k(4, c, 2);
      n++;
    }
  }
  CHECK(n == 3);
  /* the samples do not depend on the batch size (nor on resuming): per-key seeds */
  CHECK(run(model, P(1, "out_sampled_b1"), "benchmarks=[]\nsample={n: 4, k: [1, 2], temperature: 1.0}\nseed=5\nbatch=1",
            2, &st, &err) == SKL_OK);
  CHECK(run(model, P(1, "out_sampled_b1"), "benchmarks=[]\nsample={n: 4, k: [1, 2], temperature: 1.0}\nseed=5\nbatch=1",
            0, &st, &err) == SKL_OK);
  CHECK(run(model, P(1, "out_sampled_s6"), "benchmarks=[]\nsample={n: 4, k: [1, 2], temperature: 1.0}\nseed=6", 0, &st,
            &err) == SKL_OK);
  json_t *r1 = load_results(P(1, "out_sampled_b1")), *r6 = load_results(P(1, "out_sampled_s6"));
  int same = 0, same6 = 0, distinct = 0;
  json_array_foreach(res, i, o) {
    const char *key = json_string_value(json_object_get(o, "key"));
    json_t *sp = json_object_get(o, "sample_predictions");
    CHECK(json_array_size(sp) == 4);
    distinct += strcmp(json_string_value(json_array_get(sp, 0)), json_string_value(json_array_get(sp, 1))) != 0;
    size_t j;
    json_t *q;
    json_array_foreach(r1, j, q) if (!strcmp(json_string_value(json_object_get(q, "key")), key))
        same += json_equal(sp, json_object_get(q, "sample_predictions"));
    json_array_foreach(r6, j, q) if (!strcmp(json_string_value(json_object_get(q, "key")), key))
        same6 += json_equal(sp, json_object_get(q, "sample_predictions"));
  }
  CHECK(same == 5);      /* batch 3 vs batch 1 with a resume in between */
  CHECK(same6 == 0);     /* another seed draws other samples */
  CHECK(distinct >= 4);  /* uniform logits: samples of a prompt differ */
  json_decref(r1);
  json_decref(r6);
  char want[128], p[1300];
  snprintf(want, sizeof want, "| niah | 3 | 66.67 | 33.33 | %.2f | %.2f |", 100 * sum1 / n, 100 * sum2 / n);
  snprintf(p, sizeof p, "%s/summary.md", out);
  char *md = tu_read(p);
  CHECK(md != NULL);
  if (md) {
    CHECK_CONTAINS(md, "pass@2 (%)");
    CHECK_CONTAINS(md, want);
  }
  free(md);
  json_decref(res);
}

static void test_general(const char *model) {
  char tp[1300];
  snprintf(tp, sizeof tp, "%s.tokenizer.json", model);
  skl_tokenizer *tok = NULL;
  skl_error err = {0};
  CHECK(skl_tokenizer_load(tp, &tok, &err) == SKL_OK);
  eval_general_opts o = {.out_path = P(3, "general/a.jsonl"), .count = 3, .length = 600, .tok = tok, .seed = 9};
  skl_fs_mkdirs(P(4, "general"), NULL);
  size_t n = 0;
  CHECK(eval_general_write(&o, &n, &err) == SKL_OK && n == 9);
  o.out_path = P(5, "general/b.jsonl");
  CHECK(eval_general_write(&o, &n, &err) == SKL_OK);
  char *a = tu_read(P(3, "general/a.jsonl")), *b = tu_read(P(5, "general/b.jsonl"));
  CHECK(a && b && !strcmp(a, b)); /* deterministic */
  free(b);
  /* lengths near the target, never over it; every gold string in its text */
  int ok_len = 1, ok_gold = 1, tasks[3] = {0};
  for (char *line = a ? strtok(a, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    json_t *r = json_loads(line, 0, NULL);
    const char *in = json_string_value(json_object_get(r, "input"));
    size_t cnt = 0;
    skl_tokenizer_count(tok, in, strlen(in), &cnt, &err);
    ok_len &= cnt <= 600 && cnt >= 450 &&
              (json_int_t)cnt == json_integer_value(json_object_get(json_object_get(r, "extra_info"), "n_tokens"));
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(r, "outputs"), i, g) ok_gold &= strstr(in, json_string_value(g)) != NULL;
    const char *t = json_string_value(json_object_get(r, "task"));
    if (getenv("EVAL_TEST_VERBOSE")) fprintf(stderr, "general %s: %zu tokens, gold %d\n", t, cnt, ok_gold);
    tasks[0] += !strcmp(t, "qa");
    tasks[1] += !strcmp(t, "vt");
    tasks[2] += !strcmp(t, "cwe");
    json_decref(r);
  }
  CHECK(ok_len && ok_gold);
  CHECK(tasks[0] == 3 && tasks[1] == 3 && tasks[2] == 3);
  free(a);
  o.seed = 10;
  o.out_path = P(5, "general/c.jsonl");
  CHECK(eval_general_write(&o, &n, &err) == SKL_OK);
  char *c = tu_read(P(5, "general/c.jsonl")), *a2 = tu_read(P(3, "general/a.jsonl"));
  CHECK(c && a2 && strcmp(c, a2)); /* the seed matters */
  free(c);
  free(a2);
  o.tasks = "qa,nope";
  CHECK(eval_general_write(&o, &n, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "unknown task 'nope'");
  o.tasks = NULL;
  o.length = 10;
  CHECK(eval_general_write(&o, &n, &err) == SKL_ERR_RANGE);
  o.length = 100; /* below the shortest cwe prompt */
  o.tasks = "cwe";
  CHECK(eval_general_write(&o, &n, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "task cwe needs at least");
  o.tasks = NULL;
  /* the general set scores like a RULER file: qa by string_match_part */
  char extra[1400];
  snprintf(extra, sizeof extra, "probes=null\nbenchmarks=[general=%s/general/a.jsonl]", tmp);
  eval_run_stats st;
  CHECK(run(model, P(1, "out_general"), extra, 0, &st, &err) == SKL_OK);
  CHECK(st.n_total == 9 && st.complete);
  skl_tokenizer_free(tok);
}

/* --judge: free-form answers (the EM benchmark) are scored by the judge, the
 * rest keep their metric; a crashing judge stops with the sample id. The
 * test judge scores 1 iff the response ends with the gold, which inverts
 * EM's verdicts on the two generic records ("answer 77" vs "7"). */
static void test_judge(const char *model) {
  const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
  const char *src = getenv("SKL_SOURCE_ROOT") ? getenv("SKL_SOURCE_ROOT") : ".";
  char extra[2048], out[1300];
  snprintf(extra, sizeof extra, "judge.command=%s %s/tests/rl/judge_cmd.py ok\nprobes=null", py, src);
  snprintf(out, sizeof out, "%s/out_judge", tmp);
  eval_run_stats st;
  skl_error e;
  CHECK_MSG(run(model, out, extra, 0, &st, &e) == SKL_OK, "%s", e.msg);
  json_t *res = load_results(out);
  CHECK(score_of(res, "generic/longbench/g1") == 0);
  CHECK(score_of(res, "generic/longbench/g2") == 1);
  CHECK(score_of(res, "ruler/niah_single_1/0") == score_of(res, "ruler/niah_single_1/0")); /* present */
  json_decref(res);
  snprintf(extra, sizeof extra, "judge.command=%s %s/tests/rl/judge_cmd.py crash\nprobes=null\njudge.retries=0", py,
           src);
  snprintf(out, sizeof out, "%s/out_judge_crash", tmp);
  skl_status s = run(model, out, extra, 0, &st, &e);
  CHECK(s == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "judge '");
  CHECK_CONTAINS(e.msg, "before scoring sample");
}

int main(void) {
  if (!mkdtemp(tmp)) return 1;
  test_pass_at_k();
  test_truncate();
  write_fixtures();
  char model[1200], other[1200], weights[1200];
  snprintf(model, sizeof model, "%s/model", tmp);
  snprintf(other, sizeof other, "%s/model_other", tmp);
  snprintf(weights, sizeof weights, "%s/model_weights", tmp);
  CHECK(tu_make_model(model, "Answer: 77", 4096, 1));
  CHECK(tu_make_model(other, "Answer: 8", 4096, 1));
  CHECK(tu_make_model(weights, "Answer: 77", 4096, 0));
  test_full_run(model);
  test_resume(model);
  test_refusals(model, other, weights);
  test_window(model);
  test_sampled(model);
  test_general(model);
  test_judge(model);
  char cmd[1300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (!t_fail && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
  return test_report();
}
