/* synth render: a blueprint becomes prompt text — documents filled with
 * background units of their genre, inserts at sentence boundaries at their
 * depths, the meta-question, a plain or chat template — fitted to a token
 * budget. Not the blueprint builder (skills/) and not the dataset writer.
 *
 * Layout of the user message (oracles parse exactly this):
 *   PREAMBLE "\n\n"
 *   "Document 1\n" BODY "\n\n" ... "Document D\n" BODY "\n\n"
 *   "Question: " QUESTION "\n" INSTRUCTION
 * BODY is a sequence of background units and inserts; an insert sits between
 * two units (a sentence boundary), after the unit at index round(depth * k)
 * of the k units of its document, inserts at one boundary in depth order.
 *
 * Length fitting: every unit is counted once when generated; units are added
 * round-robin over the documents while fixed + sum(units) <= budget; then the
 * final prompt is counted once and, only if the tokenizer's merges across
 * unit boundaries pushed it over, trimmed and counted again (bounded). */
#ifndef SYNTH_RENDER_H
#define SYNTH_RENDER_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/rng.h"
#include "skills/blueprint.h"
#include "synth/genre.h"

/* A token counter: an HF tokenizer or the built-in approximation, behind one
 * signature (same as skl_tokenizer_count with a context pointer). */
typedef skl_status (*synth_count_fn)(const void *ctx, const char *text, size_t len, size_t *n, skl_error *err);
typedef struct {
  synth_count_fn count;
  const void *ctx;
  const char *name; /* "approx" or the tokenizer path, for manifests and messages */
} synth_counter;

/* Approximate counter (no tokenizer): letter runs cost 1 + (len-1)/8, digit
 * runs 1 per 3 digits, other symbols 1 each, a newline run 1, a multi-byte
 * UTF-8 character 1; spaces join the next word. Roughly a BPE tokenizer's
 * count on English text, and additive over concatenation at spaces.
 * ctx is unused. @return SKL_OK */
skl_status synth_count_approx(const void *ctx, const char *text, size_t len, size_t *n, skl_error *err);
/* The approximate counter as a synth_counter. */
synth_counter synth_counter_approx(void);

typedef enum { SYNTH_TEMPLATE_PLAIN, SYNTH_TEMPLATE_CHAT } synth_template_kind;

/* Whose chat template the token counts include (config template.format).
 * NONE counts the messages' text (system + user) only. The others count the
 * conversation as src/chat renders it for the model, with the assistant's
 * opening (add_generation_prompt): PLAIN, CHATML, QWEN3 (Qwen3's template
 * renders system/user turns and the opening exactly as ChatML when thinking
 * is left on), LLAMA3 (Llama-3's template; Llama-3.1+ also put a date
 * preamble in the system turn, which is not counted). */
typedef enum {
  SYNTH_FORMAT_NONE = 0,
  SYNTH_FORMAT_PLAIN,
  SYNTH_FORMAT_CHATML,
  SYNTH_FORMAT_QWEN3,
  SYNTH_FORMAT_LLAMA3,
} synth_count_format;

/* @return "none", "plain", "chatml", "qwen3", "llama3" */
const char *synth_count_format_name(synth_count_format f);

typedef struct {
  synth_template_kind kind;
  const char *system;   /* chat: system message; NULL: the default below */
  const char *preamble; /* first paragraph of the user message; NULL: default */
  synth_count_format format; /* chat tokens included in the counts */
} synth_template;

/* Defaults used when the template leaves them NULL. */
extern const char *const synth_default_system;
extern const char *const synth_default_preamble;

typedef struct {
  const synth_genres *genres;
  const int *genre_pool; /* genres a document may draw (when bp->doc_genres does not name one) */
  int n_genre_pool;
  int corpus_genre;      /* genre index of a user corpus, or -1 */
  double corpus_share;   /* probability that a document draws from the corpus */
  int split_part;        /* 0 train, 1 test: corpus passages stay disjoint */
  size_t budget;         /* max prompt tokens (target length minus response budget) */
  int max_units;         /* safety cap on background units, 0 = none */
  synth_template tmpl;
  synth_counter counter;
} synth_render_opts;

typedef struct {
  skl_buf system;   /* system message (chat template), empty for plain */
  skl_buf user;     /* the user message */
  size_t n_tokens;  /* tokens of system + user, counted on the final text
                       (rendered in tmpl.format's chat template unless NONE) */
  size_t fixed_tokens; /* tokens without any background */
  synth_count_format format; /* the template n_tokens counts (tmpl.format) */
  int units;        /* background units used */
  int *doc_genre;   /* [n_docs] genre index chosen per document */
  int n_docs;
  size_t *insert_at; /* [n_inserts] byte offset of each insert in user */
} synth_prompt;

void synth_prompt_free(synth_prompt *p);

/* Render bp into out (a zeroed or previously used synth_prompt, reused).
 * @return SKL_OK; SKL_ERR_RANGE when the budget cannot hold the skill's
 *         content (message gives both numbers and the fix); SKL_ERR_NOMEM;
 *         the counter's errors. */
skl_status synth_render(const skill_blueprint *bp, const synth_render_opts *o, skl_rng *rng, synth_prompt *out,
                        skl_error *err);

#endif
