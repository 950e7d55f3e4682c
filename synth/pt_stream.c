/* synth pt_stream: rows of the pretraining stream (induction, recall,
 * documents), each a pure function of (seed, step, row, T).
 * Not the loop that trains on them (rl/pretrain.c). */
#include "synth/pt_stream.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills/anchor.h"

struct synth_pt_stream {
  synth_pt_params p;
  const synth_genres *g;
  const skl_tokenizer *tok;
  int *genres;          /* [n_genres] */
  int n_genres;
  int32_t *tok_len;     /* [V] bytes each token decodes to */
  int V;
  int32_t *pool;        /* [n_pool] the vocabulary's ordinary tokens: random-token rows draw from them */
  int n_pool;
  double chars_per_token; /* of genre text, for sizing the text a row needs */
};

static const char *const component_names[] = {"induction", "recall", "documents"};
static const char *const label_names[] = {"induction_random", "induction_text", "recall", "recall_random",
                                          "documents"};

const char *synth_pt_component_name(int c) {
  return c >= 0 && c < SYNTH_PT_COMPONENT_COUNT ? component_names[c] : NULL;
}
const char *synth_pt_label_name(int l) { return l >= 0 && l < SYNTH_PT_LABEL_COUNT ? label_names[l] : NULL; }

int synth_pt_min_len(const synth_pt_stream *s) { return s->p.mixture[SYNTH_PT_RECALL] > 0 ? SYNTH_PT_RECALL_MIN_LEN : 32; }

void synth_pt_scratch_free(synth_pt_scratch *w) {
  if (!w) return;
  skl_buf_free(&w->text);
  skl_buf_free(&w->unit);
  skl_tokens_free(&w->ids);
  free(w->off);
  memset(w, 0, sizeof *w);
}

void synth_pt_stream_free(synth_pt_stream *s) {
  if (!s) return;
  free(s->genres);
  free(s->tok_len);
  free(s->pool);
  free(s);
}

/* Encode w->text and fill w->off[0..n] with each token's first byte (off[n] =
 * the text's length). @return SKL_OK, NOMEM, or INVALID when the decoded
 * lengths do not add up to the text (a tokenizer that is not byte-level). */
