/* skl tokenizer encode/count: added-token split, normalise, pre-split, then
 * BPE per pre-token behind a per-thread word cache. Not the loader (load.c). */
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

/* ------------------------------------------------------------ per-thread state */

typedef struct {   /* 16 bytes: the table stays in L2 */
  uint32_t h;       /* 0 = empty slot */
  uint32_t koff;
  uint32_t voff;
  uint16_t klen, vlen;
} cslot;

#define CACHE_SLOTS (1u << 14)       /* power of two */
#define CACHE_MAX_KEY 64             /* longer pre-tokens are not cached */
#define CACHE_ARENA (4u << 20)       /* bytes of keys before a reset */

typedef struct {
  uint32_t rank, pos;
} hent;

struct tok_thread {
  skl_tokenizer *owner;
  tok_thread *next, *prev;
  /* word cache: pre-token bytes -> ids */
  cslot *slots;
  size_t used;
  unsigned char *keys;
  size_t nkeys, capkeys;
  int32_t *vals;
  size_t nvals, capvals;
  /* scratch */
  skl_buf clean, norm, pbuf[2];
  tok_spans spans, spans2;
  struct sec { size_t off, len; int added; } *secs; /* text pieces (added -1) and added tokens */
  size_t nsecs, capsecs;
  int32_t *sym, *nxt, *prv;
  size_t capsym;
  hent *heap;
  size_t capheap;
  pcre2_match_data *md;
};

static void thread_free(tok_thread *th) {
  if (!th) return;
  free(th->slots);
  free(th->keys);
  free(th->vals);
  skl_buf_free(&th->clean);
  skl_buf_free(&th->norm);
  skl_buf_free(&th->pbuf[0]);
  skl_buf_free(&th->pbuf[1]);
  free(th->spans.v);
  free(th->spans2.v);
  free(th->secs);
  free(th->sym);
  free(th->nxt);
  free(th->prv);
  free(th->heap);
  if (th->md) pcre2_match_data_free(th->md);
  free(th);
}

/* pthread key destructor: a thread ends while the tokenizer lives. */
void tok_thread_destroy(void *p) {
  tok_thread *th = p;
  skl_tokenizer *t = th->owner;
  pthread_mutex_lock(&t->mu);
  if (th->prev) th->prev->next = th->next;
  else t->threads = th->next;
  if (th->next) th->next->prev = th->prev;
  pthread_mutex_unlock(&t->mu);
  thread_free(th);
}

void tok_threads_free_all(skl_tokenizer *t) {
  pthread_mutex_lock(&t->mu);
  tok_thread *th = t->threads;
  t->threads = NULL;
  pthread_mutex_unlock(&t->mu);
  while (th) {
    tok_thread *n = th->next;
    thread_free(th);
    th = n;
  }
}

static tok_thread *thread_get(const skl_tokenizer *tc) {
  skl_tokenizer *t = (skl_tokenizer *)tc; /* only the mutex-guarded thread list is written */
  tok_thread *th = pthread_getspecific(t->key);
  if (th) return th;
  th = calloc(1, sizeof *th);
  if (!th) return NULL;
  th->owner = t;
  th->slots = calloc(CACHE_SLOTS, sizeof *th->slots);
  th->md = pcre2_match_data_create(32, NULL); /* groups matter for Removed splits */
  if (!th->slots || !th->md) { thread_free(th); return NULL; }
  if (pthread_setspecific(t->key, th)) { thread_free(th); return NULL; }
  pthread_mutex_lock(&t->mu);
  th->next = t->threads;
  if (t->threads) t->threads->prev = th;
  t->threads = th;
  pthread_mutex_unlock(&t->mu);
  return th;
}

static void cache_reset(tok_thread *th) {
  memset(th->slots, 0, CACHE_SLOTS * sizeof *th->slots);
  th->used = th->nkeys = th->nvals = 0;
}

/* ------------------------------------------------------------ BPE */

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t nc = *cap ? *cap : 64;
  while (nc < need) nc *= 2;
  void *q = realloc(*p, nc * elem);
  if (!q) return false;
  *p = q;
  *cap = nc;
  return true;
}

