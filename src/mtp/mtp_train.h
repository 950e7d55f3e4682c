/* skl mtp train: the training driver for MTP heads on a frozen main model
 * (windows of token sequences, AdamW on the trainable heads, held-out
 * acceptance). Not data loading or tokenizing (the CLI does that). */
#ifndef SKL_MTP_TRAIN_H
#define SKL_MTP_TRAIN_H

#include <stdint.h>

#include "mtp/mtp.h"

/* Fixed-length windows cut from token sequences: n rows of T ids, row r
 * valid for len[r] tokens (zero-padded after). */
typedef struct {
  int n, T;
  int32_t *tokens; /* [n, T] */
  int32_t *len;    /* [n] */
} skl_mtp_windows;

/* Cut each sequence seqs[s][0..lens[s]) into consecutive windows of T
 * tokens (the last one shorter); windows shorter than min_len are dropped
 * (a window needs K + 2 tokens to give head K one target). APPENDS to w
 * (zero it first).
 * @return SKL_OK, SKL_ERR_RANGE (T < 2), SKL_ERR_NOMEM */
skl_status skl_mtp_windows_add(skl_mtp_windows *w, const int32_t *seq, int len, int T, int min_len,
                               skl_error *err);
void skl_mtp_windows_free(skl_mtp_windows *w); /* zeroed ok */
/* Move the last `count` windows of a (after a seeded shuffle of a) into
 * held (zeroed first): a deterministic train / held-out split. */
skl_status skl_mtp_windows_split(skl_mtp_windows *a, skl_mtp_windows *held, int count, uint64_t seed,
                                 skl_error *err);

typedef struct {
  int steps;                /* optimizer steps; default 200 */
  int B, T;                 /* batch rows x window length; default 8 x 128 */
  double lr;                /* AdamW peak lr; default 1e-3 (heads start fresh) */
  double weight_decay;      /* default 0.0 */
  double grad_clip;         /* global norm; default 1.0 */
  int warmup;               /* linear warmup steps; default 10; cosine to 10% after */
  uint64_t seed;            /* batch order; default 0 */
  skl_mtp_loss_config loss;
} skl_mtp_train_config;

void skl_mtp_train_defaults(skl_mtp_train_config *c);

/* Called after every step (may be NULL); returning non-zero stops training. */
typedef int (*skl_mtp_step_fn)(void *ctx, int step, double lr, double grad_norm,
                               const skl_mtp_stats *st);

/* Train heads n_frozen+1..K of h on the windows (main model m frozen):
 * steps of B windows in a seeded per-epoch order, AdamW (torch semantics,
 * decay on 2-D weights only), clipping by global norm. Deterministic for a
 * given config and data.
 * @return SKL_OK, SKL_ERR_RANGE (no windows, bad config field named),
 *         SKL_ERR_NUMERIC (non-finite loss: names the step), model errors. */
skl_status skl_mtp_train(skl_mtp_heads *h, skl_model *m, const skl_mtp_windows *w,
                         const skl_mtp_train_config *c, skl_mtp_step_fn cb, void *ctx,
                         skl_error *err);

/* Forward-only over all windows (batches of B): per-head totals in *out
 * (n, agree, correct; ce/kl as means over all positions). The acceptance
 * proxy of head k is out->agree[k-1] / out->n[k-1]. */
skl_status skl_mtp_evaluate(skl_mtp_heads *h, skl_model *m, const skl_mtp_windows *w, int B,
                            const skl_mtp_loss_config *lc, skl_mtp_stats *out, skl_error *err);

#endif
