/* tests for eval/metrics.h: hand-checked cases per metric, then thousands of
 * random cases against the Python definitions (difflib, SQuAD, RULER,
 * LongBench v2, BABILong) run by $PYTHON. Not the CLI: test_cli.c. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/metrics.h"
#include "harness.h"
#include "pyref.h"

static char *norm(const char *s) {
  char *o = NULL;
  CHECK(eval_normalize_answer(s, &o, NULL) == SKL_OK);
  return o;
}

static void test_normalize_em_f1(void) {
  char *s;
  CHECK_STR(s = norm("The  Cat's hat!"), "cats hat"); free(s);
  CHECK_STR(s = norm("An apple a day"), "apple day"); free(s);
  CHECK_STR(s = norm("theater, anatomy"), "theater anatomy"); free(s);
  CHECK_STR(s = norm("A.B"), "ab"); free(s);
  CHECK_STR(s = norm("  \xc3\x9c" "ber\xc2\xa0\xc2\xa0\xc3\x89" "COLE  "), "\xc3\xbc" "ber \xc3\xa9" "cole"); free(s);
  CHECK_STR(s = norm("the_a"), "thea"); free(s);
  CHECK_STR(s = norm(""), ""); free(s);
  CHECK_STR(s = norm("a an the"), ""); free(s);

  double v;
  const char *g1[] = {"paris!", "London"};
  CHECK(eval_exact_match("Paris", g1, 2, &v, NULL) == SKL_OK && v == 1.0);
  const char *g2[] = {"Paris"};
  CHECK(eval_exact_match("the Paris", g2, 1, &v, NULL) == SKL_OK && v == 1.0);
  CHECK(eval_exact_match("Paris France", g2, 1, &v, NULL) == SKL_OK && v == 0.0);
  CHECK(eval_exact_match("Paris", g2, 0, &v, NULL) == SKL_OK && v == 0.0);

  const char *g3[] = {"a cat on a mat"};
  CHECK(eval_token_f1("the cat sat on the mat", g3, 1, &v, NULL) == SKL_OK);
  CHECK_NEAR(v, 2 * 0.75 * 1.0 / 1.75, 1e-15); /* 3 common of 4 predicted, 3 gold */
  const char *g4[] = {"x y y"};
  CHECK(eval_token_f1("x x y", g4, 1, &v, NULL) == SKL_OK);
  CHECK_NEAR(v, 2.0 / 3.0, 1e-15); /* multiset overlap: one x, one y */
  const char *g5[] = {""};
  CHECK(eval_token_f1("", g5, 1, &v, NULL) == SKL_OK && v == 0.0); /* SQuAD v1.1: empty -> 0 */
  const char *g6[] = {"blue", "deep blue sea"};
  CHECK(eval_token_f1("the deep blue sea", g6, 2, &v, NULL) == SKL_OK && v == 1.0); /* max over golds */
}