static skl_status encode_offsets(const synth_pt_stream *s, synth_pt_scratch *w, skl_error *err) {
  skl_tokens_clear(&w->ids);
  skl_status st = skl_tokenizer_encode(s->tok, w->text.data ? w->text.data : "", w->text.len, &w->ids, err);
  if (st) return st;
  if (w->off_cap < w->ids.len + 1) {
    free(w->off);
    w->off_cap = w->ids.len + 1 + w->ids.len / 2;
    w->off = malloc(sizeof *w->off * w->off_cap);
    if (!w->off) { w->off_cap = 0; return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  }
  int64_t at = 0;
  for (size_t i = 0; i < w->ids.len; i++) {
    w->off[i] = (int32_t)at;
    int32_t id = w->ids.data[i];
    at += id >= 0 && id < s->V ? s->tok_len[id] : 0;
  }
  w->off[w->ids.len] = (int32_t)at;
  if (at != (int64_t)w->text.len)
    return skl_error_set(err, SKL_ERR_INVALID, "pretrain: the tokenizer is not byte-level (%lld bytes decoded from "
                         "%zu of text), so the recall component cannot locate its answers; use a byte-level BPE "
                         "(skillrl tokenizer train) or set pretrain.mixture.recall=0", (long long)at, w->text.len);
  return SKL_OK;
}

static int pick_genre(const synth_pt_stream *s, skl_rng *r) { return s->genres[skl_rng_below(r, (uint64_t)s->n_genres)]; }

skl_status synth_pt_stream_init(synth_pt_stream **out, const synth_pt_params *p, const synth_genres *g,
                                const skl_tokenizer *tok, skl_error *err) {
  *out = NULL;
  double sum = 0;
  for (int c = 0; c < SYNTH_PT_COMPONENT_COUNT; c++) {
    if (!(p->mixture[c] >= 0))
      return skl_error_set(err, SKL_ERR_INVALID, "pretrain.mixture.%s is %g: weights must be >= 0",
                           component_names[c], p->mixture[c]);
    sum += p->mixture[c];
  }
  if (!(sum > 0))
    return skl_error_set(err, SKL_ERR_INVALID, "pretrain.mixture: every weight is 0; give at least one of induction, "
                         "recall, documents a positive weight, e.g. pretrain.mixture={induction: 1, recall: 1}");
  if (p->span_min < 2 || p->span_max < p->span_min)
    return skl_error_set(err, SKL_ERR_INVALID, "pretrain.span: [%d, %d] must satisfy 2 <= min <= max",
                         p->span_min, p->span_max);
  if (!(p->repeat_share > 0 && p->repeat_share < 1))
    return skl_error_set(err, SKL_ERR_INVALID, "pretrain.repeat_share %g must be in (0, 1)", p->repeat_share);
  if (p->tokens_per_entry < 8 || p->tokens_per_query < 8)
    return skl_error_set(err, SKL_ERR_INVALID, "pretrain.tokens_per_entry and tokens_per_query must be >= 8");
  int ng = synth_genre_count(g);
  for (int i = 0; p->genres && i < p->n_genres; i++)
    if (p->genres[i] < 0 || p->genres[i] >= ng)
      return skl_error_set(err, SKL_ERR_INVALID, "pretrain.genres: genre index %d out of range", p->genres[i]);
  synth_pt_stream *s = calloc(1, sizeof *s);
  if (!s) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  s->p = *p;
  s->g = g;
  s->tok = tok;
  s->n_genres = p->genres && p->n_genres > 0 ? p->n_genres : ng;
  s->genres = malloc(sizeof *s->genres * (size_t)(s->n_genres > 0 ? s->n_genres : 1));
  s->V = (int)skl_tokenizer_vocab_size(tok);
  s->tok_len = calloc((size_t)(s->V > 0 ? s->V : 1), sizeof *s->tok_len);
  uint8_t *seen = calloc((size_t)(s->V > 0 ? s->V : 1), 1);
  skl_status st = s->genres && s->tok_len && seen ? SKL_OK : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!st && s->n_genres <= 0) st = skl_error_set(err, SKL_ERR_INVALID, "pretrain.genres: no genre to draw text from");
  for (int i = 0; !st && i < s->n_genres; i++) s->genres[i] = p->genres && p->n_genres > 0 ? p->genres[i] : i;
  skl_buf one = {0};
  for (int id = 0; !st && id < s->V; id++) {
    skl_buf_clear(&one);
    skl_error e2;
    if (skl_tokenizer_decode(tok, &id, 1, &one, &e2) == SKL_OK) s->tok_len[id] = (int32_t)one.len;
  }
  skl_buf_free(&one);
  /* a sample of every genre: chars per token, and the byte-level check on
   * text shaped as the components write it */
  synth_pt_scratch w = {0};
  skl_rng r;
  skl_rng_seed(&r, 0x9e3779b97f4a7c15ull);
  for (int i = 0; !st && i < s->n_genres; i++)
    for (int u = 0; !st && u < 24; u++) st = synth_genre_unit(g, s->genres[i], 0, &r, &w.text, err);
  if (!st) st = skl_buf_puts(&w.text, "Document 2\nEntry [ID: Q-123]: its value is the largest of 7, 42.\n\n"
                                      "Question: What is the value of entry [ID: Q-123]?\n");
  if (!st) st = encode_offsets(s, &w, err);
  if (!st && w.ids.len == 0) st = skl_error_set(err, SKL_ERR_INVALID, "pretrain: the tokenizer encodes genre text to nothing");
  /* the random pool: every token that decodes to bytes, special ones
   * aside. Not only the tokens of genre text: a token the random rows never
   * show stays a stranger to the copying circuit, and one such token in ten
   * broke it (a model copying 62% of repeats over the genre tokens copied
   * 0.4% once a tenth of its row came from the rest of the vocabulary), while
   * the skills' entries ("Entry", digits of ids) are full of them */
  if (!st) {
    s->chars_per_token = (double)w.text.len / (double)w.ids.len;
    for (int id = 0; id < s->V; id++)
      if (s->tok_len[id] > 0 && !skl_tokenizer_is_special(tok, id)) { seen[id] = 1; s->n_pool++; }
    s->pool = malloc(sizeof *s->pool * (size_t)(s->n_pool ? s->n_pool : 1));
    if (!s->pool) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    for (int id = 0, k = 0; !st && id < s->V; id++)
      if (seen[id]) s->pool[k++] = id;
    if (!st && s->n_pool < 8 && p->mixture[SYNTH_PT_INDUCTION] > 0)
      st = skl_error_set(err, SKL_ERR_INVALID, "pretrain.mixture.induction: the tokenizer has only %d ordinary tokens, "
                         "too few for random-token rows; use a larger vocabulary or set the weight to 0",
                         s->n_pool);
  }
  synth_pt_scratch_free(&w);
  free(seen);
  if (st) { synth_pt_stream_free(s); return st; }
  *out = s;
  return SKL_OK;
}

