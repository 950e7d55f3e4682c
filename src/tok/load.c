/* skl tokenizer loading: parse and validate a Hugging Face tokenizer.json
 * (byte-level BPE) into the lookup tables encode/decode use. Not the encoder. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fs.h"
#include "core/sha256.h"
#include "tok/tok_internal.h"


/* ------------------------------------------------------------ helpers */

static size_t pow2_at_least(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

int32_t tok_vocab_find(const skl_tokenizer *t, const void *s, size_t n) {
  size_t i = (size_t)tok_hash_bytes(s, n) & t->vmap_mask;
  for (;;) {
    int32_t id = t->vmap[i];
    if (id < 0) return -1;
    if (t->tok_blen[id] == n && !memcmp(t->tok_bytes[id], s, n)) return id;
    i = (i + 1) & t->vmap_mask;
  }
}

static int32_t smap_find(const skl_tokenizer *t, const char *s) {
  if (!t->smap) return -1;
  size_t n = strlen(s);
  size_t i = (size_t)tok_hash_bytes(s, n) & t->smap_mask;
  for (;;) {
    int32_t id = t->smap[i];
    if (id < 0) return -1;
    if (!strcmp(t->tok_str[id], s)) return id;
    i = (i + 1) & t->smap_mask;
  }
}

/* Insert or overwrite (by string) id in the string map. */
static void smap_put(skl_tokenizer *t, int32_t id) {
  const char *s = t->tok_str[id];
  size_t i = (size_t)tok_hash_bytes(s, strlen(s)) & t->smap_mask;
  for (;;) {
    int32_t cur = t->smap[i];
    if (cur < 0 || !strcmp(t->tok_str[cur], s)) { t->smap[i] = id; return; }
    i = (i + 1) & t->smap_mask;
  }
}

/* Truncated, printable copy of a token for messages. */
static const char *shorten(const char *s, char *buf, size_t n) {
  size_t l = strlen(s);
  if (l < n) return s;
  memcpy(buf, s, n - 4);
  /* do not cut a UTF-8 sequence */
  size_t k = n - 4;
  while (k > 0 && ((unsigned char)buf[k] & 0xC0) == 0x80) k--;
  memcpy(buf + k, "...", 4);
  return buf;
}

static bool jbool(json_t *o, const char *key, bool dflt) {
  json_t *v = json_object_get(o, key);
  return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* ------------------------------------------------------------ sections */

typedef struct {
  const char *name; /* file name for messages */
  skl_error *err;
} ctx;

#define FAIL(code, ...) skl_error_set(c->err, code, __VA_ARGS__)

static skl_status parse_normalizer(skl_tokenizer *t, json_t *n, const char *key, ctx *c) {
  if (!n || json_is_null(n)) return SKL_OK;
  const char *type = json_string_value(json_object_get(n, "type"));
  if (!json_is_object(n) || !type)
    return FAIL(SKL_ERR_INVALID, "%s: %s: expected an object with a string \"type\"", c->name, key);
  if (!strcmp(type, "Sequence")) {
    json_t *arr = json_object_get(n, "normalizers");
    if (!json_is_array(arr))
      return FAIL(SKL_ERR_INVALID, "%s: %s.normalizers: expected an array", c->name, key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
      char k[128];
      snprintf(k, sizeof k, "%s.normalizers[%zu]", key, i);
      skl_status st = parse_normalizer(t, json_array_get(arr, i), k, c);
      if (st) return st;
    }
    return SKL_OK;
  }
  tok_norm m;
  if (!strcmp(type, "NFC")) m = TOK_NORM_NFC;
  else if (!strcmp(type, "NFD")) m = TOK_NORM_NFD;
  else if (!strcmp(type, "NFKC")) m = TOK_NORM_NFKC;
  else if (!strcmp(type, "NFKD")) m = TOK_NORM_NFKD;
  else
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: normalizer type '%s' is not supported (skillrl runs NFC, NFD, NFKC, "
                "NFKD and Sequence of them)", c->name, key, type);
  if (t->n_norm >= (int)(sizeof t->norm / sizeof t->norm[0]))
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: too many normalizers (at most 8)", c->name, key);
  t->norm[t->n_norm++] = m;
  return SKL_OK;
}

static skl_status add_stage(skl_tokenizer *t, tok_stage s, const char *key, ctx *c) {
  if (t->n_stages >= (int)(sizeof t->stages / sizeof t->stages[0])) {
    if (s.re) pcre2_code_free(s.re);
    free(s.pattern);
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: too many pre-tokenizer stages (at most 8)", c->name, key);
  }
  t->stages[t->n_stages++] = s;
  return SKL_OK;
}

static skl_status parse_pretok(skl_tokenizer *t, json_t *p, const char *key, bool *saw_bytelevel, ctx *c) {
  const char *type = json_string_value(json_object_get(p, "type"));
  if (!json_is_object(p) || !type)
    return FAIL(SKL_ERR_INVALID, "%s: %s: expected an object with a string \"type\"", c->name, key);
  if (*saw_bytelevel)
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: '%s' after ByteLevel is not supported (ByteLevel must come last)",
                c->name, key, type);
  if (!strcmp(type, "Sequence")) {
    json_t *arr = json_object_get(p, "pretokenizers");
    if (!json_is_array(arr))
      return FAIL(SKL_ERR_INVALID, "%s: %s.pretokenizers: expected an array", c->name, key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
      char k[128];
      snprintf(k, sizeof k, "%s.pretokenizers[%zu]", key, i);
      skl_status st = parse_pretok(t, json_array_get(arr, i), k, saw_bytelevel, c);
      if (st) return st;
    }
    return SKL_OK;
  }
  tok_stage s = {0};
  if (!strcmp(type, "ByteLevel")) {
    *saw_bytelevel = true;
    s.prefix_space = jbool(p, "add_prefix_space", false);
    bool use_regex = jbool(p, "use_regex", true);
    s.kind = use_regex ? TOK_PAT_GPT2 : TOK_PAT_NONE;
    if (!use_regex && !s.prefix_space) return SKL_OK;
    return add_stage(t, s, key, c);
  }
  if (!strcmp(type, "Split")) {
    json_t *pat = json_object_get(p, "pattern");
    const char *rx = json_string_value(json_object_get(pat, "Regex"));
    const char *lit = json_string_value(json_object_get(pat, "String"));
    if (!rx && !lit)
      return FAIL(SKL_ERR_INVALID, "%s: %s.pattern: expected {\"Regex\": ...} or {\"String\": ...}", c->name, key);
    /* The reference treats every behavior but "Removed" as Isolated; invert keeps only matches. */
    const char *beh = json_string_value(json_object_get(p, "behavior"));
    s.mode = jbool(p, "invert", false) ? TOK_SPLIT_INVERT
             : (beh && !strcasecmp(beh, "removed")) ? TOK_SPLIT_REMOVED : TOK_SPLIT_ISOLATED;
    /* the reference wraps a String pattern in a capture group unless inverted, so
     * its Removed split keeps the separators: that is Isolated */
    if (lit && !rx && s.mode == TOK_SPLIT_REMOVED) s.mode = TOK_SPLIT_ISOLATED;
    if (rx && s.mode == TOK_SPLIT_ISOLATED && !strcmp(rx, tok_pattern_llama3)) s.kind = TOK_PAT_LLAMA3;
    else if (rx && s.mode == TOK_SPLIT_ISOLATED && !strcmp(rx, tok_pattern_qwen2)) s.kind = TOK_PAT_QWEN2;
    else if (rx && s.mode == TOK_SPLIT_ISOLATED && !strcmp(rx, tok_pattern_gpt2)) s.kind = TOK_PAT_GPT2;
    else {
      s.kind = TOK_PAT_PCRE;
      skl_status st = tok_regex_compile(rx ? rx : lit, !rx, &s.re, c->err);
      if (st) return skl_error_prefix(c->err, "%s: %s.pattern", c->name, key);
    }
    s.pattern = strdup(rx ? rx : lit);
    if (!s.pattern) {
      if (s.re) pcre2_code_free(s.re);
      return FAIL(SKL_ERR_NOMEM, "out of memory");
    }
    return add_stage(t, s, key, c);
  }
  return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: pre-tokenizer type '%s' is not supported (skillrl runs byte-level BPE: "
              "Split, ByteLevel and Sequence of them)", c->name, key, type);
}

/* Add the post-processor special tokens for one processor, composing with
 * what earlier processors of a Sequence added. */
static skl_status post_wrap(skl_tokenizer *t, const int32_t *pre, size_t npre, const int32_t *suf, size_t nsuf) {
  int32_t *np = malloc((npre + t->n_post_pre + 1) * sizeof *np);
  int32_t *ns = malloc((nsuf + t->n_post_suf + 1) * sizeof *ns);
  if (!np || !ns) { free(np); free(ns); return SKL_ERR_NOMEM; }
  memcpy(np, pre, npre * sizeof *np);
  if (t->n_post_pre) memcpy(np + npre, t->post_pre, t->n_post_pre * sizeof *np);
  if (t->n_post_suf) memcpy(ns, t->post_suf, t->n_post_suf * sizeof *ns);
  memcpy(ns + t->n_post_suf, suf, nsuf * sizeof *ns);
  free(t->post_pre);
  free(t->post_suf);
  t->post_pre = np;
  t->post_suf = ns;
  t->n_post_pre += npre;
  t->n_post_suf += nsuf;
  t->post = TOK_POST_TEMPLATE;
  return SKL_OK;
}

static skl_status special_id(skl_tokenizer *t, json_t *v, const char *key, int32_t *id, ctx *c) {
  const char *s = json_string_value(v);
  if (!s) return FAIL(SKL_ERR_INVALID, "%s: %s: expected a token string", c->name, key);
  *id = smap_find(t, s);
  if (*id < 0)
    return FAIL(SKL_ERR_INVALID, "%s: %s: token '%s' is neither in model.vocab nor in added_tokens", c->name, key, s);
  return SKL_OK;
}

static skl_status parse_post(skl_tokenizer *t, json_t *p, const char *key, ctx *c) {
  if (!p || json_is_null(p)) return SKL_OK;
  const char *type = json_string_value(json_object_get(p, "type"));
  if (!json_is_object(p) || !type)
    return FAIL(SKL_ERR_INVALID, "%s: %s: expected an object with a string \"type\"", c->name, key);
  if (!strcmp(type, "ByteLevel")) return SKL_OK; /* offsets only */
  if (!strcmp(type, "Sequence")) {
    json_t *arr = json_object_get(p, "processors");
    if (!json_is_array(arr)) return FAIL(SKL_ERR_INVALID, "%s: %s.processors: expected an array", c->name, key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
      char k[128];
      snprintf(k, sizeof k, "%s.processors[%zu]", key, i);
      skl_status st = parse_post(t, json_array_get(arr, i), k, c);
      if (st) return st;
    }
    return SKL_OK;
  }
  if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")) {
    int32_t cls, sep;
    char k[128];
    snprintf(k, sizeof k, "%s.cls[0]", key);
    skl_status st = special_id(t, json_array_get(json_object_get(p, "cls"), 0), k, &cls, c);
    if (st) return st;
    snprintf(k, sizeof k, "%s.sep[0]", key);
    if ((st = special_id(t, json_array_get(json_object_get(p, "sep"), 0), k, &sep, c))) return st;
    if (post_wrap(t, &cls, 1, &sep, 1)) return FAIL(SKL_ERR_NOMEM, "out of memory");
    return SKL_OK;
  }
  if (!strcmp(type, "TemplateProcessing")) {
    json_t *single = json_object_get(p, "single");
    if (!json_is_array(single)) return FAIL(SKL_ERR_INVALID, "%s: %s.single: expected an array", c->name, key);
    int32_t pre[64], suf[64];
    size_t npre = 0, nsuf = 0;
    bool seen_a = false;
    for (size_t i = 0; i < json_array_size(single); i++) {
      json_t *e = json_array_get(single, i);
      char k[160];
      json_t *sp = json_object_get(e, "SpecialToken"), *sq = json_object_get(e, "Sequence");
      if (sp) {
        int32_t id = -1;
        snprintf(k, sizeof k, "%s.single[%zu].SpecialToken.id", key, i);
        skl_status st = special_id(t, json_object_get(sp, "id"), k, &id, c);
        if (st) return st;
        if ((seen_a ? nsuf : npre) >= 64)
          return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s.single: more than 64 special tokens", c->name, key);
        if (seen_a) suf[nsuf++] = id;
        else pre[npre++] = id;
      } else if (sq) {
        const char *which = json_string_value(json_object_get(sq, "id"));
        if (!which || strcmp(which, "A") || seen_a)
          return FAIL(SKL_ERR_INVALID, "%s: %s.single[%zu].Sequence: expected id \"A\" once", c->name, key, i);
        seen_a = true;
      } else {
        return FAIL(SKL_ERR_INVALID, "%s: %s.single[%zu]: expected {\"SpecialToken\": ...} or {\"Sequence\": ...}",
                    c->name, key, i);
      }
    }
    if (post_wrap(t, pre, npre, suf, nsuf)) return FAIL(SKL_ERR_NOMEM, "out of memory");
    return SKL_OK;
  }
  return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: post-processor type '%s' is not supported (TemplateProcessing, "
              "ByteLevel, BertProcessing, RobertaProcessing, Sequence)", c->name, key, type);
}

