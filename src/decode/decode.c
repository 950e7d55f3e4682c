/* skl decode: the KV cache and the cached forward of token rows: prefill
 * chunks (the decoder block of model/block.c over a KV cache) and batched
 * steps (step_rows: the step kernels, tested against the block). Not
 * sampling or the generate loop (generate.c). */
#include "decode/decode.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "decode/step_kernels.h"
#include "model/block.h"
#include "model/layers.h"

/* ---- KV cache ------------------------------------------------------------ */

size_t skl_kv_cache_floats(const skl_model_config *cfg, int n_slots, int T_max, int n_prefix, int P_max) {
  size_t row = (size_t)cfg->n_kv_heads * cfg->head_dim;
  size_t tokens = (size_t)n_slots * (size_t)T_max + (size_t)n_prefix * (size_t)P_max;
  return 2 * (size_t)cfg->n_layers * tokens * row;
}

size_t skl_decoder_kv_floats(const skl_model_config *cfg, int n_slots, int T_max, int n_prefix, int P_max) {
  size_t heads = (size_t)cfg->n_layers * (size_t)cfg->n_kv_heads;
  size_t copy = (size_t)n_slots * skl_step_kt_floats(T_max, cfg->head_dim) +
                (n_prefix > 0 ? (size_t)n_prefix * skl_step_kt_floats(P_max, cfg->head_dim) : 0);
  return skl_kv_cache_floats(cfg, n_slots, T_max, n_prefix, P_max) + 2 * heads * copy; /* K^T tiles + V */
}

skl_status skl_kv_cache_init(skl_kv_cache *c, const skl_model_config *cfg, int n_slots, int T_max, int n_prefix,
                             int P_max, skl_error *err) {
  memset(c, 0, sizeof *c);
  if (n_slots < 1 || T_max < 1 || n_prefix < 0 || (n_prefix > 0 && P_max < 1) || P_max < 0)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "KV cache: need >= 1 slot of >= 1 token (got %d x %d) and prefixes of >= 1 token (%d x %d)",
                         n_slots, T_max, n_prefix, P_max);
  c->L = cfg->n_layers;
  c->NKV = cfg->n_kv_heads;
  c->HD = cfg->head_dim;
  c->n_slots = n_slots;
  c->T_max = T_max;
  c->n_prefix = n_prefix;
  c->P_max = n_prefix ? P_max : 0;
  size_t total = skl_kv_cache_floats(cfg, n_slots, T_max, n_prefix, c->P_max);
  int nr = n_slots + n_prefix;
  c->half = total / 2;
  c->mem = malloc(sizeof(float) * (total ? total : 1));
  c->base = calloc((size_t)nr, sizeof *c->base);
  c->len = calloc((size_t)nr, sizeof *c->len);
  c->parent = malloc(sizeof *c->parent * (size_t)nr);
  if (!c->mem || !c->base || !c->len || !c->parent) {
    skl_kv_cache_free(c);
    return skl_error_set(err, SKL_ERR_NOMEM, "KV cache: cannot allocate %.1f MB (%d slots x %d tokens + %d prefixes x %d)",
                         (double)total * 4 / 1048576.0, n_slots, T_max, n_prefix, P_max);
  }
  size_t row = (size_t)c->NKV * c->HD, off = 0;
  for (int r = 0; r < nr; r++) {
    c->base[r] = off;
    off += (size_t)c->L * (size_t)(r < n_slots ? T_max : c->P_max) * row;
    c->parent[r] = -1;
  }
  return SKL_OK;
}

void skl_kv_cache_free(skl_kv_cache *c) {
  if (!c) return;
  free(c->mem);
  free(c->base);
  free(c->len);
  free(c->parent);
  memset(c, 0, sizeof *c);
}

static int region_cap(const skl_kv_cache *c, int r) { return r < c->n_slots ? c->T_max : c->P_max; }

float *skl_kv_cache_k(const skl_kv_cache *c, int r, int l) {
  return c->mem + c->base[r] + (size_t)l * region_cap(c, r) * c->NKV * c->HD;
}

float *skl_kv_cache_v(const skl_kv_cache *c, int r, int l) { return skl_kv_cache_k(c, r, l) + c->half; }

/* ---- decoder --------------------------------------------------------------- */

/* Rows of one forward call that belong to one region: rows [row0, row0+n)
 * are that region's own tokens [j0, j0+n). */
typedef struct {
  int region, row0, j0, n;
} row_group;

/* One attention task of a step: queries [q0, q0+nq) against kv head kh of
 * region `region`. */
typedef struct {
  int region, kh, q0, nq;
} step_task;

