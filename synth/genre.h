/* synth genre: background text for the documents of a sample — built-in
 * procedural genres (a small grammar each) and user corpora. Not the renderer.
 *
 * A *unit* is one sentence (or log line) with its trailing separator (" ",
 * "\n" or "\n\n"); documents are sequences of units, and anchors are inserted
 * between units, i.e. at sentence boundaries. Generators are pure functions of
 * the rng they are handed, so the same seed gives the same text.
 *
 *   synth_genres *g;  synth_genres_init(&g, &err);
 *   int fin = synth_genre_find(g, "financial_report");
 *   skl_rng r; skl_rng_seed(&r, 7);
 *   skl_buf b = {0};  synth_genre_unit(g, fin, &r, &b, &err);   // one sentence
 *   synth_genres_free(g);
 */
#ifndef SYNTH_GENRE_H
#define SYNTH_GENRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/rng.h"

/* Compiled grammars of every built-in genre plus loaded corpora. Read-only
 * after init/add, so one instance serves all threads. */
typedef struct synth_genres synth_genres;

/* Compile the built-in genres. @return SKL_OK, SKL_ERR_NOMEM, or
 * SKL_ERR_INTERNAL if a built-in grammar is malformed (a bug). */
skl_status synth_genres_init(synth_genres **out, skl_error *err);
void synth_genres_free(synth_genres *g);

/* Number of genres (built-in first, then one per added corpus). */
int synth_genre_count(const synth_genres *g);
/* Genre id ("financial_report", ..., "corpus:NAME"). */
const char *synth_genre_name(const synth_genres *g, int genre);
/* Index of a genre by id, or -1. */
int synth_genre_find(const synth_genres *g, const char *name);
/* How many of the genres are built in (they come first). */
int synth_genre_builtin_count(void);

/* The ids of built-in genres named by a config list (none named: every
 * built-in one) into a malloc'd *ids with `spare` free slots after the *n
 * filled (for corpus genres). @return SKL_OK, SKL_ERR_NOMEM, or
 * SKL_ERR_INVALID naming `key`, the unknown name and the known ones. */
skl_status synth_genre_pick(const synth_genres *g, char *const *names, int n_names, const char *key, int spare,
                            int **ids, int *n, skl_error *err);

/* Append one unit of `genre` to out.
 * `split_part` selects a disjoint half of a corpus's passages (0 train,
 * 1 test; ignored by built-in genres, whose seeds are disjoint already).
 * @return SKL_OK or SKL_ERR_NOMEM. */
skl_status synth_genre_unit(const synth_genres *g, int genre, int split_part, skl_rng *rng, skl_buf *out,
                            skl_error *err);

/* Add a user corpus as genre "corpus:NAME" from files (.txt: paragraphs split
 * by blank lines; .jsonl: the "text" field of each object; either may end in
 * .zst). Passages are split into sentence units; each passage goes to the
 * train or the test part by a hash of its text, so splits never share one.
 * @return SKL_OK; SKL_ERR_NOTFOUND/IO (missing file), SKL_ERR_INVALID (empty
 *         file, binary content, JSONL line without "text": file and line named),
 *         SKL_ERR_PARSE (bad JSON or zstd frame), SKL_ERR_NOMEM. */
skl_status synth_genres_add_corpus(synth_genres *g, const char *name, const char *const *paths, int n_paths,
                                   skl_error *err);

/* Distinct word-8-gram ratio of a text (distinct / total), a variety
 * measure: 1.0 means no 8 consecutive words ever repeat. */
double synth_text_distinct_ngram_ratio(const char *text, size_t len, int n);

#endif
