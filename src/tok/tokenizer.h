/* skl tokenizer: Hugging Face compatible byte-level BPE (GPT-2, Llama-3,
 * Qwen2/3 tokenizer.json): load, encode, count, decode, hash. Not a trainer
 * (see tok/train.h) and not a general HF tokenizers port (no WordPiece/Unigram).
 *
 * Usage:
 *   skl_tokenizer *tok; skl_error err;
 *   if (skl_tokenizer_load("model/tokenizer.json", &tok, &err)) die(err.msg);
 *   skl_tokens ids = {0};
 *   skl_tokenizer_encode(tok, text, strlen(text), &ids, &err);   // ids.data[0..ids.len)
 *   skl_tokens_free(&ids); skl_tokenizer_free(tok);
 *
 * Threads: a loaded tokenizer is read-only; encode/count/decode may be called
 * from any number of threads at once (each thread gets its own word cache).
 *
 * Conformance: ids equal transformers.js (@lenml/tokenizers, the reference
 * the tests run) including its choices: added tokens are matched longest
 * first on the raw text, lstrip/rstrip trim JS whitespace of the neighbours,
 * single_word and normalized are ignored (as there); Split behaviors other
 * than "Removed" act as "Isolated"; regexes follow JS (\s is JS's set, \d \w
 * are ASCII). decode() does no clean_up_tokenization_spaces.
 *
 * Invalid UTF-8 input: the reference (JS) can only see strings, so it never
 * meets invalid bytes. We follow what TextDecoder would hand it: each
 * maximal invalid subsequence is replaced by U+FFFD (WHATWG decoding) before
 * encoding. decode() returns the token bytes; with
 * SKL_TOK_DECODE_REPLACE it also maps invalid UTF-8 in the result to U+FFFD. */
#ifndef SKL_TOK_TOKENIZER_H
#define SKL_TOK_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct skl_tokenizer skl_tokenizer;

/* Growable token id array; a zeroed struct is a valid empty one. */
typedef struct {
  int32_t *data; /* [len] token ids */
  size_t len;
  size_t cap;
} skl_tokens;

/* @return SKL_OK or SKL_ERR_NOMEM */
skl_status skl_tokens_push(skl_tokens *t, int32_t id);
void skl_tokens_clear(skl_tokens *t); /* keeps capacity */
void skl_tokens_free(skl_tokens *t);

/* Encode options (bit flags). */
enum {
  SKL_TOK_ADD_SPECIAL = 1u << 0, /* apply the post-processor (BOS etc.), like add_special_tokens=True */
};
/* Decode options (bit flags). */
enum {
  SKL_TOK_DECODE_SKIP_SPECIAL = 1u << 0, /* drop special added tokens from the text */
  SKL_TOK_DECODE_REPLACE = 1u << 1,      /* invalid UTF-8 in the output becomes U+FFFD */
};

/* Load a tokenizer.json. Errors name the file and the JSON key, e.g.
 * "tokenizer.json: model.merges[1042]: 'Ġth e' refers to unknown token 'e'".
 * @return SKL_OK (and *out set) or SKL_ERR_IO/NOTFOUND/PARSE/INVALID/UNSUPPORTED/NOMEM. */
skl_status skl_tokenizer_load(const char *path, skl_tokenizer **out, skl_error *err);

/* Same from a JSON text in memory; `name` is used in error messages. */
skl_status skl_tokenizer_load_buf(const char *json, size_t len, const char *name,
                                  skl_tokenizer **out, skl_error *err);

/* Free; accepts NULL. */
void skl_tokenizer_free(skl_tokenizer *tok);

/* Encode text[0..len) (no special tokens added; special tokens written in the
 * text are recognised), APPENDING ids to out.
 * @return SKL_OK or SKL_ERR_NOMEM. */
skl_status skl_tokenizer_encode(const skl_tokenizer *tok, const char *text, size_t len,
                                skl_tokens *out, skl_error *err);

/* Encode with options (SKL_TOK_ADD_SPECIAL ...), appending to out. */
skl_status skl_tokenizer_encode_ex(const skl_tokenizer *tok, const char *text, size_t len,
                                   unsigned flags, skl_tokens *out, skl_error *err);

/* Number of tokens encode() would produce, without materialising ids.
 * @return SKL_OK or SKL_ERR_NOMEM. */
skl_status skl_tokenizer_count(const skl_tokenizer *tok, const char *text, size_t len,
                               size_t *n_tokens, skl_error *err);

/* Decode ids[0..n) to text, APPENDING to out (no skip of special tokens).
 * @return SKL_OK, SKL_ERR_RANGE (an id outside the vocab; message names its index) or NOMEM. */
skl_status skl_tokenizer_decode(const skl_tokenizer *tok, const int32_t *ids, size_t n,
                                skl_buf *out, skl_error *err);
/* Decode with options (SKL_TOK_DECODE_*). */
skl_status skl_tokenizer_decode_ex(const skl_tokenizer *tok, const int32_t *ids, size_t n,
                                   unsigned flags, skl_buf *out, skl_error *err);

/* Vocabulary size: 1 + the largest id (model vocab and added tokens). */
size_t skl_tokenizer_vocab_size(const skl_tokenizer *tok);

/* Id of a token string (vocab entry or added token), or -1 if absent. */
int32_t skl_tokenizer_token_id(const skl_tokenizer *tok, const char *token);

/* Token string of an id (as stored in tokenizer.json, byte-level mapped),
 * or NULL if the id is unused/out of range. Valid until free. */
const char *skl_tokenizer_id_token(const skl_tokenizer *tok, int32_t id);

/* True if id is a special added token (e.g. <|im_end|>). */
bool skl_tokenizer_is_special(const skl_tokenizer *tok, int32_t id);

/* Lower-case hex sha256 of the tokenizer.json bytes (65 chars incl. NUL), for manifests. */
const char *skl_tokenizer_hash(const skl_tokenizer *tok);

/* Short informational name: "bpe-<vocab size>", e.g. "bpe-151669". */
const char *skl_tokenizer_name(const skl_tokenizer *tok);

#endif
