/* Tests for skills/answer: extraction, number parsing, normalisation and the
 * verdict of every answer type, including adversarial responses. Not a fuzzer. */
#include <stdint.h>
#include <stdlib.h>

#include "core/rng.h"
#include "harness.h"
#include "skills/answer.h"

#define N SKILL_ANSWER_NUMBER
#define S SKILL_ANSWER_STRING
#define C SKILL_ANSWER_CHOICE
#define L SKILL_ANSWER_LIST
#define T SKILL_ANSWER_SET

typedef struct {
  skill_answer_type t;
  const char *gold, *response;
  int correct, format;
} vcase;

static const vcase CASES[] = {
    /* ---- numbers: plain, formats, markdown ---- */
    {N, "42", "Answer: 42", 1, 1},
    {N, "42", "answer: 42", 1, 1},
    {N, "42", "ANSWER:42", 1, 1},
    {N, "42", "Answer: 42.", 1, 1},
    {N, "42", "Answer: 42.0", 1, 1},
    {N, "42", "Answer: 42.00", 1, 1},
    {N, "42", "**Answer:** 42", 1, 1},
    {N, "42", "**Answer: 42**", 1, 1},
    {N, "42", "**Answer**: 42", 1, 1},
    {N, "42", "## Final Answer: 42", 1, 1},
    {N, "42", "Final answer: **42**", 1, 1},
    {N, "42", "> Answer: 42", 1, 1},
    {N, "42", "- Answer: 42", 1, 1},
    {N, "42", "Answer: `42`", 1, 1},
    {N, "42", "Answer: $42$", 1, 1},
    {N, "42", "Answer: \\boxed{42}", 1, 1},
    {N, "42", "Answer: $\\boxed{42}$", 1, 1},
    {N, "42", "Answer: the answer is 42", 1, 1},
    {N, "42", "Answer:\n\n42\n", 1, 1},
    {N, "42", "Answer:   \n  **42**  ", 1, 1},
    {N, "42", "  Answer: 42  \r\n", 1, 1},
    {N, "42", "Answer: 42 units", 1, 1},
    {N, "42", "Answer: x = 42", 1, 1},
    {N, "42", "Answer: 6 * 7 = 42", 1, 1},
    {N, "42", "Answer: +42", 1, 1},
    {N, "42", "Answer: 4.2e1", 1, 1},
    {N, "42", "Answer: 4.2E+1", 1, 1},
    {N, "42", "Answer: 42%", 1, 1},
    {N, "42", "Answer: $42", 1, 1},
    {N, "42", "Answer: \"42\"", 1, 1},
    {N, "42", "Answer: 43", 0, 1},
    {N, "42", "Answer: 42.01", 0, 1},
    {N, "42", "Answer: -42", 0, 1},
    {N, "42", "Answer: 420", 0, 1},
    {N, "42", "Answer: 42 or 43", 0, 1},
    {N, "42", "Answer: between 41 and 43", 0, 1},
    {N, "42", "Answer: forty-two", 0, 1},
    {N, "42", "Answer: 42abc", 0, 1},
    {N, "42", "Answer: ", 0, 1},
    {N, "42", "Answer:", 0, 1},
    {N, "42", "42", 0, 0},
    {N, "42", "I think it is 42", 0, 0},
    {N, "42", "", 0, 0},
    /* thousands separators, signs, scientific */
    {N, "1234", "Answer: 1,234", 1, 1},
    {N, "1234567", "Answer: 1,234,567", 1, 1},
    {N, "1234567.5", "Answer: 1,234,567.50", 1, 1},
    {N, "1234", "Answer: 1234", 1, 1},
    {N, "1234", "Answer: 12,34", 0, 1},
    {N, "1234", "Answer: 1,2345", 0, 1},
    {N, "-17", "Answer: -17", 1, 1},
    {N, "-17", "Answer: \xe2\x88\x92" "17", 1, 1},
    {N, "-17", "Answer: -$17", 1, 1},
    {N, "-17", "Answer: 17", 0, 1},
    {N, "-1234.5", "Answer: -1,234.5", 1, 1},
    {N, "0", "Answer: 0", 1, 1},
    {N, "0", "Answer: -0", 1, 1},
    {N, "0", "Answer: 0.004", 1, 1},
    {N, "0", "Answer: 0.006", 0, 1},
    {N, "0.5", "Answer: .5", 1, 1},
    {N, "0.5", "Answer: 0.50", 1, 1},
    {N, "0.5", "Answer: 5e-1", 1, 1},
    {N, "1200", "Answer: 1.2e3", 1, 1},
    {N, "1200", "Answer: 1.2 x 10^3", 0, 1},
    {N, "1e6", "Answer: 1,000,000", 1, 1},
    /* tolerance: 2-decimal rounding */
    {N, "3.14", "Answer: 3.14159", 1, 1},
    {N, "3.14", "Answer: 3.1449", 1, 1},
    {N, "3.14", "Answer: 3.145", 1, 1},
    {N, "3.14", "Answer: 3.135", 1, 1},
    {N, "3.14", "Answer: 3.1351", 1, 1},
    {N, "3.14", "Answer: 3.134", 0, 1},
    {N, "3.14", "Answer: 3.146", 0, 1},
    {N, "3.14", "Answer: 3.1", 0, 1},
    {N, "3.14", "Answer: 3", 0, 1},
    {N, "33.33", "Answer: 33.333333", 1, 1},
    {N, "33.33", "Answer: 100/3 = 33.33", 1, 1},
    {N, "66.67", "Answer: 66.666", 1, 1},
    {N, "66.67", "Answer: 66.66", 0, 1},
    {N, "66.67", "Answer: 66.65", 0, 1},
    {N, "123456789.12", "Answer: 123,456,789.12", 1, 1},
    {N, "123456789.12", "Answer: 123456789.13", 0, 1},
    /* extraction order: last Answer line wins, then boxed, then "the answer is" */
    {N, "42", "Answer: 41\nWait, let me recheck.\nAnswer: 42", 1, 1},
    {N, "42", "Answer: 42\nHmm.\nAnswer: 41", 0, 1},
    {N, "42", "Answer: 42\nAnswer:", 1, 1},
    {N, "42", "The result is \\boxed{42}.", 1, 0},
    {N, "42", "First \\boxed{41}, no: \\boxed{42}", 1, 0},
    {N, "42", "\\boxed{42} then \\boxed{41", 1, 0},
    {N, "42", "\\boxed{\\text{42}}", 1, 0},
    {N, "42", "\\boxed{}", 0, 0},
    {N, "42", "So the answer is 42.", 1, 0},
    {N, "42", "The answer is: 42. I hope this helps.", 1, 0},
    {N, "42", "THE ANSWER IS **42**", 1, 0},
    {N, "42", "the answer is 41. Actually the answer is 42", 1, 0},
    {N, "42", "Answer: 42\n\\boxed{41}", 1, 1},
    {N, "42", "Answers: 42", 0, 0},
    {N, "42", "My answer: 42", 0, 0},
    {N, "42", "The final Answer: 42", 0, 0},
    {N, "3.5", "Answer: 3.5.", 1, 1},
    {N, "3.5", "Answer: 3.50 dollars.", 1, 1},
    /* ---- strings ---- */
    {S, "blue", "Answer: blue", 1, 1},
    {S, "blue", "Answer: Blue", 1, 1},
    {S, "blue", "Answer: BLUE.", 1, 1},
    {S, "blue", "Answer: \"blue\"", 1, 1},
    {S, "blue", "Answer: **blue**", 1, 1},
    {S, "blue", "Answer: 'blue'", 1, 1},
    {S, "blue", "Answer: blue green", 0, 1},
    {S, "blue", "Answer: bleu", 0, 1},
    {S, "New York", "Answer: new   york", 1, 1},
    {S, "New York", "Answer:\tNew\tYork", 1, 1},
    {S, "New York", "Answer: NewYork", 0, 1},
    {S, "[ID: B-292]", "Answer: [ID: B-292]", 1, 1},
    {S, "[ID: B-292]", "Answer: [id: b-292]", 1, 1},
    {S, "[ID: B-292]", "Answer: [ID: B-293]", 0, 1},
    {S, "LTUCRHGAXK", "Answer: LTUCRHGAXK", 1, 1},
    {S, "LTUCRHGAXK", "Answer: LTUCRHGAXX", 0, 1},
    {S, "1760536321726-5em0", "Answer: 1760536321726-5em0", 1, 1},
    {S, "1760536321726-5em0", "Answer: 1760536321726-5em1", 0, 1},
    {S, "Stra\xc3\x9f" "e", "Answer: STRASSE", 1, 1},
    {S, "caf\xc3\xa9", "Answer: cafe\xcc\x81", 1, 1},
    {S, "caf\xc3\xa9", "Answer: CAF\xc3\x89", 1, 1},
    {S, "caf\xc3\xa9", "Answer: cafe", 0, 1},
    {S, "\xef\xbc\xa1" "BC", "Answer: abc", 1, 1}, /* fullwidth A: NFKC */
    {S, "blue", "", 0, 0},
    {S, "blue", "Answer: \xff\xfe blue", 0, 1},
    {S, "abc", "Answer: \xff" "ABC", 0, 1},
    /* invalid UTF-8 (overlong, surrogate, past U+10FFFF, cut) falls back to ASCII case folding, so
     * E-acute no longer matches e-acute; valid oddities (U+FFFE, a BOM) still fold */
    {S, "\xc3\xa9\xc0\xaf" "b", "Answer: \xc3\x89\xc0\xaf" "B", 0, 1},
    {S, "\xc3\xa9\xed\xa0\x80" "b", "Answer: \xc3\x89\xed\xa0\x80" "B", 0, 1},
    {S, "\xc3\xa9\xf4\x90\x80\x80" "b", "Answer: \xc3\x89\xf4\x90\x80\x80" "B", 0, 1},
    {S, "\xc3\xa9\xf0\x9f\x98" "b", "Answer: \xc3\x89\xf0\x9f\x98" "B", 0, 1},
    {S, "\xc3\xa9\xef\xbf\xbe" "b", "Answer: \xc3\x89\xef\xbf\xbe" "B", 1, 1},
    {S, "\xc3\xa9\xef\xbb\xbf" "b", "Answer: \xc3\x89\xef\xbb\xbf" "B", 1, 1},
    /* ---- choices ---- */
    {C, "C", "Answer: C", 1, 1},
    {C, "C", "Answer: c", 1, 1},
    {C, "C", "Answer: (C)", 1, 1},
    {C, "C", "Answer: (c)", 1, 1},
    {C, "C", "Answer: [C]", 1, 1},
    {C, "C", "Answer: C)", 1, 1},
    {C, "C", "Answer: C.", 1, 1},
    {C, "C", "Answer: **C**", 1, 1},
    {C, "C", "Answer: C. LTUCRHGAXK", 1, 1},
    {C, "C", "Answer: C: Doc 3", 1, 1},
    {C, "C", "Answer: C) Doc 3", 1, 1},
    {C, "C", "Answer: Option C", 1, 1},
    {C, "C", "Answer: option (C)", 1, 1},
    {C, "C", "Answer: Choice C", 1, 1},
    {C, "C", "Answer: \\boxed{C}", 1, 1},
    {C, "C", "\\boxed{C}", 1, 0},
    {C, "C", "The answer is (C).", 1, 0},
    {C, "C", "Answer: B", 0, 1},
    {C, "C", "Answer: CD", 0, 1},
    {C, "C", "Answer: Cat", 0, 1},
    {C, "C", "Answer: c is right", 0, 1},
    {C, "C", "Answer: (C", 0, 1},
    {C, "C", "Answer: ", 0, 1},
    {C, "C", "Answer: 3", 0, 1},
    {C, "A", "Answer: a", 1, 1},
    {C, "A", "Answer: A banana", 1, 1},
    {C, "A", "Answer: Apple", 0, 1},
    {C, "A", "Answer: B\nAnswer: A", 1, 1},
    {C, "D", "Answer: D", 1, 1},
    {C, "D", "Answer: d.", 1, 1},
    /* ---- lists (ordered) ---- */
    {L, "a, b, c", "Answer: a, b, c", 1, 1},
    {L, "a, b, c", "Answer: a,b,c", 1, 1},
    {L, "a, b, c", "Answer: A, B, C", 1, 1},
    {L, "a, b, c", "Answer: [a, b, c]", 1, 1},
    {L, "a, b, c", "Answer: a; b; c", 1, 1},
    {L, "a, b, c", "Answer: a, b and c", 1, 1},
    {L, "a, b, c", "Answer: a, b, and c", 1, 1},
    {L, "a, b, c", "Answer: c, b, a", 0, 1},
    {L, "a, b, c", "Answer: a, b", 0, 1},
    {L, "a, b, c", "Answer: a, b, c, d", 0, 1},
    {L, "a, b, c", "Answer: a, b, b, c", 0, 1},
    {L, "1, 2, 3", "Answer: 1, 2.0, 3.00", 1, 1},
    {L, "1, 2, 3", "Answer: 1, 2, 4", 0, 1},
    {L, "LTUCRHGAXK, QWERTYUIOP", "Answer: LTUCRHGAXK, QWERTYUIOP", 1, 1},
    {L, "LTUCRHGAXK, QWERTYUIOP", "Answer: QWERTYUIOP, LTUCRHGAXK", 0, 1},
    {L, "x", "Answer: x", 1, 1},
    {L, "x", "Answer: x, x", 0, 1},
    /* ---- sets (unordered) ---- */
    {T, "a, b, c", "Answer: c, b, a", 1, 1},
    {T, "a, b, c", "Answer: b, a, c", 1, 1},
    {T, "a, b, c", "Answer: {c, a, b}", 1, 1},
    {T, "a, b, c", "Answer: a, b, c, a", 1, 1},
    {T, "a, b, c", "Answer: a, b", 0, 1},
    {T, "a, b, c", "Answer: a, b, d", 0, 1},
    {T, "a, b, c", "Answer: a, b, c, d", 0, 1},
    {T, "1, 2", "Answer: 2.0, 1", 1, 1},
    {T, "", "Answer: none", 1, 1},
    {T, "", "Answer: a", 0, 1},
    {T, "a", "Answer: none", 0, 1},
    /* ---- strict: hedges, negations and every-option answers score 0 (issue 17) ---- */
    {C, "A", "Answer: A or Z", 0, 1},
    {C, "A", "Answer: A or B or C or D", 0, 1},
    {C, "A", "Answer: A, B, C, D", 0, 1},
    {C, "A", "Answer: A B C D", 0, 1},
    {C, "A", "Answer: ABCD", 0, 1},
    {C, "A", "Answer: A/B", 0, 1},
    {C, "A", "Answer: A|B", 0, 1},
    {C, "A", "Answer: A and B", 0, 1},
    {C, "A", "Answer: (A) or (B)", 0, 1},
    {C, "A", "Answer: A (not B)", 0, 1},
    {C, "A", "Answer: not A", 0, 1},
    {C, "A", "Answer: A, not B", 0, 1},
    {C, "A", "Answer: either A", 0, 1},
    {C, "A", "Answer: A. [ID: B-292]", 1, 1},
    {C, "A", "Answer: A: Document 3", 1, 1},
    {C, "A", "Answer: A. Document 3 (B)", 0, 1},
    {C, "A", "\\boxed{A} or \\boxed{B}", 0, 0},
    {C, "A", "Answer: B\nAnswer: A or B", 0, 1},
    {N, "518", "Answer: 518 or zzqx", 0, 1},
    {N, "518", "Answer: not 518", 0, 1},
    {N, "518", "Answer: 518, not 519", 0, 1},
    {N, "518", "Answer: NOT 518", 0, 1},
    {N, "518", "Answer: it isn't 518", 0, 1},
    {N, "518", "Answer: it isn\xe2\x80\x99t 518", 0, 1},
    {N, "518", "Answer: 518 or 518", 0, 1},
    {N, "518", "Answer: 518/519", 0, 1},
    {N, "518", "Answer: 518 | 519", 0, 1},
    {N, "518", "Answer: x != 518", 0, 1},
    {N, "518", "Answer: x \xe2\x89\xa0 518", 0, 1},
    {N, "518", "Answer: 518 \xc2\xb1 1", 0, 1},
    {N, "518", "Answer: 518 +/- 1", 0, 1},
    {N, "518", "Answer: x < 519 = 518", 0, 1},
    {N, "518", "Answer: x >= 518", 0, 1},
    {N, "518", "Answer: neither 517 nor 519 but 518", 0, 1},
    {N, "518", "Answer: 518 unless rounding", 0, 1},
    {N, "518", "Answer: no 518", 0, 1},
    {N, "518", "\\boxed{518 \\text{ or } 519}", 0, 0},
    {N, "518", "The answer is not 518.", 0, 0},
    {N, "518", "Answer: 518 zqx", 1, 1},                /* a unit word is not a hedge */
    {N, "518", "Answer: 518 ordinals", 1, 1},           /* "or" only as a whole word */
    {N, "518", "Answer: 1036/2 = 518", 1, 1},           /* slash left of '=' */
    {N, "518", "Answer: 518 518", 1, 1},                /* one distinct number */
    {N, "0.5", "Answer: 1/2", 0, 1},
    {S, "blue", "Answer: blue or green", 0, 1},
    {S, "blue or green", "Answer: Blue or Green", 1, 1}, /* the gold's own marker is fine */
    {S, "not blue", "Answer: not blue", 1, 1},
    {S, "blue", "Answer: not blue", 0, 1},
    {L, "a, b", "Answer: a, b or c", 0, 1},
    {L, "a, b", "Answer: a, b, not c", 0, 1},
    {L, "a, b", "Answer: a/c, b", 0, 1},
    {T, "a, b", "Answer: b, a or c", 0, 1},
    {T, "a, b", "Answer: b | a", 0, 1},
    {T, "a/x, b", "Answer: b, a/x", 1, 1},
    {T, "", "Answer: not none", 0, 1},
};

