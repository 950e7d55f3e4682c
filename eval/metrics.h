/* eval metrics: per-sample scores exactly as the long-context benchmarks'
 * own Python scorers define them (SQuAD/LongBench EM and F1, RULER string
 * match, OpenAI MRCR difflib ratio, LongBench v2 choice, BABILong labels) and
 * the skill answer verifiers. Not a loader or a report: see eval/score.h.
 *
 * Every score is in [0, 1] for ONE sample. Benchmarks report the mean x 100
 * (RULER additionally rounds to 2 decimals); eval/score.h does that.
 * Text is UTF-8 and compared as Unicode code points, as Python str does. */
#ifndef EVAL_METRICS_H
#define EVAL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "skills/blueprint.h"

/* SQuAD / LongBench normalize_answer: lower case (Python str.lower), drop
 * ASCII punctuation (string.punctuation), replace the words a/an/the by a
 * space (regex \b(a|an|the)\b, Unicode word boundaries), fold whitespace
 * runs to one space and trim. E.g. "The  Cat's hat!" -> "cats hat".
 * @return SKL_OK (*out malloc'd, NUL-terminated) or SKL_ERR_NOMEM */
skl_status eval_normalize_answer(const char *s, char **out, skl_error *err);

/* Exact match after normalisation: 1 or 0; max over the n_gold answers
 * (0 when n_gold == 0). */
skl_status eval_exact_match(const char *pred, const char *const *gold, size_t n_gold, double *score,
                            skl_error *err);

/* Token F1 over whitespace tokens of the normalised texts (multiset overlap;
 * 0 when nothing overlaps, including both empty, as SQuAD v1.1 and
 * LongBench's qa_f1_score); max over the gold answers. */
skl_status eval_token_f1(const char *pred, const char *const *gold, size_t n_gold, double *score,
                         skl_error *err);

/* RULER (scripts/eval/synthetic/constants.py + evaluate.py postprocess_pred):
 * the prediction is stripped, control characters U+0000..U+001F become
 * newlines, stripped again; then each reference r counts if r.lower() is a
 * substring of pred.lower().
 *   all  (string_match_all):  found / n_refs   (niah, vt, cwe, fwe)
 *   part (string_match_part): 1 if any found    (qa)
 * RULER's task score is 100 x the mean over samples, rounded to 2 decimals.
 * @return SKL_ERR_INVALID when n_refs == 0 (RULER divides by it) */
skl_status eval_ruler_match(const char *pred, const char *const *refs, size_t n_refs, bool all,
                            double *score, skl_error *err);

/* difflib.SequenceMatcher(None, a, b).ratio() over code-point arrays,
 * reproduced exactly: autojunk (len(b) >= 200: elements of b occurring more
 * than len(b)/100 + 1 times are ignored as match seeds), find_longest_match's
 * tie-breaking and extension, get_matching_blocks' recursion;
 * ratio = 2*M / (len(a) + len(b)), 1.0 when both are empty.
 * @return SKL_OK or SKL_ERR_NOMEM */
skl_status eval_seqmatch_ratio(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, double *ratio,
                               skl_error *err);
/* The same on UTF-8 strings (decoded to code points first). */
skl_status eval_seqmatch_ratio_utf8(const char *a, const char *b, double *ratio, skl_error *err);

/* OpenAI MRCR grade(response, answer, random_string_to_prepend): 0 unless
 * response starts with the prefix; otherwise the prefix is removed from both
 * (from the answer only if it starts with it) and the score is
 * SequenceMatcher(None, response, answer).ratio(). */
skl_status eval_mrcr_grade(const char *response, const char *answer, const char *prefix, double *score,
                           skl_error *err);

/* LongBench v2 extract_answer: '*' removed, then the first
 * "The correct answer is (X)", else the first "The correct answer is X",
 * X in A-D (case-sensitive). @return the letter, or 0 when none matches. */
char eval_longbench_v2_extract(const char *response);

/* BABILong compare_answers(target, output, question, task_labels): output
 * lower-cased and cut at its first '.', '<context>', '<example>'; labels
 * (lower-cased) found as substrings of the output, minus those found in the
 * question, must be exactly {target}. Labels per task qa1..qa10 as in
 * babilong/metrics.py TASK_LABELS (qa8 has none).
 * @return true when correct */
bool eval_babilong_compare(const char *target, const char *output, const char *question,
                           const char *const *labels, size_t n_labels);
/* The closed label set of a BABILong task ("qa1".."qa10").
 * @return SKL_OK, or SKL_ERR_UNSUPPORTED naming the tasks that have one */
skl_status eval_babilong_labels(const char *task, const char *const **labels, size_t *n, skl_error *err);

/* Binary correctness of a skill response against the gold answer by answer
 * type: skills/answer.h's skill_verify, the same verifier the RL reward uses
 * (answer extraction and per-type comparison are documented there).
 * extracted (may be NULL) gets the cleaned extracted answer, "" when none.
 * @return SKL_OK (*correct set) or SKL_ERR_INVALID when the gold is not a
 *         valid answer of its type (e.g. NUMBER gold "abc") */
skl_status eval_verify(skill_answer_type type, const char *gold, const char *response, bool *correct,
                       char *extracted, size_t cap, skl_error *err);

#endif
