/* skill answers: the answer types' rendering and the verifiers shared by the RL
 * reward and eval (extract the final answer from a response, normalise, compare).
 * Not a judge for free-form answers (rl/ plugs one in) and not the expression evaluator.
 *
 * Extraction (skill_answer_extract), first rule that finds something wins:
 *   1. the LAST line that starts with "Answer:" or "Final answer:" (case-insensitive;
 *      markdown around it is ignored: "**Answer:** 42", "## Final Answer: 42",
 *      "> Answer: 42"); if nothing follows the colon, the next non-empty line.
 *      Only this rule sets has_format.
 *   2. the last \boxed{...} (balanced braces);
 *   3. the last "the answer is X" (case-insensitive), up to the end of the line.
 * The extracted text is cleaned: surrounding whitespace, markdown (** __ ` $),
 * quotes, a trailing period, \boxed{..} / \text{..} wrappers and a leading
 * "the answer is" are removed.
 *
 * Comparison per type (skill_answer_match):
 *   NUMBER  gold is a number rendered with at most 2 decimals (skill_answer_render_number).
 *           The response may use thousands commas ("1,234.5"), a sign ("-", "+",
 *           U+2212), scientific notation ("1.2e3"), a currency prefix ("$"),
 *           a percent suffix ("50%" reads as 50, the number as written) and
 *           trailing unit words ("42 units"). "x = 42" reads the part after the last
 *           '='. Text holding two or more different numbers is ambiguous: wrong.
 *           Correct iff |x - gold| <= SKILL_NUMBER_TOL (+1e-9 relative), i.e. the
 *           response rounds to the gold at 2 decimals (half-way cases accepted).
 *   STRING  equal after NFKC + case fold (ASCII lower-case for invalid UTF-8),
 *           whitespace collapsed, surrounding quotes/brackets and final period removed.
 *   CHOICE  one letter: "C", "(C)", "C)", "C.", "Option C", "C: <option text>".
 *   LIST    comma- (or semicolon-) separated items, optional surrounding [ ];
 *           items compared as STRING, or as NUMBER when both parse; order matters.
 *   SET     as LIST, order and duplicates ignored.
 *
 * Strict: the extracted answer must hold exactly one candidate of the type, so
 * a policy trained against this verifier cannot win by hedging. Each of these
 * scores 0, unless the gold itself holds the same marker:
 *   - a hedge or negation word (whole word, ASCII case-insensitive): or, nor,
 *     not, no, never, neither, either, except, unless, excluding, or any word
 *     ending in n't ("isn't", "can't"; ' or U+2019);
 *   - an alternative or inequality symbol: '|', "!=", U+2260, U+00B1 (plus-minus),
 *     '<', '>', U+2264, U+2265; and '/' (NUMBER: only right of the last '=',
 *     so "100/3 = 33.33" still reads 33.33, but "42/43" or "1/2" does not);
 *   - CHOICE: a second stand-alone letter after the chosen one ("A B",
 *     "A and (B)", "A, B, C, D"); option text without one is fine ("C: Doc 3");
 *   - NUMBER: two different numbers ("42 or 43" was already wrong);
 *   - an empty answer.
 * python/skillrl_reward.py implements the same rules, byte for byte; the test
 * tests/skills/diff_reward.py checks that both give the same verdicts. */
#ifndef SKILL_ANSWER_H
#define SKILL_ANSWER_H

#include <stddef.h>

#include "core/error.h"
#include "skills/blueprint.h"

/* Absolute tolerance for NUMBER answers: half a unit of the 2nd decimal. */
#define SKILL_NUMBER_TOL 0.005

/* Longest extracted answer kept (bytes, including the NUL); longer text is cut,
 * never inside a UTF-8 character. */
#define SKILL_ANSWER_MAX 512

typedef struct {
  int correct;                     /* 1 when the extracted answer matches the gold */
  int has_format;                  /* 1 when an "Answer:" line was present (rule 1) */
  int found;                       /* 1 when any rule extracted something */
  char extracted[SKILL_ANSWER_MAX]; /* cleaned extracted answer, "" when none */
} skill_verdict;

/* @return stable name of an answer type: "number", "string", "choice", "list", "set" */
const char *skill_answer_type_name(skill_answer_type t);

/* Parse a name written by skill_answer_type_name.
 * @return SKL_OK, or SKL_ERR_INVALID naming the accepted values */
skl_status skill_answer_type_parse(const char *name, skill_answer_type *out, skl_error *err);

/* One line asking for the final answer in the form the verifier reads best,
 * e.g. "End your response with a line of the form \"Answer: <number>\" ..."
 * The meta-question in a blueprint does NOT contain it: the renderer appends it.
 * @return a static string */
const char *skill_answer_instruction(skill_answer_type t);

/* Render a gold number: rounded half away from zero to 2 decimals, trailing
 * zeros dropped, no exponent, "-0" written "0". E.g. 42 -> "42", 3.10 -> "3.1".
 * @return SKL_OK, SKL_ERR_NUMERIC for NaN/inf, SKL_ERR_RANGE if cap is too small */
skl_status skill_answer_render_number(double v, char *out, size_t cap, skl_error *err);

/* Parse one number as described above (the whole text must be one number, with
 * optional currency prefix, percent suffix and trailing unit words).
 * @return 1 on success, 0 if the text is not exactly one number */
int skill_answer_parse_number(const char *s, double *out);

/* Extract and clean the final answer of a response (rules above).
 * response may be NULL or hold any bytes. out gets "" when nothing is found.
 * @return 1 when something was found, 0 otherwise */
int skill_answer_extract(const char *response, char *out, size_t cap, int *has_format);

/* Compare an already-extracted answer with the gold.
 * @return 1 match, 0 no match, -1 when the gold itself is not valid for the type */
int skill_answer_match(skill_answer_type t, const char *gold, const char *answer);

/* Score a response against the gold: extract, normalise, compare.
 * @return SKL_OK (verdict filled, correct may be 0); SKL_ERR_INVALID when the gold
 *   is not a valid answer of type t (e.g. NUMBER gold "abc") or t is unknown;
 *   the verdict is still filled with correct = 0. */
skl_status skill_verify(skill_answer_type t, const char *gold, const char *response,
                        skill_verdict *out, skl_error *err);

#endif