static skl_status parse_decoder(skl_tokenizer *t, json_t *d, const char *key, ctx *c) {
  if (!d || json_is_null(d)) return SKL_OK;
  const char *type = json_string_value(json_object_get(d, "type"));
  if (!json_is_object(d) || !type)
    return FAIL(SKL_ERR_INVALID, "%s: %s: expected an object with a string \"type\"", c->name, key);
  if (!strcmp(type, "ByteLevel")) { t->decoder_bytelevel = true; return SKL_OK; }
  if (!strcmp(type, "Sequence")) {
    json_t *arr = json_object_get(d, "decoders");
    if (!json_is_array(arr)) return FAIL(SKL_ERR_INVALID, "%s: %s.decoders: expected an array", c->name, key);
    for (size_t i = 0; i < json_array_size(arr); i++) {
      char k[128];
      snprintf(k, sizeof k, "%s.decoders[%zu]", key, i);
      skl_status st = parse_decoder(t, json_array_get(arr, i), k, c);
      if (st) return st;
    }
    return SKL_OK;
  }
  return FAIL(SKL_ERR_UNSUPPORTED, "%s: %s: decoder type '%s' is not supported (ByteLevel)", c->name, key, type);
}

/* ------------------------------------------------------------ vocab, merges, added */

typedef struct {
  const char *str;
  int32_t id;
} vent;

