/* synth tokcount (HF tokenizer): counts with skl_tokenizer_count from src/tok.
 * Not a tokenizer: load, count, free, and hash the file for the manifest. */
#include "synth/tokcount.h"

#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/sha256.h"
#include "tok/tokenizer.h"

static skl_status count_hf(const void *ctx, const char *text, size_t len, size_t *n, skl_error *err) {
  return skl_tokenizer_count((const skl_tokenizer *)ctx, text, len, n, err);
}

skl_status synth_counter_open(const char *path, synth_counter *out, char hash_hex[65], skl_error *err) {
  *out = synth_counter_approx();
  hash_hex[0] = 0;
  if (!path) return SKL_OK;
  char *data;
  size_t n;
  skl_status s = skl_fs_read_all(path, &data, &n, err);
  if (s) return skl_error_prefix(err, "tokenizer");
  skl_sha256_buf_hex(data, n, hash_hex);
  skl_tokenizer *tok;
  s = skl_tokenizer_load_buf(data, n, path, &tok, err);
  free(data);
  if (s) return s;
  out->count = count_hf;
  out->ctx = tok;
  out->name = path;
  return SKL_OK;
}

void synth_counter_close(synth_counter *c) {
  if (c && c->count == count_hf) skl_tokenizer_free((skl_tokenizer *)c->ctx);
  if (c) *c = synth_counter_approx();
}
