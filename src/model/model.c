/* skl model: parameter layout and tensor table, activations, and the
 * forward/backward of a packed batch. Not the optimizer nor checkpoints. */
#include "model/model.h"
#include "model/model_internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config ------------------------------------------------------------- */

skl_status skl_model_config_check(const skl_model_config *c, skl_error *err) {
#define NEED(cond, key, ...)                                                               \
  do {                                                                                     \
    if (!(cond)) return skl_error_set(err, SKL_ERR_INVALID, "model config: " key ": " __VA_ARGS__); \
  } while (0)
  NEED(c->vocab_size > 0, "vocab_size", "must be > 0 (got %d)", c->vocab_size);
  NEED(c->hidden_size > 0, "hidden_size", "must be > 0 (got %d)", c->hidden_size);
  NEED(c->n_layers > 0, "num_hidden_layers", "must be > 0 (got %d)", c->n_layers);
  NEED(c->n_heads > 0, "num_attention_heads", "must be > 0 (got %d)", c->n_heads);
  NEED(c->n_kv_heads > 0 && c->n_heads % c->n_kv_heads == 0, "num_key_value_heads",
       "%d must be > 0 and divide num_attention_heads %d", c->n_kv_heads, c->n_heads);
  NEED(c->head_dim > 0 && c->head_dim % 2 == 0 && c->head_dim <= 256, "head_dim",
       "%d must be even and in [2, 256]", c->head_dim);
  NEED(c->intermediate_size > 0, "intermediate_size", "must be > 0 (got %d)", c->intermediate_size);
  NEED(c->rms_eps > 0 && isfinite(c->rms_eps), "rms_norm_eps", "must be > 0");
  NEED(c->rope_theta > 1 && isfinite(c->rope_theta), "rope_theta", "must be > 1 (got %g)",
       (double)c->rope_theta);
  if (c->rope_type != SKL_ROPE_DEFAULT)
    NEED(c->rope_factor > 0 && isfinite(c->rope_factor), "rope_scaling.factor",
         "must be > 0 for rope_type %d", (int)c->rope_type);
  if (c->rope_type == SKL_ROPE_LLAMA3) {
    NEED(c->rope_orig_max_position > 0, "rope_scaling.original_max_position_embeddings",
         "required for llama3 rope scaling");
    NEED(c->rope_high_freq_factor > c->rope_low_freq_factor && c->rope_low_freq_factor > 0,
         "rope_scaling.high_freq_factor", "must exceed low_freq_factor > 0");
  }
  /* Upper bounds before any size arithmetic (param count, tensor table). */
  skl_status s = skl_hf_config_check_sizes(c, err);
  if (s) return skl_error_prefix(err, "model config");
  if (c->o_bias || c->mlp_bias)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED,
                         "model config: %s: biases on o_proj/MLP are not supported by skillrl's "
                         "engine (set it to false)", c->o_bias ? "attention_bias (o_proj)" : "mlp_bias");
  return SKL_OK;
#undef NEED
}

/* ---- parameter layout --------------------------------------------------- */

/* Slice base (may be NULL for sizing) into p; @return floats used. */
static size_t params_slice(const skl_model_config *c, float *base, skl_params *p) {
  size_t V = c->vocab_size, C = c->hidden_size, L = c->n_layers, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, HD = c->head_dim;
  size_t off = 0;
  memset(p, 0, sizeof *p);
#define TAKE(field, n)                               \
  do {                                               \
    p->field = base ? base + off : NULL;             \
    off += (n);                                      \
  } while (0)
  TAKE(embed, V * C);
  TAKE(attn_norm, L * C);
  TAKE(wq, L * QD * C);
  if (c->qkv_bias) TAKE(bq, L * QD);
  TAKE(wk, L * KD * C);
  if (c->qkv_bias) TAKE(bk, L * KD);
  TAKE(wv, L * KD * C);
  if (c->qkv_bias) TAKE(bv, L * KD);
  if (c->qk_norm) {
    TAKE(q_norm, L * HD);
    TAKE(k_norm, L * HD);
  }
  TAKE(wo, L * C * QD);
  TAKE(mlp_norm, L * C);
  TAKE(w_gate, L * FF * C);
  TAKE(w_up, L * FF * C);
  TAKE(w_down, L * C * FF);
  TAKE(final_norm, C);
  if (!c->tie_embeddings) TAKE(lm_head, V * C);
#undef TAKE
  return off;
}