struct skl_decoder {
  skl_model *m;
  skl_kv_cache kv;
  int max_batch;
  int R;       /* scratch rows: max(max_batch, chunk) */
  int chunk;   /* prefill rows per forward */
  int *n_children; /* [n_prefix] slots attached */
  row_group *groups; /* [R] */
  int32_t *pos;      /* [R] */
  float *mem;        /* scratch, one allocation: */
  float *x;          /* [R, C] residual stream */
  float *ln;         /* [R, C] norm output */
  float *q;          /* [R, NH*HD] */
  float *k, *v;      /* [R, NKV*HD] */
  float *att, *att2; /* [R, NH*HD] own / prefix partial */
  float *lse, *lse2; /* [NH, R] */
  float *gate, *up;  /* [R, FF] */
  float *cs;         /* [R, HD] rope table */
  /* the step attention's copy of the cache, one kv head's keys and values
   * contiguous (streamed, not HD of every NKV*HD floats): */
  float *kt;         /* keys as K^T tiles (step_kernels.h) */
  float *vh;         /* values [cap, HD] per head */
  size_t *kt_base;   /* [n_regions] region r, layer l, kv head h at kt_base[r] + (l * NKV + h) * kt_head */
  size_t *kt_head;   /* [n_regions] floats of one head's tiles: skl_step_kt_floats(cap, HD) */
  float *attn_work;  /* prefill attention tile buffers (layers.h), or NULL */
  size_t attn_work_floats;
  /* step attention plan: */
  skl_step_query *queries; /* [2 * R * NH] */
  step_task *tasks;        /* [2 * R * NKV] */
  char *row_mark;          /* [R] */
  int *group_rows;         /* [R] */
  int phase_task[3];       /* tasks of phase 0 (parents): [0], [1]; phase 1 (own): [1], [2] */
};

#define PREFILL_CHUNK 256 /* prefill rows per forward */
#define MAX_HD 512        /* head_dim limit of the decoder */

skl_status skl_decoder_init(skl_decoder **out, skl_model *m, int max_batch, int T_max, int n_prefix, int P_max,
                            skl_error *err) {
  *out = NULL;
  const skl_model_config *c = &m->cfg;
  if (max_batch < 1) return skl_error_set(err, SKL_ERR_RANGE, "decoder: batch %d must be >= 1", max_batch);
  if (c->head_dim > MAX_HD || c->head_dim < 2)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "decoder: head_dim %d (2..%d supported)", c->head_dim, MAX_HD);
  skl_decoder *d = calloc(1, sizeof *d);
  if (!d) return skl_error_set(err, SKL_ERR_NOMEM, "decoder: out of memory");
  d->m = m;
  d->max_batch = max_batch;
  d->chunk = PREFILL_CHUNK;
  d->R = max_batch > d->chunk ? max_batch : d->chunk;
  skl_status s = skl_kv_cache_init(&d->kv, c, max_batch, T_max, n_prefix, P_max, err);
  if (s) { free(d); return s; }
  size_t R = (size_t)d->R, C = (size_t)c->hidden_size, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = (size_t)c->intermediate_size, HD = (size_t)c->head_dim;
  size_t n = R * (2 * C + 3 * QD + 2 * KD + 2 * FF + HD) + 2 * (size_t)c->n_heads * R;
  d->mem = malloc(sizeof(float) * n);
  d->groups = malloc(sizeof *d->groups * R);
  d->pos = malloc(sizeof *d->pos * R);
  d->n_children = calloc((size_t)(n_prefix > 0 ? n_prefix : 1), sizeof *d->n_children);
  d->queries = malloc(sizeof *d->queries * 2 * R * (size_t)c->n_heads);
  d->tasks = malloc(sizeof *d->tasks * 2 * R * (size_t)c->n_kv_heads);
  d->row_mark = malloc(R);
  d->group_rows = malloc(sizeof *d->group_rows * R);
  int nreg = max_batch + n_prefix;
  d->kt_base = malloc(sizeof *d->kt_base * (size_t)nreg);
  d->kt_head = malloc(sizeof *d->kt_head * (size_t)nreg);
  size_t kt_total = 0;
  for (int r = 0; r < nreg && d->kt_base && d->kt_head; r++) {
    d->kt_base[r] = kt_total;
    d->kt_head[r] = skl_step_kt_floats(region_cap(&d->kv, r), c->head_dim);
    kt_total += (size_t)c->n_layers * c->n_kv_heads * d->kt_head[r];
  }
  /* zeroed: the kernel reads whole tiles, lanes past the keys masked */
  d->kt = calloc(kt_total ? kt_total : 1, sizeof(float));
  d->vh = malloc(sizeof(float) * (kt_total ? kt_total : 1));
  if (!d->mem || !d->groups || !d->pos || !d->n_children || !d->queries || !d->tasks || !d->row_mark ||
      !d->group_rows || !d->kt_base || !d->kt_head || !d->kt || !d->vh) {
    skl_decoder_free(d);
    return skl_error_set(err, SKL_ERR_NOMEM, "decoder: cannot allocate %.1f MB of scratch and %.1f MB of per-head K/V",
                         (double)n * 4 / 1048576.0, (double)kt_total * 8 / 1048576.0);
  }
  float *p = d->mem;
  d->x = p; p += R * C;
  d->ln = p; p += R * C;
  d->q = p; p += R * QD;
  d->k = p; p += R * KD;
  d->v = p; p += R * KD;
  d->att = p; p += R * QD;
  d->att2 = p; p += R * QD;
  d->gate = p; p += R * FF;
  d->up = p; p += R * FF;
  d->cs = p; p += R * HD;
  d->lse = p; p += (size_t)c->n_heads * R;
  d->lse2 = p;
  /* tile buffers for the thread count at init (more threads later: the
   * attention kernel allocates for the extra ones itself) */
  d->attn_work_floats = skl_attn_work_floats(omp_get_max_threads());
  d->attn_work = malloc(sizeof(float) * d->attn_work_floats);
  if (!d->attn_work) d->attn_work_floats = 0;
  *out = d;
  return SKL_OK;
}

