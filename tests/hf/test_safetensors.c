/* Tests for hf/safetensors: reading HF-layout files made by Python/torch,
 * writing byte-identical ones, shards, and every hostile-file rejection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "hf/safetensors.h"
#include "harness.h"

static char tmpdir[] = "/tmp/skl_test_st_XXXXXX";

static char *tmp_path(const char *name) {
  static char buf[8][512];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 512, "%s/%s", tmpdir, name);
  return p;
}

static void *read_file(const char *path, size_t *n) {
  char *d = NULL;
  if (skl_fs_read_all(path, &d, n, NULL)) return NULL;
  return d;
}

/* A raw file: 8-byte length, header text, then data bytes. */
static void write_raw(const char *path, uint64_t hlen, const char *hdr, const void *data, size_t dn) {
  FILE *f = fopen(path, "wb");
  unsigned char l8[8];
  for (int i = 0; i < 8; i++) l8[i] = (unsigned char)(hlen >> (8 * i));
  fwrite(l8, 1, 8, f);
  fwrite(hdr, 1, strlen(hdr), f);
  if (dn) fwrite(data, 1, dn, f);
  fclose(f);
}

/* Write header hdr + dn zero bytes and expect open to fail with code and a
 * message containing needle. */
static void expect_bad(const char *hdr, size_t dn, skl_status code, const char *needle) {
  static unsigned char zeros[4096];
  const char *p = tmp_path("bad.safetensors");
  write_raw(p, strlen(hdr), hdr, zeros, dn);
  skl_st_file *f = (skl_st_file *)0x1;
  skl_error err = {0};
  skl_status s = skl_st_open(&f, p, &err);
  CHECK_MSG(s == code, "header %s: got %s (%s)", hdr, skl_status_name(s), err.msg);
  CHECK(f == NULL);
  CHECK_CONTAINS(err.msg, needle);
  CHECK_CONTAINS(err.msg, "bad.safetensors");
  skl_st_close(f);
}

