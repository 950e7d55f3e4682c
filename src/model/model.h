/* skl model: a decoder-only transformer (llama, qwen2, qwen3) for training on
 * CPU: parameters, gradients, activations, forward and backward of a packed
 * batch. Not decoding (src/decode), not the optimizer (model/optim.h), not
 * file formats (model/checkpoint.h). */
#ifndef SKL_MODEL_H
#define SKL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "hf/hf_config.h"
#include "model/block.h"
#include "model/layers.h"

/* Parameters of the whole model. Each field is a slice of ONE allocation;
 * per-layer tensors are stacked [L, ...] and layer l's slice starts at
 * l * (per-layer size). Matrices are row-major exactly as Hugging Face
 * stores them (nn.Linear weight = [out, in]). Absent tensors (bias without
 * qkv_bias, q/k norm without qk_norm, lm_head when tied) are NULL.
 * The same struct type slices the gradients. */
typedef struct {
  float *embed;      /* [V, C]          model.embed_tokens.weight */
  float *attn_norm;  /* [L, C]          model.layers.{i}.input_layernorm.weight */
  float *wq;         /* [L, NH*HD, C]   model.layers.{i}.self_attn.q_proj.weight */
  float *bq;         /* [L, NH*HD]      model.layers.{i}.self_attn.q_proj.bias   (qkv_bias) */
  float *wk;         /* [L, NKV*HD, C]  model.layers.{i}.self_attn.k_proj.weight */
  float *bk;         /* [L, NKV*HD]     model.layers.{i}.self_attn.k_proj.bias   (qkv_bias) */
  float *wv;         /* [L, NKV*HD, C]  model.layers.{i}.self_attn.v_proj.weight */
  float *bv;         /* [L, NKV*HD]     model.layers.{i}.self_attn.v_proj.bias   (qkv_bias) */
  float *q_norm;     /* [L, HD]         model.layers.{i}.self_attn.q_norm.weight (qk_norm) */
  float *k_norm;     /* [L, HD]         model.layers.{i}.self_attn.k_norm.weight (qk_norm) */
  float *wo;         /* [L, C, NH*HD]   model.layers.{i}.self_attn.o_proj.weight */
  float *mlp_norm;   /* [L, C]          model.layers.{i}.post_attention_layernorm.weight */
  float *w_gate;     /* [L, FF, C]      model.layers.{i}.mlp.gate_proj.weight */
  float *w_up;       /* [L, FF, C]      model.layers.{i}.mlp.up_proj.weight */
  float *w_down;     /* [L, C, FF]      model.layers.{i}.mlp.down_proj.weight */
  float *final_norm; /* [C]             model.norm.weight */
  float *lm_head;    /* [V, C]          lm_head.weight (NULL when tie_embeddings) */
} skl_params;

/* Layer l's slices of p (weights) or g (gradients) as one block's
 * (block.h). */
skl_block_weights skl_params_block(const skl_model_config *c, const skl_params *p, int l);
skl_block_grads skl_params_block_grads(const skl_model_config *c, const skl_params *g, int l);

/* One named tensor of the parameter table (one entry per layer for stacked
 * fields). offset indexes the flat parameter array, so the same entry finds
 * the tensor in the gradients and in the optimizer moments. */
typedef struct {
  char name[96];    /* Hugging Face name, e.g. model.layers.3.mlp.up_proj.weight */
  int ndim;         /* 1 or 2 */
  int64_t shape[2];
  size_t offset;    /* into the flat array, floats */
  size_t numel;
  bool decay;       /* AdamW weight decay applies (2-D weights; not norms, biases) */
} skl_tensor_info;

typedef struct {
  skl_model_config cfg;
  size_t n_params;        /* floats in the flat array */
  float *param_mem;       /* [n_params] the one allocation */
  skl_params p;           /* slices of param_mem */
  float *grad_mem;        /* [n_params] or NULL until skl_model_grads_alloc */
  skl_params g;           /* slices of grad_mem (all NULL before) */
  skl_tensor_info *tensors; /* [n_tensors] in HF order (embed, layers, norm, lm_head) */
  int n_tensors;
  float *inv_freq;        /* [HD/2] RoPE inverse frequencies */
  float rope_attn_factor; /* yarn mscale (1 otherwise) */
} skl_model;

/* Check a config for what this engine supports (sizes > 0, NH % NKV == 0,
 * HD even, rope parameters sane). Errors name the config.json key. */
skl_status skl_model_config_check(const skl_model_config *cfg, skl_error *err);

/* Floats of the flat parameter array for cfg (pure). */
size_t skl_model_param_count(const skl_model_config *cfg);

/* Allocate parameters (zeroed) and the tensor table; no gradients.
 * @return SKL_OK, SKL_ERR_INVALID (bad config), SKL_ERR_NOMEM. */
skl_status skl_model_init(skl_model *m, const skl_model_config *cfg, skl_error *err);
void skl_model_free(skl_model *m); /* NULL and half-built ok */

/* Hugging Face initialisation: 2-D weights ~ normal(0, std) (std 0.02 in
 * HF), norms = 1, biases = 0. Deterministic in rng, independent of threads. */
