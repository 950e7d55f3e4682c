/* skl tokenizer trainer: count pre-split words, learn byte-level BPE merges
 * (incremental pair counts, max-heap with deterministic ties), write an HF
 * tokenizer.json. Not the encoder, and not a Unigram/WordPiece trainer. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "io/jsonl.h"
#include "sys/sys.h"
#include "tok/tok_internal.h"
#include "tok/train.h"

/* ------------------------------------------------------------ word counts */

typedef struct {
  uint64_t h;
  uint32_t koff, klen;
  uint64_t count;
} wslot;

struct skl_tok_counter {
  bool nfc;
  tok_ctable *ct;
  wslot *slots;
  size_t mask, used;
  unsigned char *keys;
  size_t nkeys, capkeys;
  uint64_t bytes;
  skl_buf clean;
  tok_spans spans;
};

skl_status skl_tok_counter_init(skl_tok_counter **out, bool nfc, skl_error *err) {
  skl_tok_counter *c = calloc(1, sizeof *c);
  if (!c) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  c->nfc = nfc;
  c->mask = (1u << 16) - 1;
  c->ct = malloc(sizeof *c->ct);
  c->slots = calloc(c->mask + 1, sizeof *c->slots);
  if (!c->ct || !c->slots) { skl_tok_counter_free(c); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  tok_ctable_init(c->ct);
  *out = c;
  return SKL_OK;
}

void skl_tok_counter_free(skl_tok_counter *c) {
  if (!c) return;
  free(c->ct);
  free(c->slots);
  free(c->keys);
  skl_buf_free(&c->clean);
  free(c->spans.v);
  free(c);
}

static skl_status counter_grow(skl_tok_counter *c) {
  size_t nm = (c->mask + 1) * 2 - 1;
  wslot *ns = calloc(nm + 1, sizeof *ns);
  if (!ns) return SKL_ERR_NOMEM;
  for (size_t i = 0; i <= c->mask; i++) {
    if (!c->slots[i].count) continue;
    size_t j = (size_t)c->slots[i].h & nm;
    while (ns[j].count) j = (j + 1) & nm;
    ns[j] = c->slots[i];
  }
  free(c->slots);
  c->slots = ns;
  c->mask = nm;
  return SKL_OK;
}

static skl_status count_word(skl_tok_counter *c, const unsigned char *w, size_t n) {
  uint64_t h = tok_hash_bytes(w, n);
  size_t i = (size_t)h & c->mask;
  while (c->slots[i].count) {
    wslot *s = &c->slots[i];
    if (s->h == h && s->klen == n && !memcmp(c->keys + s->koff, w, n)) { s->count++; return SKL_OK; }
    i = (i + 1) & c->mask;
  }
  if (c->nkeys + n > UINT32_MAX) return SKL_ERR_RANGE;
  if (c->nkeys + n > c->capkeys) {
    size_t nc = c->capkeys ? c->capkeys * 2 : 1 << 20;
    while (nc < c->nkeys + n) nc *= 2;
    unsigned char *k = realloc(c->keys, nc);
    if (!k) return SKL_ERR_NOMEM;
    c->keys = k;
    c->capkeys = nc;
  }
  memcpy(c->keys + c->nkeys, w, n);
  c->slots[i] = (wslot){h, (uint32_t)c->nkeys, (uint32_t)n, 1};
  c->nkeys += n;
  if (++c->used * 2 > c->mask) return counter_grow(c);
  return SKL_OK;
}

skl_status skl_tok_counter_add(skl_tok_counter *c, const char *text, size_t len, skl_error *err) {
  skl_status st;
  if (!tok_utf8_sanitize(text, len, &c->clean, &st)) {
    if (st) return skl_error_set(err, st, "out of memory");
    text = c->clean.data;
    len = c->clean.len;
  }
  utf8proc_uint8_t *nfc = NULL;
  if (c->nfc) {
    size_t j = 0;
    while (j < len && (unsigned char)text[j] < 0xCC) j++;
    if (j < len) {
      utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nfc,
                                        UTF8PROC_STABLE | UTF8PROC_COMPOSE);
      if (r < 0) { free(nfc); return skl_error_set(err, SKL_ERR_NOMEM, "NFC failed: %s", utf8proc_errmsg(r)); }
      text = (const char *)nfc;
      len = (size_t)r;
    }
  }
  c->bytes += len;
  c->spans.n = 0;
  st = tok_split_known(TOK_PAT_QWEN2, c->ct, text, len, 0, &c->spans);
  for (size_t i = 0; !st && i < c->spans.n; i++)
    st = count_word(c, (const unsigned char *)text + c->spans.v[i].off, c->spans.v[i].len);
  free(nfc);
  if (st) return skl_error_set(err, st, st == SKL_ERR_RANGE ? "training text has too many distinct words" : "out of memory");
  return SKL_OK;
}

