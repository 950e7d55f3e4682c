/* skl tokenizer decode: ids back to text through the ByteLevel decoder
 * (added tokens give their content). Not an incremental/streaming decoder. */
#include <string.h>

#include "tok/tok_internal.h"

skl_status skl_tokenizer_decode_ex(const skl_tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
                                   skl_buf *out, skl_error *err) {
  size_t len0 = out->len, start = out->len;
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    int32_t id = ids[i];
    if (id < 0 || (size_t)id >= t->n_ids || !t->tok_str[id]) {
      out->len = len0;
      if (out->data) out->data[len0] = 0;
      return skl_error_set(err, SKL_ERR_RANGE, "decode: ids[%zu] = %d is not a token of this tokenizer (vocab size %zu)",
                           i, (int)id, t->n_ids);
    }
    if ((flags & SKL_TOK_DECODE_SKIP_SPECIAL) && (t->tok_flags[id] & 2)) continue;
    skl_status st;
    if (t->decoder_bytelevel) st = skl_buf_append(out, t->tok_bytes[id], t->tok_blen[id]);
    else { /* no decoder: the reference joins the token strings with spaces */
      st = (!first ? skl_buf_append(out, " ", 1) : SKL_OK);
      if (!st) st = skl_buf_puts(out, t->tok_str[id]);
    }
    first = false;
    if (st) return skl_error_set(err, st, "out of memory");
  }
  if (!out->data && skl_buf_append(out, "", 0)) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (flags & SKL_TOK_DECODE_REPLACE) {
    skl_buf clean = {0};
    skl_status st;
    if (!tok_utf8_sanitize(out->data + start, out->len - start, &clean, &st)) {
      if (st) { skl_buf_free(&clean); return skl_error_set(err, st, "out of memory"); }
      out->len = start;
      st = skl_buf_append(out, clean.data, clean.len);
      skl_buf_free(&clean);
      if (st) return skl_error_set(err, st, "out of memory");
    }
  }
  return SKL_OK;
}

skl_status skl_tokenizer_decode(const skl_tokenizer *t, const int32_t *ids, size_t n, skl_buf *out, skl_error *err) {
  return skl_tokenizer_decode_ex(t, ids, n, 0, out, err);
}
