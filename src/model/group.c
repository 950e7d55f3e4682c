/* skl group step: forward/backward of one shared prefix with G suffixes
 * (GRPO groups, issue 5), where the prefix runs once and its key/value
 * gradients are summed over the suffixes. Not the packed batch step
 * (model.c), whose per-token layer code this mirrors with the attention
 * split into explicit K/V ranges (layers.h).
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
#include <math.h>
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

/* ---- layers ------------------------------------------------------------- */

typedef struct {
  int P;  /* prefix rows */
  int S;  /* suffix rows (all suffixes) */
  int N;  /* P + S */
} grp_shape;

/* stored-layer slot of an activation field (as model.c) */
#define SLOT(a, field, l, width) ((a)->field + (size_t)((a)->recompute ? 0 : (l)) * (a)->N * (width))

static skl_attn_shape attn_base(const skl_model_config *c, const skl_acts *a) {
  skl_attn_shape s = skl_attn_shape_of(c);
  s.work = a->attn_work;
  s.work_floats = a->attn_work_floats;
  return s;
}

/* The three K/V ranges of the group (see the file comment). */
static skl_attn_shape range_prefix(skl_attn_shape s, const grp_shape *r) {
  s.Tq = s.Tk = r->P;
  return s;
}
static skl_attn_shape range_cross(skl_attn_shape s, const grp_shape *r) {
  s.Tq = r->S;
  s.Tk = r->P;
  s.q_off = r->P; /* every suffix row comes after the whole prefix */
  return s;
}
static skl_attn_shape range_self(skl_attn_shape s, const grp_shape *r, const int32_t *doc) {
  s.Tq = s.Tk = r->S;
  s.q_doc = s.k_doc = doc; /* causal in row order, and only within one suffix */
  return s;
}

static void group_attn_forward(const skl_model_config *c, skl_group_acts *ga, const grp_shape *r,
                               const float *q, const float *k, const float *v, float *att, float *lse) {
  skl_acts *a = &ga->a;
  size_t QD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim,
         NH = c->n_heads, P = r->P;
  skl_attn_shape b = attn_base(c, a);
  if (r->P > 0) {
    skl_attn_shape s = range_prefix(b, r);
    skl_attn_forward(att, lse, q, k, v, &s);
  }
  if (r->S == 0) return;
  skl_attn_shape ss = range_self(b, r, ga->doc);
  if (r->P == 0) { /* nothing shared: the suffixes' own range is the whole answer */
    skl_attn_forward(att, lse, q, k, v, &ss);
    return;
  }
  skl_attn_shape sc = range_cross(b, r);
  skl_attn_forward(att + P * QD, lse + P * NH, q + P * QD, k, v, &sc);
  skl_attn_forward(ga->part, ga->part_lse, q + P * QD, k + P * KD, v + P * KD, &ss);
  skl_attn_merge(att + P * QD, lse + P * NH, ga->part, ga->part_lse, &ss);
}

static void group_attn_backward(const skl_model_config *c, skl_group_acts *ga, const grp_shape *r,
                                const float *q, const float *k, const float *v, const float *att,
                                const float *lse) {
  skl_acts *a = &ga->a;
  size_t QD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim,
         NH = c->n_heads, P = r->P;
  skl_attn_shape b = attn_base(c, a);
  if (r->S > 0) {
    skl_attn_shape ss = range_self(b, r, ga->doc);
    skl_attn_backward(a->dq + P * QD, a->dk + P * KD, a->dv + P * KD, a->datt + P * QD, q + P * QD,
                      k + P * KD, v + P * KD, att + P * QD, lse + P * NH, &ss, a->scratch);
    if (r->P > 0) {
      /* one call over every suffix row: the prefix's dk/dv sum all G suffixes */
      skl_attn_shape sc = range_cross(b, r);
      skl_attn_backward(a->dq + P * QD, a->dk, a->dv, a->datt + P * QD, q + P * QD, k, v,
                        att + P * QD, lse + P * NH, &sc, a->scratch);
    }
  }
  if (r->P > 0) {
    skl_attn_shape s = range_prefix(b, r);
    skl_attn_backward(a->dq, a->dk, a->dv, a->datt, q, k, v, att, lse, &s, a->scratch);
  }
}

