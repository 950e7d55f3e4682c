/* Tests for io/manifest.h: build/write/read round trip, deterministic bytes,
 * verify catching a flipped byte, truncation, missing and extra shards, and
 * read errors naming the key. Not a jsonl test. */
#include <stddef.h>

#include "harness.h"
#include "io/manifest.h"
#include "io_test_util.h"

static char *dir;

/* Write shard DIR/rel with n records; fill info. */
static int make_shard(const char *root, const char *rel, size_t n, skl_shard_info *info) {
  char *p = tu_path(root, rel);
  char *slash = strrchr(p, '/');
  *slash = '\0';
  skl_fs_mkdirs(p, NULL);
  *slash = '/';
  skl_jsonl_writer *w;
  int rc = skl_jsonl_writer_open(&w, p, NULL, NULL) ? -1 : 0;
  for (size_t i = 0; !rc && i < n; i++) {
    json_t *r = tu_record(3, i, 200);
    rc = skl_jsonl_write(w, r, NULL) ? -1 : 0;
    json_decref(r);
  }
  if (!rc) rc = skl_jsonl_writer_close(w, info, NULL) ? -1 : 0;
  free(p);
  return rc;
}

static const char *rels[3] = {"niah/train-00000.jsonl.zst", "niah/train-00001.jsonl.zst",
                              "logic/test-00000.jsonl.zst"};
static skl_shard_info infos[3];

/* Build the test manifest. */
static void build(skl_manifest *m) {
  CHECK(skl_manifest_init(m, NULL) == SKL_OK);
  for (int k = 0; k < 3; k++) {
    int i = k;
    const char *skill = i < 2 ? "niah" : "logic", *split = i < 2 ? "train" : "test";
    CHECK(skl_manifest_add_shard(m, skill, split, rels[i], &infos[i], NULL) == SKL_OK);
  }
  const char *names[3] = {"run", "niah", "logic"};
  uint64_t vals[3] = {1234, UINT64_MAX - 5, 0};
  for (int k = 0; k < 3; k++) {
    int i = k;
    CHECK(skl_manifest_set_seed(m, names[i], vals[i], NULL) == SKL_OK);
  }
  int64_t lens[5] = {10, 1023, 1024, 5000, 300000};
  for (int k = 0; k < 5; k++) CHECK(skl_manifest_add_length(m, "niah", lens[k], NULL) == SKL_OK);
  for (int k = 0; k < 5; k++) CHECK(skl_manifest_add_length(m, "logic", lens[k] * 2, NULL) == SKL_OK);
  CHECK(skl_manifest_set_config_hash(m, "c0ffee", NULL) == SKL_OK);
  CHECK(skl_manifest_set_tokenizer_hash(m, "beef", NULL) == SKL_OK);
}