static skl_status parse_model(skl_tokenizer *t, json_t *root, ctx *c) {
  json_t *m = json_object_get(root, "model");
  if (!json_is_object(m)) return FAIL(SKL_ERR_INVALID, "%s: model: missing or not an object", c->name);
  const char *type = json_string_value(json_object_get(m, "type"));
  if (type && strcmp(type, "BPE"))
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: model.type: '%s' is not supported; skillrl runs byte-level BPE only",
                c->name, type);
  json_t *vocab = json_object_get(m, "vocab"), *merges = json_object_get(m, "merges");
  if (!json_is_object(vocab))
    return FAIL(SKL_ERR_INVALID, "%s: model.vocab: missing or not an object of token -> id", c->name);
  if (!json_is_array(merges))
    return FAIL(SKL_ERR_INVALID, "%s: model.merges: missing or not an array", c->name);
  if (jbool(m, "byte_fallback", false))
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: model.byte_fallback: true is not supported (byte-level BPE needs no fallback)",
                c->name);
  const char *sfx = json_string_value(json_object_get(m, "end_of_word_suffix"));
  const char *pfx = json_string_value(json_object_get(m, "continuing_subword_prefix"));
  if ((sfx && *sfx) || (pfx && *pfx))
    return FAIL(SKL_ERR_UNSUPPORTED, "%s: model: continuing_subword_prefix/end_of_word_suffix are not supported",
                c->name);
  t->ignore_merges = jbool(m, "ignore_merges", false);
  return SKL_OK;
}

