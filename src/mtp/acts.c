/* skl mtp activations: sizing and the one allocation of everything a heads
 * step stores or scratches. Not the step itself (step.c). */
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp.h"
#include "mtp/mtp_internal.h"

/* ---- activations -------------------------------------------------------- */

static size_t acts_slice(const skl_model_config *c, int K, int B, int T, int topn, float *base,
                         skl_mtp_acts *a) {
  size_t N = (size_t)B * T, C = c->hidden_size, NH = c->n_heads, HD = c->head_dim,
         V = c->vocab_size, Kz = (size_t)K;
  size_t off = 0;
  a->B = B;
  a->T = T;
  a->N = (int)N;
  a->K = K;
  a->topn = a->topn_cap = topn;
#define TAKE(field, n)                                    \
  do {                                                    \
    a->field = base ? (void *)(base + off) : NULL;        \
    off += (n);                                           \
    off = (off + 15) & ~(size_t)15; /* 64-byte aligned */ \
  } while (0)
  TAKE(tok, Kz * N);
  TAKE(tgt, Kz * N);
  TAKE(coef, Kz * N);
  TAKE(main_tgt, N);
  TAKE(top_idx, N * topn);
  TAKE(top_logit, N * topn);
  TAKE(s_argmax, Kz * N);
  TAKE(row_ce, Kz * N);
  TAKE(row_kl, Kz * N);
  TAKE(rope, N * HD);
  TAKE(pos, N);
  TAKE(emb, Kz * N * C);
  TAKE(en, Kz * N * C);
  TAKE(en_rstd, Kz * N);
  TAKE(hn, Kz * N * C);
  TAKE(hn_rstd, Kz * N);
  TAKE(x, Kz * N * C);
  off = skl_block_acts_slice(c, Kz * N, true, base, off, &a->blk);
  TAKE(out, Kz * N * C);
  TAKE(lnf, Kz * N * C);
  TAKE(lnf_rstd, Kz * N);
  TAKE(dout, Kz * N * C);
  off = skl_block_dacts_slice(c, N, base, off, &a->d);
  TAKE(dtmp, N * C);
  TAKE(logits, (size_t)skl_ce_chunk((int)V) * V);
  skl_attn_shape s = mtp_attn_shape(c, T);
  TAKE(scratch, skl_attn_scratch_floats(&s) + NH * (size_t)T);
#undef TAKE
  a->blk.x = a->x;
  a->blk.out = a->out;
  a->blk.rope = a->rope;
  a->d.scratch = a->scratch;
  return off;
}

skl_status skl_mtp_acts_init(skl_mtp_acts *a, const skl_model_config *cfg, int K, int B, int T,
                             int topn, skl_error *err) {
  memset(a, 0, sizeof *a);
  if (B <= 0 || T <= 0 || K < 1 || K > SKL_MTP_MAX_HEADS || topn < 1 || topn > SKL_MTP_MAX_TOPN)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "mtp activations: B=%d T=%d K=%d topn=%d outside the supported range", B, T,
                         K, topn);
  skl_mtp_acts tmp;
  size_t n = acts_slice(cfg, K, B, T, topn, NULL, &tmp);
  float *mem = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
  if (!mem)
    return skl_error_set(err, SKL_ERR_NOMEM, "mtp activations: cannot allocate %.1f MiB for K=%d B=%d T=%d",
                         n * 4.0 / (1 << 20), K, B, T);
  acts_slice(cfg, K, B, T, topn, mem, a);
  a->mem = mem;
  a->n_floats = n;
  return SKL_OK;
}

void skl_mtp_acts_free(skl_mtp_acts *a) {
  if (!a) return;
  free(a->mem);
  memset(a, 0, sizeof *a);
}