void skl_decoder_free(skl_decoder *d) {
  if (!d) return;
  skl_kv_cache_free(&d->kv);
  free(d->mem);
  free(d->groups);
  free(d->pos);
  free(d->n_children);
  free(d->attn_work);
  free(d->queries);
  free(d->tasks);
  free(d->row_mark);
  free(d->group_rows);
  free(d->kt);
  free(d->vh);
  free(d->kt_base);
  free(d->kt_head);
  free(d);
}

const skl_kv_cache *skl_decoder_cache(const skl_decoder *d) { return &d->kv; }

const skl_model *skl_decoder_model(const skl_decoder *d) { return d->m; }

void skl_decoder_reset_slot(skl_decoder *d, int slot) {
  if (slot < 0 || slot >= d->kv.n_slots) return;
  int par = d->kv.parent[slot];
  if (par >= 0) d->n_children[par - d->kv.n_slots]--;
  d->kv.len[slot] = 0;
  d->kv.parent[slot] = -1;
}

void skl_decoder_reset_prefix(skl_decoder *d, int prefix) {
  if (prefix < 0 || prefix >= d->kv.n_prefix) return;
  d->kv.len[d->kv.n_slots + prefix] = 0;
}

skl_status skl_decoder_attach(skl_decoder *d, int slot, int prefix, skl_error *err) {
  if (slot < 0 || slot >= d->kv.n_slots || prefix < 0 || prefix >= d->kv.n_prefix)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d / prefix %d out of range (%d slots, %d prefixes)",
                         slot, prefix, d->kv.n_slots, d->kv.n_prefix);
  if (d->kv.len[slot] || d->kv.parent[slot] >= 0)
    return skl_error_set(err, SKL_ERR_STATE, "decoder: slot %d is not empty; reset it before attaching", slot);
  d->kv.parent[slot] = d->kv.n_slots + prefix;
  d->n_children[prefix]++;
  return SKL_OK;
}

/* One kv head's K^T tiles of region r, layer l. */
static float *kt_head(const skl_decoder *d, int r, int l, int kh) {
  return d->kt + d->kt_base[r] + ((size_t)l * d->kv.NKV + (size_t)kh) * d->kt_head[r];
}

/* ... and its values [cap, HD] */
static float *vh_head(const skl_decoder *d, int r, int l, int kh) {
  return d->vh + d->kt_base[r] + ((size_t)l * d->kv.NKV + (size_t)kh) * d->kt_head[r];
}

/* Rows k, v[n, NKV*HD] as tokens j0.. of region r's per-head copy. */
static void head_store_rows(skl_decoder *d, int r, int l, int j0, const float *k, const float *v, int n) {
  int NKV = d->kv.NKV, HD = d->kv.HD;
  for (int kh = 0; kh < NKV; kh++) {
    float *kt = kt_head(d, r, l, kh), *vh = vh_head(d, r, l, kh);
    for (int i = 0; i < n; i++) {
      size_t o = ((size_t)i * NKV + kh) * HD;
      skl_step_kt_store(kt, j0 + i, k + o, HD);
      memcpy(vh + (size_t)(j0 + i) * HD, v + o, sizeof(float) * (size_t)HD);
    }
  }
}

/* Up to SMALL_ROWS rows, a prefill chunk's linears run on the step kernels
 * (sgemm spends its time packing the weight for so few rows). */
#define SMALL_ROWS 16

static void linear(float *out, const float *inp, const float *w, const float *bias, int n, int IC, int OC) {
  if (n <= SMALL_ROWS) skl_step_linear(out, inp, w, bias, n, IC, OC, false);
  else skl_linear_forward(out, inp, w, bias, n, IC, OC);
}

/* out[n, OC] += inp[n, IC] @ w^T (the residual adds) */
static void linear_add(float *out, const float *inp, const float *w, int n, int IC, int OC) {
  if (n <= SMALL_ROWS) skl_step_linear(out, inp, w, NULL, n, IC, OC, true);
  else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, OC, IC, 1.0f, inp, IC, w, IC, 1.0f, out, OC);
}

