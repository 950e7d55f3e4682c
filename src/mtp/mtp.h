/* skl mtp: DeepSeek-V3-style multi-token-prediction heads trained on a frozen
 * main model with CE + self-distillation (MTP-D): parameters, forward and
 * backward, loss, mtp.safetensors. Not the training driver (mtp/mtp_train.h)
 * and not speculative decoding (src/decode). */
#ifndef SKL_MTP_H
#define SKL_MTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "hf/safetensors.h"
#include "model/model.h"

#define SKL_MTP_MAX_HEADS 16
#define SKL_MTP_MAX_TOPN 256

/* Module k (1..K) at position i, for a row t_0 .. t_{len-1}:
 *   h^0_i      = main model's last residual x[L] (BEFORE model.norm: the
 *                DeepSeek-V3 paper's Fig. 3 takes it between the last block
 *                and the output head, whose norm is per-MTP-module there)
 *   u_i        = eh_proj @ [enorm(Emb(t_{i+k})) ; hnorm(h^{k-1}_i)]   (embedding
 *                first, as DeepSeek-V3's checkpoints order eh_proj's columns)
 *   h^k_i      = Block_k(u)_i   one causal decoder layer, the main model's type
 *   logits^k_i = wout @ model.norm(h^k_i)   (main model's norm and head, frozen)
 * and predicts t_{i+k+1}. Positions use RoPE position i. The embedding,
 * model.norm and the output head are the main model's and never trained here.
 *
 * Parameters of ONE head; each field a slice of the heads' one allocation
 * (head k's slab is contiguous). Names in mtp.safetensors (k is 1-based):
 *   mtp.{k}.enorm.weight [C], mtp.{k}.hnorm.weight [C],
 *   mtp.{k}.eh_proj.weight [C, 2C], and the block as the main model's layers:
 *   mtp.{k}.block.input_layernorm.weight, .self_attn.{q,k,v,o}_proj.weight
 *   (+ .bias for q/k/v with qkv_bias, .q_norm/.k_norm with qk_norm),
 *   .post_attention_layernorm.weight, .mlp.{gate,up,down}_proj.weight. */
typedef struct {
  float *enorm;     /* [C] */
  float *hnorm;     /* [C] */
  float *eh_proj;   /* [C, 2C] */
  float *attn_norm; /* [C] */
  float *wq;        /* [NH*HD, C] */
  float *bq;        /* [NH*HD]  (qkv_bias) */
  float *wk;        /* [NKV*HD, C] */
  float *bk;        /* [NKV*HD] (qkv_bias) */
  float *wv;        /* [NKV*HD, C] */
  float *bv;        /* [NKV*HD] (qkv_bias) */
  float *q_norm;    /* [HD] (qk_norm) */
  float *k_norm;    /* [HD] (qk_norm) */
  float *wo;        /* [C, NH*HD] */
  float *mlp_norm;  /* [C] */
  float *w_gate;    /* [FF, C] */
  float *w_up;      /* [FF, C] */
  float *w_down;    /* [C, FF] */
} skl_mtp_params;

typedef struct {
  skl_model_config cfg;     /* the main model's config (block sizes, eps, rope) */
  int K;                    /* heads */
  size_t per_head;          /* floats per head */
  size_t n_params;          /* K * per_head */
  float *param_mem;         /* [K, per_head] the one allocation */
  skl_mtp_params p[SKL_MTP_MAX_HEADS]; /* head k at p[k-1] */
  float *grad_mem;          /* [K, per_head] or NULL before skl_mtp_grads_alloc */
  skl_mtp_params g[SKL_MTP_MAX_HEADS];
  skl_tensor_info *tensors; /* [n_tensors] head 1's tensors, then head 2's ... */
  int n_tensors;
  int n_frozen;             /* heads 1..n_frozen get no gradient (extend); 0: none */
  float *inv_freq;          /* [HD/2] RoPE */
  float rope_attn_factor;
} skl_mtp_heads;