void skl_model_init_weights(skl_model *m, skl_rng *rng, float std);
/* The same rule over any tensor table slicing `mem` (MTP heads use it). */
void skl_tensors_init_weights(const skl_tensor_info *tensors, int n, float *mem, skl_rng *rng, float std);

/* Allocate (zeroed) the gradient array. */
skl_status skl_model_grads_alloc(skl_model *m, skl_error *err);
void skl_model_zero_grad(skl_model *m);

/* @return the table entry named NAME, or NULL */
const skl_tensor_info *skl_model_find_tensor(const skl_model *m, const char *name);

/* ---- a batch ------------------------------------------------------------ */

/* B rows of T tokens. Packing: several documents may share a row; tokens
 * attend only to earlier tokens of the same row AND the same doc id, and RoPE
 * uses pos (restart it at each document start). */
typedef struct {
  int B, T;
  const int32_t *tokens;  /* [B, T] input ids in [0, V) */
  const int32_t *targets; /* [B, T] next-token ids; < 0: no loss here */
  const int32_t *pos;     /* [B, T] RoPE positions, or NULL: 0..T-1 in every row */
  const int32_t *doc;     /* [B, T] document ids, or NULL: one document per row */
  const float *mask;      /* [B, T] loss mask (0 = prompt), or NULL: all ones */
  const float *weight;    /* [B, T] per-token weights (policy gradient), or NULL */
  double loss_norm;       /* loss = sum(mask*weight*CE) / loss_norm; <= 0: the
                           * number of tokens with mask != 0 and target >= 0.
                           * Gradient accumulation: pass the total over all
                           * micro-batches so summed grads equal the big batch. */
  float logit_scale;      /* logits = (x @ W^T) * logit_scale, e.g. 1/temperature so
                           * log-probs match sampling at that temperature (as
                           * verl); 0 (unset) means 1. Gradients follow. */
} skl_batch;

/* ---- activations -------------------------------------------------------- */

/* Everything a step needs for batches up to (B, T), sized once by
 * skl_acts_init; a step allocates nothing. With recompute, only each layer's
 * input residual is kept [L+1, N, C] and the backward re-runs the layer's
 * forward into one layer of scratch, so memory is ~ (L+1)*N*C + one layer. */
typedef struct {
  int B, T, N;       /* capacity: N = B*T */
  bool recompute;
  int Ls;            /* layers of stored activations: L, or 1 with recompute */
  /* forward (per stored layer l: base + l * N * width) */
  float *x;          /* [L+1, N, C]  residual stream entering layer l; x[L] final */
  skl_block_acts blk; /* the layers' stored activations (block.h), every field
                      * [Ls, N, width]: slot s is skl_block_acts_at(&blk, cfg,
                      * s * N); blk.x and blk.out are unused (x above) */
  float *lnf;        /* [N, C]       model.norm output */
  float *lnf_rstd;   /* [N] */
  float *rope;       /* [N, HD/2, 2] cos/sin table of the batch */
  int32_t *pos;      /* [N] positions used (b->pos, or 0..T-1) */
  /* per-token results of the last forward */
  float *logp;       /* [N] log p(target) (0 where target < 0) */
  float *entropy;    /* [N] entropy of the predictive distribution */
  float *top1;       /* [N] 1 where the target is the argmax (0 where target < 0) */
  float *coef;       /* [N] mask*weight/loss_norm used by the loss */
  /* backward scratch (reused by every layer) */
  skl_block_dacts d;  /* [N, width] (block.h); d.dx: the residual stream's
                       * gradient (in place), d.dln: a norm output's;
                       * d.scratch = scratch */
  float *attn_work;  /* per-thread attention tiles (skl_attn_work_floats) for
                      * the OpenMP thread count at init */
  size_t attn_work_floats;
  float *scratch;    /* attention + cross-entropy scratch */
  size_t scratch_floats;
  float *mem;        /* the one allocation */
  size_t n_floats;
} skl_acts;

/* Size and allocate activations for up to B x T tokens. */
skl_status skl_acts_init(skl_acts *a, const skl_model_config *cfg, int B, int T, bool recompute,
                         skl_error *err);
void skl_acts_free(skl_acts *a); /* NULL ok */
/* Floats skl_acts_init would allocate (pure; for memory planning). */
size_t skl_acts_floats(const skl_model_config *cfg, int B, int T, bool recompute);

/* ---- the step ----------------------------------------------------------- */

typedef struct {
  double loss;      /* sum(coef * -logp) */
  double n_tokens;  /* tokens with a target and nonzero mask */
  double sum_logp;  /* over those tokens */
} skl_step_stats;

/* Forward of a batch that fits the activations (b->T <= a->T and
 * b->B * b->T <= a->B * a->T). Fills a->logp / a->entropy / a->coef and stats. If backward is
 * true, also runs the whole backward and ACCUMULATES into m->g (call
 * skl_model_zero_grad first; several calls accumulate micro-batches). The
 * output projection and cross-entropy run fused in chunks, so no [N, V]
 * logits exist.
 * @return SKL_OK, SKL_ERR_RANGE (token id outside [0, V), position out of
 *         range: message names row and column), SKL_ERR_STATE (no grads). */