/* skl_params' per-layer fields with their floats per layer (sizes C, QD,
 * KD, FF, HD in scope), for the block views below. */
#define LAYER_FIELDS(X)                                                                       \
  X(attn_norm, C) X(wq, QD * C) X(bq, QD) X(wk, KD * C) X(bk, KD) X(wv, KD * C) X(bv, KD)    \
  X(q_norm, HD) X(k_norm, HD) X(wo, C * QD) X(mlp_norm, C) X(w_gate, FF * C) X(w_up, FF * C) \
  X(w_down, C * FF)

skl_block_weights skl_params_block(const skl_model_config *c, const skl_params *p, int l) {
  size_t C = c->hidden_size, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, HD = c->head_dim;
  skl_block_weights w;
#define X(f, n) w.f = p->f ? p->f + (size_t)l * (n) : NULL;
  LAYER_FIELDS(X)
#undef X
  return w;
}

skl_block_grads skl_params_block_grads(const skl_model_config *c, const skl_params *g, int l) {
  size_t C = c->hidden_size, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, HD = c->head_dim;
  skl_block_grads w;
#define X(f, n) w.f = g->f ? g->f + (size_t)l * (n) : NULL;
  LAYER_FIELDS(X)
#undef X
  return w;
}

size_t skl_model_param_count(const skl_model_config *cfg) {
  skl_params p;
  return params_slice(cfg, NULL, &p);
}

static void add_tensor(skl_model *m, const float *field, size_t per, int ndim, int64_t d0,
                       int64_t d1, bool decay, int layer, const char *fmt) {
  skl_tensor_info *t = &m->tensors[m->n_tensors++];
  if (layer >= 0) snprintf(t->name, sizeof t->name, fmt, layer);
  else snprintf(t->name, sizeof t->name, "%s", fmt);
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = ndim > 1 ? d1 : 0;
  t->numel = (size_t)d0 * (ndim > 1 ? (size_t)d1 : 1);
  t->offset = (size_t)(field - m->param_mem) + (layer >= 0 ? (size_t)layer * per : 0);
  t->decay = decay;
}