/* Attention of one group's queries against its region (and parent). */
static void group_attention(skl_decoder *d, const row_group *g, int l) {
  const skl_kv_cache *kv = &d->kv;
  const skl_model_config *c = &d->m->cfg;
  size_t QD = (size_t)c->n_heads * c->head_dim;
  int par = kv->parent[g->region], P = par >= 0 ? kv->len[par] : 0;
  skl_attn_shape s = skl_attn_shape_of(c);
  s.work = d->attn_work;
  s.work_floats = d->attn_work_floats;
  s.Tq = g->n;
  s.Tk = g->j0 + g->n;
  s.q_off = P + g->j0;
  s.k_off = P;
  float *att = d->att + (size_t)g->row0 * QD;
  const float *q = d->q + (size_t)g->row0 * QD;
  skl_attn_forward(att, d->lse, q, skl_kv_cache_k(kv, g->region, l), skl_kv_cache_v(kv, g->region, l), &s);
  if (P > 0) {
    skl_attn_shape sp = s;
    sp.Tk = P;
    sp.k_off = 0;
    float *att2 = d->att2 + (size_t)g->row0 * QD;
    skl_attn_forward(att2, d->lse2, q, skl_kv_cache_k(kv, par, l), skl_kv_cache_v(kv, par, l), &sp);
    skl_attn_merge(att, d->lse, att2, d->lse2, &s);
  }
}

/* The prefill's attention of layer l (forward_rows' block callback): each
 * group's rows' K/V appended to its region, then its queries attend the
 * region (and its parent). */
typedef struct {
  skl_decoder *d;
  int l, ng;
} rows_attn;

static void rows_attention(void *ctx, const skl_block_acts *a, int n) {
  const rows_attn *t = ctx;
  skl_decoder *d = t->d;
  skl_kv_cache *kv = &d->kv;
  size_t KD = (size_t)d->m->cfg.n_kv_heads * d->m->cfg.head_dim;
  int l = t->l;
  (void)n;
  for (int gi = 0; gi < t->ng; gi++) {
    const row_group *g = &d->groups[gi];
    const float *k = a->k + (size_t)g->row0 * KD, *v = a->v + (size_t)g->row0 * KD;
    memcpy(skl_kv_cache_k(kv, g->region, l) + (size_t)g->j0 * KD, k, sizeof(float) * (size_t)g->n * KD);
    memcpy(skl_kv_cache_v(kv, g->region, l) + (size_t)g->j0 * KD, v, sizeof(float) * (size_t)g->n * KD);
    head_store_rows(d, g->region, l, g->j0, k, v, g->n);
    group_attention(d, g, l);
  }
}

/* The cached forward of n rows in ng groups (tokens already checked):
 * appends their K/V to the regions and, if logits != NULL, writes the
 * logits of the rows listed in out_rows[n_out] (NULL: rows 0..n_out-1)
 * into logits[n_out, V]. Each layer is the block (model/block.c) in place
 * on the decoder's scratch, its linears on the step kernels up to
 * SMALL_ROWS rows. */
static void forward_rows(skl_decoder *d, int n, const int32_t *tokens, int ng, const int *out_rows, int n_out,
                         float *logits, float *hidden) {
  static const skl_block_ops ops = {linear, linear_add};
  skl_model *m = d->m;
  const skl_model_config *c = &m->cfg;
  const skl_params *p = &m->p;
  skl_kv_cache *kv = &d->kv;
  int C = c->hidden_size, HD = c->head_dim;
  for (int gi = 0; gi < ng; gi++) {
    const row_group *g = &d->groups[gi];
    int par = kv->parent[g->region], P = par >= 0 ? kv->len[par] : 0;
    for (int i = 0; i < g->n; i++) d->pos[g->row0 + i] = P + g->j0 + i;
  }
  skl_rope_table(d->cs, d->pos, n, m->inv_freq, m->rope_attn_factor, HD);
  skl_embed_forward(d->x, tokens, p->embed, n, C);
  /* no backward follows: norms and SwiGLU in place, the residual stream x
   * updated in place (h = out = x) */
  skl_block_acts ba = {.x = d->x, .ln1 = d->ln, .qraw = d->q, .kraw = d->k, .q = d->q, .k = d->k,
                       .v = d->v, .att = d->att, .lse = d->lse, .h = d->x, .ln2 = d->ln,
                       .gate = d->gate, .up = d->up, .act = d->gate, .out = d->x, .rope = d->cs};
  for (int l = 0; l < c->n_layers; l++) {
    skl_block_weights w = skl_params_block(c, p, l);
    rows_attn t = {d, l, ng};
    skl_block_attn at = {rows_attention, NULL, &t};
    skl_block_forward(c, &w, &ba, n, &at, &ops);
  }
  for (int gi = 0; gi < ng; gi++) kv->len[d->groups[gi].region] = d->groups[gi].j0 + d->groups[gi].n;
  if (hidden) memcpy(hidden, d->x, sizeof(float) * (size_t)n * C);
  if (!logits || n_out == 0) return;
  for (int i = 0; i < n_out; i++) /* gather the rows wanted, then norm + head */
    if (out_rows && out_rows[i] != i) memcpy(d->x + (size_t)i * C, d->x + (size_t)out_rows[i] * C, sizeof(float) * C);
  skl_rmsnorm_forward(d->ln, NULL, d->x, p->final_norm, n_out, C, c->rms_eps);
  linear(logits, d->ln, p->lm_head ? p->lm_head : p->embed, NULL, n_out, C, c->vocab_size);
}

