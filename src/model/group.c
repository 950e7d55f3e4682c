/* skl group step: forward/backward of one shared prefix with G suffixes
 * (GRPO groups, issue 5), where the prefix runs once and its key/value
 * gradients are summed over the suffixes. Not the packed batch step
 * (model.c) nor the layers: both steps run the decoder stack of stack.c,
 * this one with its attention split into explicit K/V ranges (a plan).
 *
 * Rows: prefix rows 0..P-1 (positions 0..P-1), then suffix g's rows
 * row0[g]..row0[g+1]-1 (positions P..P+len[g]-1), S = rows - P suffix rows
 * in all. Every per-token operation (norms, projections, RoPE, MLP,
 * cross-entropy) runs over all rows at once. Attention per layer:
 *   prefix  x prefix   causal                          -> att, lse (prefix)
 *   suffix  x prefix   all visible (q_off = P, k_off = 0) -> att, lse (suffix)
 *   suffix  x suffix   causal within each suffix (doc = g) -> part, part_lse
 *   merge(att, part)   the exact output over both ranges
 * The backward calls skl_attn_backward once per range with the FINAL out
 * and lse: dq of the suffix rows accumulates over both ranges and the
 * prefix's dk/dv over all G suffixes (one call) plus its own causal part. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/model_internal.h"

/* ---- activations -------------------------------------------------------- */

skl_status skl_group_acts_init(skl_group_acts *ga, const skl_model_config *cfg, int P, int G, int R,
                               bool recompute, skl_error *err) {
  memset(ga, 0, sizeof *ga);
  if (P < 0 || G < 1 || R < 1)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "group activations: prefix %d, %d suffixes of %d tokens: need prefix >= 0, "
                         "suffixes >= 1, suffix tokens >= 1", P, G, R);
  size_t S = (size_t)G * R, N = (size_t)P + S;
  if (N > (size_t)1 << 30)
    return skl_error_set(err, SKL_ERR_RANGE, "group activations: %zu rows are too many", N);
  skl_status st = skl_acts_init(&ga->a, cfg, 1, (int)N, recompute, err);
  if (st) return st;
  size_t QD = (size_t)cfg->n_heads * cfg->head_dim;
  /* one block: floats first (64-byte aligned), then the int arrays */
  size_t nf = S * QD + (size_t)cfg->n_heads * S;
  size_t bytes = nf * sizeof(float) + (2 * N + S) * sizeof(int32_t) + ((size_t)G + 1) * sizeof(int);
  ga->mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
  if (!ga->mem) {
    skl_acts_free(&ga->a);
    return skl_error_set(err, SKL_ERR_NOMEM, "group activations: cannot allocate %.1f MiB",
                         bytes / 1048576.0);
  }
  float *f = ga->mem;
  ga->part = f;
  ga->part_lse = f + S * QD;
  int32_t *i32 = (int32_t *)(void *)(f + nf);
  ga->tokens = i32;
  ga->targets = i32 + N;
  ga->doc = i32 + 2 * N;
  ga->row0 = (int *)(void *)(i32 + 2 * N + S);
  ga->P = P;
  ga->G = G;
  ga->R = R;
  return SKL_OK;
}

void skl_group_acts_free(skl_group_acts *ga) {
  if (!ga) return;
  skl_acts_free(&ga->a);
  free(ga->mem);
  memset(ga, 0, sizeof *ga);
}

/* ---- attention ---------------------------------------------------------- */

typedef struct {
  int P;  /* prefix rows */
  int S;  /* suffix rows (all suffixes) */
  int N;  /* P + S */
} grp_shape;

/* The three K/V ranges of the file comment as an attention plan, in that
 * order (the backward runs them in reverse: suffix self, suffix x prefix,
 * prefix). Without a prefix the suffixes' own range is the whole answer;
 * without suffix rows the prefix's is. */