/* ------------------------------------------------------------ BPE training */

typedef struct {
  int32_t *sym;
  uint32_t n;
  uint64_t count;
} tword;

typedef struct {
  uint64_t key;     /* a<<32|b; UINT64_MAX empty */
  int64_t count;
  uint32_t *where;  /* word indices (may repeat) */
  uint32_t nwhere, capwhere;
} tpair;

typedef struct {
  int64_t count;
  uint64_t key;
} theap;

typedef struct {
  tpair *p;
  size_t mask, used;
  theap *heap;
  size_t nheap, capheap;
} tstate;

/* max count first; ties: smaller (left, right) id pair first */
static inline bool hbetter(theap a, theap b) { return a.count > b.count || (a.count == b.count && a.key < b.key); }

static bool hpush(tstate *s, theap e) {
  if (s->nheap == s->capheap) {
    size_t nc = s->capheap ? s->capheap * 2 : 4096;
    theap *h = realloc(s->heap, nc * sizeof *h);
    if (!h) return false;
    s->heap = h;
    s->capheap = nc;
  }
  size_t i = s->nheap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!hbetter(e, s->heap[p])) break;
    s->heap[i] = s->heap[p];
    i = p;
  }
  s->heap[i] = e;
  return true;
}

static theap hpop(tstate *s) {
  theap top = s->heap[0], last = s->heap[--s->nheap];
  size_t i = 0, m = s->nheap;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, b = i;
    theap best = last;
    if (l < m && hbetter(s->heap[l], best)) { b = l; best = s->heap[l]; }
    if (r < m && hbetter(s->heap[r], best)) b = r;
    if (b == i) break;
    s->heap[i] = s->heap[b];
    i = b;
  }
  if (m) s->heap[i] = last;
  return top;
}

static tpair *pair_get(tstate *s, uint64_t key, bool create) {
  size_t i = (size_t)tok_mix64(key) & s->mask;
  while (s->p[i].key != UINT64_MAX) {
    if (s->p[i].key == key) return &s->p[i];
    i = (i + 1) & s->mask;
  }
  if (!create) return NULL;
  if ((s->used + 1) * 2 > s->mask) { /* grow */
    size_t nm = (s->mask + 1) * 2 - 1;
    tpair *np = calloc(nm + 1, sizeof *np);
    if (!np) return NULL;
    for (size_t k = 0; k <= nm; k++) np[k].key = UINT64_MAX;
    for (size_t k = 0; k <= s->mask; k++) {
      if (s->p[k].key == UINT64_MAX) continue;
      size_t j = (size_t)tok_mix64(s->p[k].key) & nm;
      while (np[j].key != UINT64_MAX) j = (j + 1) & nm;
      np[j] = s->p[k];
    }
    free(s->p);
    s->p = np;
    s->mask = nm;
    return pair_get(s, key, true);
  }
  s->p[i] = (tpair){key, 0, NULL, 0, 0};
  s->used++;
  return &s->p[i];
}

/* Add delta occurrences of (a,b) in word w. */
static bool pair_add(tstate *s, int32_t a, int32_t b, int64_t delta, uint32_t w) {
  uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  tpair *p = pair_get(s, key, true);
  if (!p) return false;
  p->count += delta;
  if (delta > 0) {
    if (p->nwhere == p->capwhere) {
      uint32_t nc = p->capwhere ? p->capwhere * 2 : 4;
      uint32_t *nw = realloc(p->where, nc * sizeof *nw);
      if (!nw) return false;
      p->where = nw;
      p->capwhere = nc;
    }
    if (!p->nwhere || p->where[p->nwhere - 1] != w) p->where[p->nwhere++] = w;
  }
  return true;
}

typedef struct {
  unsigned char **bytes; /* [ntok] */
  uint32_t *blen;
  size_t ntok, cap;
} tvocab;

static int32_t vocab_find(const tvocab *v, const unsigned char *b, size_t n) {
  for (size_t i = 256; i < v->ntok; i++) /* called once per merge: linear is fine for <= 64k */
    if (v->blen[i] == n && !memcmp(v->bytes[i], b, n)) return (int32_t)i;
  return -1;
}

static void put_bl(skl_buf *b, const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = tok_byte_to_cp(s[i]);
    char u[2];
    if (cp < 0x80) { u[0] = (char)cp; skl_buf_append(b, u, 1); }
    else { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); skl_buf_append(b, u, 2); }
  }
}