/* ---- the step path: one new token per row --------------------------------
 * A decode step (or an exact verify) is n rows of single tokens; several
 * rows may belong to one region at consecutive positions. It is
 * memory-bound, so the step kernels (step_kernels.h) read every weight, and
 * every K/V block of a region, once for all rows, while each row's float
 * arithmetic is the one it has alone: a row's logits do not depend on the
 * other rows of the call nor on the thread count. A handful of parallel
 * regions per layer (fused q/k/v, attention tasks, fused gate/up, the two
 * residual linears); the row-local work (norms, RoPE) runs serially. The
 * math is the block's (model/block.c): same formulas, float accumulation. */

/* out[C] = x[C] / sqrt(mean(x^2) + eps) * w[C] (layers.c's formula) */
static void rmsnorm_row(float *o, const float *x, const float *w, int C, float eps) {
  float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
  for (int c = 0; c < C; c++) ss += x[c] * x[c];
  float r = 1.0f / sqrtf(ss / (float)C + eps);
#pragma omp simd
  for (int c = 0; c < C; c++) o[c] = x[c] * r * w[c];
}

/* The attention plan of a step: tasks of (region, kv head) with their
 * queries, in two phases: rows reading one parent prefix (the prefix K/V
 * read once for all of them), then rows of one region (a verify block:
 * its K/V read once for the block). A row's state carries from its parent
 * range to its own range, so its order is the one it has alone. */
static void plan_attention(skl_decoder *d, int n) {
  const skl_model_config *c = &d->m->cfg;
  const skl_kv_cache *kv = &d->kv;
  int NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim, grp = NH / NKV;
  size_t QD = (size_t)NH * HD;
  int nq = 0, nt = 0;
  for (int ph = 0; ph < 2; ph++) {
    d->phase_task[ph] = nt;
    for (int r = 0; r < n; r++) d->row_mark[r] = 0;
    for (int r = 0; r < n; r++) {
      const row_group *g = &d->groups[r];
      int key = ph == 0 ? kv->parent[g->region] : g->region;
      if (key < 0 || d->row_mark[r]) continue;
      int nr = 0; /* the group's rows, in row order */
      for (int r2 = r; r2 < n; r2++)
        if ((ph == 0 ? kv->parent[d->groups[r2].region] : d->groups[r2].region) == key) {
          d->row_mark[r2] = 1;
          d->group_rows[nr++] = r2;
        }
      for (int kh = 0; kh < NKV; kh++) {
        step_task t = {key, kh, nq, 0};
        for (int ri = 0; ri < nr; ri++) {
          int r2 = d->group_rows[ri];
          const row_group *g2 = &d->groups[r2];
          for (int h = kh * grp; h < (kh + 1) * grp; h++) {
            skl_step_query *q = &d->queries[nq++];
            size_t sh = (size_t)r2 * NH + h;
            q->q = d->q + (size_t)r2 * QD + (size_t)h * HD;
            q->acc = d->att + (size_t)r2 * QD + (size_t)h * HD;
            q->m = d->lse + sh;
            q->l = d->lse2 + sh;
            q->tk = ph == 0 ? kv->len[key] : g2->j0 + 1;
          }
        }
        t.nq = nq - t.q0;
        d->tasks[nt++] = t;
      }
    }
  }
  d->phase_task[2] = nt;
}

