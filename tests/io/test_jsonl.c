/* Tests for io/jsonl.h: round trips (plain, zstd, 600 KB lines), every reader
 * error path, atomic writer (abort, SIGKILL), determinism, zstd CLI interop.
 * Not a benchmark (bench_io.c is). */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include "core/sha256.h"
#include "harness.h"
#include "io/jsonl.h"
#include "io_test_util.h"

static char *dir;

/* Write n records (seed, size) to path; returns 0 on success. */
static int write_records(const char *path, int level, int workers, size_t n, size_t bytes,
                         skl_shard_info *info) {
  skl_jsonl_writer_opts o = {level, workers};
  skl_jsonl_writer *w;
  skl_error err;
  if (skl_jsonl_writer_open(&w, path, &o, &err)) { fprintf(stderr, "%s\n", err.msg); return -1; }
  for (size_t i = 0; i < n; i++) {
    json_t *rec = tu_record(7, i, bytes);
    skl_status s = skl_jsonl_write(w, rec, &err);
    json_decref(rec);
    if (s) { fprintf(stderr, "%s\n", err.msg); skl_jsonl_writer_abort(w); return -1; }
  }
  if (skl_jsonl_writer_close(w, info, &err)) { fprintf(stderr, "%s\n", err.msg); return -1; }
  return 0;
}

/* Read all records of path and compare with tu_record(7, i, bytes). Returns
 * the number that matched in order; *st gets the final status. */
static size_t read_records(const char *path, size_t bytes, skl_status *st, skl_error *err) {
  skl_jsonl_reader *r;
  *st = skl_jsonl_open(&r, path, err);
  if (*st) return 0;
  size_t n = 0;
  for (;;) {
    json_t *o;
    *st = skl_jsonl_next(r, &o, err);
    if (*st || !o) break;
    json_t *want = tu_record(7, n, bytes);
    int eq = json_equal(o, want);
    json_decref(want);
    json_decref(o);
    if (!eq) { fprintf(stderr, "record %zu differs\n", n); break; }
    n++;
  }
  skl_jsonl_close(r);
  return n;
}

static void sha_file(const char *path, char hex[65]) {
  size_t n;
  char *d = tu_read(path, &n);
  skl_sha256_buf_hex(d ? d : "", d ? n : 0, hex);
  free(d);
}

static void test_round_trip(void) {
  for (int level = 0; level <= 3; level += 3) {
    char *p = tu_path(dir, level ? "rt.jsonl.zst" : "rt.jsonl");
    skl_shard_info info;
    CHECK(write_records(p, level, 0, 200, 300, &info) == 0);
    CHECK(info.records == 200);
    CHECK((long)info.file_bytes == tu_size(p));
    char hex[65];
    sha_file(p, hex);
    CHECK_STR(info.sha256, hex);
    if (level) CHECK(info.file_bytes < info.uncompressed_bytes / 2);
    else CHECK(info.file_bytes == info.uncompressed_bytes);
    skl_status st;
    skl_error err;
    CHECK(read_records(p, 300, &st, &err) == 200);
    CHECK(st == SKL_OK);
    skl_jsonl_reader *r;
    CHECK(skl_jsonl_open(&r, p, &err) == SKL_OK);
    CHECK(skl_jsonl_is_zstd(r) == (level > 0));
    const char *line;
    size_t len;
    CHECK(skl_jsonl_next_line(r, &line, &len, &err) == SKL_OK && line);
    CHECK(skl_jsonl_lineno(r) == 1);
    /* compact, insertion order, raw UTF-8 (no \u escapes) */
    CHECK(!strncmp(line, "{\"id\":\"niah-000000\",\"skill\":\"niah\",\"split\":\"train\"", 49));
    CHECK(strlen(line) == len);
    CHECK(strstr(line, "\\u") == NULL);
    json_t *want = tu_record(7, 0, 300);
    char *s = json_dumps(want, JSON_COMPACT);
    CHECK_STR(line, s);
    free(s);
    json_decref(want);
    skl_jsonl_close(r);
    free(p);
  }
  /* the level-0 file is exactly the compact lines */
  char *p = tu_path(dir, "rt.jsonl");
  size_t n;
  char *d = tu_read(p, &n);
  CHECK(d && n > 0 && d[n - 1] == '\n');
  size_t lines = 0;
  for (size_t i = 0; d && i < n; i++) lines += d[i] == '\n';
  CHECK(lines == 200);
  free(d);
  free(p);
}