static void test_table(void) {
  int n = (int)(sizeof CASES / sizeof CASES[0]);
  for (int i = 0; i < n; i++) {
    const vcase *c = &CASES[i];
    skill_verdict v;
    skl_error err = {0};
    skl_status st = skill_verify(c->t, c->gold, c->response, &v, &err);
    CHECK_MSG(st == SKL_OK, "case %d: status %s: %s", i, skl_status_name(st), err.msg);
    CHECK_MSG(v.correct == c->correct, "case %d (%s) gold '%s' response '%s': correct=%d extracted='%s'", i,
              skill_answer_type_name(c->t), c->gold, c->response, v.correct, v.extracted);
    CHECK_MSG(v.has_format == c->format, "case %d response '%s': has_format=%d", i, c->response, v.has_format);
  }
  printf("verdict table: %d cases\n", n);
}

static void test_extract(void) {
  char out[SKILL_ANSWER_MAX];
  int fmt = -1;
  CHECK(skill_answer_extract(NULL, out, sizeof out, &fmt) == 0);
  CHECK_STR(out, "");
  CHECK(fmt == 0);
  CHECK(skill_answer_extract("no answer here", out, sizeof out, &fmt) == 0);
  CHECK(skill_answer_extract("Answer: **Doc 3**.", out, sizeof out, &fmt) == 1);
  CHECK_STR(out, "Doc 3");
  CHECK(fmt == 1);
  CHECK(skill_answer_extract("x\n\\boxed{\\frac{1}{2}}", out, sizeof out, &fmt) == 1);
  CHECK_STR(out, "\\frac{1}{2}");
  CHECK(fmt == 0);
  /* a tiny buffer cuts, never overflows */
  char small[4];
  CHECK(skill_answer_extract("Answer: 123456", small, sizeof small, NULL) == 1);
  CHECK_STR(small, "123");
  /* a cut never splits a UTF-8 character: 300 x U+00E9 keeps 255 of them (510 bytes) */
  char accents[8 + 600 + 1] = "Answer: ";
  for (int i = 0; i < 300; i++) memcpy(accents + 8 + 2 * i, "\xc3\xa9", 3);
  CHECK(skill_answer_extract(accents, out, sizeof out, NULL) == 1);
  CHECK(strlen(out) == 510);
  CHECK(strcmp(out + 508, "\xc3\xa9") == 0);
  /* huge response: 4 MB of filler, answer at the end, then at the start */
  size_t big = 4u << 20;
  char *r = malloc(big + 64);
  CHECK(r != NULL);
  if (!r) return;
  for (size_t i = 0; i < big; i++) r[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 26);
  strcpy(r + big, "\nAnswer: 7");
  skill_verdict v;
  CHECK(skill_verify(SKILL_ANSWER_NUMBER, "7", r, &v, NULL) == SKL_OK);
  CHECK(v.correct == 1);
  memcpy(r, "Answer: 7\n", 10);
  r[big] = '\0';
  CHECK(skill_verify(SKILL_ANSWER_NUMBER, "7", r, &v, NULL) == SKL_OK);
  CHECK(v.correct == 1 && v.has_format == 1);
  /* one giant answer line: cut to SKILL_ANSWER_MAX-1 bytes, wrong, no crash */
  memset(r, '9', big);
  memcpy(r, "Answer: ", 8);
  r[big] = '\0';
  CHECK(skill_verify(SKILL_ANSWER_NUMBER, "7", r, &v, NULL) == SKL_OK);
  CHECK(v.correct == 0);
  CHECK(strlen(v.extracted) == SKILL_ANSWER_MAX - 1);
  free(r);
}

