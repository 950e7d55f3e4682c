/* skl tokenizer trainer: byte-level BPE learned from text files or dataset
 * JSONL(.zst), written as a Hugging Face tokenizer.json (Qwen2-style
 * pre-split + ByteLevel). Not the encoder: load the result with tokenizer.h. */
#ifndef SKL_TOK_TRAIN_H
#define SKL_TOK_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct {
  size_t vocab_size;       /* total ids: 256 bytes + merges + specials; >= 256 + n_specials */
  uint64_t min_frequency;  /* a pair is merged only if seen >= this many times (>= 1) */
  const char **specials;   /* added special tokens, ids after the merges */
  size_t n_specials;
  bool nfc;                /* write (and train under) an NFC normalizer */
} skl_tok_train_opts;

typedef struct {
  size_t vocab_size, merges, words;
  uint64_t bytes;
  double seconds;
} skl_tok_train_stats;

/* Word counts: the trainer's input, built from texts. */
typedef struct skl_tok_counter skl_tok_counter;

/* @return SKL_OK or SKL_ERR_NOMEM */
skl_status skl_tok_counter_init(skl_tok_counter **c, bool nfc, skl_error *err);
/* Pre-split text[0..len) (invalid UTF-8 becomes U+FFFD) and count its words. */
skl_status skl_tok_counter_add(skl_tok_counter *c, const char *text, size_t len, skl_error *err);
void skl_tok_counter_free(skl_tok_counter *c);

/* Learn merges from the counts and write the tokenizer.json text into out.
 * Deterministic: ties between pairs of equal count go to the smaller
 * (left id, right id). @return SKL_OK, SKL_ERR_RANGE (vocab too small), NOMEM. */
skl_status skl_tok_train(skl_tok_counter *c, const skl_tok_train_opts *o, skl_buf *out, skl_tok_train_stats *stats,
                         skl_error *err);

/* Whole pipeline over files: *.jsonl / *.jsonl.zst are read as dataset
 * records (prompt[].content and answer), anything else as plain text (zstd
 * detected by magic). Writes out_path atomically.
 * @return SKL_OK or the first error, naming the file (and line). */
skl_status skl_tok_train_files(const char *const *paths, size_t n, const skl_tok_train_opts *o, const char *out_path,
                               skl_tok_train_stats *stats, skl_error *err);

#endif