/* Loss of module k over its valid positions (i + k + 1 < len):
 *   loss_k = mean_i [ alpha * CE(t_{i+k+1} | head)
 *                   + beta * tau^2 * KL(p_T || softmax(z_k / tau)) ]
 * Teacher p_T: the main head's logits z_M at position i+k (its prediction of
 * the same token t_{i+k+1}), stop-gradient, restricted to the top-N indices S
 * of z_M and renormalised over S at temperature tau:
 *   p_T(j) = exp(z_M(j)/tau) / sum_{s in S} exp(z_M(s)/tau) for j in S, 0 else.
 * The student keeps its FULL-vocabulary softmax at tau, so mass the head puts
 * outside S is penalised (KL of the truncated teacher against the student is
 * sum_{j in S} p_T(j) (log p_T(j) - log q(j)) >= 0). tau^2 keeps the gradient
 * scale independent of tau (Hinton et al.). Total loss = sum_k loss_k. */
typedef struct {
  double alpha; /* CE weight; default 1 */
  double beta;  /* KL weight; default 1 (0: plain MTP, the --no-distill baseline) */
  int topn;     /* teacher support N; default 20 */
  double tau;   /* temperature; default 1 */
} skl_mtp_loss_config;

/* Defaults and why: alpha = beta = 1 weigh the true token and the teacher
 * equally (the teacher is what speculative decoding must match; the true
 * token keeps heads honest where the main model is wrong); tau = 1 because
 * acceptance is measured against the main model's untempered distribution;
 * N = 20 holds nearly all of a trained LM's mass while the teacher costs
 * only [T, N] per row (no [T, V] kept). */
void skl_mtp_loss_defaults(skl_mtp_loss_config *c);
/* @return SKL_OK or SKL_ERR_RANGE naming the field (alpha, beta >= 0, not
 *         both 0; 1 <= topn <= min(V, SKL_MTP_MAX_TOPN); tau > 0) */
skl_status skl_mtp_loss_check(const skl_mtp_loss_config *c, int vocab_size, skl_error *err);

/* Floats of one head for cfg (pure). */
size_t skl_mtp_head_floats(const skl_model_config *cfg);

/* Allocate K heads (zeroed) for a main model of config cfg.
 * @return SKL_OK, SKL_ERR_RANGE (K outside 1..SKL_MTP_MAX_HEADS),
 *         SKL_ERR_INVALID (config), SKL_ERR_NOMEM */
skl_status skl_mtp_init(skl_mtp_heads *h, const skl_model_config *cfg, int K, skl_error *err);
void skl_mtp_free(skl_mtp_heads *h); /* NULL and half-built ok */
/* HF-style init: 2-D ~ normal(0, std), norms 1, biases 0 (deterministic). */
void skl_mtp_init_weights(skl_mtp_heads *h, skl_rng *rng, float std);
skl_status skl_mtp_grads_alloc(skl_mtp_heads *h, skl_error *err);
void skl_mtp_zero_grad(skl_mtp_heads *h);
const skl_tensor_info *skl_mtp_find_tensor(const skl_mtp_heads *h, const char *name);

/* Looped extension: a new set of K2 > src->K heads whose heads 1..K are
 * src's and whose heads K+1..K2 are copies of src's LAST head (the one
 * already trained to read another head's output, so the loop repeats it);
 * dst->n_frozen = src->K.
 * @return SKL_OK, SKL_ERR_RANGE (K2 <= src->K: message says the current
 *         count), SKL_ERR_NOMEM */
skl_status skl_mtp_extend(skl_mtp_heads *dst, const skl_mtp_heads *src, int K2, skl_error *err);

/* ---- a batch and its activations ---------------------------------------- */

/* B rows of T tokens; row b's tokens are tokens[b*T .. b*T+len[b]) (the rest
 * is padding and ignored). No packing: one sequence per row, positions 0.. */
typedef struct {
  int B, T;
  const int32_t *tokens; /* [B, T] ids in [0, V) (padding may hold anything valid) */
  const int32_t *len;    /* [B] valid tokens per row, or NULL: all T */
} skl_mtp_batch;