static void test_magic_not_extension(void) {
  char *a = tu_path(dir, "zst-named.jsonl"), *b = tu_path(dir, "plain-named.jsonl.zst");
  CHECK(write_records(a, 3, 0, 10, 50, NULL) == 0);
  CHECK(write_records(b, 0, 0, 10, 50, NULL) == 0);
  skl_status st;
  skl_error err;
  CHECK(read_records(a, 50, &st, &err) == 10 && st == SKL_OK);
  CHECK(read_records(b, 50, &st, &err) == 10 && st == SKL_OK);
  unsigned char head[4] = {0};
  FILE *f = fopen(a, "rb");
  CHECK(f && fread(head, 1, 4, f) == 4);
  if (f) fclose(f);
  CHECK(head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd);
  free(a);
  free(b);
}

static void test_large_records(void) {
  for (int level = 0; level <= 3; level += 3) {
    char *p = tu_path(dir, level ? "big.jsonl.zst" : "big.jsonl");
    skl_shard_info info;
    CHECK(write_records(p, level, 2, 6, 600 * 1024, &info) == 0);
    CHECK(info.records == 6 && info.uncompressed_bytes > 6 * 600 * 1024);
    skl_status st;
    skl_error err;
    CHECK(read_records(p, 600 * 1024, &st, &err) == 6);
    CHECK(st == SKL_OK);
    skl_jsonl_reader *r;
    CHECK(skl_jsonl_open(&r, p, &err) == SKL_OK);
    const char *line;
    size_t len, total = 0, k = 0;
    while (!skl_jsonl_next_line(r, &line, &len, &err) && line) { total += len + 1; k++; }
    CHECK(k == 6 && total == info.uncompressed_bytes);
    skl_jsonl_close(r);
    free(p);
  }
}

static void test_blank_and_crlf(void) {
  char *p = tu_path(dir, "blank.jsonl");
  const char *text = "\n{\"a\":1}\r\n\n\r\n{\"b\":\"é\"}"; /* no final newline */
  CHECK(tu_write(p, text, strlen(text)) == 0);
  skl_jsonl_reader *r;
  skl_error err;
  CHECK(skl_jsonl_open(&r, p, &err) == SKL_OK);
  json_t *o;
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o);
  CHECK(skl_jsonl_lineno(r) == 2);
  CHECK(json_integer_value(json_object_get(o, "a")) == 1);
  json_decref(o);
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o);
  CHECK(skl_jsonl_lineno(r) == 5);
  CHECK_STR(json_string_value(json_object_get(o, "b")), "é");
  json_decref(o);
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o == NULL);
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o == NULL); /* EOF stays EOF */
  skl_jsonl_close(r);
  /* a byte order mark before line 1 is skipped */
  CHECK(tu_write(p, "\xEF\xBB\xBF{\"a\":1}\n", 11) == 0);
  CHECK(skl_jsonl_open(&r, p, &err) == SKL_OK);
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o && json_integer_value(json_object_get(o, "a")) == 1);
  json_decref(o);
  skl_jsonl_close(r);
  /* empty file, and a zstd file with zero records */
  CHECK(tu_write(p, "", 0) == 0);
  CHECK(skl_jsonl_open(&r, p, &err) == SKL_OK);
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o == NULL);
  skl_jsonl_close(r);
  char *z = tu_path(dir, "empty.jsonl.zst");
  skl_shard_info info;
  CHECK(write_records(z, 3, 0, 0, 0, &info) == 0 && info.records == 0 && info.file_bytes > 0);
  CHECK(skl_jsonl_open(&r, z, &err) == SKL_OK);
  CHECK(skl_jsonl_next(r, &o, &err) == SKL_OK && o == NULL);
  skl_jsonl_close(r);
  free(z);
  free(p);
}

/* Read path to its first error; returns the status, err filled, *good = records before it. */
static skl_status first_error(const char *path, skl_error *err, size_t *good) {
  skl_jsonl_reader *r;
  skl_status s = skl_jsonl_open(&r, path, err);
  *good = 0;
  if (s) return s;
  json_t *o;
  while (!(s = skl_jsonl_next(r, &o, err)) && o) { json_decref(o); (*good)++; }
  if (s) {
    /* sticky: the same error again */
    skl_error again;
    CHECK(skl_jsonl_next(r, &o, &again) == s && o == NULL);
    CHECK_STR(again.msg, err->msg);
    const char *line = "x";
    CHECK(skl_jsonl_next_line(r, &line, NULL, &again) == s && line == NULL);
  }
  skl_jsonl_close(r);
  return s;
}

