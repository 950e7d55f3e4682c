/* rl pack: lays (prompt, response) sequences into fixed-length rows for a
 * training step — several samples per row (packing), document ids so they
 * do not attend to each other, RoPE positions restarting per sample, and a
 * loss mask that is 1 only on response tokens. Not a tokenizer. */
#ifndef RL_PACK_H
#define RL_PACK_H

#include <stdint.h>

#include "core/error.h"

/* One sample to place: prompt ids then response ids. */
typedef struct {
  const int32_t *prompt;
  int n_prompt;
  const int32_t *response;
  int n_response;
} rl_pack_item;

/* B rows of T tokens, in the layout skl_batch (model/model.h) reads. */
typedef struct {
  int B, T;
  int32_t *tokens;  /* [B, T] inputs */
  int32_t *targets; /* [B, T] next tokens, -1 where no loss */
  int32_t *pos;     /* [B, T] position inside its sample */
  int32_t *doc;     /* [B, T] sample slot id within the row (padding: -1) */
  float *mask;      /* [B, T] 1 on positions predicting a response token */
  int *row_of;      /* [n_items] row each item landed in (-1: did not fit) */
  int *col_of;      /* [n_items] first column of each item */
  int n_items;
} rl_packed;

skl_status rl_packed_init(rl_packed *p, int B, int T, int max_items, skl_error *err);
void rl_packed_free(rl_packed *p);

/* First-fit in the given order: each sample (prompt+response, minus the last
 * token, which is only a target) goes into the first row with room. Items
 * longer than T are cut from the left of the prompt (the response is always
 * kept whole) and counted in *n_cut. Items that do not fit in any row get
 * row_of = -1 and are counted in *n_dropped.
 * @return SKL_OK, SKL_ERR_RANGE when a response alone is longer than T. */
skl_status rl_pack(rl_packed *p, const rl_pack_item *items, int n, int *n_cut, int *n_dropped, skl_error *err);

#endif
