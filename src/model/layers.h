/* skl layers: the decoder's building blocks as free forward/backward
 * functions on caller-owned buffers (llm.c style). Not a model: no state. */
#ifndef SKL_MODEL_LAYERS_H
#define SKL_MODEL_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hf/hf_config.h"

/* Conventions. N = number of token rows (B*T). Every backward ACCUMULATES
 * (+=) into the gradients of its inputs and parameters, so callers zero them
 * once; outputs of forwards are overwritten. All functions are thread-safe on
 * distinct buffers and use OpenMP / OpenBLAS internally. */

/* ---- embedding ---------------------------------------------------------- */

/* out[N, C] = wte[tokens[n], :]. Token ids must be in [0, V) (checked by the
 * model before the call). */
void skl_embed_forward(float *out, const int32_t *tokens, const float *wte, int N, int C);
/* dwte[V, C] += scatter of dout[N, C] by token (deterministic order). */
void skl_embed_backward(float *dwte, const float *dout, const int32_t *tokens, int N, int C);

/* ---- RMSNorm ------------------------------------------------------------ */

/* out[N, C] = inp / sqrt(mean(inp^2) + eps) * w[C]; rstd[N] saved for the
 * backward (may be NULL when no backward follows). out may equal inp. */
void skl_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C,
                         float eps);
/* dinp[N, C] +=, dw[C] += (dw may be NULL: frozen). Needs the forward's inp
 * and rstd. */
void skl_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, int N, int C);

/* ---- linear (OpenBLAS sgemm) -------------------------------------------- */

/* out[N, OC] = inp[N, IC] @ w[OC, IC]^T + bias[OC] (bias may be NULL).
 * w row-major as Hugging Face stores nn.Linear weights. */
void skl_linear_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                        int IC, int OC);
/* dinp[N, IC] += dout @ w; dw[OC, IC] += dout^T @ inp; dbias[OC] += sum_n dout.
 * Any of dinp, dw, dbias may be NULL (not needed / frozen). */
void skl_linear_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                         const float *w, int N, int IC, int OC);

/* ---- SwiGLU ------------------------------------------------------------- */

/* out[N, FF] = silu(gate) * up */
void skl_swiglu_forward(float *out, const float *gate, const float *up, size_t n);
/* dgate += dout * up * silu'(gate); dup += dout * silu(gate) */
void skl_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, size_t n);

/* ---- RoPE --------------------------------------------------------------- */

/* Inverse frequencies and attention scaling for a config, exactly as
 * transformers' ROPE_INIT_FUNCTIONS (default, linear, llama3, yarn).
 * inv_freq[HD/2]; *attn_factor multiplies cos and sin (yarn mscale, else 1). */
void skl_rope_init(float *inv_freq, float *attn_factor, const skl_model_config *cfg);

/* Table for N tokens at positions pos[N]: cs[N, HD/2, 2] = (cos, sin) of
 * pos * inv_freq (computed in float as torch does), times attn_factor. */
void skl_rope_table(float *cs, const int32_t *pos, int N, const float *inv_freq, float attn_factor,
                    int HD);
/* In-place rotation of x[N, H, HD] (row stride `stride` floats between tokens)
 * with HF's rotate_half convention: first half paired with second half. */
void skl_rope_forward(float *x, const float *cs, int N, int H, int HD, size_t stride);
/* In-place backward: dx = R^T dout (same layout as the forward). */
void skl_rope_backward(float *dx, const float *cs, int N, int H, int HD, size_t stride);

/* ---- attention (flash-style, memory linear in T) ------------------------ */

/* One call computes attention of Tq query rows against Tk key/value rows.
 * Masking is by explicit ORDER and DOCUMENT, so the caller chooses the K/V
 * range:
 *   query i (0 <= i < Tq) sees key j (0 <= j < Tk) iff
 *     k_off + j <= q_off + i            (causal in the shared order)
 *     and (q_doc == NULL || q_doc[i] == k_doc[j])   (packing)
 * Plain causal self-attention of one row: q_off = k_off = 0, Tq = Tk = T.
 *
 * Shared-prefix group step (issue 5, GRPO): one prompt of length P and G
 * responses. Run the prompt once as a row (self-attention, its K/V kept).
 * Each response r (queries Qr, own K/V Kr, Vr at orders P..P+R-1) calls
 * skl_attn_forward twice into partials: against the prompt (k = prompt K/V,
 * k_off = 0, Tk = P, q_off = P: everything visible) and against itself
 * (k_off = q_off = P), then skl_attn_merge combines them into the exact
 * output and log-sum-exp. The backward needs the FINAL out/lse: call
 * skl_attn_backward once per K/V range with the same final out, lse and
 * dout; dq accumulates over both ranges, and the prompt's dk/dv accumulate
 * over all G responses (plus the prompt's own backward), which is exact.
 * The decode KV cache uses the same call with Tq = 1 (or a draft block).
 *
 * Layout: q[Tq, NH, HD] with row stride q_stride floats; k, v[Tk, NKV, HD]
 * with row strides k_stride, v_stride (so q/k/v can be slices of one fused
 * qkv buffer); out[Tq, NH, HD] stride o_stride; lse[NH, Tq] (natural log,
 * scores already multiplied by `scale`). Query head h uses kv head
 * h / (NH / NKV) (grouped-query attention). A query that sees no key gets
 * out = 0 and lse = -inf. Only tiles of size SKL_ATTN_TILE^2 per thread are
 * ever materialised. */