static void test_ruler(void) {
  double v;
  skl_error err = {0};
  const char *r1[] = {"abc", "DEF", "ghi"};
  CHECK(eval_ruler_match("ABC and def", r1, 3, true, &v, NULL) == SKL_OK);
  CHECK_NEAR(v, 2.0 / 3.0, 1e-15);
  CHECK(eval_ruler_match("ABC and def", r1, 3, false, &v, NULL) == SKL_OK && v == 1.0);
  CHECK(eval_ruler_match("nothing", r1, 3, false, &v, NULL) == SKL_OK && v == 0.0);
  const char *r2[] = {"x\ny"};
  CHECK(eval_ruler_match("x\x01y", r2, 1, true, &v, NULL) == SKL_OK && v == 1.0); /* control -> newline */
  const char *r3[] = {"\nabc"};
  CHECK(eval_ruler_match("\x05" "abc", r3, 1, true, &v, NULL) == SKL_OK && v == 0.0); /* stripped after */
  CHECK(eval_ruler_match("abc", r1, 0, true, &v, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "no reference strings");
}

static void test_difflib_hand(void) {
  double v;
  CHECK(eval_seqmatch_ratio_utf8("abcd", "bcde", &v, NULL) == SKL_OK && v == 0.75); /* difflib docs */
  CHECK(eval_seqmatch_ratio_utf8("abxcd", "abcd", &v, NULL) == SKL_OK && v == 8.0 / 9.0);
  CHECK(eval_seqmatch_ratio_utf8("", "", &v, NULL) == SKL_OK && v == 1.0);
  CHECK(eval_seqmatch_ratio_utf8("abc", "", &v, NULL) == SKL_OK && v == 0.0);
  /* code points, not bytes: one 2-byte and one 4-byte character */
  CHECK(eval_seqmatch_ratio_utf8("\xc3\xa9x", "\xc3\xa9y", &v, NULL) == SKL_OK && v == 0.5);
  CHECK(eval_seqmatch_ratio_utf8("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81", &v, NULL) == SKL_OK && v == 0.0);
  /* autojunk: every 'a' of a 300-long b is popular; the match still grows
   * from the range start, so the ratio is 1 */
  char a[301];
  memset(a, 'a', 300);
  a[300] = 0;
  CHECK(eval_seqmatch_ratio_utf8(a, a, &v, NULL) == SKL_OK && v == 1.0);
  /* ...but with one leading difference nothing seeds a match: ratio 0 */
  a[0] = 'b';
  char b[301];
  memset(b, 'a', 300);
  b[300] = 0;
  CHECK(eval_seqmatch_ratio_utf8(a, b, &v, NULL) == SKL_OK && v == 0.0);

  CHECK(eval_mrcr_grade("XyZ12hello", "XyZ12hello", "XyZ12", &v, NULL) == SKL_OK && v == 1.0);
  CHECK(eval_mrcr_grade("hello", "XyZ12hello", "XyZ12", &v, NULL) == SKL_OK && v == 0.0);
  CHECK(eval_mrcr_grade(" XyZ12hello", "XyZ12hello", "XyZ12", &v, NULL) == SKL_OK && v == 0.0);
  CHECK(eval_mrcr_grade("XyZ12hello", "hello", "XyZ12", &v, NULL) == SKL_OK && v == 1.0);
  CHECK(eval_mrcr_grade("XyZ12abxcd", "XyZ12abcd", "XyZ12", &v, NULL) == SKL_OK && v == 8.0 / 9.0);
}

static void test_choice_babilong(void) {
  CHECK(eval_longbench_v2_extract("The correct answer is (B)") == 'B');
  CHECK(eval_longbench_v2_extract("**The correct answer is C**") == 'C');
  CHECK(eval_longbench_v2_extract("The correct answer is (E). The correct answer is D") == 'D');
  CHECK(eval_longbench_v2_extract("the correct answer is (A)") == 0);
  CHECK(eval_longbench_v2_extract("The correct answer is A, no wait, The correct answer is (B)") == 'B');
  CHECK(eval_longbench_v2_extract("") == 0);

  const char *const *lab;
  size_t n;
  skl_error err = {0};
  CHECK(eval_babilong_labels("qa1", &lab, &n, NULL) == SKL_OK && n == 6);
  CHECK(eval_babilong_compare("kitchen", "Mary is in the kitchen. Then the garden.", "Where is Mary?", lab, n));
  CHECK(!eval_babilong_compare("kitchen", "kitchen or garden", "Where is Mary?", lab, n));
  CHECK(!eval_babilong_compare("garden", "Mary is in the kitchen. Then the garden.", "Where is Mary?", lab, n));
  CHECK(!eval_babilong_compare("kitchen", "kitchen <example> garden", "Where is the garden?", lab, n) == false);
  CHECK(eval_babilong_labels("qa5", &lab, &n, NULL) == SKL_OK && n == 7);
  CHECK(eval_babilong_compare("milk", "Fred gave the milk to Bill.", "What did Fred give to Bill?", lab, n));
  CHECK(eval_babilong_labels("qa7", &lab, &n, NULL) == SKL_OK && n == 3);
  /* BABILong's substring rule: "one" is inside "none", so "none" never scores */
  CHECK(!eval_babilong_compare("none", "none", "How many objects is Mary carrying?", lab, n));
  CHECK(eval_babilong_compare("two", "two", "How many objects is Mary carrying?", lab, n));
  CHECK(eval_babilong_labels("qa8", &lab, &n, &err) == SKL_ERR_UNSUPPORTED);
  CHECK_CONTAINS(err.msg, "qa8");
  CHECK_CONTAINS(err.msg, "qa1-qa7, qa9 and qa10");
}

/* eval_verify is skills/answer.h's verifier: checked here through eval's
 * entry point (the verifier's own rules are tested by tests/skills). */
static void test_verify(void) {
  bool ok;
  char ex[64];
  skl_error err = {0};
  CHECK(eval_verify(SKILL_ANSWER_NUMBER, "12.5", "so...\nAnswer: 12.50", &ok, ex, sizeof ex, NULL) == SKL_OK && ok);
  CHECK_STR(ex, "12.50");
  CHECK(eval_verify(SKILL_ANSWER_NUMBER, "1250", "Answer: 1,250", &ok, NULL, 0, NULL) == SKL_OK && ok);
  CHECK(eval_verify(SKILL_ANSWER_NUMBER, "12.5", "Answer: 12.49", &ok, ex, sizeof ex, NULL) == SKL_OK && !ok);
  CHECK_STR(ex, "12.49");
  CHECK(eval_verify(SKILL_ANSWER_NUMBER, "7", "no number here", &ok, ex, sizeof ex, NULL) == SKL_OK && !ok);
  CHECK(eval_verify(SKILL_ANSWER_NUMBER, "abc", "Answer: 1", &ok, ex, sizeof ex, &err) == SKL_ERR_INVALID && !ok);
  CHECK_STR(ex, "");
  CHECK(err.msg[0] != '\0');
  CHECK(eval_verify(SKILL_ANSWER_STRING, "Blue Whale", "Answer: blue whale", &ok, NULL, 0, NULL) == SKL_OK && ok);
  CHECK(eval_verify(SKILL_ANSWER_STRING, "Blue Whale", "Answer: blue", &ok, NULL, 0, NULL) == SKL_OK && !ok);
  CHECK(eval_verify(SKILL_ANSWER_CHOICE, "B", "Answer: (B)", &ok, NULL, 0, NULL) == SKL_OK && ok);
  CHECK(eval_verify(SKILL_ANSWER_CHOICE, "B", "Answer: C", &ok, NULL, 0, NULL) == SKL_OK && !ok);
  CHECK(eval_verify(SKILL_ANSWER_LIST, "a1, b2, c3", "Answer: a1, b2, c3", &ok, NULL, 0, NULL) == SKL_OK && ok);
  CHECK(eval_verify(SKILL_ANSWER_LIST, "a1, b2, c3", "Answer: b2, a1, c3", &ok, NULL, 0, NULL) == SKL_OK && !ok);
  CHECK(eval_verify(SKILL_ANSWER_SET, "a1, b2, c3", "Answer: b2, a1, c3", &ok, NULL, 0, NULL) == SKL_OK && ok);
  CHECK(eval_verify(SKILL_ANSWER_SET, "a1, b2, c3", "Answer: b2, a1", &ok, NULL, 0, NULL) == SKL_OK && !ok);
}

/* ---- random cases against Python ---- */

static const char *const ascii_words[] = {"the", "a", "an", "poem", "tapir", "rock", "blog", "post", "Sea", "moon",
                                          "light", "and", "of", "in", "THE", "An", "whale", "river", "stone", "song"};
static const char *const uni_chars[] = {"\xc3\xa9", "\xc3\x89", "\xe6\x97\xa5", "\xe6\x9c\xac", "\xf0\x9f\x98\x80",
                                        "\xc3\x9f", "\xce\xa3", "\xc4\xb0", "\xc2\xa0", "\xe2\x80\x83", "\xef\xbc\xa1",
                                        "\xcc\x81", "\xd0\x96", "\xd0\xb6", "\xd9\xa3", "\xe2\x85\xa0"};

static void rand_text(skl_rng *r, char *out, size_t cap, int len, int alphabet, bool unicode) {
  size_t k = 0;
  for (int i = 0; i < len && k + 8 < cap; i++) {
    if (unicode && skl_rng_below(r, 4) == 0) {
      const char *u = uni_chars[skl_rng_below(r, sizeof uni_chars / sizeof uni_chars[0])];
      size_t n = strlen(u);
      memcpy(out + k, u, n);
      k += n;
    } else {
      out[k++] = (char)('a' + skl_rng_below(r, (uint64_t)alphabet));
    }
  }
  out[k] = '\0';
}

static void rand_words(skl_rng *r, char *out, size_t cap, int nwords, bool unicode, bool punct) {
  size_t k = 0;
  for (int i = 0; i < nwords && k + 32 < cap; i++) {
    if (i) out[k++] = skl_rng_below(r, 10) ? ' ' : '\n';
    const char *w = ascii_words[skl_rng_below(r, sizeof ascii_words / sizeof ascii_words[0])];
    size_t n = strlen(w);
    memcpy(out + k, w, n);
    k += n;
    if (unicode && skl_rng_below(r, 5) == 0) {
      const char *u = uni_chars[skl_rng_below(r, sizeof uni_chars / sizeof uni_chars[0])];
      memcpy(out + k, u, strlen(u));
      k += strlen(u);
    }
    if (punct && skl_rng_below(r, 6) == 0) out[k++] = ".,!?'-_\"("[skl_rng_below(r, 9)];
  }
  out[k] = '\0';
}

/* Character-level edits of a (ASCII-safe: only replaces whole bytes < 0x80). */
static void mutate(skl_rng *r, const char *a, char *out, size_t cap, int edits) {
  size_t n = strlen(a);
  snprintf(out, cap, "%s", a);
  for (int e = 0; e < edits && n > 2; e++) {
    size_t pos = skl_rng_below(r, n);
    if ((unsigned char)out[pos] >= 0x80) continue;
    int op = (int)skl_rng_below(r, 3);
    if (op == 0) out[pos] = (char)('a' + skl_rng_below(r, 26));
    else if (op == 1 && n + 2 < cap) { memmove(out + pos + 1, out + pos, n - pos + 1); out[pos] = 'z'; n++; }
    else if ((unsigned char)out[pos + 1] < 0x80) { memmove(out + pos, out + pos + 1, n - pos); n--; }
  }
}

typedef struct {
  char *a, *b, *prefix;
  int kind; /* 0 ratio, 1 mrcr */
} pair;

static void test_difflib_vs_python(void) {
  skl_rng r;
  skl_rng_seed(&r, 1234);
  enum { N = 3000, CAP = 8192 };
  pair *pairs = calloc(N, sizeof *pairs);
  pyref ref = {0};
  char *ta = malloc(CAP), *tb = malloc(CAP);
  size_t n_long = 0, n_uni = 0;
  for (int i = 0; i < N; i++) {
    int cat = i % 5;
    if (cat == 0) { /* independent random strings over small alphabets, both sides of 200 */
      int alpha = (int[]){2, 3, 5, 26}[skl_rng_below(&r, 4)];
      rand_text(&r, ta, CAP, (int)skl_rng_below(&r, 320), alpha, false);
      rand_text(&r, tb, CAP, (int)skl_rng_below(&r, 320), alpha, false);
    } else if (cat == 1) { /* real-looking text and an edited copy, long */
      rand_words(&r, ta, CAP, 20 + (int)skl_rng_below(&r, 300), false, true);
      mutate(&r, ta, tb, CAP, (int)skl_rng_below(&r, 40));
    } else if (cat == 2) { /* non-ASCII */
      rand_text(&r, ta, CAP, (int)skl_rng_below(&r, 400), 4, true);
      if (skl_rng_below(&r, 2)) mutate(&r, ta, tb, CAP, 10);
      else rand_text(&r, tb, CAP, (int)skl_rng_below(&r, 400), 4, true);
    } else if (cat == 3) { /* word text with unicode, one side a different draw */
      rand_words(&r, ta, CAP, 10 + (int)skl_rng_below(&r, 200), true, true);
      if (skl_rng_below(&r, 3)) mutate(&r, ta, tb, CAP, (int)skl_rng_below(&r, 20));
      else rand_words(&r, tb, CAP, 10 + (int)skl_rng_below(&r, 200), true, true);
    } else { /* MRCR: prefix gate then ratio */
      char pre[11];
      for (int k = 0; k < 10; k++) pre[k] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[skl_rng_below(&r, 62)];
      pre[10] = 0;
      rand_words(&r, ta + 10, CAP - 10, 30 + (int)skl_rng_below(&r, 150), skl_rng_below(&r, 2), true);
      memcpy(ta, pre, 10);
      mutate(&r, ta + 10, tb + 10, CAP - 10, (int)skl_rng_below(&r, 30));
      memcpy(tb, pre, 10);
      if (skl_rng_below(&r, 6) == 0) tb[0] = tb[0] == 'x' ? 'y' : 'x'; /* answer without the prefix */
      char *swap = ta; /* response = mutated text, answer = original */
      pairs[i].prefix = strdup(pre);
      if (skl_rng_below(&r, 5) == 0) pairs[i].prefix[0] ^= 1; /* response misses the prefix */
      ta = tb; tb = swap;
      pairs[i].kind = 1;
    }
    pairs[i].a = strdup(ta);
    pairs[i].b = strdup(tb);
    n_long += strlen(tb) >= 200;
    for (const char *c = ta; *c; c++) if ((unsigned char)*c >= 0x80) { n_uni++; break; }
    json_t *q = pairs[i].kind ? json_pack("{s:s, s:s, s:s, s:s}", "fn", "mrcr", "a", pairs[i].a, "b", pairs[i].b,
                                          "prefix", pairs[i].prefix)
                              : json_pack("{s:s, s:s, s:s}", "fn", "ratio", "a", pairs[i].a, "b", pairs[i].b);
    pyref_add(&ref, q);
  }
  CHECK_MSG(n_long > 500, "only %zu pairs exercise autojunk", n_long);
  CHECK_MSG(n_uni > 500, "only %zu pairs are non-ASCII", n_uni);
  json_t *ans = pyref_run(&ref);
  CHECK(ans != NULL);
  int bad = 0;
  for (int i = 0; ans && i < N; i++) {
    double v = -1, want = json_number_value(json_array_get(ans, (size_t)i));
    skl_status st = pairs[i].kind ? eval_mrcr_grade(pairs[i].a, pairs[i].b, pairs[i].prefix, &v, NULL)
                                  : eval_seqmatch_ratio_utf8(pairs[i].a, pairs[i].b, &v, NULL);
    if (st != SKL_OK || v != want) {
      if (bad++ < 5)
        fprintf(stderr, "difflib mismatch #%d (kind %d, lens %zu/%zu): C %.17g, Python %.17g\n", i, pairs[i].kind,
                strlen(pairs[i].a), strlen(pairs[i].b), v, want);
    }
  }
  CHECK_MSG(bad == 0, "%d of %d ratios differ from Python's difflib", bad, N);
  for (int i = 0; i < N; i++) { free(pairs[i].a); free(pairs[i].b); free(pairs[i].prefix); }
  free(pairs);
  free(ta);
  free(tb);
  json_decref(ans);
}

static void test_text_metrics_vs_python(void) {
  skl_rng r;
  skl_rng_seed(&r, 99);
  enum { N = 400, CAP = 2048 };
  pyref ref = {0};
  char (*a)[CAP] = malloc(N * sizeof *a);
  char (*g)[3][CAP] = malloc(N * sizeof *g);
  int *ng = malloc(N * sizeof *ng);
  static const char *const labels5[] = {"Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"};
  static const char *const frags[] = {"The correct answer is ", "(", ")", "A", "B", "C", "D", "E", "*", " x ", "is "};
  for (int i = 0; i < N; i++) {
    rand_words(&r, a[i], CAP, 1 + (int)skl_rng_below(&r, 12), true, true);
    ng[i] = 1 + (int)skl_rng_below(&r, 3);
    for (int k = 0; k < ng[i]; k++) {
      if (skl_rng_below(&r, 3) == 0) { /* a substring of the prediction: F1/RULER hits */
        size_t n = strlen(a[i]), s = skl_rng_below(&r, n + 1);
        while (s < n && ((unsigned char)a[i][s] & 0xC0) == 0x80) s++;
        size_t e = s + skl_rng_below(&r, n - s + 1);
        while (e < n && ((unsigned char)a[i][e] & 0xC0) == 0x80) e++;
        memcpy(g[i][k], a[i] + s, e - s);
        g[i][k][e - s] = 0;
      } else {
        rand_words(&r, g[i][k], CAP, 1 + (int)skl_rng_below(&r, 5), true, true);
      }
    }
    if (skl_rng_below(&r, 4) == 0) { /* control characters for RULER */
      size_t n = strlen(a[i]);
      size_t pos = n ? skl_rng_below(&r, n) : 0;
      if (n && (unsigned char)a[i][pos] < 0x80) a[i][pos] = (char)(1 + skl_rng_below(&r, 31));
    }
    json_t *gold = json_array();
    for (int k = 0; k < ng[i]; k++) json_array_append_new(gold, json_string(g[i][k]));
    pyref_add(&ref, json_pack("{s:s, s:s}", "fn", "normalize", "a", a[i]));
    pyref_add(&ref, json_pack("{s:s, s:s, s:O}", "fn", "em", "a", a[i], "gold", gold));
    pyref_add(&ref, json_pack("{s:s, s:s, s:O}", "fn", "f1", "a", a[i], "gold", gold));
    pyref_add(&ref, json_pack("{s:s, s:s, s:O, s:b}", "fn", "ruler", "a", a[i], "gold", gold, "all", 1));
    pyref_add(&ref, json_pack("{s:s, s:s, s:O, s:b}", "fn", "ruler", "a", a[i], "gold", gold, "all", 0));
    json_decref(gold);
  }
  /* LongBench v2 extraction and BABILong on fragment soups */
  enum { NC = 300 };
  char (*lb)[256] = malloc(NC * sizeof *lb), (*c)[256] = malloc(NC * sizeof *c), (*q)[256] = malloc(NC * sizeof *q);
  int *task = malloc(NC * sizeof *task);
  static const char *const tasks[] = {"qa1", "qa5", "qa6", "qa7", "qa10"};
  for (int i = 0; i < NC; i++) {
    lb[i][0] = 0;
    int nf = 1 + (int)skl_rng_below(&r, 8);
    for (int k = 0; k < nf; k++)
      strncat(lb[i], frags[skl_rng_below(&r, sizeof frags / sizeof frags[0])], 255 - strlen(lb[i]));
    pyref_add(&ref, json_pack("{s:s, s:s}", "fn", "lbv2", "a", lb[i]));
  }
  for (int i = 0; i < NC; i++) {
    task[i] = (int)skl_rng_below(&r, 5);
    const char *const *lab;
    size_t nl;
    eval_babilong_labels(tasks[task[i]], &lab, &nl, NULL);
    c[i][0] = q[i][0] = 0;
    int nf = 1 + (int)skl_rng_below(&r, 5);
    static const char *const glue[] = {" ", ". ", " <context> ", " <example> ", " Question ", " The "};
    for (int k = 0; k < nf; k++) {
      strncat(c[i], skl_rng_below(&r, 2) ? lab[skl_rng_below(&r, nl)] : labels5[skl_rng_below(&r, 7)], 255 - strlen(c[i]));
      strncat(c[i], glue[skl_rng_below(&r, 6)], 255 - strlen(c[i]));
    }
    if (skl_rng_below(&r, 2)) snprintf(q[i], sizeof q[i], "Where is %s?", lab[skl_rng_below(&r, nl)]);
    else snprintf(q[i], sizeof q[i], "What is it?");
    pyref_add(&ref, json_pack("{s:s, s:s, s:s, s:s, s:s}", "fn", "babilong", "target", lab[i % nl], "a", c[i],
                              "question", q[i], "task", tasks[task[i]]));
  }
  json_t *ans = pyref_run(&ref);
  CHECK(ans != NULL);
  int bad = 0;
  size_t k = 0;
  for (int i = 0; ans && i < N; i++) {
    const char *gl[3] = {g[i][0], g[i][1], g[i][2]};
    char *n = norm(a[i]);
    double em, f1, all, part;
    eval_exact_match(a[i], gl, (size_t)ng[i], &em, NULL);
    eval_token_f1(a[i], gl, (size_t)ng[i], &f1, NULL);
    eval_ruler_match(a[i], gl, (size_t)ng[i], true, &all, NULL);
    eval_ruler_match(a[i], gl, (size_t)ng[i], false, &part, NULL);
    const char *pn = json_string_value(json_array_get(ans, k));
    double pem = json_number_value(json_array_get(ans, k + 1)), pf1 = json_number_value(json_array_get(ans, k + 2));
    double pall = json_number_value(json_array_get(ans, k + 3)), ppart = json_number_value(json_array_get(ans, k + 4));
    k += 5;
    bool ok = pn && !strcmp(n, pn) && em == pem && fabs(f1 - pf1) < 1e-12 && all == pall && part == ppart;
    if (!ok && bad++ < 5)
      fprintf(stderr, "text metric mismatch on '%s': norm C '%s' Py '%s'; em %g/%g f1 %g/%g all %g/%g part %g/%g\n",
              a[i], n, pn ? pn : "?", em, pem, f1, pf1, all, pall, part, ppart);
    free(n);
  }
  for (int i = 0; ans && i < NC; i++) {
    const char *want = json_string_value(json_array_get(ans, k++));
    char got[2] = {eval_longbench_v2_extract(lb[i]), 0};
    if ((!want || strcmp(got, want)) && bad++ < 10)
      fprintf(stderr, "LongBench v2 extract on '%s': C '%s', Python '%s'\n", lb[i], got, want ? want : "?");
  }
  for (int i = 0; ans && i < NC; i++) {
    const char *const *lab;
    size_t nl;
    eval_babilong_labels(tasks[task[i]], &lab, &nl, NULL);
    json_t *wv = json_array_get(ans, k++); /* json_is_true evaluates its argument twice */
    bool want = json_is_true(wv);
    bool got = eval_babilong_compare(lab[i % nl], c[i], q[i], lab, nl);
    if (got != want && bad++ < 10)
      fprintf(stderr, "BABILong %s on '%s' (q '%s', target %s): C %d, Python %d\n", tasks[task[i]], c[i], q[i],
              lab[i % nl], got, want);
  }
  CHECK_MSG(bad == 0, "%d text-metric cases differ from Python", bad);
  json_decref(ans);
  free(a); free(g); free(ng); free(lb); free(c); free(q); free(task);
}

int main(void) {
  test_normalize_em_f1();
  test_ruler();
  test_difflib_hand();
  test_choice_babilong();
  test_verify();
  test_difflib_vs_python();
  test_text_metrics_vs_python();
  return test_report();
}