/* ---- text ---------------------------------------------------------------- */

enum { MAX_ENTRIES = 11 }; /* recall: entries in a row (make_spec) */

typedef struct {
  char name[SKILL_ANCHOR_NAME_MAX];
  char spec[96];
  size_t at;          /* byte offset of the entry in the row's text */
} pt_entry;

static void draw_spec(skl_rng *r, char *out, size_t cap) {
  static const char ops[] = "+-*";
  int kind = (int)skl_rng_below(r, 10);
  if (kind < 6) {
    int digits = 1 + (int)skl_rng_below(r, 4);
    int64_t lo = digits == 1 ? 0 : (digits == 2 ? 10 : digits == 3 ? 100 : 1000);
    snprintf(out, cap, "%lld", (long long)skl_rng_range(r, lo, lo * 10 + (digits == 1 ? 9 : -1)));
  } else if (kind < 8) {
    snprintf(out, cap, "the result of %d %c %d", (int)skl_rng_range(r, 1, 99), ops[skl_rng_below(r, 3)],
             (int)skl_rng_range(r, 1, 99));
  } else {
    int n = 3 + (int)skl_rng_below(r, 3);
    int len = snprintf(out, cap, "the %s of", skl_rng_below(r, 2) ? "largest" : "smallest");
    for (int i = 0; i < n && len > 0 && (size_t)len < cap; i++)
      len += snprintf(out + len, cap - (size_t)len, "%s %d", i ? "," : "", (int)skl_rng_range(r, 1, 999));
  }
}

/* A value whose first character no other entry of the row has (`taken`,
 * indexed by that byte) while one is left: the value's first token then names
 * one entry, so predicting it needs the name match, and neither "the most
 * common first token of the row" nor "the" (expressions) passes for a lookup.
 * 11 first characters exist (ten digits and the expressions' "t"), which
 * bounds a row's entries (MAX_ENTRIES). */
static void make_spec(skl_rng *r, bool taken[256], char *out, size_t cap) {
  for (int tries = 0; tries < 64; tries++) {
    draw_spec(r, out, cap);
    if (!taken[(unsigned char)out[0]]) break;
  }
  taken[(unsigned char)out[0]] = true;
}

/* Documents with about `chars` of genre text in all, and the entries (may be
 * 0) between units at uniformly random places of that text; each entry's
 * offset is recorded. */