static void layer_forward(skl_model *m, skl_group_acts *ga, const grp_shape *r, int l) {
  const skl_model_config *c = &m->cfg;
  const skl_params *p = &m->p;
  skl_acts *a = &ga->a;
  int N = r->N, C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  const float *x = a->x + (size_t)l * a->N * C;
  float *xo = a->x + (size_t)(l + 1) * a->N * C;
  float *ln1 = SLOT(a, ln1, l, C), *ln1r = SLOT(a, ln1_rstd, l, 1);
  float *q = SLOT(a, q, l, QD), *k = SLOT(a, k, l, KD), *v = SLOT(a, v, l, KD);
  float *att = SLOT(a, att, l, QD), *lse = SLOT(a, lse, l, NH), *h = SLOT(a, h, l, C);
  float *ln2 = SLOT(a, ln2, l, C), *ln2r = SLOT(a, ln2_rstd, l, 1);
  float *gate = SLOT(a, gate, l, FF), *up = SLOT(a, up, l, FF), *act = SLOT(a, act, l, FF);

  skl_rmsnorm_forward(ln1, ln1r, x, p->attn_norm + (size_t)l * C, N, C, c->rms_eps);
  float *qd = c->qk_norm ? SLOT(a, qraw, l, QD) : q, *kd = c->qk_norm ? SLOT(a, kraw, l, KD) : k;
  skl_linear_forward(qd, ln1, p->wq + (size_t)l * QD * C, p->bq ? p->bq + (size_t)l * QD : NULL, N,
                     C, QD);
  skl_linear_forward(kd, ln1, p->wk + (size_t)l * KD * C, p->bk ? p->bk + (size_t)l * KD : NULL, N,
                     C, KD);
  skl_linear_forward(v, ln1, p->wv + (size_t)l * KD * C, p->bv ? p->bv + (size_t)l * KD : NULL, N,
                     C, KD);
  if (c->qk_norm) {
    skl_rmsnorm_forward(q, SLOT(a, q_rstd, l, NH), qd, p->q_norm + (size_t)l * HD, N * NH, HD,
                        c->rms_eps);
    skl_rmsnorm_forward(k, SLOT(a, k_rstd, l, NKV), kd, p->k_norm + (size_t)l * HD, N * NKV, HD,
                        c->rms_eps);
  }
  skl_rope_forward(q, a->rope, N, NH, HD, QD);
  skl_rope_forward(k, a->rope, N, NKV, HD, KD);
  group_attn_forward(c, ga, r, q, k, v, att, lse);
  memcpy(h, x, sizeof(float) * N * C);
  skl_gemm(false, true, N, C, QD, 1.0f, att, QD, p->wo + (size_t)l * C * QD, QD, 1.0f, h, C);
  skl_rmsnorm_forward(ln2, ln2r, h, p->mlp_norm + (size_t)l * C, N, C, c->rms_eps);
  skl_linear_forward(gate, ln2, p->w_gate + (size_t)l * FF * C, NULL, N, C, FF);
  skl_linear_forward(up, ln2, p->w_up + (size_t)l * FF * C, NULL, N, C, FF);
  skl_swiglu_forward(act, gate, up, (size_t)N * FF);
  memcpy(xo, h, sizeof(float) * N * C);
  skl_gemm(false, true, N, C, FF, 1.0f, act, FF, p->w_down + (size_t)l * C * FF, FF, 1.0f, xo, C);
}

