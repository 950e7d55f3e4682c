/* Tests for synth/expr: parsing, every function, answer rendering per type,
 * and each error path with its position. Not a test of the skill generators. */
#include <stdlib.h>

#include "harness.h"
#include "synth/expr.h"

/* A fixed blueprint: 3 docs, anchors
 *  a0 "[ID: B-292]" = 42   in d0 (depth .2) and d2 (depth .5)
 *  a1 "LTUCRHGAXK"  = 7.5  in d1 (.7)
 *  a2 "[ID: B-292]" = 13   in d1 (.1)   (namesake of a0: conflict resolution)
 *  a3 "ZETA"        = "Paris" in d2 (.9)
 *  a4 "OMEGA"       = 3    in d2 (.1)                                       */
static skill_anchor A[5];
static skill_insert I[6];
static skill_blueprint bp;

static void setup(void) {
  const char *names[] = {"[ID: B-292]", "LTUCRHGAXK", "[ID: B-292]", "ZETA", "OMEGA"};
  double vals[] = {42, 7.5, 13, 0, 3};
  for (int i = 0; i < 5; i++) {
    snprintf(A[i].name, sizeof A[i].name, "%s", names[i]);
    A[i].value.is_number = i != 3;
    A[i].value.num = vals[i];
  }
  snprintf(A[3].value.str, sizeof A[3].value.str, "Paris");
  int docs[] = {0, 2, 1, 1, 2, 2}, anc[] = {0, 0, 1, 2, 3, 4};
  double dep[] = {.2, .5, .7, .1, .9, .1};
  for (int i = 0; i < 6; i++) { I[i].doc = docs[i]; I[i].anchor = anc[i]; I[i].depth = dep[i]; }
  bp.skill = "test";
  bp.n_docs = 3;
  bp.anchors = A;
  bp.n_anchors = 5;
  bp.inserts = I;
  bp.n_inserts = 6;
  snprintf(bp.choices[0], 256, "Document 1");
  snprintf(bp.choices[1], 256, "Document 2");
  snprintf(bp.choices[2], 256, "Document 3");
  bp.n_choices = 3;
}

static char out[256];
static skl_error err;

static skl_status run(const char *src, skill_answer_type t) {
  synth_expr *e = NULL;
  out[0] = 0;
  skl_error_clear(&err);
  skl_status s = synth_expr_parse(src, &e, &err);
  if (s) return s;
  s = synth_expr_eval(e, &bp, t, out, sizeof out, &err);
  synth_expr_free(e);
  return s;
}

#define EXPECT(src, type, want)                                                \
  do {                                                                         \
    skl_status s_ = run(src, type);                                            \
    CHECK_MSG(s_ == SKL_OK, "%s: %s", src, err.msg);                           \
    CHECK_STR(out, want);                                                      \
  } while (0)
#define EXPECT_ERR(src, type, code, needle)                                    \
  do {                                                                         \
    skl_status s_ = run(src, type);                                            \
    CHECK_MSG(s_ == (code), "%s: got %d (%s)", src, (int)s_, err.msg);        \
    CHECK_CONTAINS(err.msg, needle);                                           \
  } while (0)

static void test_arith(void) {
  EXPECT("1 + 2 * 3", SKILL_ANSWER_NUMBER, "7");
  EXPECT("(1 + 2) * 3", SKILL_ANSWER_NUMBER, "9");
  EXPECT("10 - 4 - 3", SKILL_ANSWER_NUMBER, "3"); /* left associative */
  EXPECT("7 / 2", SKILL_ANSWER_NUMBER, "3.5");
  EXPECT("7 % 3", SKILL_ANSWER_NUMBER, "1");
  EXPECT("-2 * -3", SKILL_ANSWER_NUMBER, "6");
  EXPECT("1 / 3", SKILL_ANSWER_NUMBER, "0.33");
  EXPECT("2 / 3", SKILL_ANSWER_NUMBER, "0.67");
  EXPECT("round(2.675 * 1, 1)", SKILL_ANSWER_NUMBER, "2.7");
  EXPECT("round(1234.5)", SKILL_ANSWER_NUMBER, "1235");
  EXPECT("-0.001", SKILL_ANSWER_NUMBER, "0"); /* no "-0" */
  EXPECT("abs(-4) + floor(2.7) + ceil(2.1)", SKILL_ANSWER_NUMBER, "9");
  EXPECT("num(\"12.5\") * 2", SKILL_ANSWER_NUMBER, "25");
  EXPECT("\"ab\" + 'cd'", SKILL_ANSWER_STRING, "abcd");
  EXPECT("'it\\'s'", SKILL_ANSWER_STRING, "it's");
  EXPECT("len('hello')", SKILL_ANSWER_NUMBER, "5");
}

