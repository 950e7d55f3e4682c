/* Deterministic mutation fuzzer for the safetensors reader: flips, inserts,
 * deletes and splices bytes of valid files; every result must be a clean
 * accept or a clean error (run under ASan). Not libFuzzer: no coverage. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/rng.h"
#include "harness.h"
#include "hf/safetensors.h"

static char tmpdir[] = "/tmp/skl_fuzz_st_XXXXXX";

/* Bytes that steer the JSON parser and the validator somewhere interesting. */
static const char interesting[] = "{}[]\":,0123456789-eE. \\uFB";

static unsigned char *make_seed(const char *path, int variant, size_t *n) {
  skl_st_writer *w = NULL;
  skl_st_writer_init(&w, NULL);
  static float data[64];
  for (int i = 0; i < 64; i++) data[i] = (float)i * 0.5f - 3.0f;
  int64_t s2[2] = {2, 3}, s1[1] = {5}, s0[1] = {0};
  skl_st_writer_add(w, "model.embed_tokens.weight", SKL_DTYPE_F32, 2, s2, data, NULL);
  skl_st_writer_add(w, "model.norm.weight", SKL_DTYPE_BF16, 1, s1, data + 6, NULL);
  if (variant) {
    skl_st_writer_add(w, "h", SKL_DTYPE_F16, 2, s2, data + 11, NULL);
    skl_st_writer_add(w, "z", SKL_DTYPE_F32, 1, s0, NULL, NULL);
  }
  const char *meta[] = {"format", "pt", "k", "v", NULL};
  skl_st_writer_save(w, path, variant ? meta : NULL, NULL);
  skl_st_writer_free(w);
  char *buf = NULL;
  skl_fs_read_all(path, &buf, n, NULL);
  return (unsigned char *)buf;
}

static size_t mutate(skl_rng *r, const unsigned char *src, size_t n, unsigned char *dst, size_t cap) {
  memcpy(dst, src, n);
  int k = 1 + (int)skl_rng_below(r, 4);
  for (int m = 0; m < k; m++) {
    /* bias positions toward the header, where the parser lives */
    size_t pos = n ? (size_t)skl_rng_below(r, skl_rng_below(r, 4) ? (n < 300 ? n : 300) : n) : 0;
    switch (skl_rng_below(r, 7)) {
    case 0: if (n) dst[pos] ^= (unsigned char)(1u << skl_rng_below(r, 8)); break;
    case 1: if (n) dst[pos] = (unsigned char)interesting[skl_rng_below(r, sizeof interesting - 1)]; break;
    case 2: if (n < cap) { memmove(dst + pos + 1, dst + pos, n - pos); dst[pos] = (unsigned char)interesting[skl_rng_below(r, sizeof interesting - 1)]; n++; } break;
    case 3: if (n) { memmove(dst + pos, dst + pos + 1, n - pos - 1); n--; } break;
    case 4: n = pos; break; /* truncate */
    case 5: if (n >= 8) { /* adjust the header length field */
        uint64_t h = 0;
        for (int i = 7; i >= 0; i--) h = h << 8 | dst[i];
        h += (uint64_t)skl_rng_range(r, -16, 16);
        if (skl_rng_below(r, 8) == 0) h = skl_rng_u64(r);
        for (int i = 0; i < 8; i++) dst[i] = (unsigned char)(h >> (8 * i));
      } break;
    default: if (n > 8) dst[pos] = (unsigned char)skl_rng_below(r, 256); break;
    }
  }
  return n;
}

int main(void) {
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  const char *size = getenv("SKL_SLOW_SIZE");
  int iters = size && !strcmp(size, "small") ? 2000 : 20000;
  char p0[600], p1[600], pf[600];
  snprintf(p0, sizeof p0, "%s/seed0.safetensors", tmpdir);
  snprintf(p1, sizeof p1, "%s/seed1.safetensors", tmpdir);
  snprintf(pf, sizeof pf, "%s/fuzz.safetensors", tmpdir);
  size_t n0 = 0, n1 = 0;
  unsigned char *s0 = make_seed(p0, 0, &n0), *s1 = make_seed(p1, 1, &n1);
  CHECK(s0 && s1 && n0 > 8 && n1 > 8);
  if (!s0 || !s1) return test_report();
  size_t cap = (n0 > n1 ? n0 : n1) + 64;
  unsigned char *buf = malloc(cap);
  float *vals = malloc(cap * sizeof *vals);
  skl_rng r;
  skl_rng_seed(&r, 20261128);
  int accepted = 0, rejected = 0, bad_msg = 0, bad_view = 0;
  for (int it = 0; it < iters; it++) {
    int v = (int)skl_rng_below(&r, 2);
    size_t n = mutate(&r, v ? s1 : s0, v ? n1 : n0, buf, cap);
    FILE *f = fopen(pf, "wb");
    if (n) fwrite(buf, 1, n, f);
    fclose(f);
    skl_st_file *st = NULL;
    skl_error err = {0};
    skl_status s = skl_st_open(&st, pf, &err);
    if (s != SKL_OK) {
      rejected++;
      if (!err.msg[0] || !strstr(err.msg, "fuzz.safetensors") || st) bad_msg++;
      continue;
    }
    accepted++;
    size_t total = 0;
    for (int i = 0; i < skl_st_count(st); i++) {
      const skl_st_tensor *t = skl_st_get(st, i);
      total += t->nbytes;
      if ((size_t)t->numel > cap || t->nbytes > n) { bad_view++; continue; }
      skl_st_tensor_read_f32(t, NULL, 0, vals, &err); /* touches every byte of the view */
      if (skl_st_find(st, t->name) != t) bad_view++;
    }
    if (total > n) bad_view++;
    skl_st_close(st);
  }
  CHECK_MSG(bad_msg == 0, "%d rejections without a message naming the file", bad_msg);
  CHECK_MSG(bad_view == 0, "%d accepted files with inconsistent views", bad_view);
  CHECK(rejected > iters / 2); /* the mutations do break files */
  CHECK(accepted > 0);         /* and some survive (e.g. header whitespace, data bytes) */
  printf("fuzz: %d iterations, %d accepted, %d rejected\n", iters, accepted, rejected);
  free(buf);
  free(vals);
  free(s0);
  free(s1);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
