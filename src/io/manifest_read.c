/* skl manifest reader and verifier: parse DIR/manifest.json with errors
 * naming the key, re-hash shards, find missing and extra ones.
 * Not the builder/writer (manifest.c). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "core/sha256.h"
#include "io/manifest.h"
#include "io/manifest_internal.h"

/* "FILE: KEY: expected ..." */
static skl_status bad(skl_error *err, const char *file, const char *key, const char *what) {
  return skl_error_set(err, SKL_ERR_INVALID, "%s: %s: %s; regenerate the dataset or fix the manifest",
                       file, key, what);
}

static skl_status get_u64(const json_t *v, const char *file, const char *key, uint64_t *out, skl_error *err) {
  if (json_is_integer(v) && json_integer_value(v) >= 0) { *out = (uint64_t)json_integer_value(v); return SKL_OK; }
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*s >= '0' && *s <= '9' && !*end && !errno) { *out = x; return SKL_OK; }
  }
  return bad(err, file, key, "expected a non-negative integer");
}

static skl_status get_str(const json_t *obj, const char *file, const char *key, const char *name,
                          const char **out, skl_error *err) {
  json_t *v = json_object_get(obj, name);
  if (!json_is_string(v)) {
    char k[256];
    snprintf(k, sizeof k, "%s%s%s", key, *key ? "." : "", name);
    return bad(err, file, k, v ? "expected a string" : "missing");
  }
  *out = json_string_value(v);
  return SKL_OK;
}

static skl_status parse_shard(skl_manifest *m, const json_t *o, size_t i, const char *file, skl_error *err) {
  char key[64];
  snprintf(key, sizeof key, "shards[%zu]", i);
  if (!json_is_object(o)) return bad(err, file, key, "expected an object");
  const char *path = NULL, *skill = NULL, *split = NULL, *sha = NULL;
  skl_status s = get_str(o, file, key, "path", &path, err);
  if (!s) s = get_str(o, file, key, "skill", &skill, err);
  if (!s) s = get_str(o, file, key, "split", &split, err);
  if (!s) s = get_str(o, file, key, "sha256", &sha, err);
  if (s) return s;
  skl_shard_info info = {0};
  static const char *const nums[] = {"records", "uncompressed_bytes", "bytes"};
  uint64_t *dst[] = {&info.records, &info.uncompressed_bytes, &info.file_bytes};
  for (int k = 0; k < 3; k++) {
    char kk[96];
    snprintf(kk, sizeof kk, "%s.%s", key, nums[k]);
    json_t *v = json_object_get(o, nums[k]);
    if (!v) return bad(err, file, kk, "missing");
    s = get_u64(v, file, kk, dst[k], err);
    if (s) return s;
  }
  if (strlen(sha) != 64) {
    char kk[96];
    snprintf(kk, sizeof kk, "%s.sha256", key);
    return bad(err, file, kk, "expected 64 hex digits");
  }
  memcpy(info.sha256, sha, 65);
  s = skl_manifest_add_shard(m, skill, split, path, &info, err);
  if (s) return skl_error_prefix(err, "%s: %s", file, key);
  return SKL_OK;
}