static void test_logic(void) {
  EXPECT("1 < 2 and 3 >= 3", SKILL_ANSWER_STRING, "yes");
  EXPECT("not (1 == 1) or 2 != 2", SKILL_ANSWER_STRING, "no");
  EXPECT("if 4 > 3 then 10 else 20", SKILL_ANSWER_NUMBER, "10");
  EXPECT("10 if 4 < 3 else 20", SKILL_ANSWER_NUMBER, "20");
  EXPECT("if count(docs(a0)) > 1 then solve(a0) + solve(a1) else solve(a0) * solve(a1)", SKILL_ANSWER_NUMBER, "49.5");
  EXPECT("if count(docs(a0)) > 3 then solve(a0) + solve(a1) else solve(a0) * solve(a1)", SKILL_ANSWER_NUMBER, "315");
  EXPECT("'a' < 'b'", SKILL_ANSWER_STRING, "yes");
  EXPECT("1 / 0 if false else 5", SKILL_ANSWER_NUMBER, "5"); /* lazy branches */
  EXPECT("false and 1 / 0", SKILL_ANSWER_STRING, "no");
}

static void test_blueprint_funcs(void) {
  EXPECT("solve(Q(a0))", SKILL_ANSWER_NUMBER, "42");
  EXPECT("solve(a3)", SKILL_ANSWER_STRING, "Paris");
  EXPECT("name(a1)", SKILL_ANSWER_STRING, "LTUCRHGAXK");
  EXPECT("a1", SKILL_ANSWER_STRING, "LTUCRHGAXK");
  EXPECT("d2", SKILL_ANSWER_STRING, "Document 3");
  EXPECT("docs(a0)", SKILL_ANSWER_SET, "Document 1, Document 3");
  EXPECT("count(docs(a0))", SKILL_ANSWER_NUMBER, "2");
  EXPECT("anchors_in(d2)", SKILL_ANSWER_LIST, "[ID: B-292], ZETA, OMEGA"); /* set order = anchor index */
  EXPECT("anchors_in(d2)", SKILL_ANSWER_SET, "OMEGA, ZETA, [ID: B-292]");  /* set rendering sorts text */
  EXPECT("anchors_in(docs(a0)) - anchors_in(d0)", SKILL_ANSWER_LIST, "ZETA, OMEGA");
  EXPECT("docs(a0) & docs(a3)", SKILL_ANSWER_LIST, "Document 3");
  EXPECT("docs(a1) | docs(a3)", SKILL_ANSWER_LIST, "Document 2, Document 3");
  /* conflict resolution: the namesake in Doc 2 is a2 */
  EXPECT("solve(Q(a0, in_doc(d1)))", SKILL_ANSWER_NUMBER, "13");
  EXPECT("solve(Q(a0, in_doc(docs(a4) & docs(a3))))", SKILL_ANSWER_NUMBER, "42");
  /* occurrences: namesakes by first appearance: a0 (d0), a2 (d1); a0 again in d2 is not repeated */
  EXPECT("solve(last(occurrences(a0)))", SKILL_ANSWER_NUMBER, "13");
  EXPECT("count(occurrences(a0))", SKILL_ANSWER_NUMBER, "2");
  EXPECT("solve(occurrences(a0)[1])", SKILL_ANSWER_NUMBER, "13");
  EXPECT("mentions(a0)", SKILL_ANSWER_NUMBER, "3");
  EXPECT("mentions(a1)", SKILL_ANSWER_NUMBER, "1");
  EXPECT("sequence()", SKILL_ANSWER_LIST, "[ID: B-292], [ID: B-292], LTUCRHGAXK, OMEGA, [ID: B-292], ZETA");
  EXPECT("sequence(d2)[-1]", SKILL_ANSWER_STRING, "ZETA");
  EXPECT("[a for a in sequence() if mentions(a) == 1][-2]", SKILL_ANSWER_STRING, "OMEGA");
  EXPECT("sum(solve(Q(a)) for a in anchors_in(d2) if a != a3)", SKILL_ANSWER_NUMBER, "45");
  EXPECT("product(solve(a) for a in [a1, a4])", SKILL_ANSWER_NUMBER, "22.5");
  EXPECT("max(solve(a0), solve(a1), solve(a2))", SKILL_ANSWER_NUMBER, "42");
  EXPECT("min([3, 1, 2])", SKILL_ANSWER_NUMBER, "1");
  EXPECT("count(a for a in anchors() if mentions(a) == 1)", SKILL_ANSWER_NUMBER, "3");
  EXPECT("argmax(count(anchors_in(d)) for d in all_docs())", SKILL_ANSWER_STRING, "Document 3");
  EXPECT("argmax(count(anchors_in(d)) for d in all_docs())", SKILL_ANSWER_NUMBER, "3");
  EXPECT("argmax(count(anchors_in(d)) for d in all_docs())", SKILL_ANSWER_CHOICE, "C");
  EXPECT("letter(doc(a1))", SKILL_ANSWER_CHOICE, "B");
  EXPECT("'A'", SKILL_ANSWER_CHOICE, "A");
  EXPECT("any(solve(a) > 40 for a in [a0, a1])", SKILL_ANSWER_STRING, "yes");
  EXPECT("all(solve(a) > 40 for a in [a0, a1])", SKILL_ANSWER_STRING, "no");
  EXPECT("sorted([3, 1, 2])", SKILL_ANSWER_LIST, "1, 2, 3");
  EXPECT("set([a1, a1, a0])", SKILL_ANSWER_LIST, "[ID: B-292], LTUCRHGAXK");
  EXPECT("[solve(a) * 2 for a in [a1, a4]]", SKILL_ANSWER_LIST, "15, 6");
  EXPECT("first(docs(a0)) == d0", SKILL_ANSWER_STRING, "yes");
  EXPECT("str(solve(a1)) + '!'", SKILL_ANSWER_STRING, "7.5!");
  EXPECT("solve(a4)", SKILL_ANSWER_SET, "3"); /* a scalar as a one-item set */
  EXPECT("a3 in anchors_in(d2)", SKILL_ANSWER_STRING, "yes");
  EXPECT("a1 in (anchors_in(d0) & anchors_in(d2))", SKILL_ANSWER_STRING, "no");
  EXPECT("a1 not in anchors_in(d0)", SKILL_ANSWER_STRING, "yes");
  EXPECT("not a1 in anchors_in(d1)", SKILL_ANSWER_STRING, "no");
  EXPECT("3 in [1, 2, 3]", SKILL_ANSWER_STRING, "yes");
  /* the logic generator's shape: a chain of conditionals over the options */
  EXPECT("\"A\" if a1 in anchors_in(d0) else \"B\" if count(docs(a0)) == 2 else \"none\"", SKILL_ANSWER_CHOICE, "B");
  /* "the once-only entry immediately before the last once-only entry", by text position */
  EXPECT("[a for a in sequence() if count(docs(a)) == 1][-2]", SKILL_ANSWER_STRING, "OMEGA");
}