/* Activations of K heads for up to B x T tokens, one allocation. */
typedef struct {
  int B, T, N, K;
  int topn;          /* teacher support of the current step (<= topn_cap) */
  int topn_cap;      /* capacity the activations were sized for */
  float *mem;
  size_t n_floats;
  /* inputs (per head kk = k-1: base + kk * N * width) */
  int32_t *tok;      /* [K, N]  t_{i+k} (0 past the row) */
  int32_t *tgt;      /* [K, N]  t_{i+k+1} or -1 */
  float *coef;       /* [K, N]  1/n_k where tgt >= 0 */
  int32_t *main_tgt; /* [N]     main model targets t_{i+1} or -1 */
  int32_t *top_idx;  /* [N, topn] teacher's top-N ids at each position */
  float *top_logit;  /* [N, topn] their logits */
  int32_t *s_argmax; /* [K, N]  head argmax (-1 where no target) */
  float *row_ce, *row_kl; /* [K, N] per-token terms (for deterministic sums) */
  float *rope;       /* [N, HD] */
  int32_t *pos;      /* [N] */
  /* forward, per head */
  float *emb, *en, *en_rstd, *hn, *hn_rstd; /* [K, N, C] ([K, N] for rstd) */
  float *x;          /* [K, N, C]  block input u */
  skl_block_acts blk; /* the heads' blocks (model/block.h), every field
                      * [K, N, width]: head kk's is skl_block_acts_at(&blk,
                      * cfg, kk * N); blk.x = x, blk.out = out, blk.rope = rope */
  float *out;        /* [K, N, C]  h^k */
  float *lnf, *lnf_rstd; /* [K, N, C], [K, N] model.norm of h^k */
  /* backward */
  float *dout;       /* [K, N, C]  dL/dh^k */
  skl_block_dacts d; /* [N, width], reused by every head (d.dx, d.dln also by
                      * the input and loss); d.scratch = scratch */
  float *dtmp;       /* [N, C] */
  float *logits;     /* [chunk, V] */
  float *scratch;    /* attention scratch */
} skl_mtp_acts;

skl_status skl_mtp_acts_init(skl_mtp_acts *a, const skl_model_config *cfg, int K, int B, int T,
                             int topn, skl_error *err);
void skl_mtp_acts_free(skl_mtp_acts *a); /* NULL ok */

typedef struct {
  double loss;                        /* sum_k loss_k */
  double ce[SKL_MTP_MAX_HEADS];       /* mean CE of head k (index k-1) */
  double kl[SKL_MTP_MAX_HEADS];       /* mean KL (tau^2 not applied); 0 if beta = 0 */
  double n[SKL_MTP_MAX_HEADS];        /* positions with a target */
  double agree[SKL_MTP_MAX_HEADS];    /* positions where argmax head == argmax main at i+k */
  double correct[SKL_MTP_MAX_HEADS];  /* positions where argmax head == t_{i+k+1} */
} skl_mtp_stats;

/* One step: the main model m (frozen; its grads are never touched) runs its
 * forward on the batch into ma (sized for the same B, T), the teacher's
 * top-N is taken from its logits, then the heads' forward and loss; with
 * backward, the heads' gradients ACCUMULATE into h->g (heads n_frozen+1..K
 * only; gradients flow from head k into heads < k through h^{k-1}).
 * Stats are filled for every head (the acceptance proxy comes from agree/n).
 * @return SKL_OK, SKL_ERR_RANGE (batch shape, token id: row/column named),
 *         SKL_ERR_STATE (backward without gradients), or the model's error. */
skl_status skl_mtp_step(skl_mtp_heads *h, skl_model *m, skl_acts *ma, skl_mtp_acts *a,
                        const skl_mtp_batch *b, const skl_mtp_loss_config *lc, bool backward,
                        skl_mtp_stats *st, skl_error *err);

/* ---- incremental rows (speculative drafting) ---------------------------- */

