/* skill blueprint: what one synthetic sample is before it becomes text —
 * documents, anchors with embedded questions, their placements, the
 * meta-question and its answer expression (DESIGN.md §1.2, stages 1-2).
 * Not the renderer (synth/context) and not the evaluator (synth/expr). */
#ifndef SKILL_BLUEPRINT_H
#define SKILL_BLUEPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* How an anchor string looks when rendered. */
typedef enum {
  SKILL_ANCHOR_BRACKET_ID, /* "[ID: B-292]" */
  SKILL_ANCHOR_TIMESTAMP,  /* "1760536321726-5em0" */
  SKILL_ANCHOR_UPPER_WORD, /* "LTUCRHGAXK" */
  SKILL_ANCHOR_UUID,       /* "3f2b8c1e-..." */
  SKILL_ANCHOR_KIND_COUNT
} skill_anchor_kind;

/* Answer types: verifiers in skills/answer.h score each of them. */
typedef enum {
  SKILL_ANSWER_NUMBER, /* numeric, compared with tolerance (2-decimal rounding) */
  SKILL_ANSWER_STRING, /* exact string after normalisation */
  SKILL_ANSWER_CHOICE, /* multiple-choice letter A-D */
  SKILL_ANSWER_LIST,   /* ordered list, comma-separated */
  SKILL_ANSWER_SET,    /* unordered set, comma-separated */
  SKILL_ANSWER_TYPE_COUNT
} skill_answer_type;

/* Value of an embedded question: a number or a string. */
typedef struct {
  int is_number;
  double num;
  char str[96];
} skill_value;

/* An anchor: a unique string plus an embedded question with a known answer
 * (a literal value, a small arithmetic problem, or a lookup).
 * E.g. name "[ID: B-292]", question "What is 17 + 25?", value 42. */
typedef struct {
  char name[64];
  skill_anchor_kind kind;
  char question[256];  /* embedded question text rendered next to the anchor */
  skill_value value;   /* solve(Q(a)) */
} skill_anchor;

/* One placement of text into a document: an anchor occurrence, a statement
 * (multi-source part, key-value link) or a distractor.
 * The rendered text is inserted at a sentence boundary at `depth` in [0,1]. */
typedef struct {
  int doc;            /* document index, 0-based (rendered as "Doc doc+1") */
  double depth;       /* relative position inside the document */
  int anchor;         /* index into anchors, or -1 for a statement without anchor */
  char text[512];     /* exact text inserted (contains the anchor name if any) */
} skill_insert;

/* The whole sample plan. Arrays are owned (skill_blueprint_free). */
typedef struct {
  const char *skill;          /* skill id, e.g. "niah" (static string) */
  int n_docs;                 /* D */
  char **doc_genres;          /* [D] genre id per document, chosen by the skill or NULL */
  skill_anchor *anchors;      /* [n_anchors] */
  int n_anchors;
  skill_insert *inserts;      /* [n_inserts] doc_mapping: placements in any order */
  int n_inserts;
  char question[2048];        /* meta-question shown after the documents */
  char choices[4][256];       /* multiple-choice options when answer_type is CHOICE */
  int n_choices;
  char expr[4096];            /* executable answer expression, e.g. "solve(Q(a4))" */
  skill_answer_type answer_type;
  char answer[256];           /* gold answer as rendered text, from evaluating expr */
  char difficulty[128];       /* short knob summary, e.g. "docs=4 anchors=12 depth=0.7" */
  /* Added by skills/ (SYN-B): */
  char intended[256];         /* the answer the generator computed directly, rendered
                                 like `answer` (skill_answer_render_number for numbers);
                                 a check only: evaluating expr must give the same */
  int cap_anchors;            /* room allocated by skill_blueprint_init */
  int cap_inserts;
} skill_blueprint;

/* Rendering contract (what generators emit; oracles may rely on it):
 * - Inserts in one document are placed in increasing `depth` order; depths inside
 *   a document are distinct. Text order = (doc, depth). Two inserts snapped to the
 *   same sentence boundary must keep their depth order.
 * - Documents are referred to in questions and choices as "Document k", k = doc + 1
 *   (as synth/render.h's headers).
 * - Two anchors share a name only as conflict occurrences (anti_interference);
 *   otherwise names are unique and none is a substring of another.
 * - `question` is self-contained (for CHOICE it lists the options as lines
 *   "A. <text>"); it does not contain the answer-format line: append
 *   skill_answer_instruction(answer_type) (skills/answer.h).
 * - solve(Q(a)) is anchors[a].value (already resolved: for a chain link it is
 *   the value at the end of the chain). */

/* Sum of the characters the blueprint puts into the prompt (inserts, question),
 * the minimum a target length must hold. */
size_t skill_blueprint_content_chars(const skill_blueprint *bp);

/* The next anchor reference "a<k>" of a blueprint expression (its `expr`
 * string, as written into extra_info.blueprint) at or after p, a word of its
 * own (not the tail of a name like "data1"): sets *k and returns the position
 * just after it, or NULL when there is none. Start with p = expr. */
const char *skill_expr_next_anchor(const char *expr, const char *p, long *k);

/* Whether expr references anchor k. */
bool skill_expr_names_anchor(const char *expr, long k);

/* Allocate room for n_docs, up to max_anchors anchors and max_inserts inserts.
 * @return SKL_OK or SKL_ERR_NOMEM */
skl_status skill_blueprint_init(skill_blueprint *bp, int n_docs, int max_anchors, int max_inserts,
                                skl_error *err);
/* Frees arrays; accepts a zeroed or half-built blueprint. */
void skill_blueprint_free(skill_blueprint *bp);

#endif
