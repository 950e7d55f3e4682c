/* skl manifest: build, write, read and verify DIR/manifest.json.
 * Not a shard writer: shards come from io/jsonl.h's writer. */
#include "io/manifest.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "io/manifest_internal.h"
#include "skl_build_config.h"

const int64_t skl_manifest_bucket_lo[SKL_MANIFEST_NBUCKETS] = {
    0, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144};

static skl_status nomem(skl_error *err) { return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }

/* Grow *arr (elements of size sz) to hold one more; zero the new slot. */
static bool grow(void **arr, size_t *n, size_t *cap, size_t sz) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    void *na = realloc(*arr, nc * sz);
    if (!na) return false;
    *arr = na;
    *cap = nc;
  }
  memset((char *)*arr + *n * sz, 0, sz);
  return true;
}

skl_status skl_manifest_init(skl_manifest *m, skl_error *err) {
  memset(m, 0, sizeof *m);
  m->version = SKL_MANIFEST_VERSION;
  m->created_by = strdup("skillrl " SKL_VERSION);
  return m->created_by ? SKL_OK : nomem(err);
}

void skl_manifest_free(skl_manifest *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n_shards; i++) {
    free(m->shards[i].path);
    free(m->shards[i].skill);
    free(m->shards[i].split);
  }
  for (size_t i = 0; i < m->n_seeds; i++) free(m->seeds[i].name);
  for (size_t i = 0; i < m->n_hists; i++) free(m->hists[i].skill);
  free(m->shards);
  free(m->seeds);
  free(m->hists);
  free(m->created_by);
  free(m->config_hash);
  free(m->tokenizer_hash);
  memset(m, 0, sizeof *m);
}

/* A shard path must stay inside DIR: relative, no "..", no empty parts. */
static bool safe_relpath(const char *p) {
  if (!p || !*p || *p == '/') return false;
  const char *s = p;
  for (;;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || (n == 2 && !strncmp(s, "..", 2)) || (n == 1 && *s == '.')) return false;
    if (!e) return true;
    s = e + 1;
  }
}

static bool is_hex64(const char *h) {
  if (!h || strlen(h) != 64) return false;
  for (int i = 0; i < 64; i++)
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'))) return false;
  return true;
}

skl_status skl_manifest_add_shard(skl_manifest *m, const char *skill, const char *split,
                                  const char *relpath, const skl_shard_info *info, skl_error *err) {
  if (!safe_relpath(relpath))
    return skl_error_set(err, SKL_ERR_INVALID,
                         "manifest shard path \"%s\": must be relative to the dataset folder, "
                         "without \"..\" or empty parts", relpath ? relpath : "(null)");
  if (!skill || !*skill || !split || !*split)
    return skl_error_set(err, SKL_ERR_INVALID, "manifest shard %s: skill and split must be non-empty", relpath);
  if (!is_hex64(info->sha256))
    return skl_error_set(err, SKL_ERR_INVALID, "manifest shard %s: sha256 must be 64 lower-case hex digits", relpath);
  for (size_t i = 0; i < m->n_shards; i++)
    if (!strcmp(m->shards[i].path, relpath))
      return skl_error_set(err, SKL_ERR_INVALID, "manifest shard %s: listed twice", relpath);
  if (!grow((void **)&m->shards, &m->n_shards, &m->cap_shards, sizeof *m->shards)) return nomem(err);
  skl_manifest_shard *sh = &m->shards[m->n_shards];
  sh->path = strdup(relpath);
  sh->skill = strdup(skill);
  sh->split = strdup(split);
  if (!sh->path || !sh->skill || !sh->split) {
    free(sh->path); free(sh->skill); free(sh->split);
    return nomem(err);
  }
  sh->records = info->records;
  sh->uncompressed_bytes = info->uncompressed_bytes;
  sh->bytes = info->file_bytes;
  memcpy(sh->sha256, info->sha256, 65);
  m->n_shards++;
  return SKL_OK;
}

skl_manifest_hist *skl_manifest_hist_for(skl_manifest *m, const char *skill) {
  for (size_t i = 0; i < m->n_hists; i++)
    if (!strcmp(m->hists[i].skill, skill)) return &m->hists[i];
  if (!grow((void **)&m->hists, &m->n_hists, &m->cap_hists, sizeof *m->hists)) return NULL;
  skl_manifest_hist *h = &m->hists[m->n_hists];
  h->skill = strdup(skill);
  if (!h->skill) return NULL;
  m->n_hists++;
  return h;
}