static void test_line_errors(void) {
  char *p = tu_path(dir, "bad.jsonl");
  char want[700];
  skl_error err;
  size_t good;

  const char *utf = "{\"a\":1}\n{\"b\":\"x\xff\"}\n{\"c\":3}\n";
  CHECK(tu_write(p, utf, strlen(utf)) == 0);
  CHECK(first_error(p, &err, &good) == SKL_ERR_PARSE);
  CHECK(good == 1);
  snprintf(want, sizeof want, "%s:2: invalid UTF-8 at byte 7 of the line", p);
  CHECK_CONTAINS(err.msg, want);
  /* the ASCII fast path must not skip the offset: bad byte after 20 ASCII bytes */
  const char *utf2 = "{\"b\":\"abcdefghijklmnopqrst\xc0\xaf\"}\n";
  CHECK(tu_write(p, utf2, strlen(utf2)) == 0);
  CHECK(first_error(p, &err, &good) == SKL_ERR_PARSE);
  snprintf(want, sizeof want, "%s:1: invalid UTF-8 at byte 26 of the line (byte 0xc0)", p);
  CHECK_CONTAINS(err.msg, want);

  const char *js = "{\"a\":1}\n\n{\"b\": 2,}\n";
  CHECK(tu_write(p, js, strlen(js)) == 0);
  CHECK(first_error(p, &err, &good) == SKL_ERR_PARSE);
  CHECK(good == 1);
  snprintf(want, sizeof want, "%s:3: invalid JSON at column", p);
  CHECK_CONTAINS(err.msg, want);
  CHECK_CONTAINS(err.msg, "column 9");

  const char *arr = "{\"a\":1}\n[1,2]\n";
  CHECK(tu_write(p, arr, strlen(arr)) == 0);
  CHECK(first_error(p, &err, &good) == SKL_ERR_INVALID);
  snprintf(want, sizeof want, "%s:2: expected one JSON object per line, got an array", p);
  CHECK_CONTAINS(err.msg, want);

  const char *dup = "{\"a\":1,\"a\":2}\n";
  CHECK(tu_write(p, dup, strlen(dup)) == 0);
  CHECK(first_error(p, &err, &good) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "duplicate");

  char *missing = tu_path(dir, "nope.jsonl");
  skl_jsonl_reader *r = (skl_jsonl_reader *)1;
  CHECK(skl_jsonl_open(&r, missing, &err) == SKL_ERR_NOTFOUND && r == NULL);
  CHECK_CONTAINS(err.msg, missing);
  CHECK(skl_jsonl_open(&r, missing, NULL) == SKL_ERR_NOTFOUND); /* NULL err is fine */
  free(missing);
  free(p);
}

static void test_zstd_errors(void) {
  char *p = tu_path(dir, "z.jsonl.zst"), *q = tu_path(dir, "zbad.jsonl.zst");
  CHECK(write_records(p, 3, 0, 400, 400, NULL) == 0);
  size_t n;
  char *d = tu_read(p, &n);
  CHECK(d && n > 1000);
  if (!d) return;
  skl_error err;
  size_t good;
  char want[700];

  /* a flipped byte in the middle: an error, never all 400 records */
  char *c = malloc(n);
  memcpy(c, d, n);
  c[n / 2] ^= 0x5a;
  CHECK(tu_write(q, c, n) == 0);
  skl_status s = first_error(q, &err, &good);
  CHECK(s == SKL_ERR_PARSE);
  CHECK(good < 400);
  snprintf(want, sizeof want, "%s:%zu: corrupt zstd data (", q, good + 1);
  CHECK_CONTAINS(err.msg, want);
  CHECK_CONTAINS(err.msg, "regenerate");
  /* garbage after the magic: corrupt at line 1 */
  memcpy(c, d, n);
  memset(c + 4, 0xff, 16);
  CHECK(tu_write(q, c, n) == 0);
  CHECK(first_error(q, &err, &good) == SKL_ERR_PARSE && good == 0);
  snprintf(want, sizeof want, "%s:1: corrupt zstd data", q);
  CHECK_CONTAINS(err.msg, want);
  free(c);

  /* truncated at several points: the records before are intact, then an error */
  size_t cuts[] = {4, n / 3, n / 2, n - 5, n - 1};
  for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
    CHECK(tu_write(q, d, cuts[k]) == 0);
    s = first_error(q, &err, &good); /* also checks each record equals the original */
    CHECK_MSG(s == SKL_ERR_PARSE, "cut %zu: status %d", cuts[k], (int)s);
    CHECK(good < 400 || cuts[k] >= n - 5); /* only the checksum may be missing */
    CHECK_CONTAINS(err.msg, "truncated zstd stream: the file ends inside a frame");
    snprintf(want, sizeof want, "%s:%zu: truncated", q, good + 1);
    CHECK_CONTAINS(err.msg, want);
  }
  skl_status st;
  CHECK(read_records(q, 400, &st, &err) <= 400);

  /* two concatenated frames read as one stream */
  char *two = malloc(2 * n);
  memcpy(two, d, n);
  memcpy(two + n, d, n);
  CHECK(tu_write(q, two, 2 * n) == 0);
  CHECK(first_error(q, &err, &good) == SKL_OK && good == 800);
  /* trailing garbage after a complete frame */
  memcpy(two + n, "garbage!", 8);
  CHECK(tu_write(q, two, n + 8) == 0);
  CHECK(first_error(q, &err, &good) == SKL_ERR_PARSE && good == 400);
  CHECK_CONTAINS(err.msg, "corrupt zstd data");
  free(two);
  free(d);
  free(p);
  free(q);
}