skl_status skl_model_step(skl_model *m, skl_acts *a, const skl_batch *b, bool backward,
                          skl_step_stats *stats, skl_error *err);

/* For tests and small evaluations: runs the forward and writes
 * logits[B*T, V] for every token (caller allocates). Not used by training. */
skl_status skl_model_logits(skl_model *m, skl_acts *a, const skl_batch *b, float *logits,
                            skl_error *err);

/* Forward/backward FLOPs per token for T-token rows (matmuls 6*params-ish
 * plus causal attention), for MFU reporting. */
double skl_model_flops_per_token(const skl_model_config *cfg, int T, bool backward);


/* ---- shared-prefix group step (GRPO, DESIGN.md §1.3) --------------------- */

/* One prefix of P tokens shared by G suffixes. The step is EXACTLY (up to
 * float summation order) skl_model_step on G rows, row g = prefix ++ suffix
 * g at positions 0..P+len[g]-1, one document per row, with the same
 * mask/weight/loss_norm, but the prefix's forward and backward run once:
 * its keys/values serve every suffix and their gradients are summed over
 * the G suffixes. A prefix token's loss (if any) counts G times, as in the
 * G rows.
 *
 * GRPO use (prompt p[0..n-1], responses r_g[0..len_g-1]): the prediction of
 * r_g[0] comes from the prompt's last position, shared by G responses with
 * G different targets, so that position belongs to each suffix instead:
 *   prefix   = p[0..n-2]                        (P = n - 1, no targets)
 *   suffix g = p[n-1], r_g[0], ..., r_g[len-2]  (len[g] = len_g)
 *   targets  = r_g[0], ..., r_g[len-1]
 * which is exactly the packed row prompt+response minus its last token. */
typedef struct {
  int P;                          /* prefix tokens, >= 0 */
  const int32_t *prefix;          /* [P] input ids */
  const int32_t *prefix_targets;  /* [P] next-token ids (< 0: none), or NULL: the
                                   * prefix has no loss and its logits are skipped */
  const float *prefix_mask;       /* [P] or NULL: ones */
  const float *prefix_weight;     /* [P] or NULL: ones */
  int G;                          /* suffixes, >= 1 */
  int R;                          /* row stride of the suffix arrays (>= every len) */
  const int *len;                 /* [G] tokens of suffix g, 0..R */
  const int32_t *tokens;          /* [G, R] suffix input ids */
  const int32_t *targets;         /* [G, R] next-token ids; < 0: no loss */
  const float *mask;              /* [G, R] loss mask, or NULL: ones */
  const float *weight;            /* [G, R] per-token weights, or NULL: ones */
  double loss_norm;               /* as skl_batch: <= 0 counts the G rows' tokens */
  float logit_scale;              /* as skl_batch: logits * this (1/temperature); 0: 1 */
} skl_group_batch;

/* Activations of a group step, sized once for a prefix of up to P tokens
 * and up to G suffixes of up to R tokens: rows are laid out prefix first,
 * then the suffixes back to back (N = P + G*R rows at most). */
typedef struct {
  int P, G, R;        /* capacity */
  skl_acts a;         /* per-row activations, B = 1 row of T = N */
  int32_t *tokens;    /* [N] inputs of the last step, in row order */
  int32_t *targets;   /* [N] */
  int32_t *doc;       /* [G*R] suffix index of each suffix row (attention mask) */
  int *row0;          /* [G+1] first row of suffix g in the last step; row0[G] = rows used */
  float *part;        /* [G*R, NH*HD] suffix self-attention partial before the merge */
  float *part_lse;    /* [NH, G*R] */
  void *mem;          /* the one allocation besides a */
} skl_group_acts;

/* Size and allocate group activations (recompute as skl_acts_init).
 * @return SKL_OK, SKL_ERR_RANGE (P < 0, G < 1, R < 1), SKL_ERR_NOMEM. */
skl_status skl_group_acts_init(skl_group_acts *ga, const skl_model_config *cfg, int P, int G, int R,
                               bool recompute, skl_error *err);
void skl_group_acts_free(skl_group_acts *ga); /* NULL and half-built ok */

/* The group step: forward (and with backward, the whole backward,
 * ACCUMULATING into m->g) of one shared-prefix group that fits ga. Per-token
 * results land in ga->a.logp / ga->a.entropy / ga->a.coef by row: suffix g
 * token j at row ga->row0[g] + j, prefix token i at row i (logp and entropy
 * 0 there when prefix_targets is NULL). stats as skl_model_step over the G
 * rows. Allocates nothing; results do not depend on the thread count.
 * @return SKL_OK, SKL_ERR_RANGE (sizes over capacity, token or target id
 *         outside the vocabulary: message names prefix/suffix and column),
 *         SKL_ERR_INVALID (no targets), SKL_ERR_STATE (no grads). */
skl_status skl_group_step(skl_model *m, skl_group_acts *ga, const skl_group_batch *gb, bool backward,
                          skl_step_stats *stats, skl_error *err);

#endif