static void test_numbers(void) {
  double x;
  CHECK(skill_answer_parse_number("1,234.5", &x) && x == 1234.5);
  CHECK(skill_answer_parse_number(" -0.25 ", &x) && x == -0.25);
  CHECK(skill_answer_parse_number("12%", &x) && x == 12);
  CHECK(skill_answer_parse_number("\xe2\x82\xac" "12", &x) && x == 12);
  CHECK(skill_answer_parse_number("1e-3", &x) && x == 0.001);
  CHECK(skill_answer_parse_number("5e", &x) == 0); /* "e" glued to a number: not one number */
  CHECK(!skill_answer_parse_number("", &x));
  CHECK(!skill_answer_parse_number("-", &x));
  CHECK(!skill_answer_parse_number(".", &x));
  CHECK(!skill_answer_parse_number("inf", &x));
  CHECK(!skill_answer_parse_number("nan", &x));
  CHECK(!skill_answer_parse_number("1e999", &x));
  CHECK(!skill_answer_parse_number("1 2", &x));
  CHECK(!skill_answer_parse_number("0x1A", &x));
  CHECK(!skill_answer_parse_number(NULL, &x));

  char b[64];
  skl_error err = {0};
  struct { double v; const char *s; } R[] = {{42, "42"}, {3.1, "3.1"}, {3.10, "3.1"}, {-0.001, "0"}, {-0.0, "0"},
                                           {2.675, "2.68"}, {0.125, "0.13"}, {-0.125, "-0.13"}, {1e6, "1000000"},
                                           {-17.5, "-17.5"}, {1234.005, "1234.01"}, {99.999, "100"}};
  for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
    CHECK(skill_answer_render_number(R[i].v, b, sizeof b, &err) == SKL_OK);
    CHECK_MSG(!strcmp(b, R[i].s), "render %.17g -> '%s', want '%s'", R[i].v, b, R[i].s);
  }
  CHECK(skill_answer_render_number(NAN, b, sizeof b, &err) == SKL_ERR_NUMERIC);
  CHECK_CONTAINS(err.msg, "NaN");
  CHECK(skill_answer_render_number(INFINITY, b, sizeof b, &err) == SKL_ERR_NUMERIC);
  CHECK_CONTAINS(err.msg, "infinite");
  CHECK(skill_answer_render_number(123456, b, 4, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "cannot hold '123456'");
}