static int bucket_of(int64_t n) {
  int b = 0;
  while (b + 1 < SKL_MANIFEST_NBUCKETS && n >= skl_manifest_bucket_lo[b + 1]) b++;
  return b;
}

skl_status skl_manifest_add_length(skl_manifest *m, const char *skill, int64_t n_tokens, skl_error *err) {
  if (n_tokens < 0)
    return skl_error_set(err, SKL_ERR_RANGE, "manifest length for %s: n_tokens %" PRId64 " < 0", skill, n_tokens);
  skl_manifest_hist *h = skl_manifest_hist_for(m, skill);
  if (!h) return nomem(err);
  h->counts[bucket_of(n_tokens)]++;
  return SKL_OK;
}

skl_status skl_manifest_set_seed(skl_manifest *m, const char *name, uint64_t seed, skl_error *err) {
  for (size_t i = 0; i < m->n_seeds; i++)
    if (!strcmp(m->seeds[i].name, name)) { m->seeds[i].value = seed; return SKL_OK; }
  if (!grow((void **)&m->seeds, &m->n_seeds, &m->cap_seeds, sizeof *m->seeds)) return nomem(err);
  m->seeds[m->n_seeds].name = strdup(name);
  if (!m->seeds[m->n_seeds].name) return nomem(err);
  m->seeds[m->n_seeds++].value = seed;
  return SKL_OK;
}

static skl_status set_str(char **dst, const char *v, skl_error *err) {
  char *c = v ? strdup(v) : NULL;
  if (v && !c) return nomem(err);
  free(*dst);
  *dst = c;
  return SKL_OK;
}

skl_status skl_manifest_set_config_hash(skl_manifest *m, const char *hex, skl_error *err) {
  return set_str(&m->config_hash, hex, err);
}
skl_status skl_manifest_set_tokenizer_hash(skl_manifest *m, const char *hex, skl_error *err) {
  return set_str(&m->tokenizer_hash, hex, err);
}

uint64_t skl_manifest_count(const skl_manifest *m, const char *skill, const char *split) {
  uint64_t n = 0;
  for (size_t i = 0; i < m->n_shards; i++)
    if (!strcmp(m->shards[i].skill, skill) && !strcmp(m->shards[i].split, split)) n += m->shards[i].records;
  return n;
}

/* ------------------------------------------------------------------ write */

static int cmp_shard(const void *a, const void *b) {
  return strcmp(((const skl_manifest_shard *)a)->path, ((const skl_manifest_shard *)b)->path);
}
static int cmp_seed(const void *a, const void *b) {
  return strcmp(((const skl_manifest_seed *)a)->name, ((const skl_manifest_seed *)b)->name);
}
static int cmp_hist(const void *a, const void *b) {
  return strcmp(((const skl_manifest_hist *)a)->skill, ((const skl_manifest_hist *)b)->skill);
}

