/* End-to-end test of `skillrl generate` and `skillrl bench decode` on a
 * tiny random model folder (config.json, model.safetensors, byte-level
 * tokenizer.json): output matches the library's greedy decode; flag errors. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "decode/decode.h"
#include "harness.h"
#include "model/checkpoint.h"
#include "tok/tokenizer.h"

static char tmpdir[] = "/tmp/skl_test_gen_XXXXXX";
static const char *bin;

/* UTF-8 of code point c into out, JSON-escaped. */
static void put_cp(skl_buf *b, unsigned c) {
  if (c == '"' || c == '\\') { skl_buf_printf(b, "\\%c", (char)c); return; }
  if (c < 0x80) { char ch = (char)c; skl_buf_append(b, &ch, 1); return; }
  char u[2] = {(char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F))};
  skl_buf_append(b, u, 2);
}

/* GPT-2 byte-level BPE without merges: ids 0..255 are the bytes, then
 * <|im_start|> 256, <|im_end|> 257, <|endoftext|> 258. */
static void write_tokenizer(const char *path) {
  unsigned map[256];
  int n = 0;
  for (unsigned c = 0; c < 256; c++) {
    int printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
    map[c] = printable ? c : 256 + (unsigned)n++;
  }
  skl_buf b = {0};
  skl_buf_puts(&b, "{\"version\":\"1.0\",\"added_tokens\":[");
  const char *sp[3] = {"<|im_start|>", "<|im_end|>", "<|endoftext|>"};
  for (int i = 0; i < 3; i++)
    skl_buf_printf(&b, "%s{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                   "\"normalized\":false,\"special\":true}", i ? "," : "", 256 + i, sp[i]);
  skl_buf_puts(&b, "],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                   "\"trim_offsets\":true,\"use_regex\":true},\"post_processor\":null,"
                   "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,"
                   "\"use_regex\":true},\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,"
                   "\"continuing_subword_prefix\":\"\",\"end_of_word_suffix\":\"\",\"fuse_unk\":false,"
                   "\"byte_fallback\":false,\"vocab\":{");
  for (int c = 0; c < 256; c++) {
    skl_buf_puts(&b, c ? ",\"" : "\"");
    put_cp(&b, map[c]);
    skl_buf_printf(&b, "\":%d", c);
  }
  skl_buf_puts(&b, "},\"merges\":[]}}");
  skl_fs_write_atomic(path, b.data, b.len, NULL);
  skl_buf_free(&b);
}

static int make_model_dir(const char *dir, skl_model *m) {
  skl_model_config c;
  skl_hf_config_default(&c, SKL_ARCH_QWEN2);
  c.vocab_size = 259;
  c.hidden_size = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.intermediate_size = 64;
  c.max_position = 2048;
  c.n_eos = 1;
  c.eos_token_ids[0] = 258;
  c.tie_embeddings = true;
  skl_error err = {0};
  if (skl_model_init(m, &c, &err)) { fprintf(stderr, "%s\n", err.msg); return 0; }
  skl_rng r;
  skl_rng_seed(&r, 3);
  skl_model_init_weights(m, &r, 0.3f);
  char tok[600];
  snprintf(tok, sizeof tok, "%s/tok.json", tmpdir);
  write_tokenizer(tok);
  if (skl_ckpt_save_model(m, dir, SKL_DTYPE_F32, tok, &err)) { fprintf(stderr, "%s\n", err.msg); return 0; }
  return 1;
}

