/* Tests for src/core: errors, rng determinism, sha256 vectors, atomic writes, buf, name lists.
 * Not a benchmark. */
#include <stdlib.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "core/sha256.h"
#include "core/text.h"
#include "harness.h"

static void test_sha256(void) {
  char hex[65];
  skl_sha256_buf_hex("", 0, hex);
  CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  skl_sha256_buf_hex("abc", 3, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  skl_sha256_buf_hex(m, strlen(m), hex);
  CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* streaming in odd pieces equals one shot: one million 'a' */
  skl_sha256 c;
  skl_sha256_init(&c);
  char a[997];
  memset(a, 'a', sizeof a);
  size_t left = 1000000;
  while (left) { size_t k = left < sizeof a ? left : sizeof a; skl_sha256_update(&c, a, k); left -= k; }
  uint8_t dg[32];
  skl_sha256_final(&c, dg);
  skl_sha256_hex(dg, hex);
  CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_rng(void) {
  skl_rng a, b;
  skl_rng_seed(&a, 42);
  skl_rng_seed(&b, 42);
  int same = 1;
  for (int i = 0; i < 1000; i++) same &= skl_rng_u64(&a) == skl_rng_u64(&b);
  CHECK(same);
  CHECK(skl_rng_derive(1, 2, 3, 4) == skl_rng_derive(1, 2, 3, 4));
  CHECK(skl_rng_derive(1, 2, 3, 4) != skl_rng_derive(1, 2, 3, 5));
  int hist[7] = {0};
  double sum = 0;
  for (int i = 0; i < 70000; i++) { hist[skl_rng_below(&a, 7)]++; sum += skl_rng_uniform(&a); }
  int ok = 1;
  for (int i = 0; i < 7; i++) ok &= hist[i] > 9400 && hist[i] < 10600;
  CHECK(ok);
  CHECK_NEAR(sum / 70000, 0.5, 0.01);
  for (int i = 0; i < 1000; i++) { int64_t v = skl_rng_range(&a, -3, 3); CHECK(v >= -3 && v <= 3); }
}

static void test_error(void) {
  skl_error e;
  skl_error_clear(&e);
  CHECK(skl_error_set(&e, SKL_ERR_PARSE, "line %d: bad", 7) == SKL_ERR_PARSE);
  skl_error_prefix(&e, "data.jsonl");
  CHECK_STR(e.msg, "data.jsonl: line 7: bad");
  CHECK_STR(skl_status_name(SKL_ERR_IO), "i/o error");
  CHECK(skl_error_set(NULL, SKL_ERR_IO, "x") == SKL_ERR_IO);
}

static void test_fs(void) {
  char dir[] = "/tmp/skl_core_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char *p = skl_path_join(dir, "a/b/c");
  skl_error e;
  CHECK(skl_fs_mkdirs(p, &e) == SKL_OK);
  CHECK(skl_fs_is_dir(p));
  char *f = skl_path_join(p, "x.txt");
  CHECK(skl_fs_write_atomic(f, "hello", 5, &e) == SKL_OK);
  /* an aborted writer leaves the old content and no temp file */
  skl_atomic_file af;
  CHECK(skl_atomic_open(&af, f, &e) == SKL_OK);
  fputs("partial", af.f);
  char tmpname[512];
  snprintf(tmpname, sizeof tmpname, "%s", af.tmp);
  skl_atomic_abort(&af);
  CHECK(!skl_fs_exists(tmpname));
  char *data;
  size_t n;
  CHECK(skl_fs_read_all(f, &data, &n, &e) == SKL_OK);
  CHECK(n == 5 && !memcmp(data, "hello", 5));
  free(data);
  CHECK(skl_fs_read_all("/nonexistent/file", &data, &n, &e) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(e.msg, "/nonexistent/file: cannot open");
  unlink(f);
  free(f);
  free(p);
}

static void test_buf(void) {
  skl_buf b = {0};
  for (int i = 0; i < 1000; i++) skl_buf_printf(&b, "%d,", i);
  CHECK(b.len == 3890);
  CHECK(!strncmp(b.data, "0,1,2,", 6));
  skl_buf_clear(&b);
  CHECK(b.len == 0 && b.data[0] == 0);
  skl_buf_free(&b);
  skl_buf_free(&b);
}

static void test_name_list(void) {
  CHECK(skl_name_in_list("niah,logic", "logic"));
  CHECK(skl_name_in_list(" niah , logic ", "niah"));
  CHECK(skl_name_in_list("niah logic", "logic"));
  CHECK(!skl_name_in_list("niah,logic", "nia"));
  CHECK(!skl_name_in_list("niah,logic", "logics"));
  CHECK(!skl_name_in_list("", "niah"));
  CHECK(!skl_name_in_list(",, ", "niah"));
}

int main(void) {
  test_sha256();
  test_rng();
  test_error();
  test_fs();
  test_buf();
  test_name_list();
  return test_report();
}
