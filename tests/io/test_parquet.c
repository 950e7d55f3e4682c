/* Tests for io/parquet: files written here are read back by an independent
 * reader (hyparquet, node, pinned in tests/io/node) and must give the same rows:
 * nested list<struct> chat messages, empty lists, optional fields, int64 beyond
 * 2^53, doubles, booleans, unicode, several row groups, uncompressed and zstd
 * pages. Plus the writer's own errors. Not a reader test. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/rng.h"
#include "harness.h"
#include "io/parquet.h"

static char node_dir[4096], work[4096];

static const skl_parquet_node msg[] = {{"role", SKL_PARQUET_STRING, false, NULL, 0},
                                       {"content", SKL_PARQUET_STRING, false, NULL, 0}};
static const skl_parquet_node elem[] = {{"element", SKL_PARQUET_STRUCT, false, msg, 2}};
static const skl_parquet_node tags_elem[] = {{"element", SKL_PARQUET_STRING, true, NULL, 0}};
static const skl_parquet_node rm[] = {{"style", SKL_PARQUET_STRING, false, NULL, 0},
                                      {"ground_truth", SKL_PARQUET_STRING, false, NULL, 0}};
static const skl_parquet_node info[] = {{"n_tokens", SKL_PARQUET_INT64, false, NULL, 0},
                                        {"seed", SKL_PARQUET_INT64, false, NULL, 0},
                                        {"score", SKL_PARQUET_DOUBLE, true, NULL, 0},
                                        {"ok", SKL_PARQUET_BOOL, false, NULL, 0},
                                        {"tags", SKL_PARQUET_LIST, true, tags_elem, 1}};
static const skl_parquet_node cols[] = {{"data_source", SKL_PARQUET_STRING, false, NULL, 0},
                                        {"prompt", SKL_PARQUET_LIST, false, elem, 1},
                                        {"reward_model", SKL_PARQUET_STRUCT, false, rm, 2},
                                        {"extra_info", SKL_PARQUET_STRUCT, false, info, 5},
                                        {"note", SKL_PARQUET_STRING, true, NULL, 0}};
#define NCOLS 5

static const char *const words[] = {"Answer:", "caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87", "\n", "\"quoted\"", "x",
                                    "", "\xf0\x9f\x98\x80", "tab\there", "Document 3"};

/* Row i: varied shapes, deterministic. */
static json_t *make_row(skl_rng *r, int i) {
  json_t *prompt = json_array();
  int nm = i % 7 == 3 ? 0 : 1 + (int)skl_rng_below(r, 3); /* some empty lists */
  for (int k = 0; k < nm; k++) {
    char buf[2048] = "";
    size_t len = skl_rng_below(r, 40) + (i % 50 == 0 ? 600 : 0);
    for (size_t j = 0; j < len; j++) strncat(buf, words[skl_rng_below(r, 10)], sizeof buf - strlen(buf) - 1);
    json_array_append_new(prompt, json_pack("{s:s, s:s}", "role", k ? "user" : "system", "content", buf));
  }
  json_t *tags = NULL;
  if (i % 5) {
    tags = json_array();
    for (int k = 0; k < i % 4; k++) json_array_append_new(tags, k == 1 ? json_null() : json_string(words[k + 1]));
  }
  json_t *ei = json_pack("{s:I, s:I, s:o, s:b, s:o}", "n_tokens", (json_int_t)(i * 37), "seed",
                         (json_int_t)(i % 2 ? 3254909851691463138LL - i : -(json_int_t)i * 1000003), "score",
                         i % 3 ? json_real(i / 8.0 + 0.1) : json_null(), "ok", i % 2, "tags", tags ? tags : json_null());
  json_t *row = json_pack("{s:s, s:o, s:{s:s, s:s}, s:o}", "data_source", i % 2 ? "skillrl/niah" : "skillrl/logic",
                          "prompt", prompt, "reward_model", "style", "rule", "ground_truth", i % 2 ? "42" : "C",
                          "extra_info", ei);
  if (i % 4 == 1) json_object_set_new(row, "note", json_string("n\xc3\xb6te"));
  json_object_set_new(row, "ignored", json_string("extra keys are not columns"));
  return row;
}

