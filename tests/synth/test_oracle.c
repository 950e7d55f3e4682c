/* Tests for synth/oracle: for every skill, the oracle (reading only the prompt
 * text) agrees with the expression answer on every emitted sample, at several
 * lengths; and its error paths. With argument "slow": thousands of samples
 * (SKL_SLOW_SIZE=small scales them down). Not a pipeline/output test. */
#include <jansson.h>
#include <stdlib.h>

#include "harness.h"
#include "skills/answer.h"
#include "skills/registry.h"
#include "synth/oracle.h"
#include "synth/pipeline.h"

static void agreement(int per_skill_per_length) {
  synth_cfg cfg;
  skl_error e;
  char *ov[] = {"difficulty.calc_reason={reasoning: 2, hops: 3}", "difficulty.multi_hop={hops: 5}"};
  CHECK(skl_cfg_load(synth_cfg_schema(), &cfg, NULL, ov, 2, &e) == SKL_OK);
  synth_ctx *c;
  CHECK_MSG(synth_ctx_init(&c, &cfg, &e) == SKL_OK, "%s", e.msg);
  const int64_t lengths[] = {2048, 8192, 32768};
  for (int k = 0; k < skill_count(); k++) {
    const char *id = skill_get(k)->id;
    int n = 0, agree = 0, retried = 0;
    for (int li = 0; li < 3; li++) {
      int count = li == 2 ? (per_skill_per_length + 9) / 10 : per_skill_per_length;
      for (int i = 0; i < count; i++) {
        synth_sample s;
        skl_status st = synth_sample_make(c, id, i % 2, li * 100000 + i, NULL, lengths[li], &s, &e);
        CHECK_MSG(st == SKL_OK, "%s", e.msg);
        if (st) continue;
        n++;
        retried += s.attempts > 1;
        /* re-check from the record alone: its user message and its answer */
        json_t *r = json_loadb(s.line, s.len, 0, NULL);
        json_t *prompt = json_object_get(r, "prompt");
        const char *user = json_string_value(json_object_get(json_array_get(prompt, json_array_size(prompt) - 1), "content"));
        const char *gold = json_string_value(json_object_get(r, "answer"));
        skill_answer_type t;
        skill_answer_type_parse(json_string_value(json_object_get(r, "answer_type")), &t, NULL);
        char ans[SKILL_ANSWER_MAX], resp[SKILL_ANSWER_MAX + 16];
        if (synth_oracle_solve(id, user, strlen(user), ans, sizeof ans, &e) == SKL_OK) {
          snprintf(resp, sizeof resp, "Answer: %s", ans);
          skill_verdict v;
          skill_verify(t, gold, resp, &v, NULL);
          agree += v.correct;
        }
        json_decref(r);
        synth_sample_free(&s);
      }
    }
    printf("%-18s %d samples, oracle agrees on %d, %d needed a regeneration\n", id, n, agree, retried);
    CHECK_MSG(agree == n, "%s: oracle disagrees on %d of %d emitted samples", id, n - agree, n);
  }
  synth_ctx_free(c);
  skl_cfg_free(synth_cfg_schema(), &cfg);
}

static skl_status solve(const char *skill, const char *text, char *ans, skl_error *e) {
  return synth_oracle_solve(skill, text, strlen(text), ans, 64, e);
}

static void errors(void) {
  char ans[64];
  skl_error e;
  const char *ok = "Pre.\n\nDocument 1\nSome text. Entry KEY: its value is the result of (3 - 10) * 2. More text.\n\n"
                   "Document 2\nEntry LINK: its value is the value of entry KEY. Entry MAX: its value is the largest "
                   "of 4, 19, 7.\n\nQuestion: What is the value of entry LINK?\nEnd with Answer.";
  CHECK(solve("multi_hop", ok, ans, &e) == SKL_OK);
  CHECK_STR(ans, "-14");
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", ok);
  memcpy(strstr(buf, "LINK?"), "MAX? ", 5);
  CHECK(solve("niah", buf, ans, &e) == SKL_OK);
  CHECK_STR(ans, "19");
  /* the entry the question needs is absent */
  snprintf(buf, sizeof buf, "%s", ok);
  memcpy(strstr(buf, "Entry KEY"), "Entry KEZ", 9);
  CHECK(solve("multi_hop", buf, ans, &e) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(e.msg, "entry 'KEY' not found");
  /* a cycle of links */
  const char *cyc = "x\n\nDocument 1\nEntry A1: its value is the value of entry B1. Entry B1: its value is the value of "
                    "entry A1.\n\nQuestion: What is the value of entry A1?\nfmt";
  CHECK(solve("multi_hop", cyc, ans, &e) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(e.msg, "cycle");
  /* unknown question, no question, no documents */
  snprintf(buf, sizeof buf, "%s", ok);
  memcpy(strstr(buf, "What is"), "Who was ", 8);
  CHECK(solve("niah", buf, ans, &e) == SKL_ERR_UNSUPPORTED);
  CHECK_CONTAINS(e.msg, "unknown question shape");
  CHECK(solve("niah", "Document 1\nhello", ans, &e) == SKL_ERR_PARSE);
  CHECK_CONTAINS(e.msg, "no \"Question: \" section");
  CHECK(solve("niah", "hello\n\nQuestion: What is the value of entry X?\nf", ans, &e) == SKL_ERR_PARSE);
  CHECK_CONTAINS(e.msg, "no \"Document 1\" header");
  /* an unreadable value */
  CHECK(solve("niah", "p\n\nDocument 1\nEntry Q: its value is many.\n\nQuestion: What is the value of entry Q?\nf", ans,
              &e) == SKL_ERR_UNSUPPORTED);
  CHECK_CONTAINS(e.msg, "cannot read the value of entry 'Q': 'many'");
  /* multi_source with a missing part */
  const char *ms = "p\n\nDocument 1\nProblem P7 (part 1 of 3): Setup: A farm. Problem P7 (part 2 of 3): Given: a = 4. "
                   "Text.\n\nDocument 2\nProblem P7 (part 3 of 3): Question: what is the value of a?\n\nQuestion: "
                   "The parts of problem P7 are scattered across the documents.\nf";
  CHECK(solve("multi_source", ms, ans, &e) == SKL_OK);
  CHECK_STR(ans, "4");
  snprintf(buf, sizeof buf, "%s", ms);
  memcpy(strstr(buf, "(part 2 of 3)"), "(part 1 of 3)", 13);
  CHECK(solve("multi_source", buf, ans, &e) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(e.msg, "part 1 appears twice");
  /* logic: two options satisfy the question -> refused, not guessed */
  const char *lg = "p\n\nDocument 1\nEntry AA: its value is 1. Entry BB: its value is 2.\n\nDocument 2\nEntry CC: its "
                   "value is 3.\n\nQuestion: Which of these entries appears in exactly one document?\nA. AA\nB. BB\nC. "
                   "CC\nD. DD\nfmt";
  CHECK(solve("logic", lg, ans, &e) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(e.msg, "3 options satisfy");
}

int main(int argc, char **argv) {
  int slow = argc > 1 && !strcmp(argv[1], "slow");
  const char *size = getenv("SKL_SLOW_SIZE");
  int n = slow ? (size && !strcmp(size, "full") ? 1000 : 200) : 12;
  errors();
  agreement(n);
  return test_report();
}