static void test_parse_errors(void) {
  EXPECT_ERR("docs(a1", SKILL_ANSWER_SET, SKL_ERR_PARSE, "col 8: expected ')' after the arguments, found end");
  EXPECT_ERR("1 + * 2", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "col 5: unexpected '*'");
  EXPECT_ERR("solve(Q(a0)) solve", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "col 14: unexpected 'solve' after a complete");
  EXPECT_ERR("'abc", SKILL_ANSWER_STRING, SKL_ERR_PARSE, "col 1: unterminated string");
  EXPECT_ERR("1 = 2", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "use == or !=");
  EXPECT_ERR("2 $ 3", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "col 3: unexpected character '$'");
  EXPECT_ERR("if 1 then 2", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "expected 'else'");
  EXPECT_ERR("if 1 2", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "expected 'then'");
  EXPECT_ERR("sum(x for 3 in anchors())", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "loop variable");
  EXPECT_ERR("sum(x for a of anchors())", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "expected 'in'");
  EXPECT_ERR("[1, 2", SKILL_ANSWER_LIST, SKL_ERR_PARSE, "to close the list");
  EXPECT_ERR("", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "unexpected end");
  EXPECT_ERR("then", SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "unexpected keyword 'then'");
  /* the caret sits under the column */
  run("docs(a1", SKILL_ANSWER_SET);
  CHECK_CONTAINS(err.msg, "\n  docs(a1\n         ^");
  /* deep nesting is refused, not a stack overflow */
  char deep[2100];
  memset(deep, '(', 1000);
  deep[1000] = '1';
  memset(deep + 1001, ')', 1000);
  deep[2001] = 0;
  EXPECT_ERR(deep, SKILL_ANSWER_NUMBER, SKL_ERR_PARSE, "nested too deeply");
}