static skl_status build_docs(const synth_pt_stream *s, uint64_t text_seed, size_t chars, pt_entry *e, int n_e,
                             synth_pt_scratch *w, skl_error *err) {
  /* everything random comes from text_seed, so a call with another `chars`
   * writes the same documents, only longer or shorter */
  skl_rng rr, *r = &rr;
  skl_rng_seed(r, text_seed);
  int ndocs = 1 + (int)skl_rng_below(r, 3);
  /* entry i goes in after the unit that crosses pos[i] (sorted) */
  size_t pos[256];
  if (n_e > 256) n_e = 256;
  for (int i = 0; i < n_e; i++) pos[i] = (size_t)(skl_rng_uniform(r) * (double)chars);
  for (int i = 1; i < n_e; i++)
    for (int j = i; j > 0 && pos[j] < pos[j - 1]; j--) { size_t t = pos[j]; pos[j] = pos[j - 1]; pos[j - 1] = t; }
  skl_status st = SKL_OK;
  int next = 0;
  size_t body = 0; /* chars of genre text so far */
  int genre[3];
  for (int d = 0; d < ndocs; d++) genre[d] = pick_genre(s, r);
  for (int d = 0; !st && d < ndocs; d++) {
    skl_rng ru; /* this document's units */
    skl_rng_seed(&ru, skl_rng_derive(text_seed, (uint64_t)d, 1, 0));
    st = skl_buf_printf(&w->text, "Document %d\n", d + 1);
    size_t goal = chars * (size_t)(d + 1) / (size_t)ndocs;
    char sep = '\n';
    while (!st && body < goal) {
      skl_buf_clear(&w->unit);
      if ((st = synth_genre_unit(s->g, genre[d], 0, &ru, &w->unit, err))) break;
      size_t ul = w->unit.len;
      if (ul && (w->unit.data[ul - 1] == ' ' || w->unit.data[ul - 1] == '\n')) sep = w->unit.data[ul - 1];
      if ((st = skl_buf_append(&w->text, w->unit.data, ul))) break;
      body += ul;
      while (!st && next < n_e && (pos[next] <= body || (d == ndocs - 1 && body >= goal))) {
        e[next].at = w->text.len;
        st = skl_buf_printf(&w->text, "Entry %s: its value is %s.%c", e[next].name, e[next].spec, sep);
        next++;
      }
    }
    /* a document ends in one blank line, whatever its last unit's separator */
    while (!st && w->text.len && (w->text.data[w->text.len - 1] == ' ' || w->text.data[w->text.len - 1] == '\n'))
      w->text.len--;
    if (!st) st = skl_buf_puts(&w->text, "\n\n");
  }
  return st;
}

/* Keep the last `n` tokens of w->ids (and their offsets). @return the first
 * kept byte. */
static size_t keep_tail(synth_pt_scratch *w, size_t n) {
  size_t drop = w->ids.len - n;
  memmove(w->ids.data, w->ids.data + drop, sizeof *w->ids.data * n);
  memmove(w->off, w->off + drop, sizeof *w->off * (n + 1));
  w->ids.len = n;
  return (size_t)w->off[0];
}

/* Genre text with the entries, then `tail`, of at least n tokens into w->ids
 * (usually a few percent more). The genre text is sized from the tokens the
 * entries and the tail take (counted exactly) and the genres' chars per
 * token, then rescaled by what the first try measured: the same documents,
 * longer or shorter. */
static skl_status text_tokens(const synth_pt_stream *s, skl_rng *r, size_t n, pt_entry *e, int n_e, const char *tail,
                              synth_pt_scratch *w, skl_error *err) {
  size_t tail_len = tail ? strlen(tail) : 0, fixed = 0;
  skl_status st = SKL_OK;
  if (tail && (st = skl_tokenizer_count(s->tok, tail, tail_len, &fixed, err))) return st;
  fixed += 8; /* headers */
  for (int i = 0; i < n_e; i++) {
    char line[SKILL_ANCHOR_NAME_MAX + 160];
    int len = snprintf(line, sizeof line, "Entry %s: its value is %s. ", e[i].name, e[i].spec);
    size_t k = 0;
    if ((st = skl_tokenizer_count(s->tok, line, (size_t)len, &k, err))) return st;
    fixed += k;
  }
  uint64_t text_seed = skl_rng_u64(r);
  double want = (double)(n > fixed + n / 8 ? n - fixed : n / 8) * 1.02 + 2; /* genre tokens to aim for */
  double chars = want * s->chars_per_token;
  for (int attempt = 0; attempt < 12; attempt++) {
    skl_buf_clear(&w->text);
    st = build_docs(s, text_seed, (size_t)chars, e, n_e, w, err);
    if (!st && tail) st = skl_buf_append(&w->text, tail, tail_len);
    if (!st) st = encode_offsets(s, w, err);
    if (st) return st;
    double got = (double)w->ids.len - (double)fixed; /* genre tokens this try */
    if (w->ids.len >= n && (got <= want * 1.06 || attempt >= 6)) return SKL_OK;
    chars *= got > 1 ? want / got : 2.0;
    if (w->ids.len < n && attempt >= 3) chars *= 1.1 + 0.1 * attempt; /* units are coarse: step past them */
  }
  return skl_error_set(err, SKL_ERR_INTERNAL, "pretrain: could not fill a row of %zu tokens from genre text", n);
}

