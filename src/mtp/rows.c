/* skl mtp rows: one head's forward over a few new rows whose attention the
 * caller runs over its own KV cache (speculative drafting), through the
 * block's attention callback. Not the cache or the drafting loop
 * (src/decode/spec.c), and no backward. */
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp.h"
#include "mtp/mtp_internal.h"

/* Slice r's buffers for cfg (base NULL: sizing only); @return floats. */
static size_t rows_slice(const skl_model_config *c, int R, float *base, skl_mtp_rows *r) {
  size_t n = (size_t)R, C = c->hidden_size, HD = c->head_dim;
  size_t off = 0;
#define TAKE(field, cnt)                   \
  do {                                     \
    r->field = base ? base + off : NULL;   \
    off += (cnt);                          \
    off = (off + 15) & ~(size_t)15;        \
  } while (0)
  TAKE(emb, n * C);
  TAKE(en, n * C);
  TAKE(hn, n * C);
  TAKE(x, n * C);
  off = skl_block_acts_slice(c, n, false, base, off, &r->blk);
  TAKE(rope, n * HD);
#undef TAKE
  r->blk.x = r->x;
  r->blk.out = NULL;
  r->blk.rope = r->rope;
  return off;
}

skl_status skl_mtp_rows_init(skl_mtp_rows *r, const skl_model_config *cfg, int R, skl_error *err) {
  memset(r, 0, sizeof *r);
  if (R < 1) return skl_error_set(err, SKL_ERR_RANGE, "mtp rows: capacity %d must be >= 1", R);
  skl_mtp_rows tmp;
  size_t n = rows_slice(cfg, R, NULL, &tmp);
  float *mem = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
  if (!mem)
    return skl_error_set(err, SKL_ERR_NOMEM, "mtp rows: cannot allocate %.1f MiB for %d rows",
                         n * 4.0 / (1 << 20), R);
  rows_slice(cfg, R, mem, r);
  r->mem = mem;
  r->R = R;
  return SKL_OK;
}

void skl_mtp_rows_free(skl_mtp_rows *r) {
  if (!r) return;
  free(r->mem);
  memset(r, 0, sizeof *r);
}

void skl_mtp_rows_forward(const skl_mtp_heads *h, int k, const float *embed, int n,
                          const int32_t *tok, const float *hprev, const int32_t *pos,
                          skl_mtp_rows *r, float *out, const skl_block_attn *attn) {
  const skl_model_config *c = &h->cfg;
  const skl_mtp_params *p = &h->p[k - 1];
  mtp_input_forward(c, p, embed, tok, hprev, r->emb, r->en, NULL, r->hn, NULL, r->x, n);
  skl_rope_table(r->rope, pos, n, h->inv_freq, h->rope_attn_factor, c->head_dim);
  skl_block_weights w = mtp_block_weights(p);
  skl_block_acts s = r->blk;
  s.out = out;
  skl_block_forward(c, &w, &s, n, attn, &skl_block_ops_sgemm);
}