/* Decode a byte-level token string to raw bytes into out (cap >= strlen).
 * @return byte count, or -1 if a character is outside the byte alphabet. */
static long bytelevel_decode(const int16_t *cp2b, const char *s, unsigned char *out) {
  size_t n = strlen(s), i = 0;
  long k = 0;
  while (i < n) {
    size_t l;
    uint32_t cp = tok_utf8_next((const unsigned char *)s + i, n - i, &l);
    if (cp >= 324 || cp2b[cp] < 0) return -1;
    out[k++] = (unsigned char)cp2b[cp];
    i += l;
  }
  return k;
}

static skl_status build_tables(skl_tokenizer *t, json_t *root, ctx *c) {
  json_t *m = json_object_get(root, "model");
  json_t *vocab = json_object_get(m, "vocab");
  json_t *added = json_object_get(root, "added_tokens");
  if (added && !json_is_null(added) && !json_is_array(added))
    return FAIL(SKL_ERR_INVALID, "%s: added_tokens: expected an array", c->name);
  size_t nv = json_object_size(vocab), na = json_is_array(added) ? json_array_size(added) : 0;
  if (nv == 0) return FAIL(SKL_ERR_INVALID, "%s: model.vocab: empty", c->name);
  if (nv > 16u * 1024 * 1024) return FAIL(SKL_ERR_RANGE, "%s: model.vocab: %zu entries is too many", c->name, nv);

  /* pass 1: ids and sizes */
  int64_t maxid = -1;
  size_t spool_n = 0;
  const char *k;
  json_t *v;
  json_object_foreach(vocab, k, v) {
    char sb[64];
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (1 << 30))
      return FAIL(SKL_ERR_INVALID, "%s: model.vocab['%s']: id must be an integer in [0, 2^30)", c->name,
                  shorten(k, sb, sizeof sb));
    if (json_integer_value(v) > maxid) maxid = json_integer_value(v);
    spool_n += strlen(k) + 1;
  }
  for (size_t i = 0; i < na; i++) {
    json_t *a = json_array_get(added, i);
    json_t *id = json_object_get(a, "id");
    const char *content = json_string_value(json_object_get(a, "content"));
    if (!json_is_object(a) || !content || !*content)
      return FAIL(SKL_ERR_INVALID, "%s: added_tokens[%zu].content: missing or empty", c->name, i);
    if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= (1 << 30))
      return FAIL(SKL_ERR_INVALID, "%s: added_tokens[%zu].id: must be an integer in [0, 2^30)", c->name, i);
    if (json_integer_value(id) > maxid) maxid = json_integer_value(id);
    spool_n += strlen(content) + 1;
  }
  t->n_ids = (size_t)maxid + 1;
  t->tok_str = calloc(t->n_ids, sizeof *t->tok_str);
  t->tok_bytes = calloc(t->n_ids, sizeof *t->tok_bytes);
  t->tok_blen = calloc(t->n_ids, sizeof *t->tok_blen);
  t->tok_flags = calloc(t->n_ids, 1);
  t->spool = malloc(spool_n + 1);
  t->bpool = malloc(spool_n + 1);
  t->vmap_mask = pow2_at_least(nv * 2) - 1;
  t->smap_mask = pow2_at_least((nv + na) * 2) - 1;
  t->vmap = malloc((t->vmap_mask + 1) * sizeof *t->vmap);
  t->smap = malloc((t->smap_mask + 1) * sizeof *t->smap);
  t->added = calloc(na + 1, sizeof *t->added);
  t->abucket_idx = calloc(na + 1, sizeof *t->abucket_idx);
  if (!t->tok_str || !t->tok_bytes || !t->tok_blen || !t->tok_flags || !t->spool || !t->bpool || !t->vmap ||
      !t->smap || !t->added || !t->abucket_idx)
    return FAIL(SKL_ERR_NOMEM, "%s: out of memory for a vocabulary of %zu ids", c->name, t->n_ids);
  memset(t->vmap, 0xff, (t->vmap_mask + 1) * sizeof *t->vmap);
  memset(t->smap, 0xff, (t->smap_mask + 1) * sizeof *t->smap);

  int16_t cp2b[324];
  for (int i = 0; i < 324; i++) cp2b[i] = -1;
  for (unsigned b = 0; b < 256; b++) cp2b[tok_byte_to_cp(b)] = (int16_t)b;

  /* pass 2: model vocab */
  size_t sp = 0, bp = 0;
  json_object_foreach(vocab, k, v) {
    int32_t id = (int32_t)json_integer_value(v);
    char sb[64], sb2[64];
    if (t->tok_str[id])
      return FAIL(SKL_ERR_INVALID, "%s: model.vocab: id %d is used by both '%s' and '%s'; ids must be unique",
                  c->name, id, shorten(t->tok_str[id], sb, sizeof sb), shorten(k, sb2, sizeof sb2));
    size_t l = strlen(k);
    memcpy(t->spool + sp, k, l + 1);
    t->tok_str[id] = t->spool + sp;
    sp += l + 1;
    long bl = bytelevel_decode(cp2b, k, t->bpool + bp);
    if (bl < 0) { /* not a byte-level string: keep its UTF-8 as its bytes */
      memcpy(t->bpool + bp, k, l);
      bl = (long)l;
      t->tok_flags[id] |= 4;
    }
    t->tok_bytes[id] = t->bpool + bp;
    t->tok_blen[id] = (uint32_t)bl;
    bp += (size_t)bl;
    if (!(t->tok_flags[id] & 4)) {
      if (tok_vocab_find(t, t->tok_bytes[id], (size_t)bl) >= 0)
        return FAIL(SKL_ERR_INVALID, "%s: model.vocab: '%s' appears twice", c->name, shorten(k, sb, sizeof sb));
      size_t h = (size_t)tok_hash_bytes(t->tok_bytes[id], (size_t)bl) & t->vmap_mask;
      while (t->vmap[h] >= 0) h = (h + 1) & t->vmap_mask;
      t->vmap[h] = id;
    }
    smap_put(t, id);
  }
  t->spool_used = sp;
  for (unsigned b = 0; b < 256; b++) {
    unsigned char by = (unsigned char)b;
    t->byte_id[b] = tok_vocab_find(t, &by, 1);
  }
  const char *unk = json_string_value(json_object_get(json_object_get(root, "model"), "unk_token"));
  t->unk_id = unk ? smap_find(t, unk) : -1;
  return SKL_OK;
}