static void step_attention(skl_decoder *d, int n, int l) {
  const skl_model_config *c = &d->m->cfg;
  int NH = c->n_heads, HD = c->head_dim;
  float scale = 1.0f / sqrtf((float)HD);
  const skl_kv_cache *kv = &d->kv;
  size_t KD = (size_t)c->n_kv_heads * HD;
  /* one parallel region: the rows' K/V stores (every row's before any row
   * attends) and state init, the two phases, the normalisation */
#pragma omp parallel if (d->phase_task[2] > 1)
  {
#pragma omp for schedule(static)
    for (int r = 0; r < n; r++) {
      const row_group *g = &d->groups[r];
      memcpy(skl_kv_cache_k(kv, g->region, l) + (size_t)g->j0 * KD, d->k + (size_t)r * KD, sizeof(float) * KD);
      memcpy(skl_kv_cache_v(kv, g->region, l) + (size_t)g->j0 * KD, d->v + (size_t)r * KD, sizeof(float) * KD);
      head_store_rows(d, g->region, l, g->j0, d->k + (size_t)r * KD, d->v + (size_t)r * KD, 1);
    }
#pragma omp for schedule(static)
    for (int i = 0; i < n * NH; i++) {
      memset(d->att + (size_t)i * HD, 0, sizeof(float) * (size_t)HD);
      d->lse[i] = -INFINITY;
      d->lse2[i] = 0.0f;
    }
    for (int ph = 0; ph < 2; ph++) {
#pragma omp for schedule(dynamic, 1)
      for (int t = d->phase_task[ph]; t < d->phase_task[ph + 1]; t++) {
        const step_task *tk = &d->tasks[t];
        skl_step_attend_kt(kt_head(d, tk->region, l, tk->kh), vh_head(d, tk->region, l, tk->kh), (size_t)HD, HD,
                           scale, d->queries + tk->q0, tk->nq);
      }
    }
#pragma omp for schedule(static)
    for (int i = 0; i < n * NH; i++) { /* l >= 1: a row always sees its own key */
      float *o = d->att + (size_t)i * HD, inv = 1.0f / d->lse2[i];
      for (int e = 0; e < HD; e++) o[e] *= inv;
    }
  }
}

/* The forward of a step: row r is token tokens[r] of groups[r] (one row
 * each; several rows may belong to one region at consecutive positions, in
 * order: every row's K/V is stored before any row attends); logits[n, V]
 * and hidden[n, C] (x[L] before model.norm) if non-NULL. Each row's
 * arithmetic does not depend on the other rows. */
static void step_rows(skl_decoder *d, int n, const int32_t *tokens, float *logits, float *hidden) {
  skl_model *m = d->m;
  const skl_model_config *c = &m->cfg;
  const skl_params *p = &m->p;
  skl_kv_cache *kv = &d->kv;
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim, FF = c->intermediate_size,
      QD = NH * HD, KD = NKV * HD;
  for (int r = 0; r < n; r++) {
    const row_group *g = &d->groups[r];
    int par = kv->parent[g->region];
    d->pos[r] = (par >= 0 ? kv->len[par] : 0) + g->j0;
    memcpy(d->x + (size_t)r * C, p->embed + (size_t)tokens[r] * C, sizeof(float) * C);
  }
  skl_rope_table(d->cs, d->pos, n, m->inv_freq, m->rope_attn_factor, HD);
  plan_attention(d, n);
  for (int l = 0; l < c->n_layers; l++) {
    for (int r = 0; r < n; r++)
      rmsnorm_row(d->ln + (size_t)r * C, d->x + (size_t)r * C, p->attn_norm + (size_t)l * C, C, c->rms_eps);
    skl_step_seg qkv[3] = {
        {p->wq + (size_t)l * QD * C, p->bq ? p->bq + (size_t)l * QD : NULL, d->q, (size_t)QD, QD},
        {p->wk + (size_t)l * KD * C, p->bk ? p->bk + (size_t)l * KD : NULL, d->k, (size_t)KD, KD},
        {p->wv + (size_t)l * KD * C, p->bv ? p->bv + (size_t)l * KD : NULL, d->v, (size_t)KD, KD}};
    skl_step_linear_segs(d->ln, (size_t)C, n, C, qkv, 3, false);
    if (c->qk_norm)
      for (int r = 0; r < n; r++) {
        float *q = d->q + (size_t)r * QD, *k = d->k + (size_t)r * KD;
        for (int h = 0; h < NH; h++) rmsnorm_row(q + (size_t)h * HD, q + (size_t)h * HD, p->q_norm + (size_t)l * HD, HD, c->rms_eps);
        for (int h = 0; h < NKV; h++) rmsnorm_row(k + (size_t)h * HD, k + (size_t)h * HD, p->k_norm + (size_t)l * HD, HD, c->rms_eps);
      }
    skl_rope_forward(d->q, d->cs, n, NH, HD, (size_t)QD);
    skl_rope_forward(d->k, d->cs, n, NKV, HD, (size_t)KD);
    step_attention(d, n, l);
    skl_step_linear(d->x, d->att, p->wo + (size_t)l * C * QD, NULL, n, QD, C, true);
    for (int r = 0; r < n; r++)
      rmsnorm_row(d->ln + (size_t)r * C, d->x + (size_t)r * C, p->mlp_norm + (size_t)l * C, C, c->rms_eps);
    skl_step_linear_swiglu(d->ln, (size_t)C, n, C, p->w_gate + (size_t)l * FF * C, p->w_up + (size_t)l * FF * C,
                           d->gate, d->up, FF);
    skl_step_linear(d->x, d->gate, p->w_down + (size_t)l * C * FF, NULL, n, FF, C, true);
  }
  for (int r = 0; r < n; r++) kv->len[d->groups[r].region] = d->groups[r].j0 + 1;
  if (hidden) memcpy(hidden, d->x, sizeof(float) * (size_t)n * C);
  if (!logits) return;
  for (int r = 0; r < n; r++) rmsnorm_row(d->ln + (size_t)r * C, d->x + (size_t)r * C, p->final_norm, C, c->rms_eps);
  skl_step_linear(logits, d->ln, p->lm_head ? p->lm_head : p->embed, NULL, n, C, c->vocab_size, false);
}