/* ---- rows ---------------------------------------------------------------- */

/* Copy spans to random later places until about repeat_share of the row is
 * repeats; mark each repeat's predictable tokens (all but its first) in probe,
 * at the position that predicts them (t - 1). A destination never overlaps an
 * earlier source or destination, and a source never overlaps an earlier
 * destination, so every marked token is a true repeat. used: n bytes. */
static void place_repeats(const synth_pt_stream *s, skl_rng *r, int32_t *ids, int n, uint8_t *probe, uint8_t *used) {
  enum { DEST = 1, SRC = 2 };
  memset(used, 0, (size_t)n);
  int goal = (int)(s->p.repeat_share * n), done = 0;
  for (int tries = 0; done < goal && tries < 256; tries++) {
    int L = (int)skl_rng_range(r, s->p.span_min, s->p.span_max);
    if (2 * L + 1 > n) L = (n - 1) / 2;
    if (L < 2) return;
    int b = (int)skl_rng_range(r, L, n - L); /* destination [b, b + L) */
    int a = (int)skl_rng_range(r, 0, b - L); /* source [a, a + L), before it */
    bool clash = false;
    for (int t = b; t < b + L && !clash; t++) clash = used[t] != 0;
    for (int t = a; t < a + L && !clash; t++) clash = (used[t] & DEST) != 0;
    if (clash) continue;
    memmove(ids + b, ids + a, sizeof *ids * (size_t)L);
    for (int t = a; t < a + L; t++) used[t] |= SRC;
    for (int t = b; t < b + L; t++) used[t] |= DEST;
    for (int t = b + 1; t < b + L; t++) probe[t - 1] = 1;
    done += L;
  }
}

/* Multi-query associative recall in random tokens: entries "key template
 * value" among random filler, then a repeat of some of them (the queries).
 * Keys of a row share a prefix (look-alike names) and a row's template is
 * fixed, so the value follows a token every entry shares: predicting its
 * first token needs a match on the key some tokens back, the lookup that the
 * skills' "Entry NAME: its value is V" asks for and plain (previous-token)
 * induction cannot do. Loss on each query's tokens after its first (sup), the
 * lookup at the value's first token (probe); values' first tokens differ
 * within the row, so no guess from the row's mix passes. n = T + 1. */