static void test_eval_errors(void) {
  EXPECT_ERR("solve(a9)", SKILL_ANSWER_NUMBER, SKL_ERR_RANGE, "col 7: anchor a9 does not exist (the blueprint has 5");
  EXPECT_ERR("anchors_in(d5)", SKILL_ANSWER_SET, SKL_ERR_RANGE, "document d5 does not exist");
  EXPECT_ERR("1 / (2 - 2)", SKILL_ANSWER_NUMBER, SKL_ERR_NUMERIC, "col 3: division by zero");
  EXPECT_ERR("foo(1)", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "unknown function 'foo'");
  EXPECT_ERR("x + 1", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "unknown name 'x'");
  EXPECT_ERR("solve(3)", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "expected an anchor, got number");
  EXPECT_ERR("docs(a0) + 1", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "'+' does not apply to set and number");
  EXPECT_ERR("solve(a3)", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "the string 'Paris'");
  EXPECT_ERR("[1, 2][5]", SKILL_ANSWER_NUMBER, SKL_ERR_RANGE, "index 5 out of range for a list of 2");
  EXPECT_ERR("Q(a0, in_doc(d0 | d2 | d1))", SKILL_ANSWER_STRING, SKL_ERR_RANGE, "is ambiguous");
  EXPECT_ERR("solve(Q(a1, in_doc(d0)))", SKILL_ANSWER_NUMBER, SKL_ERR_RANGE, "no occurrence of 'LTUCRHGAXK'");
  EXPECT_ERR("argmax(solve(a) for a in [a1, a1])", SKILL_ANSWER_STRING, SKL_ERR_RANGE, "tie");
  EXPECT_ERR("max([])", SKILL_ANSWER_NUMBER, SKL_ERR_RANGE, "empty");
  EXPECT_ERR("docs()", SKILL_ANSWER_SET, SKL_ERR_INVALID, "docs() takes 1 argument, got 0");
  EXPECT_ERR("Q(a0, d0, d1)", SKILL_ANSWER_STRING, SKL_ERR_INVALID, "Q() takes 1 to 2 arguments, got 3");
  EXPECT_ERR("anchors(d0)", SKILL_ANSWER_SET, SKL_ERR_INVALID, "anchors() takes 0 arguments, got 1");
  EXPECT_ERR("sequence(d0, d1)", SKILL_ANSWER_LIST, SKL_ERR_INVALID, "sequence() takes 0 to 1 argument, got 2");
  EXPECT_ERR("sum()", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "sum() needs a collection or arguments");
  EXPECT_ERR("'Z'", SKILL_ANSWER_CHOICE, SKL_ERR_NOTFOUND, "neither a choice letter");
  EXPECT_ERR("letter(99)", SKILL_ANSWER_CHOICE, SKL_ERR_NOTFOUND, "no choice reads '99'");
  EXPECT_ERR("round(1, 12)", SKILL_ANSWER_NUMBER, SKL_ERR_RANGE, "digits must be 0..9");
  EXPECT_ERR("anchors_in(a1)", SKILL_ANSWER_SET, SKL_ERR_INVALID, "expects documents");
  EXPECT_ERR("[1, 2][0.5]", SKILL_ANSWER_NUMBER, SKL_ERR_INVALID, "not an integer");
}

static void test_answer_fills_blueprint(void) {
  snprintf(bp.expr, sizeof bp.expr, "sum(solve(Q(a)) for a in anchors_in(docs(a1)))");
  bp.answer_type = SKILL_ANSWER_NUMBER;
  CHECK(synth_expr_answer(&bp, &err) == SKL_OK);
  CHECK_STR(bp.answer, "20.5"); /* a1 (7.5) + a2 (13) in Doc 2 */
  snprintf(bp.expr, sizeof bp.expr, "solve(");
  CHECK(synth_expr_answer(&bp, &err) == SKL_ERR_PARSE);
  char num[32];
  synth_format_number(3.14159, num, sizeof num);
  CHECK_STR(num, "3.14");
  synth_format_number(-2.5, num, sizeof num);
  CHECK_STR(num, "-2.5");
  synth_format_number(100, num, sizeof num);
  CHECK_STR(num, "100");
}

int main(void) {
  setup();
  test_arith();
  test_logic();
  test_blueprint_funcs();
  test_parse_errors();
  test_eval_errors();
  test_answer_fills_blueprint();
  return test_report();
}