/* Write n rows, read them back with hyparquet, compare. */
static void roundtrip(const char *name, int n, skl_parquet_codec codec, uint64_t group_bytes, int want_groups) {
  char path[4200], out[4300], cmd[13000];
  snprintf(path, sizeof path, "%s/%s.parquet", work, name);
  snprintf(out, sizeof out, "%s/%s.jsonl", work, name);
  skl_parquet_opts o = skl_parquet_opts_default();
  o.codec = codec;
  if (group_bytes) o.row_group_bytes = group_bytes;
  skl_parquet_writer *w;
  skl_error err = {0};
  CHECK_MSG(skl_parquet_writer_open(&w, path, cols, NCOLS, &o, &err) == SKL_OK, "%s", err.msg);
  skl_rng r;
  skl_rng_seed(&r, 17);
  json_t **rows = calloc((size_t)n + 1, sizeof *rows);
  for (int i = 0; i < n; i++) {
    rows[i] = make_row(&r, i);
    CHECK_MSG(skl_parquet_write_row(w, rows[i], &err) == SKL_OK, "%s row %d: %s", name, i, err.msg);
  }
  CHECK(skl_parquet_rows(w) == (uint64_t)n);
  CHECK_MSG(skl_parquet_writer_close(w, &err) == SKL_OK, "%s", err.msg);
  snprintf(cmd, sizeof cmd, "node '%s/read.mjs' '%s' > '%s'", node_dir, path, out);
  int rc = system(cmd);
  CHECK_MSG(rc == 0, "%s: hyparquet could not read the file (%s)", name, cmd);
  FILE *f = fopen(out, "r");
  CHECK(f != NULL);
  if (!f) goto done;
  char *line = NULL;
  size_t cap = 0;
  int k = -1, bad = 0;
  while (getline(&line, &cap, f) > 0) {
    json_error_t je;
    json_t *got = json_loads(line, 0, &je);
    CHECK_MSG(got != NULL, "%s: reader output line %d is not JSON: %s", name, k + 2, je.text);
    if (!got) break;
    if (k < 0) { /* metadata */
      CHECK(json_integer_value(json_object_get(got, "num_rows")) == n);
      CHECK_MSG(json_integer_value(json_object_get(got, "row_groups")) == want_groups || want_groups < 0,
                "%s: %lld row groups, want %d", name, json_integer_value(json_object_get(got, "row_groups")), want_groups);
      json_t *codecs = json_object_get(got, "codecs");
      if (n) CHECK_STR(json_string_value(json_array_get(codecs, 0)), codec == SKL_PARQUET_ZSTD ? "ZSTD" : "UNCOMPRESSED");
      char *s = json_dumps(json_object_get(got, "schema"), JSON_COMPACT);
      CHECK_CONTAINS(s, "{\"name\":\"prompt\",\"repetition_type\":\"REQUIRED\",\"converted_type\":\"LIST\",\"logical_type\":\"LIST\",\"num_children\":1}");
      CHECK_CONTAINS(s, "{\"name\":\"list\",\"repetition_type\":\"REPEATED\",\"num_children\":1}");
      CHECK_CONTAINS(s, "{\"name\":\"role\",\"type\":\"BYTE_ARRAY\",\"repetition_type\":\"REQUIRED\",\"converted_type\":\"UTF8\",\"logical_type\":\"STRING\"}");
      CHECK_CONTAINS(s, "{\"name\":\"seed\",\"type\":\"INT64\",\"repetition_type\":\"REQUIRED\"}");
      free(s);
    } else if (k < n) {
      /* what the reader should give: the row without the ignored key, nulls for absent optionals */
      json_t *want = json_deep_copy(rows[k]);
      json_object_del(want, "ignored");
      if (!json_object_get(want, "note")) json_object_set_new(want, "note", json_null());
      if (!json_equal(got, want) && bad++ < 3) {
        char *a = json_dumps(got, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
        CHECK_MSG(0, "%s row %d differs:\n got  %.600s\n want %.600s", name, k, a, b);
        free(a); free(b);
      }
      json_decref(want);
    }
    json_decref(got);
    k++;
  }
  CHECK_MSG(k == n, "%s: reader gave %d rows, want %d", name, k, n);
  CHECK_MSG(bad == 0, "%s: %d rows differ", name, bad);
  free(line);
  fclose(f);
done:
  for (int i = 0; i < n; i++) json_decref(rows[i]);
  free(rows);
  printf("%s: %d rows checked by hyparquet\n", name, n);
}

static void test_errors(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/bad.parquet", work);
  skl_parquet_writer *w;
  skl_error err = {0};
  skl_parquet_opts o = skl_parquet_opts_default();
  o.zstd_level = 99;
  CHECK(skl_parquet_writer_open(&w, path, cols, NCOLS, &o, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "zstd level 99");
  static const skl_parquet_node empty_struct[] = {{"s", SKL_PARQUET_STRUCT, false, NULL, 0}};
  CHECK(skl_parquet_writer_open(&w, path, empty_struct, 1, NULL, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "struct 's' needs at least one field");
  CHECK(!skl_fs_exists(path));

  CHECK(skl_parquet_writer_open(&w, path, cols, NCOLS, NULL, &err) == SKL_OK);
  skl_rng r;
  skl_rng_seed(&r, 1);
  json_t *row = make_row(&r, 1);
  json_object_set_new(json_array_get(json_object_get(row, "prompt"), 0), "role", json_integer(3));
  CHECK(skl_parquet_write_row(w, row, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "prompt[0].role: expected a string, got integer");
  json_decref(row);
  row = make_row(&r, 2);
  json_object_del(json_object_get(row, "reward_model"), "ground_truth");
  CHECK(skl_parquet_write_row(w, row, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "reward_model.ground_truth: required field missing or null");
  json_decref(row);
  CHECK(skl_parquet_write_row(w, NULL, &err) == SKL_ERR_INVALID);
  CHECK(skl_parquet_rows(w) == 0);
  /* the rejected rows left nothing behind: one good row reads back alone */
  row = make_row(&r, 3);
  CHECK(skl_parquet_write_row(w, row, &err) == SKL_OK);
  json_decref(row);
  CHECK(!skl_fs_exists(path)); /* nothing under the final name before close */
  skl_parquet_writer_abort(w);
  CHECK(!skl_fs_exists(path));
}

int main(void) {
  const char *src = getenv("SKL_SOURCE_ROOT");
  if (!src) src = ".";
  snprintf(node_dir, sizeof node_dir, "%s/tests/io/node", src);
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "sh '%s/install.sh'", node_dir);
  int rc = system(cmd);
  CHECK_MSG(rc == 0, "cannot install the reference Parquet reader with npm (see the message above); this test "
                     "needs registry access once, then works offline from tests/io/node/node_modules");
  if (rc) return test_report();
  snprintf(work, sizeof work, "/tmp/skl-parquet-XXXXXX");
  CHECK(mkdtemp(work) != NULL);
  roundtrip("plain", 300, SKL_PARQUET_UNCOMPRESSED, 0, 1);
  roundtrip("zstd", 300, SKL_PARQUET_ZSTD, 0, 1);
  roundtrip("groups", 300, SKL_PARQUET_ZSTD, 20000, -1); /* many small row groups */
  roundtrip("empty", 0, SKL_PARQUET_ZSTD, 0, 0);
  test_errors();
  if (getenv("SKL_KEEP")) return test_report();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", work);
  return test_report();
}