/* a->dx holds dL/dx_{l+1} on entry and dL/dx_l on return. */
static void layer_backward(skl_model *m, skl_group_acts *ga, const grp_shape *r, int l) {
  const skl_model_config *c = &m->cfg;
  const skl_params *p = &m->p;
  skl_params *g = &m->g;
  skl_acts *a = &ga->a;
  int N = r->N, C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim,
      FF = c->intermediate_size, QD = NH * HD, KD = NKV * HD;
  const float *x = a->x + (size_t)l * a->N * C;
  float *ln1 = SLOT(a, ln1, l, C), *ln1r = SLOT(a, ln1_rstd, l, 1);
  float *q = SLOT(a, q, l, QD), *k = SLOT(a, k, l, KD), *v = SLOT(a, v, l, KD);
  float *att = SLOT(a, att, l, QD), *lse = SLOT(a, lse, l, NH), *h = SLOT(a, h, l, C);
  float *ln2 = SLOT(a, ln2, l, C), *ln2r = SLOT(a, ln2_rstd, l, 1);
  float *gate = SLOT(a, gate, l, FF), *up = SLOT(a, up, l, FF), *act = SLOT(a, act, l, FF);
  size_t nC = (size_t)N * C, nF = (size_t)N * FF;

  /* MLP: x_{l+1} = h + down(swiglu(gate(ln2), up(ln2))) */
  memset(a->dact, 0, nF * sizeof(float));
  skl_linear_backward(a->dact, g->w_down + (size_t)l * C * FF, NULL, a->dx, act,
                      p->w_down + (size_t)l * C * FF, N, FF, C);
  memset(a->dgate, 0, nF * sizeof(float));
  memset(a->dup, 0, nF * sizeof(float));
  skl_swiglu_backward(a->dgate, a->dup, a->dact, gate, up, nF);
  memset(a->dln, 0, nC * sizeof(float));
  skl_linear_backward(a->dln, g->w_gate + (size_t)l * FF * C, NULL, a->dgate, ln2,
                      p->w_gate + (size_t)l * FF * C, N, C, FF);
  skl_linear_backward(a->dln, g->w_up + (size_t)l * FF * C, NULL, a->dup, ln2,
                      p->w_up + (size_t)l * FF * C, N, C, FF);
  skl_rmsnorm_backward(a->dx, g->mlp_norm + (size_t)l * C, a->dln, h, p->mlp_norm + (size_t)l * C,
                       ln2r, N, C);
  /* attention: h = x + o_proj(att) ; a->dx is now dL/dh */
  memset(a->datt, 0, (size_t)N * QD * sizeof(float));
  skl_linear_backward(a->datt, g->wo + (size_t)l * C * QD, NULL, a->dx, att,
                      p->wo + (size_t)l * C * QD, N, QD, C);
  memset(a->dq, 0, (size_t)N * QD * sizeof(float));
  memset(a->dk, 0, (size_t)N * KD * sizeof(float));
  memset(a->dv, 0, (size_t)N * KD * sizeof(float));
  group_attn_backward(c, ga, r, q, k, v, att, lse);
  skl_rope_backward(a->dq, a->rope, N, NH, HD, QD);
  skl_rope_backward(a->dk, a->rope, N, NKV, HD, KD);
  float *dqd = a->dq, *dkd = a->dk;
  if (c->qk_norm) {
    /* datt is free again: reuse it for the pre-norm q gradient */
    dqd = a->datt;
    dkd = a->dkraw;
    memset(dqd, 0, (size_t)N * QD * sizeof(float));
    memset(dkd, 0, (size_t)N * KD * sizeof(float));
    skl_rmsnorm_backward(dqd, g->q_norm + (size_t)l * HD, a->dq, SLOT(a, qraw, l, QD),
                         p->q_norm + (size_t)l * HD, SLOT(a, q_rstd, l, NH), N * NH, HD);
    skl_rmsnorm_backward(dkd, g->k_norm + (size_t)l * HD, a->dk, SLOT(a, kraw, l, KD),
                         p->k_norm + (size_t)l * HD, SLOT(a, k_rstd, l, NKV), N * NKV, HD);
  }
  memset(a->dln, 0, nC * sizeof(float));
  skl_linear_backward(a->dln, g->wq + (size_t)l * QD * C, g->bq ? g->bq + (size_t)l * QD : NULL, dqd,
                      ln1, p->wq + (size_t)l * QD * C, N, C, QD);
  skl_linear_backward(a->dln, g->wk + (size_t)l * KD * C, g->bk ? g->bk + (size_t)l * KD : NULL, dkd,
                      ln1, p->wk + (size_t)l * KD * C, N, C, KD);
  skl_linear_backward(a->dln, g->wv + (size_t)l * KD * C, g->bv ? g->bv + (size_t)l * KD : NULL,
                      a->dv, ln1, p->wv + (size_t)l * KD * C, N, C, KD);
  skl_rmsnorm_backward(a->dx, g->attn_norm + (size_t)l * C, a->dln, x, p->attn_norm + (size_t)l * C,
                       ln1r, N, C);
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
  grp_shape r;
  double cnt = 0.0;
  skl_status st = prepare(m, ga, gb, &r, &cnt, err);
  if (st) return st;
  if (stats) memset(stats, 0, sizeof *stats);
  if (r.N == 0) return SKL_OK; /* an empty prefix and empty suffixes: nothing to do */
  int N = r.N, C = c->hidden_size, L = c->n_layers;
  skl_embed_forward(a->x, ga->tokens, m->p.embed, N, C);
  for (int l = 0; l < L; l++) layer_forward(m, ga, &r, l);
  skl_rmsnorm_forward(a->lnf, a->lnf_rstd, a->x + (size_t)L * a->N * C, m->p.final_norm, N, C,
                      c->rms_eps);
  /* logits only where a target can exist: without prefix targets, the
   * suffix rows alone */
  int c0 = gb->prefix_targets ? 0 : r.P;
  if (c0 > 0) {
    memset(a->logp, 0, sizeof(float) * c0);
    memset(a->entropy, 0, sizeof(float) * c0);
  }
  const float *wout = m->p.lm_head ? m->p.lm_head : m->p.embed;
  float *dwout = NULL;
  if (backward) {
    dwout = m->g.lm_head ? m->g.lm_head : m->g.embed;
    memset(a->dln, 0, sizeof(float) * N * C);
  }
  /* logits * s = (s * lnf) @ W^T: scale the (otherwise unused) lnf rows in
   * place, and the gradient w.r.t. them back by s */
  float ls = gb->logit_scale != 0.0f ? gb->logit_scale : 1.0f;
  size_t ce0 = (size_t)c0 * C, cen = (size_t)(N - c0) * C;
  if (ls != 1.0f)
    for (size_t i = 0; i < cen; i++) a->lnf[ce0 + i] *= ls;
  double loss = 0.0;
  if (N > c0)
    loss = skl_ce_fused(a->logp + c0, a->entropy + c0, backward ? a->dln + ce0 : NULL, dwout,
                        a->lnf + ce0, wout, ga->targets + c0, a->coef + c0, N - c0, C, c->vocab_size,
                        a->scratch);
  if (backward && ls != 1.0f)
    for (size_t i = 0; i < cen; i++) a->dln[ce0 + i] *= ls;
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
  if (!backward) return SKL_OK;
  memset(a->dx, 0, sizeof(float) * N * C);
  skl_rmsnorm_backward(a->dx, m->g.final_norm, a->dln, a->x + (size_t)L * a->N * C, m->p.final_norm,
                       a->lnf_rstd, N, C);
  for (int l = L - 1; l >= 0; l--) {
    if (a->recompute && l != L - 1) layer_forward(m, ga, &r, l);
    layer_backward(m, ga, &r, l);
  }
  skl_embed_backward(m->g.embed, a->dx, ga->tokens, N, C);
  return SKL_OK;
}