static void test_writer_errors(void) {
  char *p = tu_path(dir, "werr.jsonl");
  skl_jsonl_writer *w;
  skl_error err;
  skl_jsonl_writer_opts o = {99, 0};
  CHECK(skl_jsonl_writer_open(&w, p, &o, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "zstd level 99 out of range");
  o.zstd_level = 3;
  o.zstd_workers = -1;
  CHECK(skl_jsonl_writer_open(&w, p, &o, &err) == SKL_ERR_RANGE);
  char *nodir = tu_path(dir, "no/such/dir/x.jsonl");
  CHECK(skl_jsonl_writer_open(&w, nodir, NULL, &err) == SKL_ERR_IO);
  CHECK_CONTAINS(err.msg, nodir);
  free(nodir);

  CHECK(skl_jsonl_writer_open(&w, p, NULL, &err) == SKL_OK);
  CHECK(skl_jsonl_write_line(w, "{\"a\":1}\n{}", 10, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "record 1: a line must not contain");
  CHECK(skl_jsonl_write_line(w, "{\"a\":\"\xed\xa0\x80\"}", 10, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "invalid UTF-8 at byte 6");
  json_t *arr = json_array();
  CHECK(skl_jsonl_write(w, arr, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "expected a JSON object");
  json_decref(arr);
  CHECK(skl_jsonl_write_line(w, "{\"ok\":true}", 11, &err) == SKL_OK);
  skl_shard_info info;
  CHECK(skl_jsonl_writer_close(w, &info, &err) == SKL_OK);
  CHECK(info.records == 1 && info.uncompressed_bytes == 12); /* refused lines left no trace */
  free(p);
}

static size_t count_entries(const char *d, const char *prefix) {
  DIR *dd = opendir(d);
  size_t n = 0;
  struct dirent *e;
  while (dd && (e = readdir(dd)))
    if (!strncmp(e->d_name, prefix, strlen(prefix))) n++;
  if (dd) closedir(dd);
  return n;
}

static void test_abort_and_kill(void) {
  char *sub = tu_path(dir, "abort");
  CHECK(skl_fs_mkdirs(sub, NULL) == SKL_OK);
  char *p = tu_path(sub, "shard.jsonl.zst");
  skl_jsonl_writer *w;
  skl_error err;
  CHECK(skl_jsonl_writer_open(&w, p, NULL, &err) == SKL_OK);
  for (size_t i = 0; i < 50; i++) {
    json_t *rec = tu_record(7, i, 100000);
    CHECK(skl_jsonl_write(w, rec, &err) == SKL_OK);
    json_decref(rec);
  }
  CHECK(count_entries(sub, "shard.jsonl.zst.tmp.") == 1); /* bytes are going somewhere */
  skl_jsonl_writer_abort(w);
  CHECK(count_entries(sub, "") == 2); /* only "." and ".." */
  skl_jsonl_writer_abort(NULL);

  /* a writer killed mid-stream leaves no file under the final name */
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    skl_jsonl_writer *cw;
    if (skl_jsonl_writer_open(&cw, p, NULL, NULL)) _exit(2);
    for (size_t i = 0;; i++) {
      json_t *rec = tu_record(7, i % 64, 50000);
      if (skl_jsonl_write(cw, rec, NULL)) _exit(3);
      json_decref(rec);
      if (i == 100 && write(fds[1], "x", 1) != 1) _exit(4);
    }
  }
  close(fds[1]);
  char c;
  CHECK(read(fds[0], &c, 1) == 1);
  close(fds[0]);
  kill(pid, SIGKILL);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  CHECK(!skl_fs_exists(p));
  CHECK(count_entries(sub, "shard.jsonl.zst.tmp.") == 1); /* the partial temp, never the shard */
  free(p);
  free(sub);
}

static void test_determinism(void) {
  char hex[3][65];
  int workers[3] = {0, 1, 4};
  for (int k = 0; k < 3; k++) {
    char name[64];
    snprintf(name, sizeof name, "det-%d.jsonl.zst", workers[k]);
    char *p = tu_path(dir, name);
    skl_shard_info info;
    /* level 1: 2 MB zstd jobs, so 7 MB make 4 jobs and several workers
     * really run (level 3 would make one 8 MB job) */
    CHECK(write_records(p, 1, workers[k], 120, 60000, &info) == 0);
    memcpy(hex[k], info.sha256, 65);
    free(p);
  }
  CHECK_STR(hex[0], hex[1]);
  CHECK_STR(hex[0], hex[2]);
}

static int run(const char *cmd) {
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_zstd_cli_interop(void) {
  char *z = tu_path(dir, "cli.jsonl.zst"), *plain = tu_path(dir, "cli.jsonl"), *out = tu_path(dir, "cli.out");
  CHECK(write_records(z, 3, 0, 300, 2000, NULL) == 0);
  CHECK(write_records(plain, 0, 0, 300, 2000, NULL) == 0);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "zstd -q -t '%s' && zstd -q -d -c '%s' > '%s'", z, z, out);
  CHECK(run(cmd) == 0);
  snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", plain, out);
  CHECK(run(cmd) == 0);
  /* and the other way: the CLI compresses, we read (its pledged size, checksum, -T0) */
  char *cz = tu_path(dir, "from-cli.jsonl.zst");
  snprintf(cmd, sizeof cmd, "zstd -q -f -19 -T0 '%s' -o '%s'", plain, cz);
  CHECK(run(cmd) == 0);
  skl_status st;
  skl_error err;
  CHECK(read_records(cz, 2000, &st, &err) == 300 && st == SKL_OK);
  free(cz);
  free(z);
  free(plain);
  free(out);
}

static void test_textfile(void) {
  char *t = tu_path(dir, "corpus.txt"), *tz = tu_path(dir, "corpus.txt.zst");
  size_t n = 300000;
  char *text = malloc(n);
  for (size_t i = 0; i < n; i++) text[i] = "lorem ipsum dolor\n"[i % 18];
  CHECK(tu_write(t, text, n) == 0);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "zstd -q -f '%s' -o '%s'", t, tz);
  CHECK(run(cmd) == 0);
  const char *paths[2] = {t, tz};
  for (int k = 0; k < 2; k++) {
    skl_textfile *r;
    skl_error err;
    CHECK(skl_textfile_open(&r, paths[k], &err) == SKL_OK);
    char *back = malloc(n + 10);
    size_t total = 0, got;
    while (!skl_textfile_read(r, back + total, total + 1000 <= n + 10 ? 1000 : n + 10 - total, &got, &err) && got)
      total += got;
    CHECK(total == n && !memcmp(back, text, n));
    skl_textfile_close(r);
    free(back);
  }
  /* truncated compressed corpus */
  size_t zn;
  char *zd = tu_read(tz, &zn);
  CHECK(zd && tu_write(tz, zd, zn / 2) == 0);
  skl_textfile *r;
  skl_error err;
  CHECK(skl_textfile_open(&r, tz, &err) == SKL_OK);
  char buf[4096];
  size_t got;
  skl_status s;
  while (!(s = skl_textfile_read(r, buf, sizeof buf, &got, &err)) && got) {}
  CHECK(s == SKL_ERR_PARSE);
  char want[700];
  snprintf(want, sizeof want, "%s: truncated zstd stream", tz);
  CHECK_CONTAINS(err.msg, want);
  CHECK(skl_textfile_read(r, buf, sizeof buf, &got, NULL) == SKL_ERR_PARSE && got == 0);
  skl_textfile_close(r);
  skl_textfile_close(NULL);
  free(zd);
  free(text);
  free(t);
  free(tz);
}

int main(void) {
  dir = tu_tmpdir("jsonl");
  if (!dir) { fprintf(stderr, "cannot create a temp folder\n"); return 1; }
  test_round_trip();
  test_magic_not_extension();
  test_large_records();
  test_blank_and_crlf();
  test_line_errors();
  test_zstd_errors();
  test_writer_errors();
  test_abort_and_kill();
  test_determinism();
  test_zstd_cli_interop();
  test_textfile();
  int rc = test_report();
  if (rc == 0) tu_rmrf(dir);
  else fprintf(stderr, "files kept in %s\n", dir);
  free(dir);
  return rc;
}