static skl_status check_tokens(const skl_decoder *d, const int32_t *t, int n, const char *what, int idx,
                               skl_error *err) {
  int V = d->m->cfg.vocab_size;
  for (int i = 0; i < n; i++)
    if (t[i] < 0 || t[i] >= V)
      return skl_error_set(err, SKL_ERR_RANGE, "decoder: %s %d token %d: id %d outside the vocabulary [0, %d)", what,
                           idx, i, t[i], V);
  return SKL_OK;
}

static skl_status prefill_region(skl_decoder *d, int r, const int32_t *tokens, int n, float *logits_last,
                                 float *hidden, const char *what, int idx, skl_error *err) {
  skl_kv_cache *kv = &d->kv;
  if (n < 1) return skl_error_set(err, SKL_ERR_RANGE, "decoder: %s %d: prefill of %d tokens", what, idx, n);
  if ((int64_t)kv->len[r] + n > region_cap(kv, r))
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: %s %d holds %d of %d tokens; %d more do not fit (raise the %s)",
                         what, idx, kv->len[r], region_cap(kv, r), n,
                         r < kv->n_slots ? "decoder's T_max" : "decoder's P_max");
  skl_status s = check_tokens(d, tokens, n, what, idx, err);
  if (s) return s;
  for (int i0 = 0; i0 < n; i0 += d->chunk) {
    int ni = n - i0 < d->chunk ? n - i0 : d->chunk;
    row_group g = {r, 0, kv->len[r], ni};
    d->groups[0] = g;
    int last = ni - 1;
    forward_rows(d, ni, tokens + i0, 1, &last, i0 + ni == n && logits_last ? 1 : 0, logits_last,
                 hidden ? hidden + (size_t)i0 * d->m->cfg.hidden_size : NULL);
  }
  return SKL_OK;
}

skl_status skl_decoder_prefill(skl_decoder *d, int slot, const int32_t *tokens, int n, float *logits_last,
                               skl_error *err) {
  if (slot < 0 || slot >= d->kv.n_slots)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d out of range (%d slots)", slot, d->kv.n_slots);
  return prefill_region(d, slot, tokens, n, logits_last, NULL, "slot", slot, err);
}

skl_status skl_decoder_prefill_prefix(skl_decoder *d, int prefix, const int32_t *tokens, int n, float *logits_last,
                                      skl_error *err) {
  if (prefix < 0 || prefix >= d->kv.n_prefix)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: prefix %d out of range (%d prefixes)", prefix, d->kv.n_prefix);
  if (d->n_children[prefix] > 0)
    return skl_error_set(err, SKL_ERR_STATE, "decoder: prefix %d has %d slots attached; it cannot grow", prefix,
                         d->n_children[prefix]);
  return prefill_region(d, d->kv.n_slots + prefix, tokens, n, logits_last, NULL, "prefix", prefix, err);
}

skl_status skl_decoder_prefill_hidden(skl_decoder *d, int slot, int prefix, const int32_t *tokens, int n,
                                      float *logits_last, float *hidden, skl_error *err) {
  if ((slot < 0) == (prefix < 0))
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: prefill_hidden needs exactly one of slot %d / prefix %d",
                         slot, prefix);
  if (slot >= d->kv.n_slots)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d out of range (%d slots)", slot, d->kv.n_slots);
  if (prefix >= d->kv.n_prefix)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: prefix %d out of range (%d prefixes)", prefix, d->kv.n_prefix);
  if (prefix >= 0 && d->n_children[prefix] > 0)
    return skl_error_set(err, SKL_ERR_STATE, "decoder: prefix %d has %d slots attached; it cannot grow", prefix,
                         d->n_children[prefix]);
  return slot >= 0 ? prefill_region(d, slot, tokens, n, logits_last, hidden, "slot", slot, err)
                   : prefill_region(d, d->kv.n_slots + prefix, tokens, n, logits_last, hidden, "prefix", prefix, err);
}