static skl_status build_merges(skl_tokenizer *t, json_t *root, ctx *c) {
  json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
  size_t nm = json_array_size(merges);
  if (nm >= UINT32_MAX / 4) return FAIL(SKL_ERR_RANGE, "%s: model.merges: too many", c->name);
  t->mmask = pow2_at_least(nm * 2 + 1) - 1;
  t->mkey = malloc((t->mmask + 1) * sizeof *t->mkey);
  t->mrank = malloc((t->mmask + 1) * sizeof *t->mrank);
  t->mres = malloc((t->mmask + 1) * sizeof *t->mres);
  if (!t->mkey || !t->mrank || !t->mres) return FAIL(SKL_ERR_NOMEM, "%s: out of memory for merges", c->name);
  memset(t->mkey, 0xff, (t->mmask + 1) * sizeof *t->mkey);
  skl_buf cat = {0};
  for (size_t i = 0; i < nm; i++) {
    json_t *e = json_array_get(merges, i);
    char a[1024], b[1024], sb[80], sb2[80];
    if (json_is_string(e)) {
      const char *s = json_string_value(e);
      const char *sp = strchr(s, ' ');
      if (!sp || strchr(sp + 1, ' ') || sp == s || !sp[1] || (size_t)(sp - s) >= sizeof a || strlen(sp + 1) >= sizeof b) {
        skl_buf_free(&cat);
        return FAIL(SKL_ERR_INVALID, "%s: model.merges[%zu]: '%s' is not \"LEFT RIGHT\" (two tokens, one space)",
                    c->name, i, shorten(s, sb, sizeof sb));
      }
      memcpy(a, s, (size_t)(sp - s));
      a[sp - s] = 0;
      strcpy(b, sp + 1);
    } else if (json_is_array(e) && json_array_size(e) == 2 && json_is_string(json_array_get(e, 0)) &&
               json_is_string(json_array_get(e, 1)) && json_string_length(json_array_get(e, 0)) < sizeof a &&
               json_string_length(json_array_get(e, 1)) < sizeof b) {
      strcpy(a, json_string_value(json_array_get(e, 0)));
      strcpy(b, json_string_value(json_array_get(e, 1)));
    } else {
      skl_buf_free(&cat);
      return FAIL(SKL_ERR_INVALID, "%s: model.merges[%zu]: expected \"LEFT RIGHT\" or [\"LEFT\", \"RIGHT\"]", c->name, i);
    }
    int32_t ia = smap_find(t, a), ib = smap_find(t, b);
    if (ia < 0 || ib < 0) {
      skl_buf_free(&cat);
      return FAIL(SKL_ERR_INVALID, "%s: model.merges[%zu]: '%s %s' refers to token '%s', which is not in model.vocab",
                  c->name, i, shorten(a, sb, sizeof sb), shorten(b, sb2, sizeof sb2), ia < 0 ? a : b);
    }
    skl_buf_clear(&cat);
    if (skl_buf_puts(&cat, a) || skl_buf_puts(&cat, b)) { skl_buf_free(&cat); return FAIL(SKL_ERR_NOMEM, "out of memory"); }
    int32_t ir = smap_find(t, cat.data);
    if (ir < 0) {
      FAIL(SKL_ERR_INVALID, "%s: model.merges[%zu]: '%s %s' makes '%s', which is not in model.vocab", c->name, i,
           shorten(a, sb, sizeof sb), shorten(b, sb2, sizeof sb2), cat.data);
      skl_buf_free(&cat);
      return SKL_ERR_INVALID;
    }
    uint64_t key = ((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib;
    size_t h = (size_t)tok_mix64(key) & t->mmask;
    while (t->mkey[h] != UINT64_MAX && t->mkey[h] != key) h = (h + 1) & t->mmask;
    t->mkey[h] = key; /* a repeated merge takes the later rank, as the reference's Map does */
    t->mrank[h] = (uint32_t)i;
    t->mres[h] = ir;
  }
  skl_buf_free(&cat);
  return SKL_OK;
}

static int added_cmp_ctx_sort(const skl_tokenizer *t, uint32_t x, uint32_t y) {
  const tok_added *a = &t->added[x], *b = &t->added[y];
  unsigned char fa = (unsigned char)a->content[0], fb = (unsigned char)b->content[0];
  if (fa != fb) return fa < fb ? -1 : 1;
  if (a->len != b->len) return a->len > b->len ? -1 : 1;
  return x < y ? -1 : (x > y);
}

static skl_status build_added(skl_tokenizer *t, json_t *root, ctx *c) {
  json_t *added = json_object_get(root, "added_tokens");
  size_t na = json_is_array(added) ? json_array_size(added) : 0;
  size_t sp = t->spool_used;
  for (size_t i = 0; i < na; i++) {
    json_t *a = json_array_get(added, i);
    const char *content = json_string_value(json_object_get(a, "content"));
    int32_t id = (int32_t)json_integer_value(json_object_get(a, "id"));
    char sb[64], sb2[64];
    if (t->tok_flags[id] & 1)
      return FAIL(SKL_ERR_INVALID, "%s: added_tokens[%zu]: id %d is already used by added token '%s'", c->name, i,
                  id, shorten(t->tok_str[id], sb, sizeof sb));
    if (t->tok_str[id] && strcmp(t->tok_str[id], content))
      return FAIL(SKL_ERR_INVALID, "%s: added_tokens[%zu]: id %d of '%s' is model.vocab's '%s'; ids must be unique",
                  c->name, i, id, shorten(content, sb, sizeof sb), shorten(t->tok_str[id], sb2, sizeof sb2));
    size_t l = strlen(content);
    if (!t->tok_str[id]) {
      memcpy(t->spool + sp, content, l + 1);
      t->tok_str[id] = t->spool + sp;
      sp += l + 1;
    }
    /* decoding an added token gives its content, not byte-level bytes */
    t->tok_bytes[id] = (unsigned char *)t->tok_str[id];
    t->tok_blen[id] = (uint32_t)l;
    tok_added *ad = &t->added[t->n_added];
    ad->content = t->tok_str[id];
    ad->len = l;
    ad->id = id;
    ad->special = jbool(a, "special", false);
    ad->lstrip = jbool(a, "lstrip", false);
    ad->rstrip = jbool(a, "rstrip", false);
    ad->single_word = jbool(a, "single_word", false);
    ad->normalized = jbool(a, "normalized", false);
    t->tok_flags[id] |= 1 | (ad->special ? 2 : 0);
    t->abucket_idx[t->n_added] = (uint32_t)t->n_added;
    t->n_added++;
    smap_put(t, id);
  }
  /* insertion sort is fine for a few hundred tokens; bucket by first byte, longest first */
  for (size_t i = 1; i < t->n_added; i++) {
    uint32_t x = t->abucket_idx[i];
    size_t j = i;
    while (j > 0 && added_cmp_ctx_sort(t, t->abucket_idx[j - 1], x) > 0) { t->abucket_idx[j] = t->abucket_idx[j - 1]; j--; }
    t->abucket_idx[j] = x;
  }
  memset(t->abucket_start, 0, sizeof t->abucket_start);
  for (size_t i = 0; i < t->n_added; i++) t->abucket_start[(unsigned char)t->added[i].content[0] + 1]++;
  for (int b = 0; b < 256; b++) t->abucket_start[b + 1] += t->abucket_start[b];
  int distinct = 0;
  t->afirst_only = -1;
  for (int b = 0; b < 256; b++) {
    t->afirst[b] = t->abucket_start[b + 1] > t->abucket_start[b];
    if (t->afirst[b]) { distinct++; t->afirst_only = b; }
  }
  if (distinct != 1) t->afirst_only = -1;
  return SKL_OK;
}

/* ------------------------------------------------------------ entry points */

void skl_tokenizer_free(skl_tokenizer *t) {
  if (!t) return;
  if (t->key_ok) {
    pthread_key_delete(t->key);
    tok_threads_free_all(t);
    pthread_mutex_destroy(&t->mu);
  }
  for (int i = 0; i < t->n_stages; i++) {
    if (t->stages[i].re) pcre2_code_free(t->stages[i].re);
    free(t->stages[i].pattern);
  }
  free(t->name);
  free(t->spool);
  free(t->bpool);
  free(t->tok_str);
  free(t->tok_bytes);
  free(t->tok_blen);
  free(t->tok_flags);
  free(t->vmap);
  free(t->smap);
  free(t->mkey);
  free(t->mrank);
  free(t->mres);
  free(t->added);
  free(t->abucket_idx);
  free(t->post_pre);
  free(t->post_suf);
  free(t->ctable);
  free(t);
}

skl_status skl_tokenizer_load_buf(const char *json, size_t len, const char *name, skl_tokenizer **out,
                                  skl_error *err) {
  *out = NULL;
  ctx cx = {name ? name : "tokenizer.json", err}, *c = &cx;
  json_error_t je;
  json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return FAIL(SKL_ERR_PARSE, "%s:%d:%d: not valid JSON: %s", c->name, je.line, je.column, je.text);
  skl_status st;
  skl_tokenizer *t = calloc(1, sizeof *t);
  if (!t) { json_decref(root); return FAIL(SKL_ERR_NOMEM, "out of memory"); }
  t->unk_id = -1;
  if (!json_is_object(root)) { st = FAIL(SKL_ERR_INVALID, "%s: expected a JSON object at the top level", c->name); goto fail; }
  if ((st = parse_model(t, root, c))) goto fail;
  if ((st = build_tables(t, root, c))) goto fail;
  if ((st = build_merges(t, root, c))) goto fail;
  if ((st = build_added(t, root, c))) goto fail;
  if ((st = parse_normalizer(t, json_object_get(root, "normalizer"), "normalizer", c))) goto fail;
  json_t *pt = json_object_get(root, "pre_tokenizer");
  bool saw_bl = false;
  if (pt && !json_is_null(pt) && (st = parse_pretok(t, pt, "pre_tokenizer", &saw_bl, c))) goto fail;
  if (!saw_bl) {
    st = FAIL(SKL_ERR_UNSUPPORTED, "%s: pre_tokenizer: no ByteLevel step; skillrl runs byte-level BPE tokenizers "
              "(GPT-2, Llama-3, Qwen2/3 style) only", c->name);
    goto fail;
  }
  if ((st = parse_post(t, json_object_get(root, "post_processor"), "post_processor", c))) goto fail;
  if ((st = parse_decoder(t, json_object_get(root, "decoder"), "decoder", c))) goto fail;
  t->ctable = malloc(sizeof *t->ctable);
  if (!t->ctable) { st = FAIL(SKL_ERR_NOMEM, "out of memory"); goto fail; }
  tok_ctable_init(t->ctable);
  skl_sha256_buf_hex(json, len, t->hash);
  char nb[64];
  snprintf(nb, sizeof nb, "bpe-%zu", t->n_ids);
  t->name = strdup(nb);
  if (!t->name || pthread_mutex_init(&t->mu, NULL)) { st = FAIL(SKL_ERR_NOMEM, "out of memory"); goto fail; }
  if (pthread_key_create(&t->key, tok_thread_destroy)) {
    pthread_mutex_destroy(&t->mu);
    st = FAIL(SKL_ERR_NOMEM, "out of thread-specific keys");
    goto fail;
  }
  t->key_ok = true;
  json_decref(root);
  *out = t;
  return SKL_OK;
fail:
  json_decref(root);
  skl_tokenizer_free(t);
  return st;
}

skl_status skl_tokenizer_load(const char *path, skl_tokenizer **out, skl_error *err) {
  *out = NULL;
  char *data;
  size_t len;
  skl_status st = skl_fs_read_all(path, &data, &len, err);
  if (st) return st;
  st = skl_tokenizer_load_buf(data, len, path, out, err);
  free(data);
  return st;
}

size_t skl_tokenizer_vocab_size(const skl_tokenizer *t) { return t->n_ids; }

int32_t skl_tokenizer_token_id(const skl_tokenizer *t, const char *token) { return token ? smap_find(t, token) : -1; }

const char *skl_tokenizer_id_token(const skl_tokenizer *t, int32_t id) {
  return id >= 0 && (size_t)id < t->n_ids ? t->tok_str[id] : NULL;
}

bool skl_tokenizer_is_special(const skl_tokenizer *t, int32_t id) {
  return id >= 0 && (size_t)id < t->n_ids && (t->tok_flags[id] & 2);
}

const char *skl_tokenizer_hash(const skl_tokenizer *t) { return t->hash; }
const char *skl_tokenizer_name(const skl_tokenizer *t) { return t->name; }