/* A rendered gold always verifies against itself, and off-by-0.01 never does. */
static void test_roundtrip(void) {
  skl_rng r;
  skl_rng_seed(&r, 7);
  int bad = 0;
  for (int i = 0; i < 2000; i++) {
    double v = (skl_rng_uniform(&r) - 0.5) * pow(10, (double)skl_rng_range(&r, -2, 9));
    char gold[64], resp[128];
    skill_answer_render_number(v, gold, sizeof gold, NULL);
    skill_verdict vd;
    snprintf(resp, sizeof resp, "Some reasoning.\n**Answer:** %s", gold);
    skill_verify(SKILL_ANSWER_NUMBER, gold, resp, &vd, NULL);
    if (!vd.correct && bad++ < 5) fprintf(stderr, "gold %s response %s\n", gold, resp);
    snprintf(resp, sizeof resp, "Answer: %.6f", v); /* more digits still round to the gold */
    skill_verify(SKILL_ANSWER_NUMBER, gold, resp, &vd, NULL);
    if (!vd.correct && bad++ < 5) fprintf(stderr, "gold %s response %s\n", gold, resp);
    double g;
    skill_answer_parse_number(gold, &g);
    snprintf(resp, sizeof resp, "Answer: %.2f", g + 0.01);
    skill_verify(SKILL_ANSWER_NUMBER, gold, resp, &vd, NULL);
    if (vd.correct && bad++ < 5) fprintf(stderr, "gold %s response %s\n", gold, resp);
  }
  CHECK_MSG(bad == 0, "%d round-trip failures", bad);
}