static void build_table(skl_model *m) {
  const skl_model_config *c = &m->cfg;
  int64_t V = c->vocab_size, C = c->hidden_size, QD = (int64_t)c->n_heads * c->head_dim,
          KD = (int64_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, HD = c->head_dim;
  const skl_params *p = &m->p;
  m->n_tensors = 0;
  add_tensor(m, p->embed, 0, 2, V, C, true, -1, "model.embed_tokens.weight");
  for (int l = 0; l < c->n_layers; l++) {
    add_tensor(m, p->attn_norm, C, 1, C, 0, false, l, "model.layers.%d.input_layernorm.weight");
    add_tensor(m, p->wq, QD * C, 2, QD, C, true, l, "model.layers.%d.self_attn.q_proj.weight");
    if (p->bq) add_tensor(m, p->bq, QD, 1, QD, 0, false, l, "model.layers.%d.self_attn.q_proj.bias");
    add_tensor(m, p->wk, KD * C, 2, KD, C, true, l, "model.layers.%d.self_attn.k_proj.weight");
    if (p->bk) add_tensor(m, p->bk, KD, 1, KD, 0, false, l, "model.layers.%d.self_attn.k_proj.bias");
    add_tensor(m, p->wv, KD * C, 2, KD, C, true, l, "model.layers.%d.self_attn.v_proj.weight");
    if (p->bv) add_tensor(m, p->bv, KD, 1, KD, 0, false, l, "model.layers.%d.self_attn.v_proj.bias");
    if (p->q_norm) {
      add_tensor(m, p->q_norm, HD, 1, HD, 0, false, l, "model.layers.%d.self_attn.q_norm.weight");
      add_tensor(m, p->k_norm, HD, 1, HD, 0, false, l, "model.layers.%d.self_attn.k_norm.weight");
    }
    add_tensor(m, p->wo, C * QD, 2, C, QD, true, l, "model.layers.%d.self_attn.o_proj.weight");
    add_tensor(m, p->mlp_norm, C, 1, C, 0, false, l,
               "model.layers.%d.post_attention_layernorm.weight");
    add_tensor(m, p->w_gate, FF * C, 2, FF, C, true, l, "model.layers.%d.mlp.gate_proj.weight");
    add_tensor(m, p->w_up, FF * C, 2, FF, C, true, l, "model.layers.%d.mlp.up_proj.weight");
    add_tensor(m, p->w_down, C * FF, 2, C, FF, true, l, "model.layers.%d.mlp.down_proj.weight");
  }
  add_tensor(m, p->final_norm, 0, 1, C, 0, false, -1, "model.norm.weight");
  if (p->lm_head) add_tensor(m, p->lm_head, 0, 2, V, C, true, -1, "lm_head.weight");
}

skl_status skl_model_init(skl_model *m, const skl_model_config *cfg, skl_error *err) {
  memset(m, 0, sizeof *m);
  skl_status st = skl_model_config_check(cfg, err);
  if (st) return st;
  m->cfg = *cfg;
  m->n_params = skl_model_param_count(cfg);
  m->param_mem = calloc(m->n_params, sizeof(float));
  size_t max_tensors = 3 + 14 * (size_t)cfg->n_layers; /* embed, norm, lm_head; 14 per layer at most */
  m->tensors = calloc(max_tensors, sizeof *m->tensors);
  m->inv_freq = calloc((size_t)cfg->head_dim / 2, sizeof(float));
  if (!m->param_mem || !m->tensors || !m->inv_freq) {
    skl_model_free(m);
    return skl_error_set(err, SKL_ERR_NOMEM, "model: cannot allocate %zu parameters (%.1f MiB)",
                         (size_t)skl_model_param_count(cfg),
                         skl_model_param_count(cfg) * 4.0 / (1 << 20));
  }
  params_slice(cfg, m->param_mem, &m->p);
  build_table(m);
  skl_rope_init(m->inv_freq, &m->rope_attn_factor, cfg);
  return SKL_OK;
}

void skl_model_free(skl_model *m) {
  if (!m) return;
  free(m->param_mem);
  free(m->grad_mem);
  free(m->tensors);
  free(m->inv_freq);
  memset(m, 0, sizeof *m);
}

void skl_tensors_init_weights(const skl_tensor_info *tensors, int n, float *mem, skl_rng *rng, float std) {
  for (int i = 0; i < n; i++) {
    const skl_tensor_info *t = &tensors[i];
    float *d = mem + t->offset;
    bool is_norm = strstr(t->name, "norm") != NULL;
    for (size_t j = 0; j < t->numel; j++)
      d[j] = t->ndim == 2 ? (float)(skl_rng_normal(rng) * std) : is_norm ? 1.0f : 0.0f;
  }
}

void skl_model_init_weights(skl_model *m, skl_rng *rng, float std) {
  skl_tensors_init_weights(m->tensors, m->n_tensors, m->param_mem, rng, std);
}

skl_status skl_model_grads_alloc(skl_model *m, skl_error *err) {
  if (m->grad_mem) return SKL_OK;
  m->grad_mem = calloc(m->n_params, sizeof(float));
  if (!m->grad_mem)
    return skl_error_set(err, SKL_ERR_NOMEM, "model: cannot allocate gradients (%.1f MiB)",
                         m->n_params * 4.0 / (1 << 20));
  params_slice(&m->cfg, m->grad_mem, &m->g);
  return SKL_OK;
}

void skl_model_zero_grad(skl_model *m) {
  if (m->grad_mem) memset(m->grad_mem, 0, m->n_params * sizeof(float));
}

const skl_tensor_info *skl_model_find_tensor(const skl_model *m, const char *name) {
  for (int i = 0; i < m->n_tensors; i++)
    if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
  return NULL;
}

/* ---- activations -------------------------------------------------------- */

static size_t acts_slice(const skl_model_config *c, int B, int T, bool recompute, float *base,
                         skl_acts *a) {
  size_t N = (size_t)B * T, C = c->hidden_size, L = c->n_layers, NH = c->n_heads,
         HD = c->head_dim;
  size_t Ls = recompute ? 1 : L, off = 0;
  a->B = B;
  a->T = T;
  a->N = (int)N;
  a->recompute = recompute;
  a->Ls = (int)Ls;
#define TAKE(field, n)                                     \
  do {                                                     \
    a->field = base ? (void *)(base + off) : NULL;         \
    off += (n);                                            \
    off = (off + 15) & ~(size_t)15; /* 64-byte aligned */  \
  } while (0)
  TAKE(x, (L + 1) * N * C);
  off = skl_block_acts_slice(c, Ls * N, true, base, off, &a->blk);
  TAKE(lnf, N * C);
  TAKE(lnf_rstd, N);
  TAKE(rope, N * HD);
  TAKE(pos, N);
  TAKE(logp, N);
  TAKE(entropy, N);
  TAKE(top1, N);
  TAKE(coef, N);
  off = skl_block_dacts_slice(c, N, base, off, &a->d);
  a->attn_work_floats = skl_attn_work_floats(omp_get_max_threads());
  TAKE(attn_work, a->attn_work_floats);
  size_t sa = NH * (size_t)T, sc = skl_ce_scratch_floats(c->vocab_size, c->hidden_size);
  a->scratch_floats = sa > sc ? sa : sc;
  TAKE(scratch, a->scratch_floats);
#undef TAKE
  a->blk.x = a->blk.out = NULL;
  a->blk.rope = a->rope;
  a->d.scratch = a->scratch;
  return off;
}

size_t skl_acts_floats(const skl_model_config *cfg, int B, int T, bool recompute) {
  skl_acts a;
  return acts_slice(cfg, B, T, recompute, NULL, &a);
}

skl_status skl_acts_init(skl_acts *a, const skl_model_config *cfg, int B, int T, bool recompute,
                         skl_error *err) {
  memset(a, 0, sizeof *a);
  if (B <= 0 || T <= 0)
    return skl_error_set(err, SKL_ERR_RANGE, "activations: batch %d x %d must be positive", B, T);
  size_t n = skl_acts_floats(cfg, B, T, recompute);
  float *mem = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
  if (!mem)
    return skl_error_set(err, SKL_ERR_NOMEM,
                         "activations: cannot allocate %.1f MiB for B=%d T=%d%s", n * 4.0 / (1 << 20),
                         B, T, recompute ? "" : " (try activation recomputation)");
  acts_slice(cfg, B, T, recompute, mem, a);
  a->mem = mem;
  a->n_floats = n;
  return SKL_OK;
}

void skl_acts_free(skl_acts *a) {
  if (!a) return;
  free(a->mem);
  memset(a, 0, sizeof *a);
}

/* ---- forward / backward ------------------------------------------------- */

typedef struct {
  int B, T, N;
  const int32_t *doc; /* [N] or NULL */
} run_shape;

/* The packed batch's attention: each row causal, within its documents. */
static skl_attn_plan batch_plan(const skl_model_config *c, const skl_acts *a, const run_shape *r) {
  skl_attn_plan p = {0};
  skl_attn_call *k = &p.call[p.n++];
  k->s = skl_attn_shape_of(c);
  k->s.work = a->attn_work;
  k->s.work_floats = a->attn_work_floats;
  k->s.Tq = k->s.Tk = r->T;
  k->s.q_doc = k->s.k_doc = r->doc;
  k->reps = r->B;
  k->stride = r->T;
  return p;
}

static skl_status prepare(skl_model *m, skl_acts *a, const skl_batch *b, run_shape *r,
                          skl_error *err) {
  const skl_model_config *c = &m->cfg;
  if (b->B <= 0 || b->T <= 0 || (size_t)b->B * b->T > (size_t)a->N || b->T > a->T)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "batch %d x %d does not fit activations sized for %d x %d", b->B, b->T,
                         a->B, a->T);
  r->B = b->B;
  r->T = b->T;
  r->N = b->B * b->T;
  r->doc = b->doc;
  for (int n = 0; n < r->N; n++) {
    int32_t t = b->tokens[n], y = b->targets ? b->targets[n] : -1;
    if (t < 0 || t >= c->vocab_size)
      return skl_error_set(err, SKL_ERR_RANGE,
                           "batch row %d column %d: token id %d outside the vocabulary [0, %d)",
                           n / b->T, n % b->T, t, c->vocab_size);
    if (y >= c->vocab_size)
      return skl_error_set(err, SKL_ERR_RANGE,
                           "batch row %d column %d: target id %d outside the vocabulary [0, %d)",
                           n / b->T, n % b->T, y, c->vocab_size);
    int32_t ps = b->pos ? b->pos[n] : n % b->T;
    if (ps < 0)
      return skl_error_set(err, SKL_ERR_RANGE, "batch row %d column %d: negative position %d",
                           n / b->T, n % b->T, ps);
    a->pos[n] = ps;
  }
  skl_rope_table(a->rope, a->pos, r->N, m->inv_freq, m->rope_attn_factor, c->head_dim);
  return SKL_OK;
}