static skl_attn_plan group_plan(const skl_model_config *c, skl_group_acts *ga, const grp_shape *r) {
  skl_attn_plan p = {0};
  skl_attn_shape b = skl_attn_shape_of(c);
  b.work = ga->a.attn_work;
  b.work_floats = ga->a.attn_work_floats;
  for (int i = 0; i < SKL_ATTN_PLAN_MAX; i++) {
    p.call[i].s = b;
    p.call[i].reps = 1;
  }
  p.part = ga->part;
  p.part_lse = ga->part_lse;
  if (r->P > 0) {
    skl_attn_call *k = &p.call[p.n++];
    k->s.Tq = k->s.Tk = r->P;
  }
  if (r->S == 0) return p;
  if (r->P > 0) {
    skl_attn_call *k = &p.call[p.n++];
    k->s.Tq = r->S;
    k->s.Tk = r->P;
    k->s.q_off = r->P; /* every suffix row comes after the whole prefix */
    k->q0 = r->P;
  }
  skl_attn_call *k = &p.call[p.n++];
  k->s.Tq = k->s.Tk = r->S;
  k->s.q_doc = k->s.k_doc = ga->doc; /* causal in row order, and only within one suffix */
  k->q0 = k->k0 = r->P;
  k->merge = r->P > 0;
  return p;
}

/* ---- the step ----------------------------------------------------------- */

/* Check the group against the vocabulary and ga's capacity, lay its rows
 * out (tokens, targets, positions, suffix ids, coefficients) and fill the
 * RoPE table. */
static skl_status prepare(skl_model *m, skl_group_acts *ga, const skl_group_batch *gb,
                          grp_shape *r, double *cnt_out, skl_error *err) {
  const skl_model_config *c = &m->cfg;
  skl_acts *a = &ga->a;
  int V = c->vocab_size;
  if (gb->P < 0 || gb->P > ga->P || gb->G < 1 || gb->G > ga->G)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "group step: prefix of %d tokens and %d suffixes do not fit activations "
                         "sized for %d and %d", gb->P, gb->G, ga->P, ga->G);
  if (!gb->targets || !gb->tokens || !gb->len || (gb->P > 0 && !gb->prefix))
    return skl_error_set(err, SKL_ERR_INVALID, "group step: tokens, targets and lengths are required");
  int n = 0;
  for (int i = 0; i < gb->P; i++, n++) {
    int32_t t = gb->prefix[i], y = gb->prefix_targets ? gb->prefix_targets[i] : -1;
    if (t < 0 || t >= V)
      return skl_error_set(err, SKL_ERR_RANGE,
                           "group step: prefix column %d: token id %d outside the vocabulary [0, %d)", i,
                           t, V);
    if (y >= V)
      return skl_error_set(err, SKL_ERR_RANGE,
                           "group step: prefix column %d: target id %d outside the vocabulary [0, %d)",
                           i, y, V);
    ga->tokens[n] = t;
    ga->targets[n] = y;
    a->pos[n] = i;
  }
  for (int g = 0; g < gb->G; g++) {
    int len = gb->len[g];
    if (len < 0 || len > gb->R || len > ga->R)
      return skl_error_set(err, SKL_ERR_RANGE,
                           "group step: suffix %d has %d tokens: allowed 0..%d (row stride %d, "
                           "activations sized for %d)", g, len, gb->R < ga->R ? gb->R : ga->R, gb->R,
                           ga->R);
    ga->row0[g] = n;
    for (int j = 0; j < len; j++, n++) {
      size_t at = (size_t)g * gb->R + j;
      int32_t t = gb->tokens[at], y = gb->targets[at];
      if (t < 0 || t >= V)
        return skl_error_set(err, SKL_ERR_RANGE,
                             "group step: suffix %d column %d: token id %d outside the vocabulary "
                             "[0, %d)", g, j, t, V);
      if (y >= V)
        return skl_error_set(err, SKL_ERR_RANGE,
                             "group step: suffix %d column %d: target id %d outside the vocabulary "
                             "[0, %d)", g, j, y, V);
      ga->tokens[n] = t;
      ga->targets[n] = y;
      ga->doc[n - gb->P] = g;
      a->pos[n] = gb->P + j;
    }
  }
  ga->row0[gb->G] = n;
  r->P = gb->P;
  r->N = n;
  r->S = n - gb->P;
  /* loss coefficients, counted as over the G rows (a prefix token G times) */
  double cnt = 0.0;
  for (int i = 0; i < gb->P; i++) {
    float mk = gb->prefix_mask ? gb->prefix_mask[i] : 1.0f;
    if (ga->targets[i] >= 0 && mk != 0.0f) cnt += gb->G;
  }
  for (int g = 0; g < gb->G; g++)
    for (int j = 0; j < gb->len[g]; j++) {
      size_t at = (size_t)g * gb->R + j;
      float mk = gb->mask ? gb->mask[at] : 1.0f;
      if (gb->targets[at] >= 0 && mk != 0.0f) cnt += 1.0;
    }
  double norm = gb->loss_norm > 0 ? gb->loss_norm : (cnt > 0 ? cnt : 1.0);
  for (int i = 0; i < gb->P; i++) {
    float mk = gb->prefix_mask ? gb->prefix_mask[i] : 1.0f;
    float w = gb->prefix_weight ? gb->prefix_weight[i] : 1.0f;
    a->coef[i] = ga->targets[i] >= 0 ? (float)(mk * w / norm * gb->G) : 0.0f;
  }
  for (int g = 0; g < gb->G; g++)
    for (int j = 0; j < gb->len[g]; j++) {
      size_t at = (size_t)g * gb->R + j;
      float mk = gb->mask ? gb->mask[at] : 1.0f, w = gb->weight ? gb->weight[at] : 1.0f;
      a->coef[ga->row0[g] + j] = gb->targets[at] >= 0 ? (float)(mk * w / norm) : 0.0f;
    }
  *cnt_out = cnt;
  if (n > 0) skl_rope_table(a->rope, a->pos, n, m->inv_freq, m->rope_attn_factor, c->head_dim);
  return SKL_OK;
}