/* Random bytes never crash and never count as correct for a gold they lack. */
static void test_garbage(void) {
  skl_rng r;
  skl_rng_seed(&r, 99);
  char buf[600];
  int wrong = 0;
  for (int i = 0; i < 3000; i++) {
    size_t n = (size_t)skl_rng_below(&r, sizeof buf - 1);
    for (size_t j = 0; j < n; j++) {
      int pick = (int)skl_rng_below(&r, 8);
      buf[j] = pick == 0 ? '\n' : pick == 1 ? (char)(1 + skl_rng_below(&r, 255)) : "Answer:{}\\boxed *,"[skl_rng_below(&r, 19)];
    }
    buf[n] = '\0';
    for (int t = 0; t < SKILL_ANSWER_TYPE_COUNT; t++) {
      skill_verdict v;
      const char *gold = t == SKILL_ANSWER_NUMBER ? "123456.78" : t == SKILL_ANSWER_CHOICE ? "D" : "zqx-unlikely";
      CHECK(skill_verify((skill_answer_type)t, gold, buf, &v, NULL) == SKL_OK);
      wrong += v.correct;
    }
  }
  CHECK_MSG(wrong == 0, "%d garbage responses judged correct", wrong);
}

static void test_errors(void) {
  skill_verdict v;
  skl_error err = {0};
  CHECK(skill_verify(SKILL_ANSWER_NUMBER, "abc", "Answer: abc", &v, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "gold answer 'abc' is not a valid number answer");
  CHECK(v.correct == 0);
  CHECK(skill_verify(SKILL_ANSWER_CHOICE, "maybe", "Answer: A", &v, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "not a valid choice answer");
  CHECK(skill_verify(SKILL_ANSWER_STRING, "", "Answer: x", &v, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "string");
  CHECK(skill_verify(SKILL_ANSWER_LIST, "a,,b", "Answer: a", &v, &err) == SKL_ERR_INVALID);
  CHECK(skill_verify(SKILL_ANSWER_NUMBER, NULL, "Answer: 1", &v, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "(null)");
  CHECK(skill_verify((skill_answer_type)17, "1", "Answer: 1", &v, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "unknown answer type 17");
  skill_answer_type t;
  CHECK(skill_answer_type_parse("choice", &t, &err) == SKL_OK && t == SKILL_ANSWER_CHOICE);
  CHECK(skill_answer_type_parse("numeric", &t, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "unknown answer_type 'numeric': use one of number, string, choice, list, set");
  for (int i = 0; i < SKILL_ANSWER_TYPE_COUNT; i++) {
    CHECK(skill_answer_type_parse(skill_answer_type_name((skill_answer_type)i), &t, NULL) == SKL_OK && (int)t == i);
    CHECK_CONTAINS(skill_answer_instruction((skill_answer_type)i), "Answer:");
  }
  CHECK_STR(skill_answer_type_name((skill_answer_type)99), "unknown");
  CHECK(skill_answer_match(SKILL_ANSWER_NUMBER, "x", "1") == -1);
  CHECK(skill_answer_match(SKILL_ANSWER_NUMBER, "1", NULL) == 0);
}

int main(void) {
  test_table();
  test_extract();
  test_numbers();
  test_roundtrip();
  test_garbage();
  test_errors();
  return test_report();
}
