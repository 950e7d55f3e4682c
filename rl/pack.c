/* rl pack: first-fit packing with per-sample positions and masks.
 * Not sorting: callers choose the order (deterministic). */
#include "rl/pack.h"

#include <stdlib.h>
#include <string.h>

skl_status rl_packed_init(rl_packed *p, int B, int T, int max_items, skl_error *err) {
  memset(p, 0, sizeof *p);
  p->B = B;
  p->T = T;
  size_t n = (size_t)B * T;
  p->tokens = malloc(n * sizeof *p->tokens);
  p->targets = malloc(n * sizeof *p->targets);
  p->pos = malloc(n * sizeof *p->pos);
  p->doc = malloc(n * sizeof *p->doc);
  p->mask = malloc(n * sizeof *p->mask);
  p->row_of = malloc((size_t)(max_items > 0 ? max_items : 1) * sizeof *p->row_of);
  p->col_of = malloc((size_t)(max_items > 0 ? max_items : 1) * sizeof *p->col_of);
  if (!p->tokens || !p->targets || !p->pos || !p->doc || !p->mask || !p->row_of || !p->col_of) {
    rl_packed_free(p);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory packing %d x %d tokens", B, T);
  }
  return SKL_OK;
}

void rl_packed_free(rl_packed *p) {
  if (!p) return;
  free(p->tokens); free(p->targets); free(p->pos); free(p->doc); free(p->mask);
  free(p->row_of); free(p->col_of);
  memset(p, 0, sizeof *p);
}

skl_status rl_pack(rl_packed *p, const rl_pack_item *items, int n, int *n_cut, int *n_dropped, skl_error *err) {
  int B = p->B, T = p->T;
  size_t N = (size_t)B * T;
  for (size_t i = 0; i < N; i++) { p->tokens[i] = 0; p->targets[i] = -1; p->pos[i] = 0; p->doc[i] = -1; p->mask[i] = 0; }
  int *fill = calloc((size_t)B, sizeof *fill), *slots = calloc((size_t)B, sizeof *slots);
  if (!fill || !slots) { free(fill); free(slots); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  int cut = 0, dropped = 0;
  p->n_items = n;
  for (int k = 0; k < n; k++) {
    const rl_pack_item *it = &items[k];
    p->row_of[k] = -1;
    p->col_of[k] = -1;
    if (it->n_response + 1 > T) {
      free(fill); free(slots);
      return skl_error_set(err, SKL_ERR_RANGE, "a response of %d tokens does not fit a row of %d; raise the "
                           "row length (sft.seq) or shorten responses", it->n_response, T);
    }
    /* The sequence is prompt+response; inputs are all but the last token. */
    int skip = 0;
    int len = it->n_prompt + it->n_response - 1;
    if (len > T) { skip = len - T; len = T; cut++; }
    int row = -1;
    for (int b = 0; b < B; b++)
      if (T - fill[b] >= len) { row = b; break; }
    if (row < 0) { dropped++; continue; }
    int c0 = fill[row];
    for (int j = 0; j < len; j++) {
      int s = skip + j; /* index in the full sequence of the input token */
      int32_t tok = s < it->n_prompt ? it->prompt[s] : it->response[s - it->n_prompt];
      int t1 = s + 1;
      int32_t next = t1 < it->n_prompt ? it->prompt[t1] : it->response[t1 - it->n_prompt];
      size_t at = (size_t)row * T + c0 + j;
      p->tokens[at] = tok;
      p->targets[at] = next;
      p->pos[at] = j;
      p->doc[at] = slots[row];
      p->mask[at] = t1 >= it->n_prompt ? 1.0f : 0.0f;
    }
    p->row_of[k] = row;
    p->col_of[k] = c0;
    fill[row] += len;
    slots[row]++;
  }
  free(fill);
  free(slots);
  if (n_cut) *n_cut = cut;
  if (n_dropped) *n_dropped = dropped;
  return SKL_OK;
}
