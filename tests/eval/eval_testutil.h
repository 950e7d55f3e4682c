/* eval test helpers: a tiny model folder whose greedy output is known (the
 * final norm is zero, so every logit is 0 and argmax picks id 0, which the
 * byte-level tokenizer maps to an added token such as "Answer: 77"), and
 * small file writers.
 * Not a fixture library: each test writes its own data. */
#ifndef EVAL_TESTUTIL_H
#define EVAL_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/rng.h"
#include "model/checkpoint.h"

static void tu_put_cp(skl_buf *b, unsigned c) {
  if (c == '"' || c == '\\') { skl_buf_printf(b, "\\%c", (char)c); return; }
  if (c < 0x80) { char ch = (char)c; skl_buf_append(b, &ch, 1); return; }
  char u[2] = {(char)(0xC0 | (c >> 6)), (char)(0x80 | (c & 0x3F))};
  skl_buf_append(b, u, 2);
}

/* GPT-2 byte-level BPE without merges: id 0 is the added (non-special)
 * token `first`, byte c has id c + 1, then <|im_start|> 257, <|im_end|> 258,
 * <|endoftext|> 259. */
static int tu_write_tokenizer(const char *path, const char *first) {
  unsigned map[256];
  int n = 0;
  for (unsigned c = 0; c < 256; c++) {
    int printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
    map[c] = printable ? c : 256 + (unsigned)n++;
  }
  skl_buf b = {0};
  skl_buf_puts(&b, "{\"version\":\"1.0\",\"added_tokens\":[");
  const char *sp[4] = {first, "<|im_start|>", "<|im_end|>", "<|endoftext|>"};
  for (int i = 0; i < 4; i++)
    skl_buf_printf(&b, "%s{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                   "\"normalized\":false,\"special\":%s}", i ? "," : "", i ? 256 + i : 0, sp[i], i ? "true" : "false");
  skl_buf_puts(&b, "],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                   "\"trim_offsets\":true,\"use_regex\":true},\"post_processor\":null,"
                   "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,"
                   "\"use_regex\":true},\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,"
                   "\"continuing_subword_prefix\":\"\",\"end_of_word_suffix\":\"\",\"fuse_unk\":false,"
                   "\"byte_fallback\":false,\"vocab\":{");
  for (unsigned c = 0; c < 256; c++) {
    skl_buf_puts(&b, c ? ",\"" : "\"");
    tu_put_cp(&b, map[c]);
    skl_buf_printf(&b, "\":%u", c + 1);
  }
  skl_buf_puts(&b, "},\"merges\":[]}}");
  int ok = skl_fs_write_atomic(path, b.data, b.len, NULL) == SKL_OK;
  skl_buf_free(&b);
  return ok;
}

/* A model folder (tokenizer whose id 0 is the text `first`) with a window of
 * max_position tokens. zero_norm: every logit is 0, so greedy decoding
 * emits id 0, i.e. `first`, forever. */
static int tu_make_model(const char *dir, const char *first, int max_position, int zero_norm) {
  skl_model_config c;
  skl_hf_config_default(&c, SKL_ARCH_QWEN2);
  c.vocab_size = 260;
  c.hidden_size = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = 8;
  c.intermediate_size = 64;
  c.max_position = max_position;
  c.n_eos = 1;
  c.eos_token_ids[0] = 259;
  c.tie_embeddings = true;
  skl_error err = {0};
  skl_model m;
  if (skl_model_init(&m, &c, &err)) { fprintf(stderr, "%s\n", err.msg); return 0; }
  skl_rng r;
  skl_rng_seed(&r, 3);
  skl_model_init_weights(&m, &r, 0.3f);
  if (zero_norm) memset(m.p.final_norm, 0, (size_t)c.hidden_size * sizeof(float));
  char tok[1024];
  snprintf(tok, sizeof tok, "%s.tokenizer.json", dir);
  int ok = tu_write_tokenizer(tok, first) && skl_ckpt_save_model(&m, dir, SKL_DTYPE_F32, tok, &err) == SKL_OK;
  if (!ok) fprintf(stderr, "make model: %s\n", err.msg);
  skl_model_free(&m);
  return ok;
}

static int tu_write(const char *path, const char *text) {
  return skl_fs_write_atomic(path, text, strlen(text), NULL) == SKL_OK;
}

static char *tu_read(const char *path) {
  char *d = NULL;
  size_t n = 0;
  if (skl_fs_read_all(path, &d, &n, NULL)) return NULL;
  return d;
}

#endif
