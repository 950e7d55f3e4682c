/* skl mtp heads: parameter layout (one slab per head), tensor names, init,
 * gradients and the looped extension. Not the forward/backward (step.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtp/mtp.h"

void skl_mtp_loss_defaults(skl_mtp_loss_config *c) {
  c->alpha = 1.0;
  c->beta = 1.0;
  c->topn = 20;
  c->tau = 1.0;
}

skl_status skl_mtp_loss_check(const skl_mtp_loss_config *c, int vocab_size, skl_error *err) {
  if (!(c->alpha >= 0 && isfinite(c->alpha)))
    return skl_error_set(err, SKL_ERR_RANGE, "mtp loss: alpha %g must be >= 0", c->alpha);
  if (!(c->beta >= 0 && isfinite(c->beta)))
    return skl_error_set(err, SKL_ERR_RANGE, "mtp loss: beta %g must be >= 0", c->beta);
  if (c->alpha == 0 && c->beta == 0)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp loss: alpha and beta are both 0 (nothing to train)");
  int maxn = vocab_size < SKL_MTP_MAX_TOPN ? vocab_size : SKL_MTP_MAX_TOPN;
  if (c->topn < 1 || c->topn > maxn)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp loss: topn %d must be in [1, %d]", c->topn, maxn);
  if (!(c->tau > 0 && isfinite(c->tau)))
    return skl_error_set(err, SKL_ERR_RANGE, "mtp loss: tau %g must be > 0", c->tau);
  return SKL_OK;
}

/* Slice one head's slab (base may be NULL for sizing); @return floats. */
static size_t head_slice(const skl_model_config *c, float *base, skl_mtp_params *p) {
  size_t C = c->hidden_size, QD = (size_t)c->n_heads * c->head_dim,
         KD = (size_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, HD = c->head_dim;
  size_t off = 0;
  memset(p, 0, sizeof *p);
#define TAKE(field, n)                   \
  do {                                   \
    p->field = base ? base + off : NULL; \
    off += (n);                          \
  } while (0)
  TAKE(enorm, C);
  TAKE(hnorm, C);
  TAKE(eh_proj, C * 2 * C);
  TAKE(attn_norm, C);
  TAKE(wq, QD * C);
  if (c->qkv_bias) TAKE(bq, QD);
  TAKE(wk, KD * C);
  if (c->qkv_bias) TAKE(bk, KD);
  TAKE(wv, KD * C);
  if (c->qkv_bias) TAKE(bv, KD);
  if (c->qk_norm) {
    TAKE(q_norm, HD);
    TAKE(k_norm, HD);
  }
  TAKE(wo, C * QD);
  TAKE(mlp_norm, C);
  TAKE(w_gate, FF * C);
  TAKE(w_up, FF * C);
  TAKE(w_down, C * FF);
#undef TAKE
  return off;
}

size_t skl_mtp_head_floats(const skl_model_config *cfg) {
  skl_mtp_params p;
  return head_slice(cfg, NULL, &p);
}

static void add_tensor(skl_mtp_heads *h, int k, const float *field, int ndim, int64_t d0, int64_t d1,
                       bool decay, const char *suffix) {
  skl_tensor_info *t = &h->tensors[h->n_tensors++];
  snprintf(t->name, sizeof t->name, "mtp.%d.%s", k, suffix);
  t->ndim = ndim;
  t->shape[0] = d0;
  t->shape[1] = ndim > 1 ? d1 : 0;
  t->numel = (size_t)d0 * (ndim > 1 ? (size_t)d1 : 1);
  t->offset = (size_t)(field - h->param_mem);
  t->decay = decay;
}

static void build_table(skl_mtp_heads *h) {
  const skl_model_config *c = &h->cfg;
  int64_t C = c->hidden_size, QD = (int64_t)c->n_heads * c->head_dim,
          KD = (int64_t)c->n_kv_heads * c->head_dim, FF = c->intermediate_size, HD = c->head_dim;
  h->n_tensors = 0;
  for (int k = 1; k <= h->K; k++) {
    const skl_mtp_params *p = &h->p[k - 1];
    add_tensor(h, k, p->enorm, 1, C, 0, false, "enorm.weight");
    add_tensor(h, k, p->hnorm, 1, C, 0, false, "hnorm.weight");
    add_tensor(h, k, p->eh_proj, 2, C, 2 * C, true, "eh_proj.weight");
    add_tensor(h, k, p->attn_norm, 1, C, 0, false, "block.input_layernorm.weight");
    add_tensor(h, k, p->wq, 2, QD, C, true, "block.self_attn.q_proj.weight");
    if (p->bq) add_tensor(h, k, p->bq, 1, QD, 0, false, "block.self_attn.q_proj.bias");
    add_tensor(h, k, p->wk, 2, KD, C, true, "block.self_attn.k_proj.weight");
    if (p->bk) add_tensor(h, k, p->bk, 1, KD, 0, false, "block.self_attn.k_proj.bias");
    add_tensor(h, k, p->wv, 2, KD, C, true, "block.self_attn.v_proj.weight");
    if (p->bv) add_tensor(h, k, p->bv, 1, KD, 0, false, "block.self_attn.v_proj.bias");
    if (p->q_norm) {
      add_tensor(h, k, p->q_norm, 1, HD, 0, false, "block.self_attn.q_norm.weight");
      add_tensor(h, k, p->k_norm, 1, HD, 0, false, "block.self_attn.k_norm.weight");
    }
    add_tensor(h, k, p->wo, 2, C, QD, true, "block.self_attn.o_proj.weight");
    add_tensor(h, k, p->mlp_norm, 1, C, 0, false, "block.post_attention_layernorm.weight");
    add_tensor(h, k, p->w_gate, 2, FF, C, true, "block.mlp.gate_proj.weight");
    add_tensor(h, k, p->w_up, 2, FF, C, true, "block.mlp.up_proj.weight");
    add_tensor(h, k, p->w_down, 2, C, FF, true, "block.mlp.down_proj.weight");
  }
}

skl_status skl_mtp_init(skl_mtp_heads *h, const skl_model_config *cfg, int K, skl_error *err) {
  memset(h, 0, sizeof *h);
  if (K < 1 || K > SKL_MTP_MAX_HEADS)
    return skl_error_set(err, SKL_ERR_RANGE, "mtp: %d heads: must be in [1, %d]", K,
                         SKL_MTP_MAX_HEADS);
  skl_status st = skl_model_config_check(cfg, err);
  if (st) return st;
  h->cfg = *cfg;
  h->K = K;
  h->per_head = skl_mtp_head_floats(cfg);
  h->n_params = (size_t)K * h->per_head;
  h->param_mem = calloc(h->n_params, sizeof(float));
  h->tensors = calloc((size_t)K * 20, sizeof *h->tensors);
  h->inv_freq = calloc((size_t)cfg->head_dim / 2, sizeof(float));
  if (!h->param_mem || !h->tensors || !h->inv_freq) {
    skl_mtp_free(h);
    return skl_error_set(err, SKL_ERR_NOMEM, "mtp: cannot allocate %d heads (%.1f MiB)", K,
                         (double)K * skl_mtp_head_floats(cfg) * 4.0 / (1 << 20));
  }
  for (int k = 0; k < K; k++) head_slice(cfg, h->param_mem + (size_t)k * h->per_head, &h->p[k]);
  build_table(h);
  skl_rope_init(h->inv_freq, &h->rope_attn_factor, cfg);
  return SKL_OK;
}

void skl_mtp_free(skl_mtp_heads *h) {
  if (!h) return;
  free(h->param_mem);
  free(h->grad_mem);
  free(h->tensors);
  free(h->inv_freq);
  memset(h, 0, sizeof *h);
}

void skl_mtp_init_weights(skl_mtp_heads *h, skl_rng *rng, float std) {
  skl_tensors_init_weights(h->tensors, h->n_tensors, h->param_mem, rng, std);
}

skl_status skl_mtp_grads_alloc(skl_mtp_heads *h, skl_error *err) {
  if (h->grad_mem) return SKL_OK;
  h->grad_mem = calloc(h->n_params, sizeof(float));
  if (!h->grad_mem)
    return skl_error_set(err, SKL_ERR_NOMEM, "mtp: cannot allocate gradients (%.1f MiB)",
                         h->n_params * 4.0 / (1 << 20));
  for (int k = 0; k < h->K; k++)
    head_slice(&h->cfg, h->grad_mem + (size_t)k * h->per_head, &h->g[k]);
  return SKL_OK;
}

void skl_mtp_zero_grad(skl_mtp_heads *h) {
  if (h->grad_mem) memset(h->grad_mem, 0, h->n_params * sizeof(float));
}

const skl_tensor_info *skl_mtp_find_tensor(const skl_mtp_heads *h, const char *name) {
  for (int i = 0; i < h->n_tensors; i++)
    if (!strcmp(h->tensors[i].name, name)) return &h->tensors[i];
  return NULL;
}

skl_status skl_mtp_extend(skl_mtp_heads *dst, const skl_mtp_heads *src, int K2, skl_error *err) {
  memset(dst, 0, sizeof *dst);
  if (K2 <= src->K)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "mtp extend: --to %d must be larger than the current %d heads (extend adds "
                         "heads; train a new set with 'mtp train' to change the ones you have)",
                         K2, src->K);
  skl_status st = skl_mtp_init(dst, &src->cfg, K2, err);
  if (st) return st;
  memcpy(dst->param_mem, src->param_mem, src->n_params * sizeof(float));
  for (int k = src->K; k < K2; k++)
    memcpy(dst->param_mem + (size_t)k * dst->per_head,
           src->param_mem + (size_t)(src->K - 1) * src->per_head,
           src->per_head * sizeof(float));
  dst->n_frozen = src->K;
  return SKL_OK;
}