static skl_status parse(skl_manifest *m, const json_t *root, const char *file, skl_error *err) {
  if (!json_is_object(root)) return bad(err, file, "(top level)", "expected an object");
  const char *fmt = NULL;
  skl_status s = get_str(root, file, "", "format", &fmt, err);
  if (s) return s;
  if (strcmp(fmt, SKL_MANIFEST_FORMAT))
    return skl_error_set(err, SKL_ERR_PARSE, "%s: format: \"%s\" is not \"%s\"; not a skillrl dataset manifest",
                         file, fmt, SKL_MANIFEST_FORMAT);
  json_t *v = json_object_get(root, "version");
  if (!json_is_integer(v)) return bad(err, file, "version", "expected an integer");
  if (json_integer_value(v) > SKL_MANIFEST_VERSION || json_integer_value(v) < 1)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED,
                         "%s: version %lld is not supported (this skillrl reads version %d); upgrade skillrl",
                         file, (long long)json_integer_value(v), SKL_MANIFEST_VERSION);
  m->version = (int)json_integer_value(v);
  const char *cb = NULL;
  s = get_str(root, file, "", "created_by", &cb, err);
  if (s) return s;
  free(m->created_by);
  m->created_by = strdup(cb);
  if (!m->created_by) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  static const char *const hashes[] = {"config_hash", "tokenizer_hash"};
  for (int k = 0; k < 2; k++) {
    json_t *h = json_object_get(root, hashes[k]);
    if (h && !json_is_null(h) && !json_is_string(h)) return bad(err, file, hashes[k], "expected a string or null");
    s = k ? skl_manifest_set_tokenizer_hash(m, json_string_value(h), err)
          : skl_manifest_set_config_hash(m, json_string_value(h), err);
    if (s) return s;
  }
  json_t *seeds = json_object_get(root, "seeds");
  if (seeds && !json_is_object(seeds)) return bad(err, file, "seeds", "expected an object");
  const char *name;
  json_object_foreach(seeds, name, v) {
    char key[160];
    snprintf(key, sizeof key, "seeds.%.128s", name);
    uint64_t x;
    s = get_u64(v, file, key, &x, err);
    if (!s) s = skl_manifest_set_seed(m, name, x, err);
    if (s) return s;
  }
  json_t *lh = json_object_get(root, "length_histogram");
  json_t *by = lh ? json_object_get(lh, "by_skill") : NULL;
  if (lh && !json_is_object(by)) return bad(err, file, "length_histogram.by_skill", "expected an object");
  json_object_foreach(by, name, v) {
    char key[200];
    snprintf(key, sizeof key, "length_histogram.by_skill.%.128s", name);
    if (!json_is_array(v) || json_array_size(v) != SKL_MANIFEST_NBUCKETS)
      return bad(err, file, key, "expected an array of one count per bucket (10)");
    for (size_t b = 0; b < SKL_MANIFEST_NBUCKETS; b++) {
      uint64_t x;
      s = get_u64(json_array_get(v, b), file, key, &x, err);
      if (s) return s;
      skl_manifest_hist *h = skl_manifest_hist_for(m, name);
      if (!h) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
      h->counts[b] = x;
    }
  }
  json_t *shards = json_object_get(root, "shards");
  if (!json_is_array(shards)) return bad(err, file, "shards", shards ? "expected an array" : "missing");
  size_t i;
  json_array_foreach(shards, i, v) {
    s = parse_shard(m, v, i, file, err);
    if (s) return s;
  }
  /* counts are derived from shards; a disagreement means a hand edit */
  json_t *counts = json_object_get(root, "counts");
  if (counts && !json_is_object(counts)) return bad(err, file, "counts", "expected an object");
  json_t *per;
  json_object_foreach(counts, name, per) {
    const char *split;
    json_t *n;
    json_object_foreach(per, split, n) {
      char key[300];
      snprintf(key, sizeof key, "counts.%.128s.%.128s", name, split);
      uint64_t x;
      s = get_u64(n, file, key, &x, err);
      if (s) return s;
      if (x != skl_manifest_count(m, name, split)) {
        char what[128];
        snprintf(what, sizeof what, "says %" PRIu64 " records but the shards list %" PRIu64, x,
                 skl_manifest_count(m, name, split));
        return bad(err, file, key, what);
      }
    }
  }
  return SKL_OK;
}

skl_status skl_manifest_read(skl_manifest *m, const char *dir, skl_error *err) {
  skl_status s = skl_manifest_init(m, err);
  if (s) return s;
  char *file = skl_path_join(dir, SKL_MANIFEST_FILE);
  if (!file) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  char *text;
  size_t len;
  s = skl_fs_read_all(file, &text, &len, err);
  if (s) {
    if (s == SKL_ERR_NOTFOUND) skl_error_set(err, s, "%s: not found; is %s a skillrl dataset folder?", file, dir);
    free(file);
    return s;
  }
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  free(text);
  if (!root) {
    s = skl_error_set(err, SKL_ERR_PARSE, "%s:%d:%d: invalid JSON: %s; regenerate the dataset", file,
                      je.line, je.column, je.text);
  } else {
    s = parse(m, root, file, err);
    json_decref(root);
  }
  free(file);
  return s;
}

/* ----------------------------------------------------------------- verify */