skl_status skl_model_step(skl_model *m, skl_acts *a, const skl_batch *b, bool backward,
                          skl_step_stats *stats, skl_error *err) {
  const skl_model_config *c = &m->cfg;
  if (backward && !m->grad_mem)
    return skl_error_set(err, SKL_ERR_STATE, "model step: backward requested but no gradients "
                                             "(call skl_model_grads_alloc)");
  if (!b->targets)
    return skl_error_set(err, SKL_ERR_INVALID, "model step: batch has no targets");
  run_shape r = {0};
  skl_status st = prepare(m, a, b, &r, err);
  if (st) return st;
  int N = r.N;
  /* per-token loss coefficients */
  double cnt = 0.0;
  for (int n = 0; n < N; n++) {
    float mk = b->mask ? b->mask[n] : 1.0f;
    if (b->targets[n] >= 0 && mk != 0.0f) cnt += 1.0;
  }
  double norm = b->loss_norm > 0 ? b->loss_norm : (cnt > 0 ? cnt : 1.0);
  for (int n = 0; n < N; n++) {
    float mk = b->mask ? b->mask[n] : 1.0f, w = b->weight ? b->weight[n] : 1.0f;
    a->coef[n] = b->targets[n] >= 0 ? (float)(mk * w / norm) : 0.0f;
  }
  skl_attn_plan ap = batch_plan(c, a, &r);
  skl_stack_forward(m, a, b->tokens, N, &ap);
  double loss = skl_stack_head(m, a, b->targets, N, 0, b->logit_scale, backward);
  if (stats) {
    stats->loss = loss;
    stats->n_tokens = cnt;
    double sl = 0.0;
    for (int n = 0; n < N; n++) {
      float mk = b->mask ? b->mask[n] : 1.0f;
      if (b->targets[n] >= 0 && mk != 0.0f) sl += a->logp[n];
    }
    stats->sum_logp = sl;
  }
  if (backward) skl_stack_backward(m, a, b->tokens, N, &ap);
  return SKL_OK;
}