/* uint64 as a JSON integer when it fits jansson's int64, else a decimal string. */
static json_t *json_u64(uint64_t v) {
  if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
  char s[24];
  snprintf(s, sizeof s, "%" PRIu64, v);
  return json_string(s);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Build the JSON document; NULL on OOM. Sorted so equal content gives equal bytes. */
static json_t *to_json(const skl_manifest *m) {
  skl_manifest_shard *sh = m->n_shards ? malloc(m->n_shards * sizeof *sh) : NULL;
  skl_manifest_seed *se = m->n_seeds ? malloc(m->n_seeds * sizeof *se) : NULL;
  skl_manifest_hist *hi = m->n_hists ? malloc(m->n_hists * sizeof *hi) : NULL;
  const char **skills = m->n_shards ? malloc(m->n_shards * sizeof *skills) : NULL;
  json_t *root = json_object();
  bool ok = root && (!m->n_shards || (sh && skills)) && (!m->n_seeds || se) && (!m->n_hists || hi);
  if (!ok) goto fail;
  if (m->n_shards) memcpy(sh, m->shards, m->n_shards * sizeof *sh);
  if (m->n_seeds) memcpy(se, m->seeds, m->n_seeds * sizeof *se);
  if (m->n_hists) memcpy(hi, m->hists, m->n_hists * sizeof *hi);
  if (sh) qsort(sh, m->n_shards, sizeof *sh, cmp_shard);
  if (se) qsort(se, m->n_seeds, sizeof *se, cmp_seed);
  if (hi) qsort(hi, m->n_hists, sizeof *hi, cmp_hist);

  ok &= !json_object_set_new(root, "format", json_string(SKL_MANIFEST_FORMAT));
  ok &= !json_object_set_new(root, "version", json_integer(m->version));
  ok &= !json_object_set_new(root, "created_by", json_string(m->created_by ? m->created_by : "skillrl"));
  ok &= !json_object_set_new(root, "config_hash", m->config_hash ? json_string(m->config_hash) : json_null());
  ok &= !json_object_set_new(root, "tokenizer_hash",
                             m->tokenizer_hash ? json_string(m->tokenizer_hash) : json_null());
  json_t *seeds = json_object();
  ok &= !json_object_set_new(root, "seeds", seeds);
  for (size_t i = 0; ok && i < m->n_seeds; i++) ok &= !json_object_set_new(seeds, se[i].name, json_u64(se[i].value));

  /* counts: {skill: {split: n}} in sorted order, summed over shards */
  uint64_t total = 0;
  size_t n_sk = 0;
  for (size_t i = 0; i < m->n_shards; i++) {
    total += sh[i].records;
    bool seen = false;
    for (size_t k = 0; k < n_sk && !seen; k++) seen = !strcmp(skills[k], sh[i].skill);
    if (!seen) skills[n_sk++] = sh[i].skill;
  }
  if (n_sk) qsort(skills, n_sk, sizeof *skills, cmp_str);
  ok &= !json_object_set_new(root, "total_records", json_u64(total));
  json_t *counts = json_object();
  ok &= !json_object_set_new(root, "counts", counts);
  for (size_t k = 0; ok && k < n_sk; k++) {
    json_t *per = json_object();
    ok &= !json_object_set_new(counts, skills[k], per);
    for (size_t i = 0; ok && i < m->n_shards; i++) {
      if (strcmp(sh[i].skill, skills[k]) || json_object_get(per, sh[i].split)) continue;
      ok &= !json_object_set_new(per, sh[i].split, json_u64(skl_manifest_count(m, skills[k], sh[i].split)));
    }
  }

  json_t *lh = json_object(), *lo = json_array(), *by = json_object();
  ok &= !json_object_set_new(root, "length_histogram", lh);
  ok &= lo && by && !json_object_set_new(lh, "bucket_lo", lo) && !json_object_set_new(lh, "by_skill", by);
  for (int b = 0; ok && b < SKL_MANIFEST_NBUCKETS; b++)
    ok &= !json_array_append_new(lo, json_integer(skl_manifest_bucket_lo[b]));
  for (size_t i = 0; ok && i < m->n_hists; i++) {
    json_t *a = json_array();
    ok &= !json_object_set_new(by, hi[i].skill, a);
    for (int b = 0; ok && b < SKL_MANIFEST_NBUCKETS; b++) ok &= !json_array_append_new(a, json_u64(hi[i].counts[b]));
  }

  json_t *shards = json_array();
  ok &= !json_object_set_new(root, "shards", shards);
  for (size_t i = 0; ok && i < m->n_shards; i++) {
    json_t *o = json_object();
    ok &= !json_array_append_new(shards, o);
    ok &= !json_object_set_new(o, "path", json_string(sh[i].path));
    ok &= !json_object_set_new(o, "skill", json_string(sh[i].skill));
    ok &= !json_object_set_new(o, "split", json_string(sh[i].split));
    ok &= !json_object_set_new(o, "records", json_u64(sh[i].records));
    ok &= !json_object_set_new(o, "uncompressed_bytes", json_u64(sh[i].uncompressed_bytes));
    ok &= !json_object_set_new(o, "bytes", json_u64(sh[i].bytes));
    ok &= !json_object_set_new(o, "sha256", json_string(sh[i].sha256));
  }
  if (!ok) goto fail;
  free(sh); free(se); free(hi); free(skills);
  return root;
fail:
  free(sh); free(se); free(hi); free(skills);
  json_decref(root);
  return NULL;
}

skl_status skl_manifest_write(const skl_manifest *m, const char *dir, skl_error *err) {
  json_t *root = to_json(m);
  if (!root) return nomem(err);
  char *text = json_dumps(root, JSON_INDENT(2));
  json_decref(root);
  char *path = skl_path_join(dir, SKL_MANIFEST_FILE);
  if (!text || !path) { free(text); free(path); return nomem(err); }
  size_t n = strlen(text);
  char *t2 = realloc(text, n + 2);
  if (!t2) { free(text); free(path); return nomem(err); }
  t2[n++] = '\n';
  t2[n] = '\0';
  skl_status s = skl_fs_write_atomic(path, t2, n, err);
  free(t2);
  free(path);
  return s;
}