static void test_reference_read(void) {
  skl_st_file *f = NULL;
  skl_error err = {0};
  CHECK(skl_st_open(&f, tmp_path("ref.safetensors"), &err) == SKL_OK);
  if (!f) { fprintf(stderr, "%s\n", err.msg); return; }
  CHECK(skl_st_count(f) == 5);
  CHECK_STR(skl_st_get(f, 0)->name, "a"); /* sorted by name */
  CHECK_STR(skl_st_get(f, 4)->name, "e");
  CHECK(skl_st_get(f, 5) == NULL);
  CHECK_STR(skl_st_metadata(f, "format"), "pt");
  CHECK(skl_st_metadata(f, "nope") == NULL);
  size_t nv = 0;
  float *want = read_file(tmp_path("ref_values.f32"), &nv);
  CHECK(want && nv == 15 * 4);
  if (!want) { skl_st_close(f); return; }
  const skl_st_tensor *a = skl_st_find(f, "a"), *b = skl_st_find(f, "b"), *c = skl_st_find(f, "c"),
                      *d = skl_st_find(f, "d"), *e = skl_st_find(f, "e");
  CHECK(a && b && c && d && e && !skl_st_find(f, "zz"));
  if (!(a && b && c && d && e)) { free(want); skl_st_close(f); return; }
  CHECK(a->dtype == SKL_DTYPE_F32 && a->ndim == 2 && a->shape[0] == 2 && a->shape[1] == 3 && a->nbytes == 24);
  CHECK(b->dtype == SKL_DTYPE_BF16 && b->numel == 5 && b->nbytes == 10);
  CHECK(c->dtype == SKL_DTYPE_F16 && c->ndim == 2);
  CHECK(d->dtype == SKL_DTYPE_I64 && d->nbytes == 16);
  CHECK(e->ndim == 0 && e->numel == 1);
  /* HF aligns: sorted by dtype size, header padded to 8 */
  CHECK(((uintptr_t)a->data % 8) == 0 && ((uintptr_t)d->data % 8) == 0);
  int64_t d_val[2];
  memcpy(d_val, d->data, 16);
  CHECK(d_val[0] == 7 && d_val[1] == -9);
  float got[15];
  int64_t sa[2] = {2, 3}, sb[1] = {5}, sc[2] = {2, 2};
  CHECK(skl_st_read_f32(f, "a", sa, 2, got, &err) == SKL_OK);
  CHECK(skl_st_read_f32(f, "b", sb, 1, got + 6, &err) == SKL_OK);
  CHECK(skl_st_read_f32(f, "c", sc, 2, got + 11, &err) == SKL_OK);
  int same = 1;
  for (int i = 0; i < 15; i++) same &= !memcmp(&got[i], &want[i], 4); /* bit-exact vs torch */
  CHECK(same);
  float ev = 0;
  CHECK(skl_st_read_f32(f, "e", NULL, 0, &ev, &err) == SKL_OK && ev == 2.5f);
  CHECK(skl_st_read_f32(f, "d", NULL, 0, got, &err) == SKL_ERR_UNSUPPORTED);
  CHECK_CONTAINS(err.msg, "tensor 'd': dtype I64 cannot be read as float");
  CHECK(skl_st_read_f32(f, "zz", NULL, 0, got, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "no tensor 'zz'");
  int64_t wrong[2] = {3, 2};
  CHECK(skl_st_read_f32(f, "a", wrong, 2, got, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "ref.safetensors: tensor 'a': shape [2, 3] expected [3, 2]");
  CHECK(skl_st_read_f32(f, "a", wrong, 1, got, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "shape [2, 3] expected [3]");
  free(want);
  skl_st_close(f);
  skl_st_close(NULL);
}

/* The writer reproduces the Python (HF-algorithm) file byte for byte. */
static void test_writer_matches_reference(void) {
  size_t ni = 0, nr = 0;
  float *in = read_file(tmp_path("ref_inputs.f32"), &ni);
  unsigned char *ref = read_file(tmp_path("ref_writer.safetensors"), &nr);
  CHECK(in && ref && ni == 15 * 4);
  if (!in || !ref) { free(in); free(ref); return; }
  skl_st_writer *w = NULL;
  skl_error err = {0};
  CHECK(skl_st_writer_init(&w, &err) == SKL_OK);
  int64_t sa[2] = {2, 3}, sb[1] = {5}, sc[2] = {2, 2};
  float ev = 2.5f;
  /* added out of order on purpose */
  CHECK(skl_st_writer_add(w, "c", SKL_DTYPE_F16, 2, sc, in + 11, &err) == SKL_OK);
  CHECK(skl_st_writer_add(w, "e", SKL_DTYPE_F32, 0, NULL, &ev, &err) == SKL_OK);
  CHECK(skl_st_writer_add(w, "b", SKL_DTYPE_BF16, 1, sb, in + 6, &err) == SKL_OK);
  CHECK(skl_st_writer_add(w, "a", SKL_DTYPE_F32, 2, sa, in, &err) == SKL_OK);
  CHECK(skl_st_writer_add(w, "a", SKL_DTYPE_F32, 2, sa, in, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "tensor 'a' added twice");
  CHECK(skl_st_writer_add(w, "x", SKL_DTYPE_I32, 2, sa, in, &err) == SKL_ERR_UNSUPPORTED);
  CHECK_CONTAINS(err.msg, "dtype I32");
  CHECK(skl_st_writer_add(w, "__metadata__", SKL_DTYPE_F32, 2, sa, in, &err) == SKL_ERR_INVALID);
  int64_t neg[1] = {-1};
  CHECK(skl_st_writer_add(w, "n", SKL_DTYPE_F32, 1, neg, in, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "bad shape[0] = -1");
  const char *meta[] = {"format", "pt", "note", "x\"y\\z\n", NULL};
  const char *out = tmp_path("mine.safetensors");
  CHECK(skl_st_writer_save(w, out, meta, &err) == SKL_OK);
  size_t nm = 0;
  unsigned char *mine = read_file(out, &nm);
  CHECK(mine && nm == nr && !memcmp(mine, ref, nr));
  free(mine);
  /* Save into a missing folder: IO error, nothing left behind. */
  CHECK(skl_st_writer_save(w, tmp_path("nodir/x.safetensors"), NULL, &err) == SKL_ERR_IO);
  CHECK_CONTAINS(err.msg, "nodir/x.safetensors");
  skl_st_writer_free(w);
  skl_st_writer_free(NULL);
  free(in);
  free(ref);
}

/* Round trip: F32 exact, BF16 within half an ulp (2^-9 relative). */
static void test_roundtrip(void) {
  enum { N = 4096 };
  float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
  for (int i = 0; i < N; i++) x[i] = (float)((i * 7919 % 2001) - 1000) * 0.37f / (float)(1 + i % 13);
  skl_st_writer *w = NULL;
  skl_error err = {0};
  skl_st_writer_init(&w, &err);
  int64_t s2[2] = {64, 64}, s0[1] = {0};
  skl_st_writer_add(w, "w.f32", SKL_DTYPE_F32, 2, s2, x, &err);
  skl_st_writer_add(w, "w.bf16", SKL_DTYPE_BF16, 2, s2, x, &err);
  skl_st_writer_add(w, "empty", SKL_DTYPE_F32, 1, s0, NULL, &err);
  const char *p = tmp_path("rt.safetensors");
  CHECK(skl_st_writer_save(w, p, NULL, &err) == SKL_OK);
  skl_st_writer_free(w);
  skl_st_file *f = NULL;
  CHECK(skl_st_open(&f, p, &err) == SKL_OK);
  if (!f) { fprintf(stderr, "%s\n", err.msg); free(x); free(y); return; }
  CHECK_STR(skl_st_metadata(f, "format"), "pt"); /* added by default */
  CHECK(skl_st_read_f32(f, "w.f32", s2, 2, y, &err) == SKL_OK);
  CHECK(!memcmp(x, y, N * sizeof *x));
  CHECK(skl_st_read_f32(f, "w.bf16", s2, 2, y, &err) == SKL_OK);
  double worst = 0;
  for (int i = 0; i < N; i++) {
    double r = x[i] ? fabs((double)y[i] - x[i]) / fabs(x[i]) : fabs(y[i]);
    if (r > worst) worst = r;
  }
  CHECK_NEAR(worst, 0, 1.0 / 256); /* bf16: 8 significant bits, RNE: <= 2^-9 */
  CHECK(worst > 0);                /* it really was rounded */
  const skl_st_tensor *e = skl_st_find(f, "empty");
  CHECK(e && e->numel == 0 && e->nbytes == 0);
  skl_st_close(f);
  free(x);
  free(y);
}

/* f32 -> bf16/f16 bits equal torch's for edge cases and 40k values. */
static void test_conversions_vs_torch(void) {
  size_t nx = 0, nb = 0, nh = 0;
  float *x = read_file(tmp_path("conv_in.f32"), &nx);
  uint16_t *b = read_file(tmp_path("conv_bf16.u16"), &nb);
  uint16_t *h = read_file(tmp_path("conv_f16.u16"), &nh);
  CHECK(x && b && h && nx / 4 == nb / 2 && nb == nh && nx > 1000);
  if (!(x && b && h)) { free(x); free(b); free(h); return; }
  size_t n = nx / 4, bad_b = 0, bad_h = 0, bad_back = 0;
  for (size_t i = 0; i < n; i++) {
    if (skl_f32_to_bf16(x[i]) != b[i]) { if (bad_b++ < 5) fprintf(stderr, "bf16 %.9g: %04x vs torch %04x\n", x[i], skl_f32_to_bf16(x[i]), b[i]); }
    if (skl_f32_to_f16(x[i]) != h[i]) { if (bad_h++ < 5) fprintf(stderr, "f16 %.9g: %04x vs torch %04x\n", x[i], skl_f32_to_f16(x[i]), h[i]); }
    /* decoding then re-encoding is the identity on representable values */
    if (skl_f32_to_f16(skl_f16_to_f32(h[i])) != h[i] || skl_f32_to_bf16(skl_bf16_to_f32(b[i])) != b[i]) bad_back++;
  }
  CHECK_MSG(bad_b == 0, "%zu of %zu bf16 conversions differ from torch", bad_b, n);
  CHECK_MSG(bad_h == 0, "%zu of %zu f16 conversions differ from torch", bad_h, n);
  CHECK(bad_back == 0);
  CHECK(isnan(skl_bf16_to_f32(skl_f32_to_bf16(NAN))) && isnan(skl_f16_to_f32(skl_f32_to_f16(NAN))));
  free(x);
  free(b);
  free(h);
}

static void test_hostile(void) {
  skl_error err = {0};
  skl_st_file *f = NULL;
  const char *p = tmp_path("bad.safetensors");
  /* structure of the 8-byte length */
  write_raw(p, 100, "{}", NULL, 0);
  CHECK(skl_st_open(&f, p, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "header length 100 runs past the end of the file");
  write_raw(p, (uint64_t)1 << 40, "{}", NULL, 0);
  CHECK(skl_st_open(&f, p, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "header length 1099511627776 is absurd");
  write_raw(p, UINT64_MAX, "{}", NULL, 0);
  CHECK(skl_st_open(&f, p, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "is absurd");
  FILE *fp = fopen(p, "wb");
  fwrite("abc", 1, 3, fp);
  fclose(fp);
  CHECK(skl_st_open(&f, p, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "too small for a safetensors file");
  CHECK(skl_st_open(&f, tmp_path("missing.safetensors"), &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "missing.safetensors: cannot open");
  CHECK(skl_st_open(&f, tmpdir, &err) == SKL_ERR_IO);
  CHECK_CONTAINS(err.msg, "not a regular file");
  CHECK(f == NULL);

  /* header contents */
  expect_bad("{\"a\":", 0, SKL_ERR_PARSE, "header is not valid JSON");
  expect_bad("[1,2]", 0, SKL_ERR_PARSE, "header does not start with '{'");
  expect_bad(" {}", 0, SKL_ERR_PARSE, "header does not start with '{'");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, SKL_ERR_PARSE,
             "tensor 'a': data_offsets [0, 8] run past the end of the data section (4 bytes)");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
             12, SKL_ERR_PARSE, "tensor 'b': data_offsets [4, 12] overlap tensor 'a' (which ends at 8)");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, SKL_ERR_PARSE,
             "tensor 'a': data_offsets [4, 12] leave a gap after byte 0");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, SKL_ERR_PARSE,
             "8 bytes of data after the last tensor");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, SKL_ERR_PARSE,
             "tensor 'a': data_offsets [0, 8] hold 8 bytes but shape and dtype F32 need 12");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776,1099511627776],"
             "\"data_offsets\":[0,8]}}",
             8, SKL_ERR_PARSE, "tensor 'a': shape overflows");
  expect_bad("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8,
             SKL_ERR_PARSE, "shape overflows");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, SKL_ERR_PARSE,
             "tensor 'a': shape[0] is not a non-negative integer");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
             16, SKL_ERR_PARSE, "duplicate");
  expect_bad("{\"a\":{\"dtype\":\"F12\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, SKL_ERR_PARSE,
             "tensor 'a': unknown dtype 'F12'");
  expect_bad("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, SKL_ERR_PARSE,
             "unknown dtype (not a string)");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, SKL_ERR_PARSE, "tensor 'a': missing 'data_offsets'");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, SKL_ERR_PARSE,
             "end before begin");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, SKL_ERR_PARSE,
             "data_offsets must be [begin, end]");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", 8, SKL_ERR_PARSE,
             "unknown field 'extra'");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, SKL_ERR_PARSE,
             "shape is not an array");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
             SKL_ERR_UNSUPPORTED, "9 dimensions");
  expect_bad("{\"a\":[1]}", 0, SKL_ERR_PARSE, "tensor 'a': header entry is not an object");
  expect_bad("{\"__metadata__\":{\"k\":1}}", 0, SKL_ERR_PARSE, "__metadata__['k'] is not a string");
  expect_bad("{\"__metadata__\":[]}", 0, SKL_ERR_PARSE, "__metadata__ is not an object");
  /* and the valid edge: empty header object, zero-size tensor */
  write_raw(p, 2, "{}", NULL, 0);
  CHECK(skl_st_open(&f, p, &err) == SKL_OK && skl_st_count(f) == 0);
  skl_st_close(f);
  const char *z = "{\"z\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]}}";
  write_raw(p, strlen(z), z, NULL, 0);
  f = NULL;
  CHECK(skl_st_open(&f, p, &err) == SKL_OK && skl_st_count(f) == 1);
  skl_st_close(f);
}