skl_status skl_decoder_step(skl_decoder *d, int n, const int *slots, const int32_t *tokens, float *logits,
                            skl_error *err) {
  skl_kv_cache *kv = &d->kv;
  if (n < 1 || n > d->max_batch)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: step of %d sequences (1..%d)", n, d->max_batch);
  for (int i = 0; i < n; i++) {
    int s = slots[i];
    if (s < 0 || s >= kv->n_slots)
      return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d out of range (%d slots)", s, kv->n_slots);
    for (int j = 0; j < i; j++)
      if (slots[j] == s) return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d listed twice in one step", s);
    if (kv->len[s] + 1 > kv->T_max)
      return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d holds %d of %d tokens; no room for one more", s,
                           kv->len[s], kv->T_max);
    skl_status st = check_tokens(d, tokens + i, 1, "slot", s, err);
    if (st) return st;
    row_group g = {s, i, kv->len[s], 1};
    d->groups[i] = g;
  }
  /* always the step kernels (also for many rows: they beat sgemm there too,
   * bench decode --verify-rows 1 -B 64), so a row's logits never depend on
   * how many sequences are decoded with it */
  step_rows(d, n, tokens, logits, NULL);
  return SKL_OK;
}

skl_status skl_decoder_extend(skl_decoder *d, int slot, const int32_t *tokens, int n, float *logits, float *hidden,
                              skl_error *err) {
  skl_kv_cache *kv = &d->kv;
  if (slot < 0 || slot >= kv->n_slots)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d out of range (%d slots)", slot, kv->n_slots);
  if (n < 1) return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d: extend by %d tokens", slot, n);
  if ((int64_t)kv->len[slot] + n > kv->T_max)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d holds %d of %d tokens; %d more do not fit", slot,
                         kv->len[slot], kv->T_max, n);
  skl_status s = check_tokens(d, tokens, n, "slot", slot, err);
  if (s) return s;
  size_t V = (size_t)d->m->cfg.vocab_size, C = (size_t)d->m->cfg.hidden_size;
  for (int i0 = 0; i0 < n; i0 += d->chunk) {
    int ni = n - i0 < d->chunk ? n - i0 : d->chunk;
    row_group g = {slot, 0, kv->len[slot], ni};
    d->groups[0] = g;
    forward_rows(d, ni, tokens + i0, 1, NULL, logits ? ni : 0, logits ? logits + (size_t)i0 * V : NULL,
                 hidden ? hidden + (size_t)i0 * C : NULL);
  }
  return SKL_OK;
}

skl_status skl_decoder_verify(skl_decoder *d, int n, const int *slots, const int *counts, const int32_t *tokens,
                               bool exact, float *logits, float *hidden, skl_error *err) {
  skl_kv_cache *kv = &d->kv;
  if (n < 1 || n > d->max_batch)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: verify of %d sequences (1..%d)", n, d->max_batch);
  int rows = 0;
  for (int i = 0; i < n; i++) {
    int s = slots[i];
    if (s < 0 || s >= kv->n_slots)
      return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d out of range (%d slots)", s, kv->n_slots);
    for (int j = 0; j < i; j++)
      if (slots[j] == s) return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d listed twice in one verify", s);
    if (counts[i] < 1 || counts[i] > d->R)
      return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d: verify of %d tokens (1..%d)", s, counts[i], d->R);
    if ((int64_t)kv->len[s] + counts[i] > kv->T_max)
      return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d holds %d of %d tokens; %d more do not fit", s,
                           kv->len[s], kv->T_max, counts[i]);
    skl_status st = check_tokens(d, tokens + rows, counts[i], "slot", s, err);
    if (st) return st;
    rows += counts[i];
  }
  /* sequences in runs of at most R rows (the scratch), each run one forward */
  size_t V = (size_t)d->m->cfg.vocab_size, C = (size_t)d->m->cfg.hidden_size;
  int i = 0, row = 0;
  while (i < n) {
    int nr = 0, i1 = i;
    int ng = 0;
    while (i1 < n && nr + counts[i1] <= d->R) {
      if (exact)
        for (int t = 0; t < counts[i1]; t++) {
          row_group g = {slots[i1], nr + t, kv->len[slots[i1]] + t, 1};
          d->groups[nr + t] = g;
        }
      else {
        row_group g = {slots[i1], nr, kv->len[slots[i1]], counts[i1]};
        d->groups[ng++] = g;
      }
      nr += counts[i1++];
    }
    float *lg = logits ? logits + (size_t)row * V : NULL, *hd = hidden ? hidden + (size_t)row * C : NULL;
    if (exact) step_rows(d, nr, tokens + row, lg, hd);
    else forward_rows(d, nr, tokens + row, ng, NULL, lg ? nr : 0, lg, hd);
    row += nr;
    i = i1;
  }
  return SKL_OK;
}

skl_status skl_decoder_truncate(skl_decoder *d, int slot, int len, skl_error *err) {
  skl_kv_cache *kv = &d->kv;
  if (slot < 0 || slot >= kv->n_slots)
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d out of range (%d slots)", slot, kv->n_slots);
  if (len < 0 || len > kv->len[slot])
    return skl_error_set(err, SKL_ERR_RANGE, "decoder: slot %d holds %d tokens; cannot truncate to %d", slot,
                         kv->len[slot], len);
  kv->len[slot] = len; /* rows past len are stale and get overwritten by the next append */
  return SKL_OK;
}
