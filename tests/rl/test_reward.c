/* Tests for rl/reward (verifier + format + overlong) and rl/judge (command
 * and plugin judges, with crash, hang, garbage and retry cases).
 * Not a test of the verifiers themselves (tests/skills does that). */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "judge/judge.h"
#include "rl/reward.h"

static void test_reward(void) {
  rl_reward_opts o;
  rl_reward_opts_default(&o);
  rl_reward_result r;
  skl_error e;
  CHECK(rl_reward_score(&o, SKILL_ANSWER_NUMBER, "42", "so\nAnswer: 42", 10, false, &r, &e) == SKL_OK);
  CHECK(r.reward == 1.0f && r.accuracy == 1.0f && r.verdict.has_format);
  CHECK(rl_reward_score(&o, SKILL_ANSWER_NUMBER, "42", "Answer: 41", 10, false, &r, &e) == SKL_OK);
  CHECK(r.reward == 0.0f);
  o.format_reward = 0.1f;
  o.overlong_penalty = true;
  o.max_response = 100;
  o.overlong_cache = 20;
  CHECK(rl_reward_score(&o, SKILL_ANSWER_CHOICE, "B", "Answer: (B)", 90, false, &r, &e) == SKL_OK);
  CHECK_NEAR(r.reward, 1.0 + 0.1 - 0.5, 1e-6);
  o.mask_truncated = true;
  CHECK(rl_reward_score(&o, SKILL_ANSWER_STRING, "x", "no answer", 120, true, &r, &e) == SKL_OK);
  CHECK(r.masked && r.accuracy == 0.0f);
  CHECK_NEAR(r.reward, -1.0, 1e-6);
  CHECK(rl_reward_score(&o, SKILL_ANSWER_NUMBER, "abc", "Answer: 1", 5, false, &r, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "reward: gold answer 'abc'");
}

static const char *src_root(void) { return getenv("SKL_SOURCE_ROOT") ? getenv("SKL_SOURCE_ROOT") : "."; }

static skl_status run_cmd(const char *mode, int retries, double timeout, double *scores, skl_error *e) {
  char cmd[1024];
  const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
  /* exec: the judge itself holds the socket, not a shell around it */
  snprintf(cmd, sizeof cmd, "exec %s %s/tests/rl/judge_cmd.py %s", py, src_root(), mode);
  skl_judge_opts o = {.kind = SKL_JUDGE_COMMAND, .target = cmd, .timeout_s = timeout, .retries = retries};
  skl_judge *j;
  skl_status s = skl_judge_open(&j, &o, e);
  if (s) return s;
  skillrl_judge_item items[3] = {{"s1", "q", "it is 42", "42"}, {"s2", "q", "it is 7", "8"}, {"s3", "q", "x", "x"}};
  s = skl_judge_score(j, items, 3, scores, e);
  skl_judge_close(j);
  return s;
}

static void test_command_judge(void) {
  double sc[3];
  skl_error e;
  CHECK(run_cmd("ok", 0, 20, sc, &e) == SKL_OK);
  CHECK(sc[0] == 1 && sc[1] == 0 && sc[2] == 1);
  CHECK(run_cmd("crash", 0, 20, sc, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "crashed (exit status 7) before scoring sample s2");
  CHECK(run_cmd("hang", 0, 1.5, sc, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "hung: no answer for sample s1 within 2 s");
  /* issue 18: a judge that closes its pipes and sleeps blocked in waitpid()
   * forever; now it is killed at the timeout (the test times out before) */
  CHECK(run_cmd("closesleep", 0, 1.5, sc, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "closed its output but did not exit within 2 s");
  CHECK(run_cmd("garbage", 0, 20, sc, &e) == SKL_ERR_PARSE);
  CHECK_CONTAINS(e.msg, "answered garbage for sample s1: 'this is not json'");
  CHECK(run_cmd("range", 0, 20, sc, &e) == SKL_ERR_RANGE);
  CHECK_CONTAINS(e.msg, "gave sample s1 score 3, outside [0, 1]");
  /* crashed, retried: still crashes -> the message says it gave up */
  CHECK(run_cmd("crash", 1, 20, sc, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "judge gave up after 1 retries");
  /* flaky: first process dies at once, the retry succeeds */
  char marker[] = "/tmp/skl_judge_XXXXXX";
  int fd = mkstemp(marker);
  close(fd);
  unlink(marker);
  char mode[256];
  snprintf(mode, sizeof mode, "flaky %s", marker);
  CHECK(run_cmd(mode, 2, 20, sc, &e) == SKL_OK);
  CHECK(sc[0] == 1 && sc[1] == 0);
  unlink(marker);
}

static void test_plugin_judge(void) {
  const char *so = getenv("SKL_JUDGE_PLUGIN");
  CHECK_MSG(so != NULL, "SKL_JUDGE_PLUGIN not set by meson");
  if (!so) return;
  skl_judge_opts o = {.kind = SKL_JUDGE_PLUGIN, .target = so};
  skl_judge *j;
  skl_error e;
  CHECK(skl_judge_open(&j, &o, &e) == SKL_OK);
  skillrl_judge_item items[2] = {{"a", "q", "the answer is 42", "42"}, {"boom", "q", "r", "g"}};
  double sc[2];
  CHECK(skl_judge_score(j, items, 1, sc, &e) == SKL_OK && sc[0] == 1);
  CHECK(skl_judge_score(j, items, 2, sc, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "failed on sample boom: cannot judge this one");
  /* issue 18: a message without a NUL is read within its buffer */
  skillrl_judge_item nonul = {"nonul", "q", "r", "g"};
  CHECK(skl_judge_score(j, &nonul, 1, sc, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "failed on sample nonul: xxxx");
  skl_judge_close(j);
  o.target = "/nonexistent/judge.so";
  CHECK(skl_judge_open(&j, &o, &e) == SKL_ERR_IO);
  CHECK_CONTAINS(e.msg, "judge plugin /nonexistent/judge.so: cannot load");
}

int main(void) {
  test_reward();
  test_command_judge();
  test_plugin_judge();
  return test_report();
}