static void random_recall(const synth_pt_stream *s, skl_rng *r, int32_t *ids, int n, uint8_t *sup, uint8_t *probe) {
  enum { MAX_E = 16, KMAX = 6, GMAX = 8, VMAX = 3 };
  int kl = (int)skl_rng_range(r, 2, KMAX), pl = (int)skl_rng_below(r, (uint64_t)kl);
  int gl = (int)skl_rng_range(r, 1, GMAX), vl = (int)skl_rng_range(r, 1, VMAX), L = kl + gl + vl;
  int n_e = (int)(0.8 * n) / (2 * L);
  if (n_e > MAX_E) n_e = MAX_E;
  if (n_e > s->n_pool / 2) n_e = s->n_pool / 2;
  memset(sup, 0, (size_t)n);
  for (int i = 0; i < n; i++) ids[i] = s->pool[skl_rng_below(r, (uint64_t)s->n_pool)];
  if (n_e < 2) return; /* too short to ask anything: filler only */
  int32_t key[MAX_E][KMAX], gap[GMAX], val[MAX_E][VMAX];
  for (int j = 0; j < gl; j++) gap[j] = s->pool[skl_rng_below(r, (uint64_t)s->n_pool)];
  for (int i = 0; i < n_e; i++) {
    for (int j = 0; j < kl; j++) key[i][j] = j < pl && i > 0 ? key[0][j] : s->pool[skl_rng_below(r, (uint64_t)s->n_pool)];
    for (int guard = 0; guard < 64; guard++) { /* keys distinct, values' first tokens distinct */
      bool clash = false;
      for (int e = 0; e < i && !clash; e++) clash = !memcmp(key[e], key[i], sizeof key[i][0] * (size_t)kl);
      if (!clash) break;
      key[i][kl - 1] = s->pool[skl_rng_below(r, (uint64_t)s->n_pool)];
    }
    for (int j = 0; j < vl; j++) val[i][j] = s->pool[skl_rng_below(r, (uint64_t)s->n_pool)];
    for (int guard = 0; guard < 64; guard++) {
      bool clash = false;
      for (int e = 0; e < i && !clash; e++) clash = val[e][0] == val[i][0];
      if (!clash) break;
      val[i][0] = s->pool[skl_rng_below(r, (uint64_t)s->n_pool)];
    }
  }
  /* queries: a random subset of fewer than all, so "the one not asked yet"
   * never names the last answer */
  int order[MAX_E], n_q = n_e / 2 + (int)skl_rng_below(r, (uint64_t)((n_e + 1) / 2));
  if (n_q >= n_e) n_q = n_e - 1;
  for (int i = 0; i < n_e; i++) order[i] = i;
  skl_rng_shuffle(r, order, (size_t)n_e, sizeof *order);
  /* the filler is shared among the n_e + n_q + 1 gaps at random */
  int slots = n_e + n_q, free_tok = n - slots * L, cut[2 * MAX_E + 1];
  for (int i = 0; i < slots; i++) cut[i] = (int)skl_rng_below(r, (uint64_t)free_tok + 1);
  for (int i = 1; i < slots; i++)
    for (int j = i; j > 0 && cut[j] < cut[j - 1]; j--) { int t = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = t; }
  for (int i = 0; i < slots; i++) {
    int e = i < n_e ? i : order[i - n_e], at = cut[i] + i * L;
    memcpy(ids + at, key[e], sizeof *ids * (size_t)kl);
    memcpy(ids + at + kl, gap, sizeof *ids * (size_t)gl);
    memcpy(ids + at + kl + gl, val[e], sizeof *ids * (size_t)vl);
    if (i < n_e || at + L > n) continue;
    memset(sup + at, 1, (size_t)(L - 1)); /* predicting at + 1 .. at + L - 1 */
    probe[at + kl + gl - 1] = 1;
  }
}