#define SKL_ATTN_TILE 128

typedef struct {
  int Tq, Tk;          /* query rows, key rows */
  int NH, NKV, HD;     /* heads, kv heads, head dim */
  int q_off, k_off;    /* positions of row 0 in the causal order */
  const int32_t *q_doc; /* [Tq] or NULL (then k_doc is ignored: one document) */
  const int32_t *k_doc; /* [Tk] */
  float scale;         /* usually 1/sqrt(HD) */
  size_t q_stride, k_stride, v_stride, o_stride; /* floats between rows */
  float *work;         /* optional: skl_attn_work_floats() floats of per-thread
                        * tile buffers, so no call allocates; NULL: each call
                        * allocates its own (fine outside training steps) */
  size_t work_floats;
} skl_attn_shape;

/* A config's attention shape: heads, kv heads, head dim, scale 1/sqrt(HD)
 * and the row strides of separate [rows, NH*HD] q/out and [rows, NKV*HD]
 * k/v buffers. Everything else is zero: the caller sets Tq, Tk, the
 * offsets, documents and work. */
skl_attn_shape skl_attn_shape_of(const skl_model_config *c);

/* Floats of tile buffers for up to `threads` OpenMP threads. */
size_t skl_attn_work_floats(int threads);

/* out[Tq, NH, HD], lse[NH, Tq] (overwritten). */
void skl_attn_forward(float *out, float *lse, const float *q, const float *k, const float *v,
                      const skl_attn_shape *s);

/* Combine a second partial (out2, lse2) into (out, lse) in place: the exact
 * attention over the union of both K/V ranges. Layouts as the forward. */
void skl_attn_merge(float *out, float *lse, const float *out2, const float *lse2,
                    const skl_attn_shape *s);

/* Recomputes the score tiles from q, k, v and the FINAL lse; out and dout
 * are the final output and its gradient. dq[Tq, NH, HD] +=,
 * dk, dv[Tk, NKV, HD] += (strides as q/k/v; dq/dk/dv may be NULL to skip).
 * scratch: skl_attn_scratch_floats(s) floats (or NULL: allocated inside,
 * which the training step never does). */
void skl_attn_backward(float *dq, float *dk, float *dv, const float *dout, const float *q,
                       const float *k, const float *v, const float *out, const float *lse,
                       const skl_attn_shape *s, float *scratch);
size_t skl_attn_scratch_floats(const skl_attn_shape *s);

/* ---- fused output projection + cross-entropy ----------------------------- */

/* Logits are produced CHUNK tokens at a time (chunk sized so chunk*V floats
 * stay small) and never held for all N tokens. For token n with target
 * y = targets[n] >= 0:
 *   logp[n] = log softmax(x[n] @ wout^T)[y],  ent[n] = entropy of that softmax
 *   top1[n] = 1 if y has the largest logit (ties count), else 0
 *   loss    = sum_n coef[n] * (-logp[n])
 * Tokens with targets[n] < 0 get logp = 0, ent = 0, top1 = 0 and no gradient.
 * If dx != NULL, the backward runs in the same pass:
 *   dx[N, C] += coef[n] * d(-logp[n])/dx,  dwout[V, C] += likewise (dwout
 *   may be NULL). coef may be NULL (all ones).
 * scratch: skl_ce_scratch_floats(V, C) floats. Outputs logp/ent/top1 may be NULL.
 * @return loss (double accumulated). */
double skl_ce_fused(float *logp, float *ent, float *top1, float *dx, float *dwout, const float *x,
                    const float *wout, const int32_t *targets, const float *coef, int N, int C,
                    int V, float *scratch);
size_t skl_ce_scratch_floats(int V, int C);
/* Rows of logits computed per chunk for vocabulary V. */
int skl_ce_chunk(int V);

#endif