skl_status skl_tok_train(skl_tok_counter *c, const skl_tok_train_opts *o, skl_buf *out, skl_tok_train_stats *stats,
                         skl_error *err) {
  double t0 = skl_time_now();
  if (o->vocab_size < 256 + o->n_specials)
    return skl_error_set(err, SKL_ERR_RANGE, "--vocab-size %zu is too small: need at least 256 bytes + %zu special tokens",
                         o->vocab_size, o->n_specials);
  if (o->vocab_size > (1u << 24)) return skl_error_set(err, SKL_ERR_RANGE, "--vocab-size %zu is too large", o->vocab_size);
  for (size_t i = 0; i < o->n_specials; i++)
    if (!o->specials[i] || !o->specials[i][0])
      return skl_error_set(err, SKL_ERR_INVALID, "special token %zu is empty", i);
  size_t target_merges = o->vocab_size - 256 - o->n_specials;
  skl_status st = SKL_ERR_NOMEM;
  /* words, sorted by bytes so everything after is independent of hash order */
  size_t nw = c->used, k = 0;
  tword *words = calloc(nw + 1, sizeof *words);
  uint32_t *order = malloc((nw + 1) * sizeof *order);
  tstate s = {0};
  tvocab v = {0};
  skl_buf merges_txt = {0};
  json_t *root = NULL, *jmerges = NULL;
  uint32_t *seen = NULL;
  uint64_t *touched = NULL;
  size_t ntouched = 0, captouched = 0, nmerges = 0;
  if (!words || !order) goto done;
  for (size_t i = 0; i <= c->mask; i++)
    if (c->slots[i].count) order[k++] = (uint32_t)i;
  /* insertion into words in slot order, then qsort by bytes */
  for (size_t i = 0; i < nw; i++) {
    wslot *ws = &c->slots[order[i]];
    words[i].n = ws->klen;
    words[i].count = ws->count;
    words[i].sym = malloc((ws->klen + 1) * sizeof(int32_t));
    if (!words[i].sym) goto done;
    for (uint32_t j = 0; j < ws->klen; j++) words[i].sym[j] = c->keys[ws->koff + j];
  }
  /* pair counts: deterministic regardless of word order since counts are sums */
  s.mask = (1u << 16) - 1;
  s.p = calloc(s.mask + 1, sizeof *s.p);
  if (!s.p) goto done;
  for (size_t i = 0; i <= s.mask; i++) s.p[i].key = UINT64_MAX;
  for (size_t w = 0; w < nw; w++)
    for (uint32_t j = 0; j + 1 < words[w].n; j++)
      if (!pair_add(&s, words[w].sym[j], words[w].sym[j + 1], (int64_t)words[w].count, (uint32_t)w)) goto done;
  for (size_t i = 0; i <= s.mask; i++)
    if (s.p[i].key != UINT64_MAX && s.p[i].count > 0 && !hpush(&s, (theap){s.p[i].count, s.p[i].key})) goto done;
  v.cap = 256 + target_merges + 1;
  v.bytes = calloc(v.cap, sizeof *v.bytes);
  v.blen = calloc(v.cap, sizeof *v.blen);
  if (!v.bytes || !v.blen) goto done;
  for (unsigned b = 0; b < 256; b++) {
    v.bytes[b] = malloc(1);
    if (!v.bytes[b]) goto done;
    v.bytes[b][0] = (unsigned char)b;
    v.blen[b] = 1;
  }
  v.ntok = 256;
  jmerges = json_array();
  seen = calloc(nw + 1, sizeof *seen);
  if (!jmerges || !seen) goto oom;
  while (nmerges < target_merges && s.nheap) {
    theap top = hpop(&s);
    tpair *p = pair_get(&s, top.key, false);
    if (!p) continue;
    if (p->count != top.count) { /* stale: re-queue a decreased count; an increased one is queued already */
      if (p->count > 0 && p->count < top.count && !hpush(&s, (theap){p->count, top.key})) goto oom;
      continue;
    }
    if (p->count < (int64_t)o->min_frequency || p->count <= 0) break;
    int32_t a = (int32_t)(top.key >> 32), b = (int32_t)(uint32_t)top.key;
    /* the new token (an existing one if two merges spell the same bytes) */
    size_t nl = v.blen[a] + v.blen[b];
    unsigned char *nb = malloc(nl);
    if (!nb) goto oom;
    memcpy(nb, v.bytes[a], v.blen[a]);
    memcpy(nb + v.blen[a], v.bytes[b], v.blen[b]);
    int32_t nid = vocab_find(&v, nb, nl);
    if (nid < 0) {
      nid = (int32_t)v.ntok++;
      v.bytes[nid] = nb;
      v.blen[nid] = (uint32_t)nl;
    } else free(nb);
    skl_buf_clear(&merges_txt);
    put_bl(&merges_txt, v.bytes[a], v.blen[a]);
    skl_buf_append(&merges_txt, " ", 1);
    put_bl(&merges_txt, v.bytes[b], v.blen[b]);
    if (json_array_append_new(jmerges, json_stringn(merges_txt.data, merges_txt.len))) goto oom;
    nmerges++;
    /* apply in every word that had the pair: remove its old pairs, add its new ones */
    uint32_t nwh = p->nwhere, *wh = p->where;
    p->where = NULL;
    p->nwhere = p->capwhere = 0;
    ntouched = 0;
    bool ok = true;
    for (uint32_t wi = 0; ok && wi < nwh; wi++) {
      uint32_t w = wh[wi];
      if (seen[w] == nmerges) continue;
      seen[w] = (uint32_t)nmerges;
      tword *wd = &words[w];
      int64_t cnt = (int64_t)wd->count;
      int32_t *sy = wd->sym;
      bool has = false;
      for (uint32_t j = 0; j + 1 < wd->n; j++) has |= sy[j] == a && sy[j + 1] == b;
      if (!has) continue;
      for (uint32_t j = 0; ok && j + 1 < wd->n; j++) ok = pair_add(&s, sy[j], sy[j + 1], -cnt, w);
      uint32_t j = 0, o2 = 0;
      while (j < wd->n) {
        if (j + 1 < wd->n && sy[j] == a && sy[j + 1] == b) { sy[o2++] = nid; j += 2; }
        else sy[o2++] = sy[j++];
      }
      wd->n = o2;
      for (j = 0; ok && j + 1 < wd->n; j++) {
        ok = pair_add(&s, sy[j], sy[j + 1], cnt, w);
        if (ok && ntouched == captouched) {
          size_t nc = captouched ? captouched * 2 : 1024;
          uint64_t *nt = realloc(touched, nc * sizeof *nt);
          if (!nt) ok = false;
          else { touched = nt; captouched = nc; }
        }
        if (ok) touched[ntouched++] = ((uint64_t)(uint32_t)sy[j] << 32) | (uint32_t)sy[j + 1];
      }
    }
    free(wh);
    if (!ok) goto oom;
    /* queue the current count of every pair that gained occurrences */
    for (size_t i = 0; i < ntouched; i++) {
      tpair *q = pair_get(&s, touched[i], false);
      if (q && q->count > 0 && !hpush(&s, (theap){q->count, touched[i]})) goto oom;
    }
  }
  free(touched);
  touched = NULL;
  free(seen);
  seen = NULL;

  /* the file */
  root = json_object();
  json_t *vocab = json_object(), *added = json_array();
  json_object_set_new(root, "version", json_string("1.0"));
  json_object_set_new(root, "truncation", json_null());
  json_object_set_new(root, "padding", json_null());
  for (size_t i = 0; i < o->n_specials; i++)
    json_array_append_new(added, json_pack("{s:i,s:s,s:b,s:b,s:b,s:b,s:b}", "id", (int)(v.ntok + i), "content",
                                           o->specials[i], "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0,
                                           "special", 1));
  json_object_set_new(root, "added_tokens", added);
  json_object_set_new(root, "normalizer", o->nfc ? json_pack("{s:s}", "type", "NFC") : json_null());
  json_object_set_new(root, "pre_tokenizer",
                      json_pack("{s:s,s:[{s:s,s:{s:s},s:s,s:b},{s:s,s:b,s:b,s:b}]}", "type", "Sequence", "pretokenizers",
                                "type", "Split", "pattern", "Regex", tok_pattern_qwen2, "behavior", "Isolated", "invert", 0,
                                "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 0, "use_regex", 0));
  json_object_set_new(root, "post_processor", json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                                        "trim_offsets", 0, "use_regex", 0));
  json_object_set_new(root, "decoder", json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                                 "trim_offsets", 0, "use_regex", 0));
  for (size_t i = 0; i < v.ntok; i++) {
    skl_buf_clear(&merges_txt);
    put_bl(&merges_txt, v.bytes[i], v.blen[i]);
    if (json_object_set_new(vocab, merges_txt.data, json_integer((json_int_t)i))) goto oom;
  }
  json_t *model = json_pack("{s:s,s:n,s:n,s:s,s:s,s:b,s:b,s:b}", "type", "BPE", "dropout", "unk_token",
                            "continuing_subword_prefix", "", "end_of_word_suffix", "", "fuse_unk", 0, "byte_fallback", 0,
                            "ignore_merges", 0);
  json_object_set_new(model, "vocab", vocab);
  json_object_set_new(model, "merges", jmerges);
  jmerges = NULL;
  json_object_set_new(root, "model", model);
  char *txt = json_dumps(root, JSON_INDENT(2));
  if (!txt || skl_buf_puts(out, txt) || skl_buf_puts(out, "\n")) { free(txt); goto oom; }
  free(txt);
  if (stats) {
    stats->vocab_size = v.ntok + o->n_specials;
    stats->merges = nmerges;
    stats->words = nw;
    stats->bytes = c->bytes;
    stats->seconds = skl_time_now() - t0;
  }
  st = SKL_OK;
  goto done;
oom:
  st = SKL_ERR_NOMEM;
  free(touched);
  free(seen);
  json_decref(jmerges);
done:
  for (size_t i = 0; i < nw && words; i++) free(words[i].sym);
  free(words);
  free(order);
  for (size_t i = 0; s.p && i <= s.mask; i++)
    if (s.p[i].key != UINT64_MAX) free(s.p[i].where);
  free(s.p);
  free(s.heap);
  for (size_t i = 0; i < v.ntok; i++) free(v.bytes[i]);
  free(v.bytes);
  free(v.blen);
  skl_buf_free(&merges_txt);
  json_decref(root);
  if (st) skl_error_set(err, st, "out of memory while training");
  return st;
}

