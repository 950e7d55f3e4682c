/* eval ablate tests: the plan from a dataset manifest (runs, their skills,
 * errors) and the report from hand-made run summaries (scores, changes vs
 * the full run, missing or mismatched summaries). The real train+eval
 * driver is test_ablate.sh (slow suite). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "eval/ablate.h"
#include "eval/correlate.h"
#include "harness.h"

static char tmp[] = "/tmp/skl_test_ablate_c_XXXXXX";

static void put(const char *rel, const char *text) {
  char p[1200];
  snprintf(p, sizeof p, "%s/%s", tmp, rel);
  CHECK(skl_fs_write_atomic(p, text, strlen(text), NULL) == SKL_OK);
}

static void summary(const char *out, const eval_ablate_run *r, double niah, double calc, double gen, double ruler) {
  char *dir = eval_ablate_path(out, r, "eval");
  skl_fs_mkdirs(dir, NULL);
  char *p = skl_path_join(dir, "summary.json");
  eval_named_score sk[2] = {{"niah", niah}, {"calc_reason", calc}}, bn[2] = {{"general", gen}, {"ruler", ruler}};
  skl_error err = {0};
  CHECK(eval_summary_write(p, r->name, "d", "t", sk, 2, bn, 2, &err) == SKL_OK);
  free(p);
  free(dir);
}

static void test_plan(void) {
  skl_error err = {0};
  eval_ablate_plan p;
  char data[1100];
  snprintf(data, sizeof data, "%s/data", tmp);
  CHECK(eval_ablate_plan_make(data, "", false, &p, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "manifest.json: not found");
  skl_fs_mkdirs(data, NULL);
  put("data/manifest.json", "{\"counts\": {\"niah\": {\"train\": 4, \"test\": 2}, \"calc_reason\": {\"train\": 4}, "
                            "\"logic\": {\"test\": 3}}}");
  CHECK(eval_ablate_plan_make(data, "", true, &p, &err) == SKL_OK);
  CHECK(p.n_skills == 2); /* logic has no train records */
  CHECK(p.n_runs == 5);
  if (p.n_runs == 5) {
    CHECK_STR(p.runs[0].name, "full");
    CHECK_STR(p.runs[0].skills, "niah,calc_reason");
    CHECK(p.runs[0].kind == EVAL_ABLATE_FULL && p.runs[0].skill == NULL);
    CHECK_STR(p.runs[1].name, "minus-niah");
    CHECK_STR(p.runs[1].skills, "calc_reason");
    CHECK_STR(p.runs[2].name, "minus-calc_reason");
    CHECK_STR(p.runs[2].skills, "niah");
    CHECK_STR(p.runs[3].name, "only-niah");
    CHECK_STR(p.runs[3].skills, "niah");
    CHECK(p.runs[4].kind == EVAL_ABLATE_ONLY);
    char *path = eval_ablate_path("OUT", &p.runs[1], "train/final");
    CHECK_STR(path, "OUT/runs/minus-niah/train/final");
    free(path);
  }
  eval_ablate_plan_free(&p);
  CHECK(eval_ablate_plan_make(data, "niah,logic", false, &p, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "'logic' has no train records");
  CHECK_CONTAINS(err.msg, "it has: niah, calc_reason, logic");
  CHECK(eval_ablate_plan_make(data, "niah", false, &p, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "at least 2 skills");
  put("data/manifest.json", "{\"counts\": 3}");
  CHECK(eval_ablate_plan_make(data, "", false, &p, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "no 'counts' object");
  put("data/manifest.json", "{\"counts\": {\"niah\": {\"train\": 4}, \"calc_reason\": {\"train\": 4}}}");
}

static void test_ablate_report(void) {
  skl_error err = {0};
  eval_ablate_plan p;
  char data[1100], out[1100];
  snprintf(data, sizeof data, "%s/data", tmp);
  snprintf(out, sizeof out, "%s/ab", tmp);
  CHECK(eval_ablate_plan_make(data, "", false, &p, &err) == SKL_OK);
  CHECK(eval_ablate_report(&p, out, false, NULL, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "the run 'full' has not been evaluated");
  summary(out, &p.runs[0], 60, 40, 50, 30);    /* full */
  summary(out, &p.runs[1], 20, 45, 44, 31.5);  /* minus-niah */
  CHECK(eval_ablate_report(&p, out, false, NULL, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "minus-calc_reason");
  summary(out, &p.runs[2], 61, 10, 49, 20);    /* minus-calc_reason */
  skl_buf md = {0};
  CHECK(eval_ablate_report(&p, out, false, &md, &err) == SKL_OK);
  if (md.data) {
    CHECK_CONTAINS(md.data, "| run | trained on | general | ruler | benchmark mean | probe niah | probe calc_reason |");
    CHECK_CONTAINS(md.data, "| full | niah,calc_reason | 50.00 | 30.00 | 40.00 | 60.00 | 40.00 | 50.00 |");
    /* minus-niah: general -6, ruler +1.5, mean -2.25; niah -40, calc +5, mean -17.5 */
    CHECK_CONTAINS(md.data, "| niah | -6.00 | +1.50 | -2.25 | -40.00 | +5.00 | -17.50 |");
    CHECK_CONTAINS(md.data, "| calc_reason | -1.00 | -10.00 | -5.50 | +1.00 | -30.00 | -14.50 |");
  }
  skl_buf_free(&md);
  char p_md[1300], p_js[1300];
  snprintf(p_md, sizeof p_md, "%s/report.md", out);
  snprintf(p_js, sizeof p_js, "%s/ablation.json", out);
  CHECK(skl_fs_exists(p_md) && skl_fs_exists(p_js));
  /* a run evaluated on other benchmarks cannot be compared */
  char *dir = eval_ablate_path(out, &p.runs[2], "eval/summary.json");
  eval_named_score sk[2] = {{"niah", 1}, {"calc_reason", 2}}, bn[1] = {{"longbench", 3}};
  CHECK(eval_summary_write(dir, "x", NULL, NULL, sk, 2, bn, 1, &err) == SKL_OK);
  free(dir);
  CHECK(eval_ablate_report(&p, out, false, NULL, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "no score for benchmark 'general'");
  eval_ablate_plan_free(&p);
}

int main(void) {
  if (!mkdtemp(tmp)) return 1;
  test_plan();
  test_ablate_report();
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (!t_fail && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
  return test_report();
}
