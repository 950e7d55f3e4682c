/* skl tokenizer internals shared by load.c, presplit.c, encode.c, decode.c.
 * Not public: callers use tok/tokenizer.h. */
#ifndef SKL_TOK_INTERNAL_H
#define SKL_TOK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/buf.h"
#include "core/error.h"
#include "tok/tokenizer.h"

/* ------------------------------------------------------------ characters */

/* Character classes the known pre-split patterns look at. WS is JavaScript's
 * \s (the reference runs JS regexes), CR/LF are split out of it. */
enum { TOK_C_OTHER = 0, TOK_C_L = 1, TOK_C_N = 2, TOK_C_WS = 3, TOK_C_CRLF = 4 };

/* Decode one code point of VALID UTF-8 at s[0..n); *len gets its byte length. */
static inline uint32_t tok_utf8_next(const unsigned char *s, size_t n, size_t *len) {
  unsigned c = s[0];
  if (c < 0x80 || n < 2) { *len = 1; return c; }
  if (c < 0xE0) { *len = 2; return ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu); }
  if (c < 0xF0 || n < 4) { *len = 3; return ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu); }
  *len = 4;
  return ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
}

/* JavaScript's \s and String.prototype.trim() whitespace set. */
bool tok_js_space(uint32_t cp);

/* ------------------------------------------------------------ pre-split */

typedef enum {
  TOK_PAT_GPT2 = 0, /* ByteLevel's built-in regex */
  TOK_PAT_LLAMA3,   /* \p{N}{1,3} */
  TOK_PAT_QWEN2,    /* \p{N} */
  TOK_PAT_PCRE,     /* anything else: PCRE2 JIT */
  TOK_PAT_NONE,     /* no split (ByteLevel use_regex=false with add_prefix_space) */
} tok_pattern_kind;

typedef enum { TOK_SPLIT_ISOLATED = 0, TOK_SPLIT_REMOVED, TOK_SPLIT_INVERT } tok_split_mode;

/* One splitting stage of the pre-tokenizer. */
typedef struct {
  tok_pattern_kind kind;
  tok_split_mode mode;
  bool prefix_space;    /* ByteLevel add_prefix_space: prepend ' ' to pieces that lack it */
  pcre2_code *re;       /* TOK_PAT_PCRE only */
  char *pattern;        /* the pattern as given (for messages) */
} tok_stage;

/* A piece of text: byte range [off, off+len) of the section being split,
 * or, when a stage had to add a prefix space, of a scratch copy. */
typedef struct {
  size_t off, len;
} tok_span;

/* Growable span list. */
typedef struct {
  tok_span *v;
  size_t n, cap;
} tok_spans;

/* The character class table: BMP cached at load, the rest via utf8proc. */
typedef struct {
  uint8_t bmp[65536];
} tok_ctable;

void tok_ctable_init(tok_ctable *t);

/* Split s[0..n) by a known pattern into spans (appended, offsets + base).
 * @return SKL_OK or SKL_ERR_NOMEM. */
skl_status tok_split_known(tok_pattern_kind kind, const tok_ctable *ct, const char *s, size_t n,
                           size_t base, tok_spans *out);

/* Length of the known pattern's match at s[p] (p < n); matches tile the text. */
size_t tok_match_known(tok_pattern_kind kind, const tok_ctable *ct, const char *s, size_t n, size_t p);

/* Split with a compiled PCRE2 regex following JS semantics (matchAll with
 * the u flag; Isolated keeps the text between matches, Removed drops it,
 * Invert keeps only the matches). md is per-thread match data.
 * @return SKL_OK, SKL_ERR_NOMEM, SKL_ERR_INTERNAL (regex engine failure). */
skl_status tok_split_pcre(const pcre2_code *re, pcre2_match_data *md, tok_split_mode mode,
                          const char *s, size_t n, size_t base, tok_spans *out, skl_error *err);

/* Compile a tokenizer.json regex (JS flavour) for PCRE2: the JS-specific
 * rewrites the reference makes, plus \s/\S spelled as JS's set.
 * @return SKL_OK or SKL_ERR_INVALID with PCRE2's message and offset. */
skl_status tok_regex_compile(const char *pattern, bool literal, pcre2_code **out, skl_error *err);

/* The exact pattern strings recognised as known (state machine). */
extern const char *const tok_pattern_llama3;
extern const char *const tok_pattern_qwen2;
extern const char *const tok_pattern_gpt2;

skl_status tok_spans_push(tok_spans *s, size_t off, size_t len);

/* ------------------------------------------------------------ hash maps */

static inline uint64_t tok_hash_bytes(const void *p, size_t n) {
  /* 8 bytes per step, multiply-xorshift mixing: keys are short pre-tokens */
  const unsigned char *s = p;
  uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    s += 8;
    n -= 8;
  }
  if (n >= 4) { /* two overlapping 4-byte loads cover 4..7 bytes */
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + n - 4, 4);
    h = (h ^ (a | ((uint64_t)b << 32))) * 0x94d049bb133111ebull;
  } else if (n) {
    h = (h ^ (s[0] | ((uint64_t)s[n / 2] << 8) | ((uint64_t)s[n - 1] << 16))) * 0x94d049bb133111ebull;
  }
  h ^= h >> 29; h *= 0xbf58476d1ce4e5b9ull; h ^= h >> 32;
  return h;
}

/* ------------------------------------------------------------ the tokenizer */