static skl_status hash_file(const char *path, char hex[65], uint64_t *size, skl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return skl_error_set(err, errno == ENOENT ? SKL_ERR_NOTFOUND : SKL_ERR_IO, "%s: cannot open: %s", path,
                         strerror(errno));
  enum { CHUNK = 1 << 18 };
  unsigned char *buf = malloc(CHUNK);
  if (!buf) { fclose(f); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  skl_sha256 c;
  skl_sha256_init(&c);
  size_t n;
  *size = 0;
  while ((n = fread(buf, 1, CHUNK, f)) > 0) {
    skl_sha256_update(&c, buf, n);
    *size += n;
  }
  int failed = ferror(f);
  fclose(f);
  free(buf);
  if (failed) return skl_error_set(err, SKL_ERR_IO, "%s: read failed", path);
  uint8_t d[32];
  skl_sha256_final(&c, d);
  skl_sha256_hex(d, hex);
  return SKL_OK;
}

static bool is_shard_name(const char *name) {
  size_t n = strlen(name);
  return (n > 6 && !strcmp(name + n - 6, ".jsonl")) || (n > 10 && !strcmp(name + n - 10, ".jsonl.zst"));
}

typedef struct {
  char **items;
  size_t n, cap;
} str_list;

/* Collect shard-like files under root/rel (relative paths), depth-limited. */
static skl_status walk(const char *root, const char *rel, int depth, str_list *out, skl_error *err) {
  char *abs = *rel ? skl_path_join(root, rel) : strdup(root);
  if (!abs) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  DIR *d = opendir(abs);
  if (!d) {
    skl_error_set(err, SKL_ERR_IO, "%s: cannot list: %s", abs, strerror(errno));
    free(abs);
    return SKL_ERR_IO;
  }
  skl_status s = SKL_OK;
  struct dirent *e;
  while (!s && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *r = *rel ? skl_path_join(rel, e->d_name) : strdup(e->d_name);
    char *a = r ? skl_path_join(root, r) : NULL;
    struct stat st;
    if (!r || !a) s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    else if (lstat(a, &st) == 0 && S_ISDIR(st.st_mode) && depth < 8) s = walk(root, r, depth + 1, out, err);
    else if (is_shard_name(e->d_name)) {
      if (out->n == out->cap) {
        size_t nc = out->cap ? out->cap * 2 : 16;
        char **ni = realloc(out->items, nc * sizeof *ni);
        if (!ni) s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
        else { out->items = ni; out->cap = nc; }
      }
      if (!s) { out->items[out->n++] = r; r = NULL; }
    }
    free(r);
    free(a);
  }
  closedir(d);
  free(abs);
  return s;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

skl_status skl_manifest_check_shard(const char *dir, const skl_manifest_shard *sh, skl_error *err) {
  char *path = skl_path_join(dir, sh->path);
  if (!path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  char hex[65];
  uint64_t size = 0;
  skl_status s = hash_file(path, hex, &size, err);
  if (s == SKL_ERR_NOTFOUND)
    skl_error_set(err, s, "%s: missing: the manifest lists this shard but the file is absent; "
                  "regenerate the dataset", path);
  else if (!s && strcmp(hex, sh->sha256))
    s = skl_error_set(err, SKL_ERR_INVALID,
                      "%s: sha256 mismatch: manifest says %s, file has %s (%" PRIu64 " bytes, manifest "
                      "says %" PRIu64 "); the shard was modified or truncated — regenerate the dataset",
                      path, sh->sha256, hex, size, sh->bytes);
  free(path);
  return s;
}

skl_status skl_manifest_verify(const char *dir, skl_error *err) {
  skl_manifest m;
  skl_status s = skl_manifest_read(&m, dir, err);
  for (size_t i = 0; !s && i < m.n_shards; i++) s = skl_manifest_check_shard(dir, &m.shards[i], err);
  str_list found = {0};
  if (!s) s = walk(dir, "", 0, &found, err);
  if (!s && found.n) qsort(found.items, found.n, sizeof *found.items, cmp_str);
  for (size_t k = 0; !s && k < found.n; k++) {
    bool listed = false;
    for (size_t i = 0; i < m.n_shards && !listed; i++) listed = !strcmp(m.shards[i].path, found.items[k]);
    if (!listed) {
      char *path = skl_path_join(dir, found.items[k]);
      s = skl_error_set(err, SKL_ERR_INVALID,
                        "%s: extra shard: not listed in %s/" SKL_MANIFEST_FILE "; remove it or regenerate "
                        "the dataset", path ? path : found.items[k], dir);
      free(path);
    }
  }
  for (size_t k = 0; k < found.n; k++) free(found.items[k]);
  free(found.items);
  skl_manifest_free(&m);
  return s;
}