static void test_round_trip(void) {
  for (int i = 0; i < 3; i++) CHECK(make_shard(dir, rels[i], i == 2 ? 5 : 20 + (size_t)i, &infos[i]) == 0);
  skl_manifest m;
  build(&m);
  CHECK(skl_manifest_count(&m, "niah", "train") == 41);
  CHECK(skl_manifest_count(&m, "logic", "test") == 5);
  CHECK(skl_manifest_count(&m, "logic", "train") == 0);
  skl_error err;
  CHECK(skl_manifest_write(&m, dir, &err) == SKL_OK);
  char *mp = tu_path(dir, SKL_MANIFEST_FILE);
  size_t n1, n2;
  char *a = tu_read(mp, &n1);
  CHECK(a && !strncmp(a, "{\n  \"format\": \"skillrl-dataset\",\n  \"version\": 1,", 48));
  CHECK_CONTAINS(a, "\"niah\": {\n      \"train\": 41\n    }");
  CHECK_CONTAINS(a, "\"niah\": \"18446744073709551610\""); /* > INT64_MAX as a string */

  /* same content added in another order: same bytes */
  skl_manifest m3;
  CHECK(skl_manifest_init(&m3, NULL) == SKL_OK);
  for (int i = 2; i >= 0; i--)
    CHECK(skl_manifest_add_shard(&m3, i < 2 ? "niah" : "logic", i < 2 ? "train" : "test", rels[i], &infos[i], NULL) == SKL_OK);
  CHECK(skl_manifest_set_seed(&m3, "logic", 0, NULL) == SKL_OK);
  CHECK(skl_manifest_set_seed(&m3, "niah", 1, NULL) == SKL_OK);
  CHECK(skl_manifest_set_seed(&m3, "niah", UINT64_MAX - 5, NULL) == SKL_OK); /* replaces */
  CHECK(skl_manifest_set_seed(&m3, "run", 1234, NULL) == SKL_OK);
  int64_t lens[5] = {10, 1023, 1024, 5000, 300000};
  for (int k = 4; k >= 0; k--) CHECK(skl_manifest_add_length(&m3, "logic", lens[k] * 2, NULL) == SKL_OK);
  for (int k = 4; k >= 0; k--) CHECK(skl_manifest_add_length(&m3, "niah", lens[k], NULL) == SKL_OK);
  CHECK(skl_manifest_set_config_hash(&m3, "c0ffee", NULL) == SKL_OK);
  CHECK(skl_manifest_set_tokenizer_hash(&m3, "beef", NULL) == SKL_OK);
  char *sub = tu_path(dir, "again");
  CHECK(skl_fs_mkdirs(sub, NULL) == SKL_OK);
  CHECK(skl_manifest_write(&m3, sub, &err) == SKL_OK);
  char *mp2 = tu_path(sub, SKL_MANIFEST_FILE);
  char *b = tu_read(mp2, &n2);
  CHECK(a && b && n1 == n2 && !memcmp(a, b, n1));
  skl_manifest_free(&m3);

  /* read back */
  skl_manifest r;
  CHECK(skl_manifest_read(&r, dir, &err) == SKL_OK);
  CHECK(r.version == 1 && r.n_shards == 3 && r.n_seeds == 3 && r.n_hists == 2);
  CHECK_STR(r.config_hash, "c0ffee");
  CHECK_STR(r.tokenizer_hash, "beef");
  CHECK_CONTAINS(r.created_by, "skillrl ");
  CHECK(skl_manifest_count(&r, "niah", "train") == 41);
  for (size_t i = 0; i < r.n_shards; i++) {
    int k = !strcmp(r.shards[i].path, rels[0]) ? 0 : !strcmp(r.shards[i].path, rels[1]) ? 1 : 2;
    CHECK_STR(r.shards[i].path, rels[k]);
    CHECK_STR(r.shards[i].sha256, infos[k].sha256);
    CHECK(r.shards[i].bytes == infos[k].file_bytes && r.shards[i].records == infos[k].records);
    CHECK(r.shards[i].uncompressed_bytes == infos[k].uncompressed_bytes);
  }
  for (size_t i = 0; i < r.n_seeds; i++)
    if (!strcmp(r.seeds[i].name, "niah")) CHECK(r.seeds[i].value == UINT64_MAX - 5);
  for (size_t i = 0; i < r.n_hists; i++) {
    const uint64_t *c = r.hists[i].counts;
    if (!strcmp(r.hists[i].skill, "niah")) /* 10,1023 | 1024 | 5000 | 300000 */
      CHECK(c[0] == 2 && c[1] == 1 && c[3] == 1 && c[9] == 1 && c[2] == 0);
    else /* 20 | 2046 | 2048 | 10000 | 600000 */
      CHECK(c[0] == 1 && c[1] == 1 && c[2] == 1 && c[4] == 1 && c[9] == 1);
  }
  /* written back, it is the same file */
  char *sub2 = tu_path(dir, "again2");
  CHECK(skl_fs_mkdirs(sub2, NULL) == SKL_OK);
  CHECK(skl_manifest_write(&r, sub2, &err) == SKL_OK);
  char *mp3 = tu_path(sub2, SKL_MANIFEST_FILE);
  size_t n3;
  char *c3 = tu_read(mp3, &n3);
  CHECK(c3 && n3 == n1 && !memcmp(a, c3, n1));
  skl_manifest_free(&r);
  skl_manifest_free(&m);
  skl_manifest_free(NULL);
  tu_rmrf(sub); tu_rmrf(sub2);
  free(a); free(b); free(c3); free(mp); free(mp2); free(mp3); free(sub); free(sub2);
}