/* ------------------------------------------------------------ files */

static bool ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static skl_status add_jsonl(skl_tok_counter *c, const char *path, skl_error *err) {
  skl_jsonl_reader *r;
  skl_status st = skl_jsonl_open(&r, path, err);
  if (st) return st;
  json_t *obj;
  while (!(st = skl_jsonl_next(r, &obj, err)) && obj) {
    json_t *prompt = json_object_get(obj, "prompt"), *answer = json_object_get(obj, "answer");
    size_t i;
    json_t *m;
    bool any = false;
    if (json_is_array(prompt))
      json_array_foreach(prompt, i, m) {
        json_t *content = json_object_get(m, "content");
        if (json_is_string(content) && !st) {
          st = skl_tok_counter_add(c, json_string_value(content), json_string_length(content), err);
          any = true;
        }
      }
    else if (json_is_string(prompt) && !st) {
      st = skl_tok_counter_add(c, json_string_value(prompt), json_string_length(prompt), err);
      any = true;
    }
    if (json_is_string(answer) && !st) {
      st = skl_tok_counter_add(c, json_string_value(answer), json_string_length(answer), err);
      any = true;
    }
    json_decref(obj);
    if (!st && !any)
      st = skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: record has no prompt[].content or answer string to train on",
                         path, skl_jsonl_lineno(r));
    if (st) break;
  }
  skl_jsonl_close(r);
  return st;
}