skl_status synth_pt_row(const synth_pt_stream *s, uint64_t seed, int64_t step, int64_t row, int T, synth_pt_rows rows,
                        int32_t *tokens, int32_t *targets, uint8_t *probe, int *label, synth_pt_scratch *w,
                        skl_error *err) {
  bool induction_only = rows == SYNTH_PT_ROWS_INDUCTION;
  int min_len = induction_only ? 32 : rows == SYNTH_PT_ROWS_RECALL ? SYNTH_PT_RECALL_MIN_LEN : synth_pt_min_len(s);
  if (T < min_len)
    return skl_error_set(err, SKL_ERR_RANGE, "pretrain: rows of %d tokens are too short (at least %d)", T, min_len);
  skl_rng r;
  skl_rng_seed(&r, skl_rng_derive(seed, 0x7072657472ull /* "pretr" */, (uint64_t)step, (uint64_t)row));
  double sum = 0, x;
  for (int c = 0; c < SYNTH_PT_COMPONENT_COUNT; c++) sum += s->p.mixture[c];
  x = skl_rng_uniform(&r) * sum;
  int comp = 0;
  while (comp < SYNTH_PT_COMPONENT_COUNT - 1 && (x >= s->p.mixture[comp] || s->p.mixture[comp] <= 0)) {
    x -= s->p.mixture[comp];
    comp++;
  }
  bool first = induction_only;
  if (first) comp = SYNTH_PT_INDUCTION;
  if (rows == SYNTH_PT_ROWS_RECALL) comp = SYNTH_PT_RECALL;
  size_t n = (size_t)T + 1; /* inputs and the target after the last */
  memset(probe, 0, (size_t)T);
  skl_status st = SKL_OK;
  bool loss_all = true;
  const uint8_t *sup = NULL; /* when set, the positions with loss (else loss_all or the probes) */
  if (comp == SYNTH_PT_INDUCTION) {
    bool text = skl_rng_uniform(&r) < s->p.induction_text && !first;
    *label = text ? SYNTH_PT_LABEL_INDUCTION_TEXT : SYNTH_PT_LABEL_INDUCTION_RANDOM;
    if (text) {
      if ((st = text_tokens(s, &r, n, NULL, 0, NULL, w, err))) return st;
      keep_tail(w, n);
    } else {
      skl_tokens_clear(&w->ids);
      for (size_t i = 0; !st && i < n; i++) st = skl_tokens_push(&w->ids, s->pool[skl_rng_below(&r, (uint64_t)s->n_pool)]);
      if (st) return skl_error_set(err, st, "out of memory");
      loss_all = false; /* random tokens carry nothing to learn outside the repeats */
    }
    skl_buf_clear(&w->unit);
    if ((st = skl_buf_reserve(&w->unit, n))) return skl_error_set(err, st, "out of memory");
    place_repeats(s, &r, w->ids.data, (int)n, probe, (uint8_t *)w->unit.data);
  } else if (comp == SYNTH_PT_RECALL && skl_rng_uniform(&r) < s->p.recall_random) {
    *label = SYNTH_PT_LABEL_RECALL_RANDOM;
    skl_tokens_clear(&w->ids);
    for (size_t i = 0; !st && i < n; i++) st = skl_tokens_push(&w->ids, 0);
    if (st || (st = skl_buf_reserve(&w->unit, n))) return skl_error_set(err, st, "out of memory");
    random_recall(s, &r, w->ids.data, (int)n, (uint8_t *)w->unit.data, probe);
    sup = (const uint8_t *)w->unit.data;
  } else if (comp == SYNTH_PT_RECALL) {
    *label = SYNTH_PT_LABEL_RECALL;
    /* from a few entries among much text to a dense table of them, at least
     * four: with one or two, "copy the nearest entry's value" would answer
     * most questions without reading any name */
    int n_e = T / s->p.tokens_per_entry, n_q = T / s->p.tokens_per_query;
    if (n_e > 4) n_e = 4 + (int)skl_rng_below(&r, (uint64_t)(n_e - 3));
    if (n_e < 4) n_e = 4;
    if (n_e > MAX_ENTRIES) n_e = MAX_ENTRIES;
    if (n_q < 1) n_q = 1;
    if (n_q > n_e) n_q = n_e;
    pt_entry e[256];
    skill_anchor_kind kind = (skill_anchor_kind)skl_rng_below(&r, SKILL_ANCHOR_KIND_COUNT);
    /* entries take at most ~35% of the row and questions ~35%, whatever the
     * names' and values' lengths in this tokenizer */
    size_t used = 0, lim_e = (size_t)T * 7 / 20, lim_q = (size_t)T * 7 / 20, cost[256];
    int kept = 0;
    bool taken[256] = {false};
    for (int i = 0; i < n_e; i++) {
      bool dup;
      int guard = 0;
      do { /* names unique within the row */
        skill_anchor_make(kind, &r, e[i].name, sizeof e[i].name);
        dup = false;
        for (int j = 0; j < i && !dup; j++) dup = !strcmp(e[i].name, e[j].name);
      } while (dup && ++guard < 100);
      make_spec(&r, taken, e[i].spec, sizeof e[i].spec);
      char line[SKILL_ANCHOR_NAME_MAX + 160];
      int len = snprintf(line, sizeof line, "Entry %s: its value is %s. ", e[i].name, e[i].spec);
      if ((st = skl_tokenizer_count(s->tok, line, (size_t)len, &cost[i], err))) return st;
      if (i >= 4 && used + cost[i] > lim_e) break;
      used += cost[i];
      kept++;
    }
    n_e = kept;
    /* questions about distinct entries, in random order */
    int q[256];
    for (int i = 0; i < n_e; i++) q[i] = i;
    skl_rng_shuffle(&r, q, (size_t)n_e, sizeof *q);
    used = 0;
    for (int i = 0; i < n_q && i < n_e; i++) {
      size_t qc = 0;
      char line[SKILL_ANCHOR_NAME_MAX + 64];
      int len = snprintf(line, sizeof line, "Question: What is the value of entry %s?\n", e[q[i]].name);
      if ((st = skl_tokenizer_count(s->tok, line, (size_t)len, &qc, err))) return st;
      if (i >= 1 && used + qc + cost[q[i]] > lim_q) { n_q = i; break; }
      used += qc + cost[q[i]];
    }
    if (n_q > n_e) n_q = n_e;
    skl_buf tail = {0};
    for (int i = 0; !st && i < n_q; i++)
      st = skl_buf_printf(&tail, "Question: What is the value of entry %s?\nEntry %s: its value is %s.\n\n",
                          e[q[i]].name, e[q[i]].name, e[q[i]].spec);
    /* a queried entry cut off the front cannot be answered: draw the text
     * again (a few times, deterministically) until every one is in the row */
    size_t cut = 0, tail_at = 0;
    for (int attempt = 0; !st && attempt < 6; attempt++) {
      if ((st = text_tokens(s, &r, n, e, n_e, tail.data, w, err))) break;
      tail_at = w->text.len - tail.len;
      cut = keep_tail(w, n);
      bool all = true; /* every entry: a cut one would make "the last entry" a better guess */
      for (int i = 0; i < n_e && all; i++) all = e[i].at >= cut;
      if (all) break;
    }
    skl_buf_free(&tail);
    if (st) return st;
    /* the value of each question's quote: tokens overlapping its bytes, found
     * by scanning the tail (entries cut off the front are not asked for) */
    size_t at = tail_at;
    for (int i = 0; i < n_q; i++) {
      const pt_entry *en = &e[q[i]];
      char head[160];
      int hl = snprintf(head, sizeof head, "Question: What is the value of entry %s?\nEntry %s: its value is ",
                        en->name, en->name);
      size_t v0 = at + (size_t)hl, v1 = v0 + strlen(en->spec);
      at = v1 + 3; /* ".\n\n" */
      if (en->at < cut) continue;
      /* the lookup is the value's first token: with it given, the rest is
       * narrowed for free ("the largest of" leaves one or two entries; a
       * first digit, few), so only this token measures the name match */
      for (size_t k = 1; k < n; k++)
        if ((size_t)w->off[k] < v1 && (size_t)w->off[k + 1] > v0) {
          probe[k - 1] = 1;
          break;
        }
    }
  } else {
    *label = SYNTH_PT_LABEL_DOCUMENTS;
    if ((st = text_tokens(s, &r, n, NULL, 0, NULL, w, err))) return st;
    keep_tail(w, n);
    memset(probe, 1, (size_t)T); /* accuracy over every token */
  }
  for (int t = 0; t < T; t++) {
    tokens[t] = w->ids.data[t];
    targets[t] = (sup ? sup[t] : loss_all || probe[t]) ? w->ids.data[t + 1] : -1;
  }
  return SKL_OK;
}