static void test_builder_errors(void) {
  skl_manifest m;
  skl_error err;
  CHECK(skl_manifest_init(&m, NULL) == SKL_OK);
  const char *badp[] = {"/abs/x.jsonl", "../x.jsonl", "a/../x.jsonl", "a//x.jsonl", "", "./x.jsonl"};
  for (size_t i = 0; i < sizeof badp / sizeof *badp; i++) {
    CHECK(skl_manifest_add_shard(&m, "niah", "train", badp[i], &infos[0], &err) == SKL_ERR_INVALID);
    CHECK_CONTAINS(err.msg, "must be relative to the dataset folder");
  }
  CHECK(skl_manifest_add_shard(&m, "niah", "train", rels[0], &infos[0], &err) == SKL_OK);
  CHECK(skl_manifest_add_shard(&m, "niah", "train", rels[0], &infos[0], &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "listed twice");
  skl_shard_info bad = infos[1];
  bad.sha256[3] = 'G';
  CHECK(skl_manifest_add_shard(&m, "niah", "train", rels[1], &bad, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "sha256 must be 64 lower-case hex digits");
  CHECK(skl_manifest_add_shard(&m, "", "train", rels[1], &infos[1], &err) == SKL_ERR_INVALID);
  CHECK(skl_manifest_add_length(&m, "niah", -1, &err) == SKL_ERR_RANGE);
  CHECK(m.n_shards == 1);
  skl_manifest_free(&m);
}

static void test_verify(void) {
  skl_error err;
  CHECK(skl_manifest_verify(dir, &err) == SKL_OK);
  char *p = tu_path(dir, rels[1]);
  size_t n;
  char *d = tu_read(p, &n);
  char want[900];

  /* one flipped byte */
  d[n / 2] ^= 1;
  CHECK(tu_write(p, d, n) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_ERR_INVALID);
  snprintf(want, sizeof want, "%s: sha256 mismatch: manifest says %s, file has ", p, infos[1].sha256);
  CHECK_CONTAINS(err.msg, want);
  CHECK_CONTAINS(err.msg, "the shard was modified or truncated — regenerate the dataset");
  d[n / 2] ^= 1;

  /* truncated */
  CHECK(tu_write(p, d, n - 10) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_ERR_INVALID);
  snprintf(want, sizeof want, "(%zu bytes, manifest says %zu)", n - 10, n);
  CHECK_CONTAINS(err.msg, want);
  CHECK(tu_write(p, d, n) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_OK);

  /* missing */
  char *moved = tu_path(dir, "moved.bin");
  CHECK(rename(p, moved) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_ERR_NOTFOUND);
  snprintf(want, sizeof want, "%s: missing: the manifest lists this shard but the file is absent", p);
  CHECK_CONTAINS(err.msg, want);
  CHECK(rename(moved, p) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_OK);

  /* extra shard (a temp file from a killed writer is not a shard) */
  char *tmp = tu_path(dir, "niah/train-00002.jsonl.zst.tmp.999");
  CHECK(tu_write(tmp, "x", 1) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_OK);
  char *extra = tu_path(dir, "logic/val-00000.jsonl");
  CHECK(tu_write(extra, "{}\n", 3) == 0);
  CHECK(skl_manifest_verify(dir, &err) == SKL_ERR_INVALID);
  snprintf(want, sizeof want, "%s: extra shard: not listed in %s/manifest.json", extra, dir);
  CHECK_CONTAINS(err.msg, want);
  unlink(extra);
  unlink(tmp);
  CHECK(skl_manifest_verify(dir, &err) == SKL_OK);
  free(extra); free(tmp); free(moved); free(d); free(p);
}

/* Rewrite manifest.json with `from` replaced by `to`, then expect a read error. */
static void expect_read(const char *from, const char *to, skl_status code, const char *msg) {
  char *mp = tu_path(dir, SKL_MANIFEST_FILE);
  size_t n;
  char *orig = tu_read(mp, &n);
  char *at = orig ? strstr(orig, from) : NULL;
  CHECK_MSG(at != NULL, "'%s' not in the manifest", from);
  if (at) {
    size_t lf = strlen(from), lt = strlen(to);
    char *mod = malloc(n - lf + lt + 1);
    size_t pre = (size_t)(at - orig);
    memcpy(mod, orig, pre);
    memcpy(mod + pre, to, lt);
    memcpy(mod + pre + lt, at + lf, n - pre - lf);
    CHECK(tu_write(mp, mod, n - lf + lt) == 0);
    skl_manifest m;
    skl_error err;
    skl_status s = skl_manifest_read(&m, dir, &err);
    CHECK_MSG(s == code, "replacing '%s': status %d, want %d", from, (int)s, (int)code);
    char want[700];
    snprintf(want, sizeof want, "%s%s", mp, msg);
    CHECK_CONTAINS(err.msg, want);
    skl_manifest_free(&m);
    /* verify reports the same */
    CHECK(skl_manifest_verify(dir, &err) == code);
    free(mod);
    CHECK(tu_write(mp, orig, n) == 0);
  }
  free(orig);
  free(mp);
}

static void test_read_errors(void) {
  expect_read("\"skillrl-dataset\"", "\"other\"", SKL_ERR_PARSE, ": format: \"other\" is not \"skillrl-dataset\"");
  expect_read("\"version\": 1", "\"version\": 2", SKL_ERR_UNSUPPORTED, ": version 2 is not supported");
  expect_read("\"version\": 1,", "\"version\": 1,,", SKL_ERR_PARSE, ":3:16: invalid JSON: string or '}' expected near ','");
  expect_read("\"path\": \"logic/test-00000.jsonl.zst\"", "\"path\": \"../x.jsonl\"", SKL_ERR_INVALID,
              ": shards[0]: manifest shard path \"../x.jsonl\": must be relative");
  expect_read(infos[2].sha256, "abc", SKL_ERR_INVALID, ": shards[0].sha256: expected 64 hex digits");
  expect_read("\"records\": 5", "\"records\": -5", SKL_ERR_INVALID, ": shards[0].records: expected a non-negative integer");
  expect_read("\"records\": 5", "\"recs\": 5", SKL_ERR_INVALID, ": shards[0].records: missing");
  expect_read("\"test\": 5", "\"test\": 6", SKL_ERR_INVALID, ": counts.logic.test: says 6 records but the shards list 5");
  expect_read("\"run\": 1234", "\"run\": \"x\"", SKL_ERR_INVALID, ": seeds.run: expected a non-negative integer");
  expect_read("\"shards\": [", "\"shardz\": [", SKL_ERR_INVALID, ": shards: missing");
  skl_manifest m;
  skl_error err;
  char *none = tu_path(dir, "niah");
  CHECK(skl_manifest_read(&m, none, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "manifest.json: not found; is ");
  skl_manifest_free(&m);
  free(none);
  CHECK(skl_manifest_verify(dir, &err) == SKL_OK); /* restored */
}

int main(void) {
  dir = tu_tmpdir("manifest");
  if (!dir) return 1;
  test_round_trip();
  test_builder_errors();
  test_verify();
  test_read_errors();
  int rc = test_report();
  if (rc == 0) tu_rmrf(dir);
  else fprintf(stderr, "files kept in %s\n", dir);
  free(dir);
  return rc;
}
