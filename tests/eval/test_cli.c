/* tests for `skillrl eval score` and `skillrl eval correlate`: every data
 * format end to end, per-sample output, the summary table, correlation
 * against the Python reference, the heatmap, and every error path. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/fs.h"
#include "eval/correlate.h"
#include "harness.h"
#include "pyref.h"

static char dir[64];
static char out_buf[65536], err_buf[65536];

static void put(const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

static void put_zst(const char *name, const char *text) {
  size_t n = strlen(text), cap = ZSTD_compressBound(n);
  void *z = malloc(cap);
  size_t zn = ZSTD_compress(z, cap, text, n, 3);
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  fwrite(z, 1, zn, f);
  fclose(f);
  free(z);
}

static void slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
  buf[n] = '\0';
  if (f) fclose(f);
}

/* Run `skillrl ARGS` in dir; stdout/stderr into out_buf/err_buf. */
static int run(const char *args) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s > out.txt 2> err.txt", dir, getenv("SKL_BIN"), args);
  int rc = system(cmd);
  char p[256];
  snprintf(p, sizeof p, "%s/out.txt", dir);
  slurp(p, out_buf, sizeof out_buf);
  snprintf(p, sizeof p, "%s/err.txt", dir);
  slurp(p, err_buf, sizeof err_buf);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* score of the line with "id":ID in a per-sample output file */
static double sample_score(const char *file, const char *id, char *extracted) {
  char p[256], line[4096];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  FILE *f = fopen(p, "r");
  double v = NAN;
  while (f && fgets(line, sizeof line, f)) {
    json_t *o = json_loads(line, 0, NULL);
    if (o && !strcmp(json_string_value(json_object_get(o, "id")), id)) {
      v = json_number_value(json_object_get(o, "score"));
      if (extracted) {
        const char *e = json_string_value(json_object_get(o, "extracted"));
        strcpy(extracted, e ? e : "");
      }
    }
    json_decref(o);
  }
  if (f) fclose(f);
  return v;
}