static inline bool hless(hent a, hent b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static void heap_push(hent *h, size_t *n, hent e) {
  size_t i = (*n)++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!hless(e, h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

static hent heap_pop(hent *h, size_t *n) {
  hent top = h[0], last = h[--(*n)];
  size_t i = 0, m = *n;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, s = i;
    hent best = last;
    if (l < m && hless(h[l], best)) { s = l; best = h[l]; }
    if (r < m && hless(h[r], best)) s = r;
    if (s == i) break;
    h[i] = h[s];
    i = s;
  }
  if (m) h[i] = last;
  return top;
}

/* BPE of one pre-token's raw bytes w[0..n); ids appended to th->vals.
 * @return false on allocation failure. */
static bool bpe_word(const skl_tokenizer *t, tok_thread *th, const unsigned char *w, size_t n) {
  if (!grow((void **)&th->vals, &th->capvals, th->nvals + n, sizeof *th->vals)) return false;
  if (t->ignore_merges || n == 1) {
    int32_t id = tok_vocab_find(t, w, n);
    if (id >= 0) { th->vals[th->nvals++] = id; return true; }
  }
  if (n > th->capsym) { /* sym, nxt, prv share one capacity */
    size_t nc = th->capsym ? th->capsym : 64;
    while (nc < n) nc *= 2;
    int32_t *a = realloc(th->sym, nc * sizeof *a);
    if (a) th->sym = a;
    int32_t *b = realloc(th->nxt, nc * sizeof *b);
    if (b) th->nxt = b;
    int32_t *c = realloc(th->prv, nc * sizeof *c);
    if (c) th->prv = c;
    if (!a || !b || !c) return false;
    th->capsym = nc;
  }
  if (!grow((void **)&th->heap, &th->capheap, 2 * n + 2, sizeof *th->heap)) return false;
  int32_t *sym = th->sym, *nxt = th->nxt, *prv = th->prv;
  hent *heap = th->heap;
  size_t nh = 0;
  for (size_t i = 0; i < n; i++) {
    sym[i] = t->byte_id[w[i]];
    nxt[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
    prv[i] = (int32_t)i - 1;
  }
  int32_t res;
  for (size_t i = 0; i + 1 < n; i++) {
    uint32_t r = tok_merge_find(t, sym[i], sym[i + 1], &res);
    if (r != UINT32_MAX) heap_push(heap, &nh, (hent){r, (uint32_t)i});
  }
  while (nh) {
    hent e = heap_pop(heap, &nh);
    int32_t p = (int32_t)e.pos, q = nxt[p];
    if (sym[p] == INT32_MIN || q < 0) continue;
    uint32_t r = tok_merge_find(t, sym[p], sym[q], &res);
    if (r != e.rank) continue; /* stale: one side merged since */
    sym[p] = res;
    sym[q] = INT32_MIN; /* dead */
    nxt[p] = nxt[q];
    if (nxt[q] >= 0) prv[nxt[q]] = p;
    if (nh + 2 > th->capheap) { /* cannot happen: at most one live entry per pair plus stale ones */
      if (!grow((void **)&th->heap, &th->capheap, nh + 2, sizeof *th->heap)) return false;
      heap = th->heap;
    }
    if (prv[p] >= 0 && (r = tok_merge_find(t, sym[prv[p]], sym[p], &res)) != UINT32_MAX)
      heap_push(heap, &nh, (hent){r, (uint32_t)prv[p]});
    if (nxt[p] >= 0 && (r = tok_merge_find(t, sym[p], sym[nxt[p]], &res)) != UINT32_MAX)
      heap_push(heap, &nh, (hent){r, (uint32_t)p});
  }
  for (int32_t i = 0; i >= 0; i = nxt[i]) {
    int32_t id = sym[i];
    if (id < 0) id = t->unk_id; /* a byte with no token: the reference emits unk (or nothing) */
    if (id >= 0) th->vals[th->nvals++] = id;
  }
  return true;
}

/* Ids of one pre-token, through the cache. *ids points into th->vals
 * (valid until the next call). @return false on allocation failure. */
static bool word_ids(const skl_tokenizer *t, tok_thread *th, const unsigned char *w, size_t n, const int32_t **ids,
                     size_t *nids) {
  if (n > CACHE_MAX_KEY) { /* long words: computed past the cached ids, then dropped */
    if (th->nvals > CACHE_ARENA) cache_reset(th);
    size_t v0 = th->nvals;
    if (!bpe_word(t, th, w, n)) return false;
    *ids = th->vals + v0;
    *nids = th->nvals - v0;
    th->nvals = v0; /* not kept */
    return true;
  }
  uint64_t h64 = tok_hash_bytes(w, n);
  uint32_t h = (uint32_t)(h64 >> 32) | 1;
  size_t i = (size_t)h64 & (CACHE_SLOTS - 1);
  for (;;) {
    cslot *s = &th->slots[i];
    if (!s->h) break;
    if (s->h == h && s->klen == n && !memcmp(th->keys + s->koff, w, n)) {
      *ids = th->vals + s->voff;
      *nids = s->vlen;
      return true;
    }
    i = (i + 1) & (CACHE_SLOTS - 1);
  }
  if (th->used * 4 >= CACHE_SLOTS * 3 || th->nkeys + n > CACHE_ARENA) {
    cache_reset(th);
    i = (size_t)h64 & (CACHE_SLOTS - 1);
  }
  if (!grow((void **)&th->keys, &th->capkeys, th->nkeys + n, 1)) return false;
  size_t v0 = th->nvals;
  if (!bpe_word(t, th, w, n)) return false;
  memcpy(th->keys + th->nkeys, w, n);
  if (th->nvals - v0 > UINT16_MAX) { /* cannot happen for keys <= CACHE_MAX_KEY bytes; do not cache */
    *ids = th->vals + v0;
    *nids = th->nvals - v0;
    return true;
  }
  th->slots[i] = (cslot){h, (uint32_t)th->nkeys, (uint32_t)v0, (uint16_t)n, (uint16_t)(th->nvals - v0)};
  th->nkeys += n;
  th->used++;
  *ids = th->vals + v0;
  *nids = th->nvals - v0;
  return true;
}

/* ------------------------------------------------------------ pipeline */

typedef struct {
  skl_tokens *out; /* NULL: count only */
  size_t count;
} sink;

static bool emit(sink *k, const int32_t *ids, size_t n) {
  k->count += n;
  if (!k->out) return true;
  skl_tokens *o = k->out;
  if (o->len + n > o->cap) {
    size_t nc = o->cap ? o->cap : 256;
    while (nc < o->len + n) nc *= 2;
    int32_t *d = realloc(o->data, nc * sizeof *d);
    if (!d) return false;
    o->data = d;
    o->cap = nc;
  }
  memcpy(o->data + o->len, ids, n * sizeof *ids);
  o->len += n;
  return true;
}

static skl_status normalize(const skl_tokenizer *t, tok_thread *th, const char **s, size_t *n, skl_error *err) {
  for (int i = 0; i < t->n_norm; i++) {
    tok_norm m = t->norm[i];
    unsigned limit = m == TOK_NORM_NFC ? 0xCC : 0x80; /* below U+0300 NFC changes nothing */
    size_t j = 0;
    const unsigned char *u = (const unsigned char *)*s;
    while (j < *n && u[j] < limit) j++;
    if (j == *n) continue;
    int opt = UTF8PROC_STABLE;
    if (m == TOK_NORM_NFC || m == TOK_NORM_NFKC) opt |= UTF8PROC_COMPOSE;
    else opt |= UTF8PROC_DECOMPOSE;
    if (m == TOK_NORM_NFKC || m == TOK_NORM_NFKD) opt |= UTF8PROC_COMPAT;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)*s, (utf8proc_ssize_t)*n, &dst, (utf8proc_option_t)opt);
    if (r < 0) {
      free(dst);
      return skl_error_set(err, r == UTF8PROC_ERROR_NOMEM ? SKL_ERR_NOMEM : SKL_ERR_INTERNAL,
                           "normalizer: utf8proc failed: %s", utf8proc_errmsg(r));
    }
    skl_buf_clear(&th->norm);
    skl_status st = skl_buf_append(&th->norm, dst, (size_t)r);
    free(dst);
    if (st) return skl_error_set(err, st, "out of memory");
    *s = th->norm.data;
    *n = th->norm.len;
  }
  return SKL_OK;
}

/* Pre-split one normalised section and BPE each piece. */
static skl_status encode_text(const skl_tokenizer *t, tok_thread *th, const char *s, size_t n, sink *k, skl_error *err) {
  if (t->n_stages == 1 && t->stages[0].kind != TOK_PAT_PCRE && t->stages[0].kind != TOK_PAT_NONE &&
      !t->stages[0].prefix_space) { /* the common case: match and encode as we go, no span list */
    for (size_t p = 0; p < n;) {
      size_t m = tok_match_known(t->stages[0].kind, t->ctable, s, n, p);
      const int32_t *ids;
      size_t nids;
      if (!word_ids(t, th, (const unsigned char *)s + p, m, &ids, &nids) || !emit(k, ids, nids))
        return skl_error_set(err, SKL_ERR_NOMEM, "out of memory while encoding");
      p += m;
    }
    return SKL_OK;
  }
  const char *base = s;
  tok_spans *cur = &th->spans, *nx = &th->spans2;
  cur->n = 0;
  if (tok_spans_push(cur, 0, n)) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  int pb = 0;
  for (int si = 0; si < t->n_stages; si++) {
    const tok_stage *st = &t->stages[si];
    if (st->prefix_space) { /* rebuild the pieces with a leading ' ' where missing */
      skl_buf *b = &th->pbuf[pb];
      pb ^= 1;
      skl_buf_clear(b);
      nx->n = 0;
      for (size_t i = 0; i < cur->n; i++) {
        const char *p = base + cur->v[i].off;
        size_t off = b->len;
        if ((cur->v[i].len == 0 || p[0] != ' ') && skl_buf_append(b, " ", 1))
          return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
        if (skl_buf_append(b, p, cur->v[i].len) || tok_spans_push(nx, off, b->len - off))
          return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
      }
      base = b->data;
      tok_spans *tmp = cur; cur = nx; nx = tmp;
    }
    if (st->kind == TOK_PAT_NONE) continue;
    nx->n = 0;
    for (size_t i = 0; i < cur->n; i++) {
      skl_status rc;
      if (st->kind == TOK_PAT_PCRE)
        rc = tok_split_pcre(st->re, th->md, st->mode, base + cur->v[i].off, cur->v[i].len, cur->v[i].off, nx, err);
      else {
        rc = tok_split_known(st->kind, t->ctable, base + cur->v[i].off, cur->v[i].len, cur->v[i].off, nx);
        if (rc) skl_error_set(err, rc, "out of memory");
      }
      if (rc) return rc;
    }
    tok_spans *tmp = cur; cur = nx; nx = tmp;
  }
  for (size_t i = 0; i < cur->n; i++) {
    if (!cur->v[i].len) continue;
    const int32_t *ids;
    size_t m;
    if (!word_ids(t, th, (const unsigned char *)base + cur->v[i].off, cur->v[i].len, &ids, &m) || !emit(k, ids, m))
      return skl_error_set(err, SKL_ERR_NOMEM, "out of memory while encoding");
  }
  return SKL_OK;
}

static size_t js_trim_end(const char *s, size_t n) {
  /* drop trailing JS whitespace: step back over UTF-8 sequences */
  while (n > 0) {
    size_t b = n - 1;
    while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
    size_t l;
    if (!tok_js_space(tok_utf8_next((const unsigned char *)s + b, n - b, &l))) break;
    n = b;
  }
  return n;
}

static size_t js_trim_start(const char *s, size_t n) {
  size_t i = 0, l;
  while (i < n && tok_js_space(tok_utf8_next((const unsigned char *)s + i, n - i, &l))) i += l;
  return i;
}

/* Longest added token at s[0..n), or -1. */
static int added_at(const skl_tokenizer *t, const char *s, size_t n) {
  unsigned char b = (unsigned char)s[0];
  for (uint32_t j = t->abucket_start[b]; j < t->abucket_start[b + 1]; j++) {
    const tok_added *a = &t->added[t->abucket_idx[j]];
    if (a->len <= n && !memcmp(a->content, s, a->len)) return (int)t->abucket_idx[j];
  }
  return -1;
}

static skl_status encode_core(const skl_tokenizer *t, const char *text, size_t len, unsigned flags, sink *k,
                              skl_error *err) {
  if (!text && len) return skl_error_set(err, SKL_ERR_INVALID, "tokenizer: NULL text with length %zu", len);
  if (!text) text = "";
  tok_thread *th = thread_get(t);
  if (!th) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory for the tokenizer's thread state");
  skl_status st;
  if (!tok_utf8_sanitize(text, len, &th->clean, &st)) {
    if (st) return skl_error_set(err, st, "out of memory");
    text = th->clean.data;
    len = th->clean.len;
  }
  if ((flags & SKL_TOK_ADD_SPECIAL) && t->n_post_pre && !emit(k, t->post_pre, t->n_post_pre))
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  /* sections: text pieces and added tokens, longest added token first */
  th->nsecs = 0;
  size_t last = 0;
  for (size_t i = 0; i < len;) {
    if (t->afirst_only >= 0) { /* one possible first byte ('<'): memchr to it */
      const char *q = memchr(text + i, t->afirst_only, len - i);
      if (!q) break;
      i = (size_t)(q - text);
    } else if (!t->n_added) break;
    int a = t->afirst[(unsigned char)text[i]] ? added_at(t, text + i, len - i) : -1;
    if (a < 0) { i++; continue; }
    if (!grow((void **)&th->secs, &th->capsecs, th->nsecs + 2, sizeof *th->secs))
      return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    if (i > last) th->secs[th->nsecs++] = (struct sec){last, i - last, -1};
    th->secs[th->nsecs++] = (struct sec){i, t->added[a].len, a};
    i += t->added[a].len;
    last = i;
  }
  if (last < len) {
    if (!grow((void **)&th->secs, &th->capsecs, th->nsecs + 1, sizeof *th->secs))
      return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    th->secs[th->nsecs++] = (struct sec){last, len - last, -1};
  }
  /* lstrip / rstrip trim the neighbouring text pieces, as the reference does */
  for (size_t i = 0; i < th->nsecs; i++) {
    if (th->secs[i].added < 0) continue;
    const tok_added *a = &t->added[th->secs[i].added];
    struct sec *pv = i > 0 ? &th->secs[i - 1] : NULL, *nt = i + 1 < th->nsecs ? &th->secs[i + 1] : NULL;
    if (a->lstrip && pv && pv->added < 0) pv->len = js_trim_end(text + pv->off, pv->len);
    if (a->rstrip && nt && nt->added < 0) {
      size_t d = js_trim_start(text + nt->off, nt->len);
      nt->off += d;
      nt->len -= d;
    }
  }
  for (size_t i = 0; i < th->nsecs; i++) {
    if (th->secs[i].added >= 0) {
      int32_t id = t->added[th->secs[i].added].id;
      if (!emit(k, &id, 1)) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
      continue;
    }
    const char *s = text + th->secs[i].off;
    size_t n = th->secs[i].len;
    if (!n) continue;
    if ((st = normalize(t, th, &s, &n, err))) return st;
    if (!n) continue;
    if ((st = encode_text(t, th, s, n, k, err))) return st;
  }
  if ((flags & SKL_TOK_ADD_SPECIAL) && t->n_post_suf && !emit(k, t->post_suf, t->n_post_suf))
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  return SKL_OK;
}

skl_status skl_tokenizer_encode_ex(const skl_tokenizer *t, const char *text, size_t len, unsigned flags,
                                   skl_tokens *out, skl_error *err) {
  sink k = {out, 0};
  size_t len0 = out->len;
  skl_status st = encode_core(t, text, len, flags, &k, err);
  if (st) out->len = len0;
  return st;
}

skl_status skl_tokenizer_encode(const skl_tokenizer *t, const char *text, size_t len, skl_tokens *out,
                                skl_error *err) {
  return skl_tokenizer_encode_ex(t, text, len, 0, out, err);
}

skl_status skl_tokenizer_count(const skl_tokenizer *t, const char *text, size_t len, size_t *n_tokens,
                               skl_error *err) {
  sink k = {NULL, 0};
  skl_status st = encode_core(t, text, len, 0, &k, err);
  *n_tokens = st ? 0 : k.count;
  return st;
}

/* ------------------------------------------------------------ skl_tokens */

skl_status skl_tokens_push(skl_tokens *t, int32_t id) {
  if (t->len == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 64;
    int32_t *d = realloc(t->data, nc * sizeof *d);
    if (!d) return SKL_ERR_NOMEM;
    t->data = d;
    t->cap = nc;
  }
  t->data[t->len++] = id;
  return SKL_OK;
}

void skl_tokens_clear(skl_tokens *t) { t->len = 0; }

void skl_tokens_free(skl_tokens *t) {
  if (!t) return;
  free(t->data);
  t->data = NULL;
  t->len = t->cap = 0;
}
