/* Tests for synth/genre and synth/corpus_read: determinism, variety of the
 * eight built-in genres, anchor-like tokens in background, user corpora and
 * their error paths. Not a rendering test (test_render.c). */
#include <regex.h>
#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#include "core/fs.h"
#include "harness.h"
#include "synth/genre.h"

static char tmpdir[256];

static void text_of(const synth_genres *g, int genre, uint64_t seed, size_t bytes, skl_buf *b) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  skl_buf_clear(b);
  skl_error e;
  while (b->len < bytes) CHECK_MSG(synth_genre_unit(g, genre, 0, &r, b, &e) == SKL_OK, "%s", e.msg);
}

static void test_builtin(void) {
  synth_genres *g;
  skl_error e;
  CHECK(synth_genres_init(&g, &e) == SKL_OK);
  CHECK(synth_genre_count(g) >= 8);
  CHECK(synth_genre_builtin_count() == synth_genre_count(g));
  const char *want[] = {"financial_report", "technical_log", "medical_qa", "biography", "game_manual",
                        "encyclopedic", "ecommerce_listing", "meeting_minutes"};
  for (int i = 0; i < 8; i++) CHECK_MSG(synth_genre_find(g, want[i]) >= 0, "genre %s missing", want[i]);
  CHECK(synth_genre_find(g, "poetry") == -1);
  skl_buf a = {0}, b = {0};
  regex_t idlike;
  CHECK(regcomp(&idlike, "[A-Z]{2,}[-0-9]|[0-9]{4,}|#[0-9]", REG_EXTENDED) == 0);
  for (int i = 0; i < synth_genre_count(g); i++) {
    /* determinism: same seed, same bytes; another seed, other text */
    text_of(g, i, 42, 20000, &a);
    text_of(g, i, 42, 20000, &b);
    CHECK_MSG(a.len == b.len && !memcmp(a.data, b.data, a.len), "genre %s not deterministic", synth_genre_name(g, i));
    text_of(g, i, 43, 20000, &b);
    CHECK(memcmp(a.data, b.data, 200) != 0);
    /* variety: about 100k tokens (400 KB); 8 consecutive words rarely repeat */
    text_of(g, i, 7, 400000, &a);
    double r = synth_text_distinct_ngram_ratio(a.data, a.len, 8);
    printf("genre %-18s distinct 8-gram ratio %.3f over %zu bytes\n", synth_genre_name(g, i), r, a.len);
    CHECK_MSG(r >= 0.85, "genre %s: distinct 8-gram ratio %.3f < 0.85", synth_genre_name(g, i), r);
    /* units end at a boundary: a sentence end or a line end */
    skl_rng rr;
    skl_rng_seed(&rr, 9);
    for (int k = 0; k < 200; k++) {
      skl_buf_clear(&b);
      synth_genre_unit(g, i, 0, &rr, &b, &e);
      char last = b.data[b.len - 1];
      CHECK_MSG(last == ' ' || last == '\n', "genre %s unit '%s' does not end with a separator", synth_genre_name(g, i),
                b.data);
    }
    /* anchor-shaped tokens (codes, long numbers) are common in background, so an
       anchor's shape alone does not give it away: at least 1 per 2000 bytes */
    int hits = 0;
    const char *p = a.data;
    regmatch_t m;
    a.data[100000] = 0; /* the first 100 KB are enough */
    while (!regexec(&idlike, p, 1, &m, 0) && hits < 100000) { hits++; p += m.rm_eo; }
    CHECK_MSG(hits * 2000 >= 100000, "genre %s: only %d id-like tokens in 100 KB", synth_genre_name(g, i), hits);
  }
  regfree(&idlike);
  /* the ratio itself */
  CHECK_NEAR(synth_text_distinct_ngram_ratio("a b c d e f g h", 15, 8), 1.0, 1e-12);
  CHECK_NEAR(synth_text_distinct_ngram_ratio("a a a a a a a a a a a a a a a a a", 33, 8), 0.1, 1e-12); /* 1 of 10 */
  skl_buf_free(&a);
  skl_buf_free(&b);
  synth_genres_free(g);
}

static void write_file(const char *name, const void *data, size_t n, char *path) {
  snprintf(path, 512, "%s/%s", tmpdir, name);
  skl_error e;
  CHECK(skl_fs_write_atomic(path, data, n, &e) == SKL_OK);
}

