/* synth pt_stream: the pretraining stream of `skillrl pretrain` — token rows
 * generated on the fly, each a pure function of (seed, step, row, length), that
 * teach a model to read before it learns the skills:
 *   induction  spans repeated at random later offsets, in random tokens
 *              (loss on the repeats only) or in genre text (loss everywhere);
 *   recall     entries "Entry NAME: its value is SPEC." among genre text, then
 *              several questions about them, each answered by quoting its
 *              entry (multi-query associative recall, shaped as the skills'
 *              entries and as sft.target quote's response);
 *   documents  genre text (built-in grammars and user corpora) under
 *              "Document k" headers, as the skills' contexts are.
 * Not the training loop (rl/pretrain.h): this only makes tokens.
 *
 *   synth_pt_stream *s;  synth_pt_stream_init(&s, &params, genres, tok, &err);
 *   synth_pt_row(s, seed, step, row, T, tokens, targets, probe, &label, &scratch, &err);
 */
#ifndef SYNTH_PT_STREAM_H
#define SYNTH_PT_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "synth/genre.h"
#include "tok/tokenizer.h"

/* Mixture components (config keys pretrain.mixture.<name>). */
typedef enum {
  SYNTH_PT_INDUCTION,
  SYNTH_PT_RECALL,
  SYNTH_PT_DOCUMENTS,
  SYNTH_PT_COMPONENT_COUNT
} synth_pt_component;

/* What a row is, for per-label metrics: induction splits by its carrier. */
typedef enum {
  SYNTH_PT_LABEL_INDUCTION_RANDOM,
  SYNTH_PT_LABEL_INDUCTION_TEXT,
  SYNTH_PT_LABEL_RECALL,
  SYNTH_PT_LABEL_RECALL_RANDOM,
  SYNTH_PT_LABEL_DOCUMENTS,
  SYNTH_PT_LABEL_COUNT
} synth_pt_label;

/* @return "induction", "recall", "documents" (NULL out of range) */
const char *synth_pt_component_name(int component);
/* @return "induction_random", "induction_text", "recall", "recall_random", "documents" */
const char *synth_pt_label_name(int label);

typedef struct {
  double mixture[SYNTH_PT_COMPONENT_COUNT]; /* weights >= 0, sum > 0 */
  double induction_text;   /* share of induction rows carried by genre text */
  int span_min, span_max;  /* repeated span length in tokens */
  double repeat_share;     /* induction: about this share of a row is repeats */
  int tokens_per_entry;    /* recall: one entry per this many tokens of row */
  int tokens_per_query;    /* recall: one question per this many tokens of row */
  double recall_random;    /* share of recall rows in random tokens (multi-query associative recall) */
  const int *genres;       /* genre ids to draw from (NULL: all of g) */
  int n_genres;
} synth_pt_params;

typedef struct synth_pt_stream synth_pt_stream;

/* Which rows synth_pt_row draws: the mixture's, or one component's as the
 * stages before the mixture want them. */
typedef enum {
  SYNTH_PT_ROWS_MIXTURE,   /* a component drawn by pretrain.mixture's weights */
  SYNTH_PT_ROWS_INDUCTION, /* random-token induction (>= 32 tokens) */
  SYNTH_PT_ROWS_RECALL     /* recall, text or random by pretrain.recall_random (>= SYNTH_PT_RECALL_MIN_LEN) */
} synth_pt_rows;
enum { SYNTH_PT_RECALL_MIN_LEN = 192 }; /* room for recall's entries and questions */

/* Check the params and prepare the stream over genres g (not owned; read-only,
 * may be shared by threads) and tokenizer tok (not owned). The tokenizer must
 * be byte-level (each token decodes to its own bytes): recall's supervised
 * positions are found by byte offsets.
 * @return SKL_OK; SKL_ERR_INVALID naming the pretrain.* key (zero-weight
 *         mixture, span_min > span_max, a component the tokenizer cannot
 *         express, a tokenizer that is not byte-level); SKL_ERR_NOMEM. */
skl_status synth_pt_stream_init(synth_pt_stream **out, const synth_pt_params *p, const synth_genres *g,
                                const skl_tokenizer *tok, skl_error *err);
void synth_pt_stream_free(synth_pt_stream *s); /* NULL ok */

/* Smallest row length the stream can fill (recall needs room for its entries
 * and questions). */
int synth_pt_min_len(const synth_pt_stream *s);

/* Per-thread scratch of synth_pt_row (zeroed: empty; free with _free). */
typedef struct {
  skl_buf text;
  skl_tokens ids;
  int32_t *off;     /* [ids.cap + 1] byte offset of each token */
  size_t off_cap;
  skl_buf unit;
} synth_pt_scratch;
void synth_pt_scratch_free(synth_pt_scratch *w);

/* Row `row` of step `step` at length T (>= synth_pt_min_len for the mixture;
 * see synth_pt_rows for the others), a pure function of (seed, step, row, T,
 * rows) and the params: the same bytes whatever the thread or rank
 * that asks. Writes tokens[T] (inputs), targets[T] (the next token, or
 * -1 where the row carries no loss), probe[T] (1 at the positions whose
 * prediction is the component's skill: a repeat's tokens after its first, a
 * quoted entry's value that opens it (the lookup), every token of a documents row; 0 elsewhere) and *label (synth_pt_label).
 * @return SKL_OK, SKL_ERR_NOMEM, or SKL_ERR_INTERNAL if a row cannot be filled
 *         (message names step and row). */
skl_status synth_pt_row(const synth_pt_stream *s, uint64_t seed, int64_t step, int64_t row, int T, synth_pt_rows rows,
                        int32_t *tokens, int32_t *targets, uint8_t *probe, int *label, synth_pt_scratch *w,
                        skl_error *err);

#endif
