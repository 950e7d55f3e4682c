/* Tests of the BPE trainer: determinism, the written file loads here and in
 * the JS reference with identical ids, JSONL input, limits and errors.
 * Not the encoder's tests (test_tok.c, test_tok_ref.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.h"
#include "tests/harness.h"
#include "tests/tok/corpus.h"
#include "tok/tok_internal.h"
#include "tok/tokenizer.h"
#include "tok/train.h"

static char dir[] = "/tmp/skl-tok-train-XXXXXX";

static void write_file(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL);
  char txt[256], jl[256], out1[256], out2[256], cmd[4096];
  snprintf(txt, sizeof txt, "%s/corpus.txt", dir);
  snprintf(jl, sizeof jl, "%s/data.jsonl", dir);
  snprintf(out1, sizeof out1, "%s/a.json", dir);
  snprintf(out2, sizeof out2, "%s/b.json", dir);
  /* corpus: generated strings (valid and invalid UTF-8) */
  skl_rng r;
  skl_rng_seed(&r, 99);
  skl_buf all = {0}, s = {0};
  skl_buf strings[600];
  for (int i = 0; i < 3000; i++) {
    corpus_string(&r, &s, true);
    skl_buf_append(&all, s.data, s.len);
    if (i < 600) { strings[i] = (skl_buf){0}; skl_buf_append(&strings[i], s.data, s.len); }
  }
  write_file(txt, all.data, all.len);
  FILE *f = fopen(jl, "w");
  fprintf(f, "{\"id\":\"a\",\"prompt\":[{\"role\":\"user\",\"content\":\"Find the value of anchor B-292 in Doc 3.\"}],\"answer\":\"42.00\"}\n");
  fprintf(f, "{\"id\":\"b\",\"prompt\":[{\"role\":\"user\",\"content\":\"Which anchor appears only once?\"}],\"answer\":\"LTUCRHGAXK\"}\n");
  fclose(f);

  const char *sp[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  skl_tok_train_opts o = {.vocab_size = 1024, .min_frequency = 2, .specials = sp, .n_specials = 3, .nfc = true};
  const char *paths[] = {txt, jl};
  skl_tok_train_stats st1, st2;
  skl_error err;
  skl_status st = skl_tok_train_files(paths, 2, &o, out1, &st1, &err);
  CHECK_MSG(st == SKL_OK, "%s", err.msg);
  CHECK(skl_tok_train_files(paths, 2, &o, out2, &st2, &err) == SKL_OK);
  printf("train: vocab %zu, %zu merges, %zu words, %.2f MB in %.2f s\n", st1.vocab_size, st1.merges, st1.words,
         st1.bytes / 1e6, st1.seconds);
  CHECK(st1.vocab_size == 1024 && st1.merges == 1024 - 256 - 3);
  char *a, *b;
  size_t la, lb;
  CHECK(skl_fs_read_all(out1, &a, &la, &err) == SKL_OK && skl_fs_read_all(out2, &b, &lb, &err) == SKL_OK);
  CHECK_MSG(la == lb && !memcmp(a, b, la), "two runs on the same input must write identical files");
  free(a);
  free(b);

  /* the file loads here; special ids follow the merges; round trip */
  skl_tokenizer *tok;
  st = skl_tokenizer_load(out1, &tok, &err);
  CHECK_MSG(st == SKL_OK, "%s", err.msg);
  if (!st) {
    CHECK(skl_tokenizer_vocab_size(tok) == 1024);
    CHECK(skl_tokenizer_token_id(tok, "<|im_end|>") == 1023 && skl_tokenizer_is_special(tok, 1023));
    size_t bad = 0, ntok = 0;
    skl_tokens ids = {0};
    skl_buf dec = {0};
    for (int i = 0; i < 600; i++) {
      skl_tokens_clear(&ids);
      skl_buf_clear(&dec);
      skl_buf clean = {0};
      skl_status s2;
      bool valid = tok_utf8_sanitize(strings[i].data, strings[i].len, &clean, &s2);
      skl_buf_free(&clean);
      if (skl_tokenizer_encode(tok, strings[i].data, strings[i].len, &ids, &err) ||
          skl_tokenizer_decode_ex(tok, ids.data, ids.len, SKL_TOK_DECODE_REPLACE, &dec, &err))
        bad++;
      ntok += ids.len;
      /* NFC text round-trips exactly; the corpus mixes in decomposed marks, so compare after NFC */
      utf8proc_uint8_t *want = NULL;
      if (valid) {
        utf8proc_ssize_t wl = utf8proc_map((const utf8proc_uint8_t *)strings[i].data, (utf8proc_ssize_t)strings[i].len,
                                           &want, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (wl < 0 || (size_t)wl != dec.len || memcmp(want, dec.data, dec.len)) bad++;
      }
      free(want);
    }
    CHECK_MSG(bad == 0, "%zu strings fail to round-trip through the trained tokenizer", bad);
    /* compression: merges make the text shorter than its bytes */
    size_t bytes = 0;
    for (int i = 0; i < 600; i++) bytes += strings[i].len;
    CHECK(ntok * 10 < bytes * 8);
    skl_tokens_free(&ids);
    skl_buf_free(&dec);
    skl_tokenizer_free(tok);
  }

  /* the JS reference loads our file and gives the same ids */
  const char *src = getenv("SKL_SOURCE_ROOT");
  if (!src) src = ".";
  snprintf(cmd, sizeof cmd, "sh '%s/tests/tok/node/install.sh'", src);
  int rc = system(cmd);
  CHECK_MSG(rc == 0, "cannot install the reference tokenizers with npm; this test needs registry access once");
  if (rc == 0 && skl_tokenizer_load(out1, &tok, &err) == SKL_OK) {
    char cj[300], rj[300];
    snprintf(cj, sizeof cj, "%s/c.json", dir);
    snprintf(rj, sizeof rj, "%s/r.json", dir);
    json_t *arr = json_array();
    for (int i = 0; i < 600; i++) {
      skl_buf clean = {0};
      skl_status s2;
      bool ok = tok_utf8_sanitize(strings[i].data, strings[i].len, &clean, &s2);
      json_array_append_new(arr, ok ? json_stringn(strings[i].data, strings[i].len) : json_stringn(clean.data, clean.len));
      skl_buf_free(&clean);
    }
    json_dump_file(arr, cj, JSON_COMPACT);
    json_decref(arr);
    snprintf(cmd, sizeof cmd, "node '%s/tests/tok/node/ref.js' encode '%s' '%s' '%s'", src, out1, cj, rj);
    CHECK(system(cmd) == 0);
    json_t *ref = json_load_file(rj, 0, NULL);
    size_t bad = 0;
    skl_tokens ids = {0};
    for (int i = 0; i < 600 && json_is_array(ref); i++) {
      json_t *want = json_object_get(json_array_get(ref, (size_t)i), "ids");
      skl_tokens_clear(&ids);
      skl_tokenizer_encode(tok, strings[i].data, strings[i].len, &ids, &err);
      bool same = json_array_size(want) == ids.len;
      for (size_t k = 0; same && k < ids.len; k++) same = json_integer_value(json_array_get(want, k)) == ids.data[k];
      bad += !same;
    }
    CHECK(json_array_size(ref) == 600);
    CHECK_MSG(bad == 0, "the JS reference encodes %zu of 600 strings differently with our trained file", bad);
    skl_tokens_free(&ids);
    json_decref(ref);
    skl_tokenizer_free(tok);
  }

  /* limits and errors */
  skl_tok_train_opts small = o;
  small.vocab_size = 200;
  CHECK(skl_tok_train_files(paths, 1, &small, out2, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--vocab-size 200 is too small");
  skl_tok_train_opts rare = o;
  rare.min_frequency = 1000000000;
  CHECK(skl_tok_train_files(paths, 1, &rare, out2, &st2, &err) == SKL_OK && st2.merges == 0 && st2.vocab_size == 259);
  const char *missing[] = {"/nonexistent/x.txt"};
  CHECK(skl_tok_train_files(missing, 1, &o, out2, NULL, &err) != SKL_OK);
  CHECK_CONTAINS(err.msg, "/nonexistent/x.txt");
  char badjl[300];
  snprintf(badjl, sizeof badjl, "%s/bad.jsonl", dir);
  f = fopen(badjl, "w");
  fprintf(f, "{\"prompt\":[{\"role\":\"user\",\"content\":\"ok\"}],\"answer\":\"1\"}\n{\"x\":1}\n");
  fclose(f);
  const char *bp[] = {badjl};
  CHECK(skl_tok_train_files(bp, 1, &o, out2, NULL, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "bad.jsonl:2:");
  /* CLI */
  const char *bin = getenv("SKL_BIN");
  if (bin) {
    char o3[300];
    snprintf(o3, sizeof o3, "%s/c.tok.json", dir);
    snprintf(cmd, sizeof cmd, "'%s' tokenizer train --vocab-size 400 --special '<s>' --special '</s>' -o '%s' '%s' 2>/dev/null",
             bin, o3, txt);
    CHECK(system(cmd) == 0);
    if (skl_tokenizer_load(o3, &tok, &err) == SKL_OK) {
      CHECK(skl_tokenizer_token_id(tok, "</s>") == 399 && skl_tokenizer_vocab_size(tok) == 400);
      skl_tokenizer_free(tok);
    } else CHECK_MSG(0, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "'%s' tokenizer train --vocab-size 400 '%s' 2>/dev/null", bin, txt);
    rc = system(cmd);
    CHECK(WEXITSTATUS(rc) == 2);
  } else CHECK_MSG(0, "SKL_BIN not set (run under meson test)");

  for (int i = 0; i < 600; i++) skl_buf_free(&strings[i]);
  skl_buf_free(&all);
  skl_buf_free(&s);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  return test_report();
}
