/* synth oracle: an independent solver that reads ONLY the rendered prompt
 * text (never the blueprint) and computes the answer, so every emitted sample
 * is checked twice (DESIGN.md §1.2). Not a model and not the expression evaluator.
 *
 * It relies on the rendering contract of synth/render.h (documents headed
 * "Document k", "Question: " after them, the answer-format line last) and on
 * the insert formats of the skills/ generators:
 *   "Entry NAME: its value is SPEC."     SPEC: 4821 | the result of 17 + 25 |
 *       the result of (17 - 5) * 3 | the largest/smallest of 1, 2, 3 |
 *       the value of entry NAME2   (a multi_hop link)
 *   "Problem NAME (part i of n): Setup: ... | Given: v = 12. | Step: s = a op b. |
 *       Question: what is the value of s?"
 * and on the meta-question shapes of each skill (niah, anti_interference,
 * multi_hop, multi_source, calc_reason, logic). */
#ifndef SYNTH_ORACLE_H
#define SYNTH_ORACLE_H

#include <stddef.h>

#include "core/error.h"
#include "skills/blueprint.h"

/* Solve the question of a rendered user message. `skill` is the skill id
 * (a hint for which question shapes to expect); the answer is written in the
 * canonical form of its type (numbers as skill_answer_render_number).
 * @return SKL_OK; SKL_ERR_NOTFOUND when the text lacks what the question
 *         needs (entry absent, ambiguous, problem part missing);
 *         SKL_ERR_UNSUPPORTED for a question shape the oracle does not know;
 *         SKL_ERR_PARSE for a malformed prompt. */
skl_status synth_oracle_solve(const char *skill, const char *user, size_t len, char *answer, size_t cap,
                              skl_error *err);

#endif