/* Scratch for one head's forward over up to R new rows, when the caller
 * keeps the block's keys/values in its own cache (src/decode/spec.c). The
 * caller's attention runs inside the block as its callback:
 *   skl_block_attn at = {my_attention, NULL, &my_ctx};   // reads a->q, a->k, a->v
 *   skl_mtp_rows_forward(h, k, embed, n, tok, hprev, pos, r, out, &at);
 * where my_attention appends a->k, a->v to the cache and writes
 * a->att[n, NH*HD]. The block is skl_mtp_step's (model/block.h), so rows
 * computed this way equal a full forward over the same sequence up to
 * float summation order. */
typedef struct {
  int R;              /* row capacity */
  float *mem;         /* the one allocation */
  float *emb, *en, *hn, *x; /* [R, C] */
  float *rope;        /* [R, HD] */
  skl_block_acts blk; /* the block's buffers (model/block.h), [R, width] (no
                       * rstd, no lse); blk.x = x, blk.rope = rope */
} skl_mtp_rows;

/* @return SKL_OK, SKL_ERR_RANGE (R < 1), SKL_ERR_NOMEM */
skl_status skl_mtp_rows_init(skl_mtp_rows *r, const skl_model_config *cfg, int R, skl_error *err);
void skl_mtp_rows_free(skl_mtp_rows *r); /* NULL ok */

/* Head k (1-based) on n <= r->R rows: row i reads token tok[i] (t_{pos+k}),
 * the previous depth's hidden hprev[i, C] (h^{k-1}) and RoPE position
 * pos[i]; out[n, C] = h^k of the rows (before model.norm; out may not
 * alias r's buffers). embed is the main model's embedding [V, C]; attn
 * (forward only) attends the rows' q (r->blk.q) over the caller's K/V
 * into r->blk.att, the rows' own k, v in r->blk.k, r->blk.v. */
void skl_mtp_rows_forward(const skl_mtp_heads *h, int k, const float *embed, int n,
                          const int32_t *tok, const float *hprev, const int32_t *pos,
                          skl_mtp_rows *r, float *out, const skl_block_attn *attn);

/* ---- files --------------------------------------------------------------- */

/* Write DIR/mtp.safetensors (every head tensor, dtype F32 or BF16, metadata
 * n_mtp_heads). config.json's num_nextn_predict_layers is the caller's
 * (skl_mtp_save_model writes both). */
skl_status skl_mtp_save(const skl_mtp_heads *h, const char *dir, skl_dtype dtype, skl_error *err);

/* Load the heads stored in DIR for main config cfg: K = cfg->n_mtp_heads
 * (config.json num_nextn_predict_layers). DIR/mtp.safetensors must hold
 * exactly heads 1..K with the shapes of cfg.
 * @return SKL_OK; SKL_ERR_NOTFOUND (K = 0: "no MTP heads", or the file is
 *         missing); SKL_ERR_INVALID (count/shape mismatch naming the tensor,
 *         both counts and the fix). */
skl_status skl_mtp_load(skl_mtp_heads *h, const char *dir, const skl_model_config *cfg,
                        skl_error *err);

/* Write a full model directory: mtp.safetensors (dtype) first, then the
 * main model (config.json with num_nextn_predict_layers = h->K,
 * model.safetensors always F32 so the frozen model is copied losslessly,
 * tokenizer.json copied from tokenizer_json when non-NULL). */
skl_status skl_mtp_save_model(const skl_model *m, const skl_mtp_heads *h, const char *dir,
                              skl_dtype dtype, const char *tokenizer_json, skl_error *err);

/* Update a model directory in place: mtp.safetensors, then config.json
 * (cfg, as loaded from DIR, with num_nextn_predict_layers = h->K); the main
 * weights and tokenizer are not rewritten. */
skl_status skl_mtp_save_into(const skl_mtp_heads *h, const char *dir, const skl_model_config *cfg,
                             skl_dtype dtype, skl_error *err);

#endif