static skl_status add_text(skl_tok_counter *c, const char *path, skl_error *err) {
  skl_textfile *r;
  skl_status st = skl_textfile_open(&r, path, err);
  if (st) return st;
  skl_buf all = {0};
  char chunk[1 << 16];
  size_t got;
  while (!(st = skl_textfile_read(r, chunk, sizeof chunk, &got, err)) && got)
    if (skl_buf_append(&all, chunk, got)) { st = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); break; }
  skl_textfile_close(r);
  if (!st && all.len) st = skl_tok_counter_add(c, all.data, all.len, err);
  skl_buf_free(&all);
  return st;
}

skl_status skl_tok_train_files(const char *const *paths, size_t n, const skl_tok_train_opts *o, const char *out_path,
                               skl_tok_train_stats *stats, skl_error *err) {
  skl_tok_counter *c;
  skl_status st = skl_tok_counter_init(&c, o->nfc, err);
  if (st) return st;
  for (size_t i = 0; i < n && !st; i++) {
    if (ends_with(paths[i], ".jsonl") || ends_with(paths[i], ".jsonl.zst")) st = add_jsonl(c, paths[i], err);
    else st = add_text(c, paths[i], err);
  }
  if (!st && c->used == 0) st = skl_error_set(err, SKL_ERR_INVALID, "no training text in the %zu input file(s)", n);
  skl_buf out = {0};
  if (!st) st = skl_tok_train(c, o, &out, stats, err);
  if (!st) st = skl_fs_write_atomic(out_path, out.data, out.len, err);
  skl_buf_free(&out);
  skl_tok_counter_free(c);
  return st;
}