static void save_shard(const char *path, const char *const *names, int n, const float *data) {
  skl_st_writer *w = NULL;
  skl_error err = {0};
  skl_st_writer_init(&w, &err);
  int64_t s[1] = {4};
  for (int i = 0; i < n; i++) skl_st_writer_add(w, names[i], SKL_DTYPE_F32, 1, s, data + 4 * i, &err);
  CHECK(skl_st_writer_save(w, path, NULL, &err) == SKL_OK);
  skl_st_writer_free(w);
}

static void write_text(const char *path, const char *text) {
  CHECK(skl_fs_write_atomic(path, text, strlen(text), NULL) == SKL_OK);
}

static void test_set(void) {
  float data[16];
  for (int i = 0; i < 16; i++) data[i] = (float)i;
  skl_error err = {0};
  skl_st_set *s = NULL;
  /* no weights at all */
  char *d1 = tmp_path("m1");
  skl_fs_mkdirs(d1, NULL);
  CHECK(skl_st_set_open(&s, d1, &err) == SKL_ERR_NOTFOUND && s == NULL);
  CHECK_CONTAINS(err.msg, "no model.safetensors or model.safetensors.index.json");
  /* single file */
  const char *n1[] = {"model.norm.weight", "lm_head.weight", "model.embed_tokens.weight"};
  save_shard(tmp_path("m1/model.safetensors"), n1, 3, data);
  CHECK(skl_st_set_open(&s, d1, &err) == SKL_OK);
  CHECK(skl_st_set_count(s) == 3);
  int it = 0;
  const char *nm, *order[3] = {0};
  int k = 0;
  while ((nm = skl_st_set_names(s, &it)) && k < 3) order[k++] = nm;
  CHECK(k == 3 && !strcmp(order[0], "lm_head.weight") && !strcmp(order[2], "model.norm.weight"));
  float got[4];
  int64_t sh[1] = {4};
  CHECK(skl_st_set_read_f32(s, "model.norm.weight", sh, 1, got, &err) == SKL_OK && got[0] == 0.0f && got[3] == 3.0f);
  CHECK(skl_st_set_unread(s, &err) == 2);
  CHECK_CONTAINS(err.msg, "2 unexpected tensors in");
  CHECK_CONTAINS(err.msg, "'lm_head.weight', 'model.embed_tokens.weight'");
  CHECK(skl_st_set_read_f32(s, "nope", sh, 1, got, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "no tensor 'nope'");
  skl_st_set_read_f32(s, "lm_head.weight", sh, 1, got, &err);
  skl_st_set_read_f32(s, "model.embed_tokens.weight", sh, 1, got, &err);
  CHECK(skl_st_set_unread(s, NULL) == 0);
  skl_st_set_close(s);
  /* a file path works too */
  CHECK(skl_st_set_open(&s, tmp_path("m1/model.safetensors"), &err) == SKL_OK && skl_st_set_count(s) == 3);
  skl_st_set_close(s);
  skl_st_set_close(NULL);

  /* sharded */
  char *d2 = tmp_path("m2");
  skl_fs_mkdirs(d2, NULL);
  const char *sa[] = {"a.w", "b.w"}, *sb[] = {"c.w", "d.w"};
  save_shard(tmp_path("m2/model-00001-of-00002.safetensors"), sa, 2, data);
  save_shard(tmp_path("m2/model-00002-of-00002.safetensors"), sb, 2, data + 8);
  const char *idx = tmp_path("m2/model.safetensors.index.json");
  write_text(idx, "{\"metadata\":{\"total_size\":64},\"weight_map\":{\"a.w\":\"model-00001-of-00002.safetensors\","
                  "\"b.w\":\"model-00001-of-00002.safetensors\",\"c.w\":\"model-00002-of-00002.safetensors\","
                  "\"d.w\":\"model-00002-of-00002.safetensors\"}}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_OK);
  if (s) {
    CHECK(skl_st_set_count(s) == 4);
    const skl_st_tensor *t = skl_st_set_find(s, "c.w");
    CHECK(t && strstr(t->path, "00002-of") != NULL);
    CHECK(skl_st_set_read_f32(s, "d.w", sh, 1, got, &err) == SKL_OK && got[0] == 12.0f);
    CHECK(skl_st_set_get(s, 0) && !strcmp(skl_st_set_get(s, 0)->name, "a.w") && !skl_st_set_get(s, 4));
    skl_st_set_close(s);
  }
  write_text(idx, "{\"weight_map\":{\"a.w\":\"model-00002-of-00002.safetensors\"}}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "tensor 'a.w' is indexed in model-00002-of-00002.safetensors but not stored in any shard");
  write_text(idx, "{\"weight_map\":{\"c.w\":\"model-00002-of-00002.safetensors\",\"a.w\":\"model-00002-of-00002.safetensors\","
                  "\"b.w\":\"model-00001-of-00002.safetensors\"}}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "tensor 'a.w' is indexed in model-00002-of-00002.safetensors but stored in another shard");
  write_text(idx, "{\"weight_map\":{\"a.w\":\"model-00003-of-00002.safetensors\"}}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "names shard 'model-00003-of-00002.safetensors'");
  write_text(idx, "{\"weight_map\":{\"a.w\":\"../m1/model.safetensors\"}}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "weight_map['a.w'] must be a shard file name inside the folder");
  write_text(idx, "{\"weight_map\":[]}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "no \"weight_map\" object");
  write_text(idx, "{\"weight_map\":{");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "model.safetensors.index.json:1:");
  /* one tensor in two shards */
  save_shard(tmp_path("m2/model-00002-of-00002.safetensors"), sa, 1, data + 8);
  write_text(idx, "{\"weight_map\":{\"a.w\":\"model-00001-of-00002.safetensors\",\"b.w\":\"model-00002-of-00002.safetensors\"}}");
  CHECK(skl_st_set_open(&s, d2, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "tensor 'a.w' is in two shards");
  CHECK(s == NULL);
}

static void test_dtype_table(void) {
  skl_dtype t;
  CHECK(skl_dtype_parse("BF16", &t) == SKL_OK && t == SKL_DTYPE_BF16 && skl_dtype_size(t) == 2);
  CHECK(skl_dtype_parse("U64", &t) == SKL_OK && skl_dtype_size(t) == 8);
  CHECK(skl_dtype_parse("bf16", &t) == SKL_ERR_NOTFOUND);
  CHECK_STR(skl_dtype_name(SKL_DTYPE_F8_E4M3), "F8_E4M3");
  CHECK_STR(skl_dtype_name((skl_dtype)99), "?");
}

int main(void) {
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  const char *py = getenv("PYTHON"), *src = getenv("SKL_SOURCE_ROOT");
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "%s %s/tests/hf/st_ref.py %s", py ? py : "python3", src ? src : ".", tmpdir);
  int rc = system(cmd);
  CHECK_MSG(rc == 0, "reference generator failed: %s", cmd);
  test_dtype_table();
  if (rc == 0) {
    test_reference_read();
    test_writer_matches_reference();
    test_conversions_vs_torch();
  }
  test_roundtrip();
  test_hostile();
  test_set();
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