skl_status skl_model_logits(skl_model *m, skl_acts *a, const skl_batch *b, float *logits,
                            skl_error *err) {
  run_shape r = {0};
  skl_status st = prepare(m, a, b, &r, err);
  if (st) return st;
  skl_attn_plan ap = batch_plan(&m->cfg, a, &r);
  skl_stack_forward(m, a, b->tokens, r.N, &ap);
  const float *wout = m->p.lm_head ? m->p.lm_head : m->p.embed;
  skl_linear_forward(logits, a->lnf, wout, NULL, r.N, m->cfg.hidden_size, m->cfg.vocab_size);
  if (b->logit_scale != 0.0f && b->logit_scale != 1.0f)
    for (size_t i = 0; i < (size_t)r.N * m->cfg.vocab_size; i++) logits[i] *= b->logit_scale;
  return SKL_OK;
}

double skl_model_flops_per_token(const skl_model_config *c, int T, bool backward) {
  double C = c->hidden_size, QD = (double)c->n_heads * c->head_dim,
         KD = (double)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, V = c->vocab_size;
  double mat = c->n_layers * (C * QD + 2 * C * KD + QD * C + 3 * C * FF) + V * C;
  double attn = c->n_layers * 2.0 * QD * T; /* QK^T and PV, causal half: 2*2*QD*T/2 */
  double fwd = 2.0 * mat + attn;
  return backward ? 3.0 * fwd : fwd;
}