/* Run a shell command; stdout into out (malloc'd), returns exit code. */
static int run(const char *cmd, char **out) {
  char full[4096];
  snprintf(full, sizeof full, "%s 2>%s/stderr.txt", cmd, tmpdir);
  FILE *p = popen(full, "r");
  skl_buf b = {0};
  char chunk[4096];
  size_t k;
  while (p && (k = fread(chunk, 1, sizeof chunk, p)) > 0) skl_buf_append(&b, chunk, k);
  int st = p ? pclose(p) : -1;
  *out = b.data ? b.data : strdup("");
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *stderr_text(void) {
  char p[600], *t = NULL;
  snprintf(p, sizeof p, "%s/stderr.txt", tmpdir);
  skl_fs_read_all(p, &t, NULL, NULL);
  return t;
}

int main(void) {
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  bin = getenv("SKL_BIN");
  if (!bin) { fprintf(stderr, "SKL_BIN not set\n"); return 1; }
  char dir[600], cmd[3000], *out = NULL, *out2 = NULL, *e = NULL;
  snprintf(dir, sizeof dir, "%s/model", tmpdir);
  skl_model m;
  if (!make_model_dir(dir, &m)) { CHECK(0); return test_report(); }

  /* greedy text equals the library's greedy decode of the same ids */
  snprintf(cmd, sizeof cmd, "%s generate --model %s --prompt 'Hello, world' --max-new 12 --temperature 0", bin, dir);
  CHECK(run(cmd, &out) == 0);
  {
    skl_tokenizer *tok = NULL;
    skl_error err = {0};
    char tp[700];
    snprintf(tp, sizeof tp, "%s/tokenizer.json", dir);
    CHECK(skl_tokenizer_load(tp, &tok, &err) == SKL_OK);
    skl_tokens ids = {0};
    skl_tokenizer_encode_ex(tok, "Hello, world", 12, SKL_TOK_ADD_SPECIAL, &ids, &err);
    CHECK(ids.len == 12);
    skl_decoder *d = NULL;
    CHECK(skl_decoder_init(&d, &m, 1, 64, 0, 0, &err) == SKL_OK);
    const int32_t *pr[1] = {ids.data};
    int pl = (int)ids.len;
    int32_t stop = 258;
    skl_gen_request rq = {0};
    rq.n_prompts = 1;
    rq.prompts = pr;
    rq.prompt_lens = &pl;
    rq.group = 1;
    rq.max_new = 12;
    rq.stop = &stop;
    rq.n_stop = 1;
    rq.sample.temperature = 0;
    rq.sample.top_p = 1;
    skl_gen_output o;
    CHECK(skl_generate(d, &rq, &o, &err) == SKL_OK);
    skl_buf want = {0};
    skl_tokenizer_decode_ex(tok, o.tokens, (size_t)(o.len[0] - (o.stopped[0] ? 1 : 0)), SKL_TOK_DECODE_REPLACE, &want,
                            &err);
    skl_buf_puts(&want, "\n");
    CHECK_STR(out, want.data);
    skl_buf_free(&want);
    skl_gen_output_free(&o);
    skl_decoder_free(d);
    skl_tokens_free(&ids);
    skl_tokenizer_free(tok);
  }
  /* @FILE gives the same as the inline prompt; sampling is seeded */
  char pf[700];
  snprintf(pf, sizeof pf, "%s/prompt.txt", tmpdir);
  skl_fs_write_atomic(pf, "Hello, world", 12, NULL);
  snprintf(cmd, sizeof cmd, "%s generate --model %s --prompt @%s --max-new 12 --temperature 0", bin, dir, pf);
  CHECK(run(cmd, &out2) == 0);
  CHECK_STR(out2, out);
  free(out);
  free(out2);
  snprintf(cmd, sizeof cmd, "%s generate --model %s -p abc --max-new 20 --top-k 20 --top-p 0.9 --seed 5 -n 3", bin, dir);
  CHECK(run(cmd, &out) == 0);
  CHECK(run(cmd, &out2) == 0);
  CHECK_STR(out, out2);
  CHECK_CONTAINS(out, "--- sample 2 (");
  free(out);
  free(out2);
  snprintf(cmd, sizeof cmd, "%s generate --model %s -p hi --max-new 4 --chat --threads 1", bin, dir);
  CHECK(run(cmd, &out) == 0);
  e = stderr_text();
  CHECK_CONTAINS(e, "prompt tokens"); /* ChatML wrapping made it longer than 2 */
  CHECK(e && !strstr(e, " 2 prompt tokens"));
  free(e);
  free(out);

  /* errors */
  snprintf(cmd, sizeof cmd, "%s generate --prompt hi", bin);
  CHECK(run(cmd, &out) == 2);
  e = stderr_text();
  CHECK_CONTAINS(e, "needs --model DIR and --prompt");
  free(e);
  free(out);
  snprintf(cmd, sizeof cmd, "%s generate --model %s/nope --prompt hi", bin, tmpdir);
  CHECK(run(cmd, &out) == 1);
  e = stderr_text();
  CHECK_CONTAINS(e, "nope");
  free(e);
  free(out);
  snprintf(cmd, sizeof cmd, "%s generate --model %s --prompt hi --top-p 2", bin, dir);
  CHECK(run(cmd, &out) == 2);
  e = stderr_text();
  CHECK_CONTAINS(e, "--top-p 2 must be in (0, 1]");
  free(e);
  free(out);
  snprintf(cmd, sizeof cmd, "%s generate --model %s --prompt @%s/missing.txt", bin, dir, tmpdir);
  CHECK(run(cmd, &out) == 1);
  e = stderr_text();
  CHECK_CONTAINS(e, "missing.txt: cannot open");
  free(e);
  free(out);
  /* issue 18: an endless prompt file was read until memory ran out */
  snprintf(cmd, sizeof cmd, "%s generate --model %s --prompt @/dev/zero", bin, dir);
  CHECK(run(cmd, &out) == 1);
  e = stderr_text();
  CHECK_CONTAINS(e, "/dev/zero: larger than the limit of 67108864 bytes");
  free(e);
  free(out);
  snprintf(cmd, sizeof cmd, "%s generate --model %s --prompt hi --max-nwe 3", bin, dir);
  CHECK(run(cmd, &out) == 2);
  e = stderr_text();
  CHECK_CONTAINS(e, "max-new");
  free(e);
  free(out);

  /* bench decode: one JSON line with the fields, both model sources */
  snprintf(cmd, sizeof cmd, "%s bench decode --model %s --prompt-len 40 --gen 6 -B 3 --shared-prefix --peer --threads 1",
           bin, dir);
  CHECK(run(cmd, &out) == 0);
  CHECK_CONTAINS(out, "{\"bench\":\"decode\",\"threads\":1,\"seconds\":");
  CHECK_CONTAINS(out, "\"tokens_per_s\":");
  CHECK_CONTAINS(out, "\"batch\":3,\"prompt_len\":40,\"gen\":6,\"shared_prefix\":true,\"prefill_tokens\":40,"
                      "\"generated_tokens\":18");
  CHECK_CONTAINS(out, "\"peer\":\"separate-prefill\"");
  CHECK(strchr(out, '\n') == out + strlen(out) - 1);
  free(out);
  snprintf(cmd, sizeof cmd, "%s bench decode -m %s/config.json --prompt-len 8 --gen 3", bin, dir);
  CHECK(run(cmd, &out) == 0);
  CHECK_CONTAINS(out, "\"prefill_tokens\":8,\"generated_tokens\":3");
  free(out);
  snprintf(cmd, sizeof cmd, "%s bench decode --prompt-len 8", bin);
  CHECK(run(cmd, &out) == 2);
  e = stderr_text();
  CHECK_CONTAINS(e, "exactly one of -m CONFIG or --model DIR");
  free(e);
  free(out);

  skl_model_free(&m);
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