static void test_score_formats(void) {
  /* RULER: niah (string_match_all) and qa (string_match_part) from file names */
  put("niah_single_1.jsonl",
      "{\"index\": 0, \"input\": \"...\", \"outputs\": [\"1234567\", \"7654321\"], \"length\": 4096}\n"
      "{\"index\": 1, \"input\": \"...\", \"outputs\": [\"42\"], \"length\": 4096}\n");
  put("ruler_pred.jsonl", "{\"id\": 0, \"prediction\": \" The numbers are 1234567 and 111.\"}\n"
                          "{\"id\": 1, \"pred\": \"42\"}\n");
  CHECK(run("eval score --data niah_single_1.jsonl --predictions ruler_pred.jsonl -o ruler_out.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "format ruler");
  CHECK_CONTAINS(out_buf, "| niah_single_1 | string_match_all | 2 | 75.00 | 25.00 |");
  CHECK(sample_score("ruler_out.jsonl", "0", NULL) == 0.5);
  CHECK(sample_score("ruler_out.jsonl", "1", NULL) == 1.0);
  put("qa_1.jsonl", "{\"index\": 0, \"outputs\": [\"Paris\", \"City of Light\"]}\n");
  put("qa_pred.jsonl", "{\"id\": 0, \"prediction\": \"It is paris.\"}\n");
  CHECK(run("eval score -d qa_1.jsonl -p qa_pred.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| qa_1 | string_match_part | 1 | 100.00 | - |");
  CHECK(run("eval score -d qa_1.jsonl -p qa_pred.jsonl --metric string_match_all") == 0);
  CHECK_CONTAINS(out_buf, "| qa_1 | string_match_all | 1 | 50.00 | - |");

  /* skill shard, zstd-compressed: verifier by answer_type, grouped by skill */
  put_zst("train-00000.jsonl.zst",
          "{\"id\": \"niah-0\", \"skill\": \"niah\", \"answer\": \"12.5\", \"answer_type\": \"number\"}\n"
          "{\"id\": \"niah-1\", \"skill\": \"niah\", \"answer\": 7, \"answer_type\": \"number\"}\n"
          "{\"id\": \"logic-0\", \"skill\": \"logic\", \"answer\": \"C\", \"answer_type\": \"choice\"}\n"
          "{\"id\": \"multi_source-0\", \"skill\": \"multi_source\", \"answer\": [\"a1\", \"b2\"], \"answer_type\": \"set\"}\n");
  put("skill_pred.jsonl", "{\"id\": \"niah-0\", \"prediction\": \"Answer: 12.50\"}\n"
                          "{\"id\": \"niah-1\", \"prediction\": \"Answer: 8\"}\n"
                          "{\"id\": \"logic-0\", \"prediction\": \"Reasoning...\\nAnswer: (C)\"}\n"
                          "{\"id\": \"multi_source-0\", \"prediction\": \"Answer: B2, a1\"}\n");
  CHECK(run("eval score --data train-00000.jsonl.zst --predictions skill_pred.jsonl -o skill_out.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "format skill");
  CHECK_CONTAINS(out_buf, "| niah | verify | 2 | 50.00 | 50.00 |");
  CHECK_CONTAINS(out_buf, "| logic | verify | 1 | 100.00 | - |");
  CHECK_CONTAINS(out_buf, "| multi_source | verify | 1 | 100.00 | - |");
  CHECK_CONTAINS(out_buf, "| **all** | verify | 4 | 75.00 | 25.00 |");
  char ex0[64];
  CHECK(sample_score("skill_out.jsonl", "niah-1", ex0) == 0.0);
  CHECK_STR(ex0, "8");

  /* LongBench v2: _id, choice letter, extracted letter in the output */
  put("lbv2.jsonl",
      "{\"_id\": \"66f36490\", \"domain\": \"Single-Document QA\", \"difficulty\": \"easy\", \"question\": \"Q?\", "
      "\"choice_A\": \"a\", \"choice_B\": \"b\", \"choice_C\": \"c\", \"choice_D\": \"d\", \"answer\": \"B\"}\n"
      "{\"_id\": \"66f36491\", \"question\": \"Q?\", \"choice_A\": \"a\", \"choice_B\": \"b\", \"choice_C\": \"c\", "
      "\"choice_D\": \"d\", \"answer\": \"D\"}\n");
  put("lbv2_pred.jsonl", "{\"id\": \"66f36490\", \"prediction\": \"**The correct answer is (B)**\"}\n"
                         "{\"id\": \"66f36491\", \"prediction\": \"I think it is D.\"}\n");
  CHECK(run("eval score --data lbv2.jsonl --predictions lbv2_pred.jsonl -o lbv2_out.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| longbench_v2 | choice | 2 | 50.00 | 50.00 |");
  char ex[16];
  CHECK(sample_score("lbv2_out.jsonl", "66f36490", ex) == 1.0);
  CHECK_STR(ex, "B");

  /* BABILong: task from the file name, and from a task field */
  put("qa1.jsonl", "{\"input\": \"...\", \"question\": \"Where is Mary?\", \"target\": \"kitchen\"}\n"
                   "{\"input\": \"...\", \"question\": \"Where is John?\", \"target\": \"garden\"}\n");
  put("babi_pred.jsonl", "{\"id\": 0, \"prediction\": \"Mary is in the kitchen. She left the garden.\"}\n"
                         "{\"id\": \"1\", \"prediction\": \"garden or hallway\"}\n");
  CHECK(run("eval score --data qa1.jsonl --predictions babi_pred.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| qa1 | babilong | 2 | 50.00 | 50.00 |");
  put("babi_mixed.jsonl", "{\"task\": \"qa6\", \"question\": \"Is Mary in the kitchen?\", \"target\": \"yes\"}\n");
  put("babi_pred1.jsonl", "{\"id\": 0, \"prediction\": \"Yes.\"}\n");
  CHECK(run("eval score --data babi_mixed.jsonl --predictions babi_pred1.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| qa6 | babilong | 1 | 100.00 | - |");

  /* OpenAI MRCR: no id field (record numbers), grouped by needles */
  put("mrcr.jsonl", "{\"prompt\": \"[]\", \"answer\": \"aYooSG8CQgabxcd\", \"random_string_to_prepend\": \"aYooSG8CQg\", "
                    "\"n_needles\": 2}\n"
                    "{\"prompt\": \"[]\", \"answer\": \"aYooSG8CQgpoem\", \"random_string_to_prepend\": \"aYooSG8CQg\", "
                    "\"n_needles\": 2}\n");
  put("mrcr_pred.jsonl", "{\"id\": 0, \"prediction\": \"aYooSG8CQgabcd\"}\n"
                         "{\"id\": 1, \"prediction\": \"poem\"}\n");
  CHECK(run("eval score --data mrcr.jsonl --predictions mrcr_pred.jsonl -o mrcr_out.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| mrcr-2needle | mrcr | 2 |");
  CHECK_NEAR(sample_score("mrcr_out.jsonl", "0", NULL), 8.0 / 9.0, 1e-15);
  CHECK(sample_score("mrcr_out.jsonl", "1", NULL) == 0.0);

  /* LongBench (v1): answers -> token F1, grouped by dataset */
  put("hotpotqa.jsonl", "{\"_id\": \"x1\", \"dataset\": \"hotpotqa\", \"answers\": [\"a cat on a mat\"]}\n");
  put("lb_pred.jsonl", "{\"id\": \"x1\", \"prediction\": \"the cat sat on the mat\"}\n");
  CHECK(run("eval score --data hotpotqa.jsonl --predictions lb_pred.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| hotpotqa | f1 | 1 | 85.71 | - |");
  CHECK(run("eval score --data hotpotqa.jsonl --predictions lb_pred.jsonl --metric em") == 0);
  CHECK_CONTAINS(out_buf, "| hotpotqa | em | 1 | 0.00 | - |");
  put("triviaqa.jsonl", "{\"_id\": \"t1\", \"dataset\": \"triviaqa\", \"answers\": [\"Paris\"]}\n");
  put("tq_pred.jsonl", "{\"id\": \"t1\", \"prediction\": \"\\n\\nParis\\nQuestion: next one? Answer: Rome\"}\n");
  CHECK(run("eval score --data triviaqa.jsonl --predictions tq_pred.jsonl") == 0);
  CHECK_CONTAINS(out_buf, "| triviaqa | f1 | 1 | 100.00 | - |"); /* first line only, as LongBench */
  put("gov.jsonl", "{\"_id\": \"g1\", \"dataset\": \"gov_report\", \"answers\": [\"A report.\"]}\n");
  put("gov_pred.jsonl", "{\"id\": \"g1\", \"prediction\": \"a report\"}\n");
  CHECK(run("eval score --data gov.jsonl --predictions gov_pred.jsonl") == 1);
  CHECK_CONTAINS(err_buf, "gov.jsonl:1: LongBench dataset 'gov_report' is not scored by qa_f1");
  CHECK(run("eval score --data gov.jsonl --predictions gov_pred.jsonl --metric f1 -o gov_out.jsonl.zst") == 0);
  CHECK_CONTAINS(out_buf, "| gov_report | f1 | 1 | 100.00 | - |");
  char zmagic[4] = {0};
  FILE *zf = fopen("gov_out.jsonl.zst", "rb");
  if (zf) { CHECK(fread(zmagic, 1, 4, zf) == 4); fclose(zf); }
  CHECK_MSG(zf && !memcmp(zmagic, "\x28\xb5\x2f\xfd", 4), "-o FILE.zst is not zstd-compressed");
}

static void expect_fail(const char *args, int rc, const char *msg1, const char *msg2) {
  int got = run(args);
  CHECK_MSG(got == rc, "'%s' exited %d, expected %d (stderr: %s)", args, got, rc, err_buf);
  CHECK_CONTAINS(err_buf, msg1);
  if (msg2) CHECK_CONTAINS(err_buf, msg2);
}

static void test_score_errors(void) {
  put("d.jsonl", "{\"id\": \"a\", \"answer\": \"x\"}\n{\"id\": \"b\", \"answer\": \"y\"}\n");
  put("p_missing.jsonl", "{\"id\": \"a\", \"prediction\": \"x\"}\n");
  expect_fail("eval score --data d.jsonl --predictions p_missing.jsonl", 1, "1 of 2 data ids have no prediction",
              "id 'b' at d.jsonl:2");
  put("p_dup.jsonl", "{\"id\": \"a\", \"prediction\": \"x\"}\n{\"id\": \"a\", \"prediction\": \"y\"}\n");
  expect_fail("eval score --data d.jsonl --predictions p_dup.jsonl", 1, "p_dup.jsonl:2: duplicate prediction for id 'a'",
              "first at line 1");
  put("p_extra.jsonl", "{\"id\": \"a\", \"prediction\": \"x\"}\n{\"id\": \"zz\", \"prediction\": \"y\"}\n");
  expect_fail("eval score --data d.jsonl --predictions p_extra.jsonl", 1, "p_extra.jsonl:2: id 'zz' is not in d.jsonl",
              NULL);
  put("p_noid.jsonl", "{\"prediction\": \"x\"}\n");
  expect_fail("eval score --data d.jsonl --predictions p_noid.jsonl", 1, "p_noid.jsonl:1: missing field 'id'", NULL);
  put("p_null.jsonl", "{\"id\": \"a\", \"prediction\": null}\n");
  expect_fail("eval score --data d.jsonl --predictions p_null.jsonl", 1, "p_null.jsonl:1: id 'a': field 'prediction' must be a string",
              NULL);
  put("p_bad.jsonl", "{\"id\": \"a\", \"prediction\": \"x\"}\n\n{\"id\": \"b\", \"prediction\": \"y\"\n");
  expect_fail("eval score --data d.jsonl --predictions p_bad.jsonl", 1, "p_bad.jsonl:3: invalid JSON", NULL);
  put("d_dup.jsonl", "{\"id\": \"a\", \"answer\": \"x\"}\n{\"id\": \"a\", \"answer\": \"y\"}\n");
  expect_fail("eval score --data d_dup.jsonl --predictions p_missing.jsonl", 1, "d_dup.jsonl:2: duplicate id 'a'",
              "first at line 1");
  put("d_noid.jsonl", "{\"id\": \"a\", \"answer\": \"x\"}\n{\"answer\": \"y\"}\n");
  expect_fail("eval score --data d_noid.jsonl --predictions p_missing.jsonl", 1, "d_noid.jsonl:2: missing id", NULL);
  put("niah_x.jsonl", "{\"index\": 0, \"outputs\": [\"1\"]}\n{\"index\": 1, \"input\": \"no gold\"}\n");
  expect_fail("eval score --data niah_x.jsonl --predictions p_missing.jsonl", 1, "niah_x.jsonl:2: no gold answer",
              "answers, outputs, answer, target");
  put("niah_y.jsonl", "{\"index\": 0, \"outputs\": []}\n");
  expect_fail("eval score --data niah_y.jsonl --predictions p_missing.jsonl", 1, "niah_y.jsonl:1: empty reference list",
              NULL);
  put("weird.jsonl", "{\"id\": 1, \"text\": \"?\"}\n");
  expect_fail("eval score --data weird.jsonl --predictions p_missing.jsonl", 1, "weird.jsonl:1: cannot tell the benchmark format",
              "--metric");
  expect_fail("eval score --data d.jsonl --predictions p_missing.jsonl --metric rouge", 1, "unknown metric 'rouge'",
              "string_match_all");
  expect_fail("eval score --data nope.jsonl --predictions p_missing.jsonl", 1, "nope.jsonl: cannot open", NULL);
  expect_fail("eval score --predictions p_missing.jsonl", 2, "--data and --predictions are required", NULL);
  expect_fail("eval score --data d.jsonl --predictons p.jsonl", 2, "did you mean --predictions", NULL);
  put("babi.jsonl", "{\"question\": \"Where?\", \"target\": \"garden\"}\n");
  expect_fail("eval score --data babi.jsonl --predictions p_missing.jsonl", 1, "babi.jsonl:1: BABILong task unknown",
              "--task");
  expect_fail("eval score --data babi.jsonl --predictions p_missing.jsonl --task qa8", 1, "babi.jsonl:1",
              "no closed label set");
  put("lb.jsonl", "{\"_id\": \"q\", \"choice_A\": \"x\", \"answer\": \"E\"}\n");
  expect_fail("eval score --data lb.jsonl --predictions p_missing.jsonl", 1, "lb.jsonl:1: field 'answer' must be one letter A-D",
              NULL);
  put("sk.jsonl", "{\"id\": \"a\", \"answer\": \"1\", \"answer_type\": \"float\"}\n");
  expect_fail("eval score --data sk.jsonl --predictions p_missing.jsonl", 1, "sk.jsonl:1", "float");
  put("sk2.jsonl", "{\"id\": \"a\", \"answer\": \"one\", \"answer_type\": \"number\"}\n");
  expect_fail("eval score --data sk2.jsonl --predictions p_missing.jsonl", 1, "p_missing.jsonl:1", "one");
  put("mr.jsonl", "{\"answer\": \"x\", \"random_string_to_prepend\": 5}\n");
  expect_fail("eval score --data mr.jsonl --predictions p_missing.jsonl", 1, "mr.jsonl:1: missing or non-string field 'random_string_to_prepend'",
              NULL);
  put("empty.jsonl", "\n");
  expect_fail("eval score --data empty.jsonl --predictions p_missing.jsonl", 1, "empty.jsonl: no samples", NULL);
  put_zst("trunc.jsonl.zst", "{\"id\": \"a\", \"answer\": \"x\"}\n{\"id\": \"b\", \"answer\": \"y\"}\n");
  CHECK(truncate("trunc.jsonl.zst", 20) == 0); /* cut inside the frame */
  expect_fail("eval score --data trunc.jsonl.zst --predictions p_missing.jsonl", 1, "trunc.jsonl.zst", "truncated");
  expect_fail("eval bogus", 2, "unknown subcommand 'bogus'", NULL);
  expect_fail("eval -c x.yaml --model m", 2, "x.yaml", "cannot open");
  expect_fail("eval --model m", 2, "-c CONFIG and --model DIR are required", NULL);
  put("e.yaml", "kind: eval\nmax_nwe: 3\n");
  expect_fail("eval -c e.yaml --model m", 2, "e.yaml:2:1: unknown key 'max_nwe'", "did you mean 'max_new'");
  put("e2.yaml", "kind: eval\nbenchmarks: [x=none.jsonl]\n");
  expect_fail("eval -c e2.yaml --model no_such_model", 1, "no_such_model", NULL);
  expect_fail("eval general", 2, "-o DIR is required", NULL);
  expect_fail("eval general -o gen --length 10", 2, "--length in [64", NULL);
  expect_fail("eval general -o gen --tasks qa,xx --length 200", 1, "unknown task 'xx'", NULL);
  CHECK(run("eval general -o gen --count 2 --length 300 --tasks qa,vt") == 0);
  CHECK_CONTAINS(out_buf, "wrote 4 records to gen/general.jsonl");
  CHECK(run("eval --help") == 0);
  CHECK_CONTAINS(out_buf, "eval general -o DIR");
  CHECK(run("eval run --help") == 0);
  CHECK_CONTAINS(out_buf, "sample.temperature");
  CHECK(run("eval score --help") == 0);
  CHECK_CONTAINS(out_buf, "--predictions FILE");
}

static void summary(const char *name, const char *model, const char *dhash, const char *skills, const char *bench) {
  char d[256], p[300], text[2048];
  snprintf(d, sizeof d, "%s/%s", dir, name);
  mkdir(d, 0755);
  snprintf(p, sizeof p, "%s/summary.json", name);
  char ps[256] = "";
  if (dhash) snprintf(ps, sizeof ps, "\"probe_set\": {\"dataset_hash\": \"%s\", \"tokenizer_hash\": \"t1\"}, ", dhash);
  snprintf(text, sizeof text,
           "{\"format\": \"skillrl.eval.summary\", \"version\": 1, \"model\": \"%s\", %s\"skills\": {%s}, "
           "\"benchmarks\": {%s}}\n",
           model, ps, skills, bench);
  put(p, text);
}

static void test_correlate(void) {
  /* niah ranks the models exactly as ruler does: rho 1, p 0 */
  const double niah[5] = {10, 40, 20, 50, 30}, logic[5] = {5, 5, 9, 1, 7}, ruler[5] = {11, 44, 22, 55, 33},
               lb[5] = {30, 31, 29, 40, 10};
  pyref ref = {0};
  json_t *jn = json_array(), *jl = json_array(), *jr = json_array(), *jb = json_array();
  for (int m = 0; m < 5; m++) {
    char name[16], model[16];
    snprintf(name, sizeof name, "m%d", m);
    snprintf(model, sizeof model, "model-%d", m);
    /* the writer the probe runner will use */
    eval_named_score es[2] = {{"niah", niah[m]}, {"logic", logic[m]}}, eb[2] = {{"ruler", ruler[m]}, {"longbench_v2", lb[m]}};
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
    CHECK(eval_summary_write(path, model, "h1", "t1", es, 2, eb, 2, NULL) == SKL_OK);
    json_array_append_new(jn, json_real(niah[m]));
    json_array_append_new(jl, json_real(logic[m]));
    json_array_append_new(jr, json_real(ruler[m]));
    json_array_append_new(jb, json_real(lb[m]));
  }
  pyref_add(&ref, json_pack("{s:s, s:O, s:O}", "fn", "spearman", "x", jl, "y", jb));
  json_t *jmean = json_array(); /* benchmark mean per model */
  for (int m = 0; m < 5; m++) json_array_append_new(jmean, json_real((ruler[m] + lb[m]) / 2));
  pyref_add(&ref, json_pack("{s:s, s:O, s:O}", "fn", "spearman", "x", jn, "y", jmean));
  pyref_add(&ref, json_pack("{s:s, s:O, s:O}", "fn", "spearman", "x", jn, "y", jr));
  json_decref(jn); json_decref(jl); json_decref(jr); json_decref(jb); json_decref(jmean);
  json_t *ans = pyref_run(&ref);
  CHECK(ans != NULL);

  CHECK(run("eval correlate m0 m1 m2 m3 m4 -o corr") == 0);
  CHECK_CONTAINS(out_buf, "Spearman rho (two-sided p) over 5 models");
  CHECK_CONTAINS(out_buf, "| niah | 1.000 (");
  CHECK_CONTAINS(out_buf, "skill mean");
  CHECK_CONTAINS(out_buf, "benchmark mean");
  CHECK_CONTAINS(out_buf, "| model-3 |");
  char p[256];
  snprintf(p, sizeof p, "%s/corr/correlation.json", dir);
  json_t *cj = json_load_file(p, 0, NULL);
  CHECK(cj != NULL);
  json_t *rho = json_object_get(cj, "rho"), *pv = json_object_get(cj, "p");
  if (ans && cj) {
    json_t *r0 = json_array_get(ans, 0), *r1 = json_array_get(ans, 1), *r2 = json_array_get(ans, 2);
    /* same ranks: rho is 1 up to rounding, as scipy computes it (0.9999999999999999) */
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(rho, "niah"), "ruler")), 1.0, 1e-15);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(rho, "niah"), "ruler")),
               json_number_value(json_object_get(r2, "rho")), 1e-15);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(pv, "niah"), "ruler")),
               json_number_value(json_object_get(r2, "p")), 1e-3 * json_number_value(json_object_get(r2, "p")));
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(rho, "logic"), "longbench_v2")),
               json_number_value(json_object_get(r0, "rho")), 1e-12);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(pv, "logic"), "longbench_v2")),
               json_number_value(json_object_get(r0, "p")), 1e-9);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(rho, "niah"), "benchmark mean")),
               json_number_value(json_object_get(r1, "rho")), 1e-12);
  }
  json_decref(cj);
  json_decref(ans);
  snprintf(p, sizeof p, "%s/corr/heatmap.png", dir);
  char png[8] = {0};
  FILE *f = fopen(p, "rb");
  if (f) { CHECK(fread(png, 1, 8, f) == 8); fclose(f); }
  CHECK_MSG(f && !memcmp(png, "\x89PNG\r\n\x1a\n", 8), "no PNG heatmap at %s (stderr: %s)", p, err_buf);
  snprintf(p, sizeof p, "%s/corr/correlation.md", dir);
  CHECK(skl_fs_exists(p));

  /* a constant skill gives n/a, not a crash */
  for (int m = 0; m < 3; m++) {
    char name[16], be[64];
    snprintf(name, sizeof name, "c%d", m);
    snprintf(be, sizeof be, "\"ruler\": %d", m * 10);
    summary(name, name, NULL, "\"niah\": 5", be);
  }
  CHECK(run("eval correlate c0 c1 c2 -o corr2 --no-plot") == 0);
  CHECK_CONTAINS(out_buf, "| niah | n/a |");

  skl_error err = {0};
  eval_named_score dup[2] = {{"niah", 1}, {"niah", 2}}, inf[1] = {{"niah", INFINITY}};
  CHECK(eval_summary_write("never.json", "m", NULL, NULL, dup, 2, dup, 1, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "skill 'niah' appears twice");
  CHECK(eval_summary_write("never.json", "m", NULL, NULL, inf, 1, dup, 1, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "finite");
  CHECK(eval_summary_write("never.json", "m", NULL, NULL, inf, 0, dup, 1, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "at least one skill score");
  CHECK(!skl_fs_exists("never.json"));
  expect_fail("eval correlate m0 m1", 1, "need at least 3 result folders", NULL);
  summary("x1", "x1", "OTHER", "\"niah\": 1, \"logic\": 2", "\"ruler\": 1, \"longbench_v2\": 2");
  expect_fail("eval correlate m0 m1 x1", 1, "probe_set.dataset_hash differs", "x1/summary.json has 'OTHER'");
  summary("x2", "x2", NULL, "\"niah\": 1, \"logic\": 2", "\"ruler\": 1, \"longbench_v2\": 2");
  expect_fail("eval correlate m0 m1 x2", 1, "m0/summary.json has probe_set.dataset_hash but x2/summary.json does not",
              NULL);
  summary("x3", "x3", "h1", "\"niah\": 1", "\"ruler\": 1, \"longbench_v2\": 2");
  expect_fail("eval correlate m0 m1 x3", 1, "x3/summary.json: skill 'logic' is missing", NULL);
  summary("x4", "x4", "h1", "\"niah\": 1, \"logic\": 2", "\"ruler\": 1, \"longbench_v2\": 2, \"mrcr\": 3");
  expect_fail("eval correlate m0 m1 x4", 1, "x4/summary.json: benchmark 'mrcr' is not in m0/summary.json", NULL);
  summary("x5", "x5", "h1", "\"niah\": \"high\", \"logic\": 2", "\"ruler\": 1, \"longbench_v2\": 2");
  expect_fail("eval correlate m0 m1 x5", 1, "x5/summary.json: skill 'niah' must be a finite number", NULL);
  summary("r0", "r0", NULL, "\"skill mean\": 1", "\"ruler\": 1");
  expect_fail("eval correlate r0 r0 r0", 1, "r0/summary.json: 'skill mean' is a reserved name", NULL);
  expect_fail("eval correlate m0 m1 nodir", 1, "nodir/summary.json: not found", NULL);
  mkdir("x6", 0755);
  put("x6/summary.json", "{\"format\": \"skillrl.eval.summary\",\n \"version\": 1,, }\n");
  expect_fail("eval correlate m0 m1 x6", 1, "x6/summary.json:2: invalid JSON", NULL);
  put("x6/summary.json", "{\"format\": \"other\"}\n");
  expect_fail("eval correlate m0 m1 x6", 1, "x6/summary.json: not an eval summary", NULL);
}

int main(void) {
  if (!getenv("SKL_BIN")) { fprintf(stderr, "SKL_BIN not set (run through meson test)\n"); return 1; }
  snprintf(dir, sizeof dir, "/tmp/skl_eval_cli_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  if (chdir(dir)) return 1;
  test_score_formats();
  test_score_errors();
  test_correlate();
  int rc = test_report();
  if (rc == 0) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  }
  return rc;
}
