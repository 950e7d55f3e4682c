/* synth expr: the answer-expression language over a skill blueprint (parse,
 * evaluate, render the gold answer). Not the generator that writes them (skills/).
 *
 * Every gold answer is the evaluation of the sample's expression (DESIGN.md §1.2).
 * Names: a0..aN are anchors (index into bp->anchors), d0..dN documents
 * (index into the blueprint's documents, rendered "Document N+1").
 *
 * Grammar (Python-like precedence, lowest first):
 *   expr    := 'if' expr 'then' expr 'else' expr | or ['if' or 'else' expr]
 *   or      := and ('or' and)*          and := not ('and' not)*
 *   not     := 'not' not | cmp
 *   cmp     := bor (('<'|'<='|'>'|'>='|'=='|'!='|'in'|'not' 'in') bor)*
 *   bor     := band ('|' band)*         band := add ('&' add)*
 *   add     := mul (('+'|'-') mul)*     ('-' on sets is set difference)
 *   mul     := unary (('*'|'/'|'%') unary)*
 *   unary   := '-' unary | postfix      postfix := primary ('[' expr ']')*
 *   primary := NUMBER | "str" | 'str' | true | false | a7 | d2 | NAME
 *            | NAME '(' args ')' | NAME '(' expr 'for' NAME 'in' or ['if' or] ')'
 *            | '[' items ']' | '[' expr 'for' NAME 'in' or ['if' or] ']' | '(' expr ')'
 *
 * Functions (x: any value, A: anchor, D: doc, S: set or list):
 *   docs(A)            set of docs holding an occurrence of A
 *   anchors_in(D|S)    set of anchors with an occurrence in the doc(s)
 *   in_doc(D|S)        the doc set, as a filter for Q
 *   Q(A[, in_doc(S)])  A's embedded question; with a filter, the anchor of the
 *                      same name whose occurrence lies in S (must be unique)
 *   solve(Q|A)         the embedded question's answer (number or string)
 *   name(A)            anchor string;  doc(A) first doc holding A
 *   mentions(A)        number of inserts naming A (same name counts)
 *   occurrences(A)     anchors sharing A's name, in reading order (list)
 *   sequence([D|S])    anchor occurrences in reading order (list, with repeats)
 *   anchors() all_docs()  every anchor / every doc (sets)
 *   count(S) len(S|str)   size;  set(S) unique-sorted;  sorted(S)
 *   first(S) last(S)      S[i] (negative i counts from the end)
 *   sum product min max any all argmax argmin: over a list, several
 *                      arguments, or a generator `f(x for v in S [if c])`
 *                      (argmax/argmin refuse ties: the answer must be unique)
 *   round(x, n) abs(x) floor(x) ceil(x) num(x) str(x)
 *   letter(x)          choice letter A-D whose text equals str(x)
 * Errors name the position: "expr 'docs(a1' at col 8: expected ')'". */
#ifndef SYNTH_EXPR_H
#define SYNTH_EXPR_H

#include <stddef.h>

#include "core/error.h"
#include "skills/blueprint.h"

typedef struct synth_expr synth_expr;

/* Parse an expression. *out is owned by the caller (synth_expr_free).
 * @return SKL_OK or SKL_ERR_PARSE (message has the column and a caret line). */
skl_status synth_expr_parse(const char *src, synth_expr **out, skl_error *err);
void synth_expr_free(synth_expr *e);

/* Evaluate over bp and render the result as answer text of `type`:
 * NUMBER rounded to 2 decimals without trailing zeros ("42", "3.5");
 * STRING as text (anchor -> its name, doc -> "Document N", bool -> yes/no);
 * CHOICE a letter (a value that is not a letter is matched to bp->choices);
 * LIST items joined by ", " in order; SET the same, sorted.
 * @return SKL_OK, SKL_ERR_INVALID (type error, unknown name), SKL_ERR_RANGE
 *         (index out of range, ambiguous Q/argmax), SKL_ERR_NUMERIC (x/0). */
skl_status synth_expr_eval(const synth_expr *e, const skill_blueprint *bp, skill_answer_type type,
                           char *out, size_t cap, skl_error *err);

/* Parse + evaluate bp->expr and write bp->answer (the one way gold answers
 * are made). @return as synth_expr_parse / synth_expr_eval. */
skl_status synth_expr_answer(skill_blueprint *bp, skl_error *err);

/* Number formatting shared with the oracles: round to 2 decimals, no
 * trailing zeros, no "-0". Writes at most cap bytes. */
void synth_format_number(double x, char *out, size_t cap);

#endif
