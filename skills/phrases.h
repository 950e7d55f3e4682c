/* skill phrases: the fixed English that the skill builders (skills/) and
 * synth/render.c write into a prompt and synth/oracle.c reads back to solve
 * it. Not a template engine: each macro is a string literal, pasted into the
 * writer's format and searched for (or skipped, by SKILL_PH_LEN) by the
 * oracle, so rewording a phrase here changes both sides at once. Rewording
 * one changes every dataset's bytes (a new dataset, not a bug fix).
 *
 * Example: skills/build.c writes an entry with
 *   skill_bp_insert(..., SKILL_PH_ENTRY "%s" SKILL_PH_ENTRY_IS "%s.", name, spec)
 * and the oracle finds SKILL_PH_ENTRY, then SKILL_PH_ENTRY_IS on its line. */
#ifndef SKILL_PHRASES_H
#define SKILL_PHRASES_H

/* Length of a phrase (a string literal) without its NUL. */
#define SKILL_PH_LEN(lit) (sizeof(lit) - 1)

/* ---- layout (synth/render.c) ---- */
#define SKILL_PH_DOCUMENT "Document " /* "Document k\n" heads document k; logic's options name documents so */
#define SKILL_PH_QUESTION "Question: " /* the meta-question's line */

/* ---- an embedded entry: "Entry NAME: its value is SPEC." (skills/build.c) ---- */
#define SKILL_PH_ENTRY "Entry "
#define SKILL_PH_ENTRY_IS ": its value is "
/* SPEC is a number or one of these (skills/build.c, skills/multi_hop.c): */
#define SKILL_PH_RESULT_OF "the result of "      /* "a op b" or "(a op b) * z" */
#define SKILL_PH_LARGEST_OF "the largest of "    /* "x, y, z" */
#define SKILL_PH_SMALLEST_OF "the smallest of "  /* "x, y, z" */
#define SKILL_PH_VALUE_OF_ENTRY "the value of entry " /* NAME: a multi_hop link */

/* ---- entry questions: niah, anti_interference, multi_hop ---- */
#define SKILL_PH_ASK_VALUE "What is the value of entry " /* NAME "?" */
/* anti_interference, conflict: SKILL_PH_CONFLICT NAME SKILL_PH_SEVERAL " with different values. " then
 * SKILL_PH_IN_DOC "k?" or "What is the value given by " SKILL_PH_FIRST_OCC / SKILL_PH_LAST_OCC "...?" */
#define SKILL_PH_CONFLICT "The entry "
#define SKILL_PH_SEVERAL " appears several times"
#define SKILL_PH_IN_DOC "What is its value in Document "
#define SKILL_PH_FIRST_OCC "its first occurrence"
#define SKILL_PH_LAST_OCC "its last occurrence"

/* ---- multi_source: "Problem NAME (part i of n): Given: x = 5." ---- */
#define SKILL_PH_PROBLEM "Problem "
#define SKILL_PH_PART " (part "
#define SKILL_PH_PART_OF " of "
#define SKILL_PH_PART_END "):"
#define SKILL_PH_SETUP "Setup: "
#define SKILL_PH_GIVEN "Given: "                           /* "x = 5." */
#define SKILL_PH_STEP "Step: "                             /* "r = a op b." */
#define SKILL_PH_ASK_PART "Question: what is the value of " /* "r?" */
#define SKILL_PH_PARTS "The parts of problem "             /* NAME SKILL_PH_SCATTERED "..." */
#define SKILL_PH_SCATTERED " are scattered"

/* ---- calc_reason: "Let n be the " SKILL_PH_COUNT "X. " SKILL_PH_IF_N "3, " SKILL_PH_COMPUTE
 * "the sum" SKILL_PH_OPERANDS "A and B" SKILL_PH_OTHERWISE ", " SKILL_PH_COMPUTE "the product of
 * those values. ..."; with two conditions X is followed by SKILL_PH_AND_M "Y" and the first
 * otherwise by ", " SKILL_PH_IF_M "k, " SKILL_PH_COMPUTE "..." ---- */
#define SKILL_PH_COUNT "number of documents that contain entry "
#define SKILL_PH_AND_M ", and m the " SKILL_PH_COUNT
#define SKILL_PH_IF_N "If n is greater than "
#define SKILL_PH_IF_M "if m is greater than "
#define SKILL_PH_COMPUTE "compute "
#define SKILL_PH_OPERANDS " of the values of entries "
#define SKILL_PH_OTHERWISE "; otherwise"
/* The operations, in the order of calc_reason's enum and the oracle's apply_op:
 * sum, product, average, largest, smallest. An initializer: */
#define SKILL_PH_OP_WORDS {"the sum", "the product", "the average", "the largest", "the smallest"}

/* ---- logic: a question, then options "\nA. ..." ---- */
#define SKILL_PH_LOGIC_UNIQUE "Which of these entries appears in exactly one document?"
#define SKILL_PH_LOGIC_MOST "Which document contains the most entries?"
#define SKILL_PH_LOGIC_BEFORE_LAST "Which of them comes immediately before the last one?"
#define SKILL_PH_LOGIC_BOTH "Which entry appears in both Document " /* "i and Document j?" */

#endif
