/* Helpers shared by the io tests: temp folders, deterministic records,
 * whole-file byte access. Not a test by itself. */
#ifndef SKL_TEST_IO_UTIL_H
#define SKL_TEST_IO_UTIL_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/rng.h"

/* mkdtemp under TMPDIR (or /tmp); caller frees; NULL on failure. */
static inline char *tu_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/skl_%s_XXXXXX", base && *base ? base : "/tmp", tag);
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

static inline void tu_rmrf(const char *dir) {
  if (!dir || strncmp(dir, "/tmp/", 5) != 0) { if (dir) fprintf(stderr, "not removing %s\n", dir); return; }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "rm -rf %s failed\n", dir);
}

static inline char *tu_path(const char *dir, const char *name) { return skl_path_join(dir, name); }

static inline long tu_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Whole file; NULL on failure. */
static inline char *tu_read(const char *path, size_t *n) {
  char *d = NULL;
  if (skl_fs_read_all(path, &d, n, NULL)) return NULL;
  return d;
}

static inline int tu_write(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(data, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

/* A deterministic record i of about `bytes` bytes of content, with non-ASCII
 * text and nested objects, in a fixed key order. */
static inline json_t *tu_record(uint64_t seed, size_t i, size_t bytes) {
  skl_rng r;
  skl_rng_seed(&r, skl_rng_derive(seed, i, 0, 0));
  static const char *const words[] = {"alpha", "beta", "gamma", "délta", "ε", "日本語", "niah", "Ω→", "doc", "42"};
  char *text = malloc(bytes + 32);
  size_t n = 0;
  while (n < bytes) {
    const char *w = words[skl_rng_below(&r, 10)];
    size_t k = strlen(w);
    memcpy(text + n, w, k);
    n += k;
    text[n++] = skl_rng_below(&r, 8) ? ' ' : '\n';
  }
  text[n] = '\0';
  char id[32];
  snprintf(id, sizeof id, "niah-%06zu", i);
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:s, s:s, s:{s:s, s:s}, s:{s:I, s:I, s:f, s:{s:i}}}",
                        "id", id, "skill", "niah", "split", "train", "data_source", "skillrl/niah",
                        "ability", "long_context", "prompt", "role", "user", "content", text, "answer", "42",
                        "answer_type", "number", "reward_model", "style", "rule", "ground_truth", "42",
                        "extra_info", "n_tokens", (json_int_t)(n / 4), "seed", (json_int_t)(skl_rng_u64(&r) >> 1),
                        "difficulty", 0.5, "blueprint", "docs", (int)(i % 7));
  free(text);
  return o;
}

#endif