static void test_corpus(void) {
  synth_genres *g;
  skl_error e;
  synth_genres_init(&g, &e);
  /* a text corpus of 60 paragraphs, a JSONL one, and the JSONL zstd-compressed */
  skl_buf t = {0}, j = {0};
  for (int i = 0; i < 60; i++) {
    skl_buf_printf(&t, "Paragraph %d tells of the harbour in year %d. The ships came back at dusk.\n\n", i, 1900 + i);
    skl_buf_printf(&j, "{\"text\": \"Record %d: the river rose by %d cm. Nobody was hurt.\", \"id\": %d}\n", i, i * 3, i);
  }
  char p_txt[512], p_jsonl[512], p_zst[512], p_bad[512];
  write_file("c.txt", t.data, t.len, p_txt);
  write_file("c.jsonl", j.data, j.len, p_jsonl);
  size_t bound = ZSTD_compressBound(j.len);
  char *z = malloc(bound);
  size_t zn = ZSTD_compress(z, bound, j.data, j.len, 3);
  write_file("c.jsonl.zst", z, zn, p_zst);
  free(z);
  const char *paths[] = {p_txt, p_jsonl, p_zst};
  CHECK_MSG(synth_genres_add_corpus(g, "mine", paths, 3, &e) == SKL_OK, "%s", e.msg);
  int cg = synth_genre_find(g, "corpus:mine");
  CHECK(cg == synth_genre_builtin_count());
  /* train and test parts never share a passage */
  skl_rng r;
  skl_rng_seed(&r, 1);
  skl_buf u = {0};
  char *seen_train[400];
  int ntrain = 0, shared = 0, from_jsonl = 0;
  for (int k = 0; k < 400; k++) {
    skl_buf_clear(&u);
    CHECK(synth_genre_unit(g, cg, 0, &r, &u, &e) == SKL_OK);
    from_jsonl += strstr(u.data, "Record ") != NULL;
    seen_train[ntrain++] = strdup(u.data);
  }
  CHECK(from_jsonl > 0);
  for (int k = 0; k < 400; k++) {
    skl_buf_clear(&u);
    CHECK(synth_genre_unit(g, cg, 1, &r, &u, &e) == SKL_OK);
    for (int i = 0; i < ntrain; i++) shared += !strcmp(seen_train[i], u.data);
  }
  CHECK_MSG(shared == 0, "%d test passages also drawn for train", shared);
  for (int i = 0; i < ntrain; i++) free(seen_train[i]);
  skl_buf_free(&u);

  /* error paths, each naming the file */
  char missing[512];
  snprintf(missing, sizeof missing, "%s/nope.txt", tmpdir);
  const char *pm[] = {missing};
  CHECK(synth_genres_add_corpus(g, "x", pm, 1, &e) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(e.msg, "nope.txt does not exist");
  write_file("empty.txt", " \n\n  ", 5, p_bad);
  const char *pe[] = {p_bad};
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "empty.txt is empty");
  write_file("bin.txt", "hello\nwor\0ld", 12, p_bad);
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "bin.txt looks binary (a NUL byte at byte 9, line 2)");
  write_file("latin1.txt", "caf\xe9 au lait", 12, p_bad);
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "invalid UTF-8 at byte 3");
  { const char *x = "{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n"; write_file("bad.jsonl", x, strlen(x), p_bad); }
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "bad.jsonl:2: expected an object with a string field \"text\"");
  { const char *x = "{\"text\": \"ok\"}\n{\"text\": \n"; write_file("broken.jsonl", x, strlen(x), p_bad); }
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_PARSE);
  CHECK_CONTAINS(e.msg, "broken.jsonl:2:");
  write_file("junk.txt.zst", "not zstd at all", 15, p_bad);
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_PARSE);
  CHECK_CONTAINS(e.msg, "junk.txt.zst: not a valid zstd stream");
  write_file("tiny.txt", "One short paragraph only.", 25, p_bad);
  CHECK(synth_genres_add_corpus(g, "x", pe, 1, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "has only 1 passage(s)");
  CHECK(synth_genre_count(g) == synth_genre_builtin_count() + 1); /* failed adds left no genre behind */
  skl_buf_free(&t);
  skl_buf_free(&j);
  synth_genres_free(g);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/skl_test_genre_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  test_builtin();
  test_corpus();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