skl_status skl_group_step(skl_model *m, skl_group_acts *ga, const skl_group_batch *gb, bool backward,
                          skl_step_stats *stats, skl_error *err) {
  const skl_model_config *c = &m->cfg;
  skl_acts *a = &ga->a;
  if (backward && !m->grad_mem)
    return skl_error_set(err, SKL_ERR_STATE, "group step: backward requested but no gradients "
                                             "(call skl_model_grads_alloc)");
  grp_shape r = {0};
  double cnt = 0.0;
  skl_status st = prepare(m, ga, gb, &r, &cnt, err);
  if (st) return st;
  if (stats) memset(stats, 0, sizeof *stats);
  if (r.N == 0) return SKL_OK; /* an empty prefix and empty suffixes: nothing to do */
  int N = r.N;
  skl_attn_plan ap = group_plan(c, ga, &r);
  skl_stack_forward(m, a, ga->tokens, N, &ap);
  /* logits only where a target can exist: without prefix targets, the
   * suffix rows alone */
  int c0 = gb->prefix_targets ? 0 : r.P;
  if (c0 > 0) {
    memset(a->logp, 0, sizeof(float) * c0);
    memset(a->entropy, 0, sizeof(float) * c0);
  }
  double loss = skl_stack_head(m, a, ga->targets, N, c0, gb->logit_scale, backward);
  if (stats) {
    stats->loss = loss;
    stats->n_tokens = cnt;
    double sl = 0.0;
    for (int i = 0; i < r.P; i++) {
      float mk = gb->prefix_mask ? gb->prefix_mask[i] : 1.0f;
      if (ga->targets[i] >= 0 && mk != 0.0f) sl += (double)gb->G * a->logp[i];
    }
    for (int g = 0; g < gb->G; g++)
      for (int j = 0; j < gb->len[g]; j++) {
        size_t at = (size_t)g * gb->R + j;
        float mk = gb->mask ? gb->mask[at] : 1.0f;
        if (gb->targets[at] >= 0 && mk != 0.0f) sl += a->logp[ga->row0[g] + j];
      }
    stats->sum_logp = sl;
  }
  if (backward) skl_stack_backward(m, a, ga->tokens, N, &ap);
  return SKL_OK;
}
