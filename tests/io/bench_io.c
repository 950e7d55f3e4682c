/* Throughput of dataset I/O: JSONL(.zst) write and read on one caller thread
 * next to the zstd CLI (-3 -T1) on the same bytes, printed as one JSON line.
 * Not a unit test: suite 'slow'; SKL_SLOW_SIZE=small shrinks 100 MB to 10 MB.
 * Checks correctness (counts, CLI round trip), never timings. */
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>
#include <zstd.h>

#include "harness.h"
#include "io/jsonl.h"
#include "io_test_util.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double run_timed(const char *cmd) {
  double t = now();
  int rc = system(cmd);
  t = now() - t;
  CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "command failed: %s", cmd);
  return t;
}

/* Prose-like text: pseudo-words from a 4096-word vocabulary with a skewed
 * distribution, so compression ratios look like real documents (~3-4x). */
static void make_text(skl_rng *r, char (*vocab)[12], char *out, size_t n) {
  size_t k = 0;
  while (k + 13 < n) {
    uint64_t u = skl_rng_below(r, 4096);
    const char *w = vocab[(u * u) >> 12];
    size_t l = strlen(w);
    memcpy(out + k, w, l);
    k += l;
    out[k++] = skl_rng_below(r, 12) ? ' ' : '.';
  }
  out[k] = '\0';
}

int main(void) {
  const char *size = getenv("SKL_SLOW_SIZE");
  size_t target = (size && !strcmp(size, "small") ? 10u : 100u) << 20;
  char *dir = tu_tmpdir("bench_io");
  if (!dir) return 1;
  char *plain = tu_path(dir, "b.jsonl"), *z = tu_path(dir, "b.jsonl.zst"), *cz = tu_path(dir, "cli.jsonl.zst");
  char *back = tu_path(dir, "back.jsonl");
  skl_rng r;
  skl_rng_seed(&r, 99);
  static char vocab[4096][12];
  for (int i = 0; i < 4096; i++) {
    int l = 2 + (int)skl_rng_below(&r, 9);
    for (int j = 0; j < l; j++) vocab[i][j] = (char)('a' + skl_rng_below(&r, 26));
    vocab[i][l] = '\0';
  }

  /* 1. the plain source file (records of 1-64 KB), not timed */
  skl_jsonl_writer_opts plain_o = {0, 0};
  skl_jsonl_writer *w;
  skl_error err;
  CHECK(skl_jsonl_writer_open(&w, plain, &plain_o, &err) == SKL_OK);
  char *text = malloc(65536 + 16);
  size_t n_rec = 0, ubytes = 0;
  while (ubytes < target) {
    make_text(&r, vocab, text, 1024 + skl_rng_below(&r, 63 * 1024));
    json_t *o = json_pack("{s:I, s:s, s:[{s:s, s:s}], s:{s:I}}", "i", (json_int_t)n_rec, "skill", "niah",
                          "prompt", "role", "user", "content", text, "extra_info", "seed", (json_int_t)n_rec);
    CHECK(skl_jsonl_write(w, o, &err) == SKL_OK);
    json_decref(o);
    n_rec++;
    ubytes += strlen(text) + 80;
  }
  skl_shard_info pinfo;
  CHECK(skl_jsonl_writer_close(w, &pinfo, &err) == SKL_OK);
  double mb = (double)pinfo.uncompressed_bytes / 1e6;

  /* 2. write: pre-serialised lines -> .zst level 3 (our writer) */
  skl_jsonl_reader *rd;
  CHECK(skl_jsonl_open(&rd, plain, &err) == SKL_OK);
  double t = now();
  CHECK(skl_jsonl_writer_open(&w, z, NULL, &err) == SKL_OK);
  const char *line;
  size_t len;
  while (!skl_jsonl_next_line(rd, &line, &len, &err) && line) skl_jsonl_write_line(w, line, len, NULL);
  skl_shard_info zinfo;
  CHECK(skl_jsonl_writer_close(w, &zinfo, &err) == SKL_OK);
  double t_write = now() - t;
  skl_jsonl_close(rd);
  CHECK(zinfo.records == pinfo.records && zinfo.uncompressed_bytes == pinfo.uncompressed_bytes);

  /* 3. peer write: zstd CLI -3 -T1 on the same bytes */
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "zstd -q -f -3 -T1 '%s' -o '%s'", plain, cz);
  double t_cli_c = run_timed(cmd);

  /* 4. read: lines (decompress + split + UTF-8 check) and JSON objects */
  t = now();
  CHECK(skl_jsonl_open(&rd, z, &err) == SKL_OK);
  size_t k = 0;
  while (!skl_jsonl_next_line(rd, &line, &len, &err) && line) k++;
  skl_jsonl_close(rd);
  double t_read_lines = now() - t;
  CHECK(k == pinfo.records);
  t = now();
  CHECK(skl_jsonl_open(&rd, z, &err) == SKL_OK);
  json_t *o;
  k = 0;
  while (!skl_jsonl_next(rd, &o, &err) && o) { json_decref(o); k++; }
  skl_jsonl_close(rd);
  double t_read_json = now() - t;
  CHECK(k == pinfo.records);

  /* 5. peer read: zstd CLI decompression to a file (we keep lines in memory) */
  snprintf(cmd, sizeof cmd, "zstd -q -d -f '%s' -o '%s'", z, back);
  double t_cli_d = run_timed(cmd);
  snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", plain, back);
  run_timed(cmd);

  printf("{\"bench\":\"io\",\"threads\":1,\"mb\":%.1f,\"records\":%zu,\"zstd_ratio\":%.2f,"
         "\"write_mb_per_s\":%.1f,\"peer_write_mb_per_s\":%.1f,\"write_ratio\":%.2f,"
         "\"read_lines_mb_per_s\":%.1f,\"read_json_mb_per_s\":%.1f,\"peer_read_mb_per_s\":%.1f,"
         "\"read_ratio\":%.2f,\"peer\":\"zstd %s -3 -T1\"}\n",
         mb, (size_t)pinfo.records, (double)zinfo.uncompressed_bytes / (double)zinfo.file_bytes, mb / t_write,
         mb / t_cli_c, t_cli_c / t_write, mb / t_read_lines, mb / t_read_json, mb / t_cli_d,
         t_cli_d / t_read_lines, ZSTD_VERSION_STRING);
  free(text);
  int rc = test_report();
  tu_rmrf(dir);
  free(plain); free(z); free(cz); free(back); free(dir);
  return rc;
}