typedef struct {
  char *content;   /* raw text (not byte-level mapped) */
  size_t len;
  int32_t id;
  bool special, lstrip, rstrip, single_word, normalized;
} tok_added;

typedef enum { TOK_NORM_NFC = 1, TOK_NORM_NFD, TOK_NORM_NFKC, TOK_NORM_NFKD } tok_norm;

typedef enum { TOK_POST_NONE = 0, TOK_POST_TEMPLATE } tok_post_kind;

/* Per-thread scratch state: word cache and buffers. Registered in the
 * tokenizer's list so free() can release caches of threads still alive. */
typedef struct tok_thread tok_thread;

struct skl_tokenizer {
  char *name;
  char hash[65];

  /* vocabulary: [n_ids] */
  size_t n_ids;        /* 1 + largest id */
  char *spool;         /* all token strings, NUL-separated */
  size_t spool_used;
  unsigned char *bpool; /* all raw token bytes */
  char **tok_str;      /* [n_ids] token string as in the file (into spool), NULL for unused ids */
  unsigned char **tok_bytes; /* [n_ids] raw bytes of the token (into bpool; added: content) */
  uint32_t *tok_blen;  /* [n_ids] */
  uint8_t *tok_flags;  /* [n_ids] bit0 added, bit1 special, bit2 not byte-level */

  /* raw-bytes -> id for model vocab entries: open addressing, -1 empty */
  int32_t *vmap;
  size_t vmap_mask;
  /* token string -> id (vocab + added), for token_id(): open addressing */
  int32_t *smap;
  size_t smap_mask;

  int32_t byte_id[256]; /* id of the single-byte token, -1 if absent */
  int32_t unk_id;       /* -1 if none */
  bool ignore_merges;

  /* merges: (left,right) -> (rank, result); open addressing on key */
  uint64_t *mkey;      /* [mmask+1] left<<32|right, UINT64_MAX empty */
  uint32_t *mrank;     /* [mmask+1] */
  int32_t *mres;       /* [mmask+1] */
  size_t mmask;

  /* added tokens, bucketed by first byte, each bucket longest first */
  tok_added *added;
  size_t n_added;
  uint32_t *abucket_idx; /* [n_added] indices sorted by (first byte, -len) */
  uint32_t abucket_start[257];
  uint8_t afirst[256];   /* 1 if some added token starts with this byte */
  int afirst_only;       /* the one first byte all added tokens share, or -1 */

  tok_norm norm[8];
  int n_norm;

  tok_stage stages[8];
  int n_stages;

  tok_post_kind post;
  int32_t *post_pre, *post_suf; /* special ids around sequence A */
  size_t n_post_pre, n_post_suf;

  bool decoder_bytelevel; /* false: no decoder (tokens joined by " ", as the reference) */

  tok_ctable *ctable;

  pthread_key_t key;
  bool key_ok;
  pthread_mutex_t mu;
  tok_thread *threads; /* list of live per-thread states */
};

/* ---------------------------------------------------------------- merge lookup */

static inline uint64_t tok_mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
  return x;
}

/* @return rank of merging (a,b), or UINT32_MAX; *res gets the merged id. */
static inline uint32_t tok_merge_find(const skl_tokenizer *t, int32_t a, int32_t b, int32_t *res) {
  if (!t->mkey || a < 0 || b < 0) return UINT32_MAX;
  uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  size_t i = (size_t)tok_mix64(k) & t->mmask;
  for (;;) {
    uint64_t kk = t->mkey[i];
    if (kk == k) { *res = t->mres[i]; return t->mrank[i]; }
    if (kk == UINT64_MAX) return UINT32_MAX;
    i = (i + 1) & t->mmask;
  }
}

/* @return id of the model vocab token with raw bytes s[0..n), or -1. */
int32_t tok_vocab_find(const skl_tokenizer *t, const void *s, size_t n);

/* Sanitise to valid UTF-8: each maximal invalid subsequence (WHATWG) becomes
 * U+FFFD. @return true if s was valid (out untouched), false if out got a copy. */
bool tok_utf8_sanitize(const char *s, size_t n, skl_buf *out, skl_status *st);

/* Per-thread state lifecycle (encode.c): the pthread key destructor, and
 * release of every thread's state when the tokenizer is freed. */
void tok_thread_destroy(void *p);
void tok_threads_free_all(skl_tokenizer *t);

/* GPT-2 bytes_to_unicode: code point for byte b, and back (-1 if none). */
uint32_t tok_byte_to_cp(unsigned b);
int tok_cp_to_byte(uint32_t cp);

#include <utf8proc.h>
/* Letters and numbers assigned in Unicode 15.1-17.0, which the reference
 * (Node's ICU) knows and utf8proc 2.8 (Unicode 15.0) reports unassigned.
 * @return TOK_C_L, TOK_C_N, or -1. */
int tok_class_new(uint32_t cp);

static inline int tok_class_slow(uint32_t cp) {
  if (tok_js_space(cp)) return (cp == '\r' || cp == '\n') ? TOK_C_CRLF : TOK_C_WS;
  utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
  if (c == UTF8PROC_CATEGORY_CN) {
    int k = tok_class_new(cp);
    return k < 0 ? TOK_C_OTHER : k;
  }
  switch (c) {
  case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: return TOK_C_L;
  case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return TOK_C_N;
  default: return TOK_C_OTHER;
  }
}
static inline int tok_class(const tok_ctable *t, uint32_t cp) {
  return cp < 65536 ? t->bmp[cp] : tok_class_slow(cp);
}

#endif
