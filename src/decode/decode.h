/* skl decode: KV-cached incremental inference of an skl_model: a cache
 * sized up front, chunked prefill, batched one-token steps, shared-prefix
 * groups, and a generate loop with per-sequence sampling. Prefill chunks
 * run the training's decoder block (model/block.h) over the cache; steps
 * run the step kernels (step_kernels.h), tested against it. Not training
 * (model/model.h) and not speculative decoding (MTP).
 *
 * Usage (G rollouts of one prompt, prompt prefilled once):
 *   skl_decoder *d;
 *   skl_decoder_init(&d, model, G, prompt_len + max_new, 1, prompt_len, &err);
 *   skl_gen_request rq = {.n_prompts = 1, .prompts = &ids, .prompt_lens = &n,
 *                         .group = G, .shared_prefix = true, .max_new = 256,
 *                         .sample = sp, .seed = 7};
 *   skl_gen_output out;
 *   skl_generate(d, &rq, &out, &err);   // out.tokens[g * out.max_new + t]
 *   skl_gen_output_free(&out); skl_decoder_free(d);
 */
#ifndef SKL_DECODE_H
#define SKL_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "decode/sample.h"
#include "model/model.h"

/* ---- KV cache ------------------------------------------------------------ */

/* Keys and values (after q/k norm and RoPE) of every layer, in REGIONS.
 * Regions 0..n_slots-1 are sequence slots (capacity T_max tokens each);
 * regions n_slots..n_slots+n_prefix-1 hold shared prefixes (capacity P_max).
 * A slot may read a prefix region first (its parent): its own token j then
 * sits at position parent_len + j. Nothing is copied: G slots attached to one
 * prefix all read the same memory. Layout per region and layer:
 *   k, v: [cap, NKV, HD] (row stride NKV*HD), i.e. per region [L, cap, NKV, HD].
 * One allocation, sliced. */
typedef struct {
  int L, NKV, HD;
  int n_slots, T_max;
  int n_prefix, P_max;
  float *mem;     /* the allocation: all K, then all V */
  size_t *base;   /* [n_regions] float offset of a region's K (its V is at + half) */
  size_t half;    /* floats of all K = floats of all V */
  int *len;       /* [n_regions] tokens stored */
  int *parent;    /* [n_regions] prefix region read first, or -1 */
} skl_kv_cache;

/* Floats of K+V for the given sizes (pure; for memory planning). */
size_t skl_kv_cache_floats(const skl_model_config *cfg, int n_slots, int T_max, int n_prefix, int P_max);
skl_status skl_kv_cache_init(skl_kv_cache *c, const skl_model_config *cfg, int n_slots, int T_max, int n_prefix,
                             int P_max, skl_error *err);
void skl_kv_cache_free(skl_kv_cache *c); /* NULL and zeroed ok */

/* K (or V) rows of region r, layer l: [cap, NKV*HD] */
float *skl_kv_cache_k(const skl_kv_cache *c, int region, int layer);
float *skl_kv_cache_v(const skl_kv_cache *c, int region, int layer);

/* ---- decoder --------------------------------------------------------------- */

typedef struct skl_decoder skl_decoder;

/* A decoder for model m (borrowed; weights must not change while decoding
 * unless the cache is reset): up to max_batch slots of T_max tokens each,
 * n_prefix shared-prefix regions of P_max tokens. Allocates the cache and
 * all scratch once; steps allocate nothing. Besides the cache (which the
 * prefill attention reads) the step attention keeps each kv head's keys
 * (as K^T tiles) and values contiguous: about skl_kv_cache_floats again,
 * region sizes rounded up to 64 tokens (both: skl_decoder_kv_floats).
 * @return SKL_OK, SKL_ERR_RANGE (sizes), SKL_ERR_NOMEM (says how many MB). */
skl_status skl_decoder_init(skl_decoder **d, skl_model *m, int max_batch, int T_max, int n_prefix, int P_max,
                            skl_error *err);
/* Floats of K/V a decoder of these sizes holds: the cache
 * (skl_kv_cache_floats) plus the step attention's per-head copy. */
size_t skl_decoder_kv_floats(const skl_model_config *cfg, int n_slots, int T_max, int n_prefix, int P_max);
void skl_decoder_free(skl_decoder *d); /* NULL ok */
const skl_kv_cache *skl_decoder_cache(const skl_decoder *d);
const skl_model *skl_decoder_model(const skl_decoder *d);

/* Forget slot s's tokens (and its prefix link). */
void skl_decoder_reset_slot(skl_decoder *d, int slot);
/* Forget prefix p (slots attached to it must be reset or re-attached). */
void skl_decoder_reset_prefix(skl_decoder *d, int prefix);
/* Make empty slot s read prefix p (already prefilled) before its own tokens. */
skl_status skl_decoder_attach(skl_decoder *d, int slot, int prefix, skl_error *err);

/* Append n tokens to slot s (or prefix p) in chunks; logits_last[V] (may be
 * NULL) gets the logits after the last token. A prefix must not be extended
 * once slots are attached to it (error).
 * @return SKL_OK, SKL_ERR_RANGE (token id, capacity: "slot 3 holds 4090 of
 *         4096 tokens; 10 more do not fit"), SKL_ERR_STATE */
skl_status skl_decoder_prefill(skl_decoder *d, int slot, const int32_t *tokens, int n, float *logits_last,
                               skl_error *err);
skl_status skl_decoder_prefill_prefix(skl_decoder *d, int prefix, const int32_t *tokens, int n,
                                      float *logits_last, skl_error *err);

/* One token for each of n distinct slots (the step kernels: weights and
 * shared K/V read once for all rows): appends tokens[i] to slots[i] and
 * writes logits[n, V]. Row i's logits are bit for bit those of the same
 * step of that slot alone, whatever the other rows and the thread count.
 * @return SKL_OK or SKL_ERR_RANGE (slot, token id, capacity) */
skl_status skl_decoder_step(skl_decoder *d, int n, const int *slots, const int32_t *tokens, float *logits,
                            skl_error *err);

/* For speculative decoding: append n tokens to slot s in one forward and
 * write logits[n, V] for EVERY row (the main model verifies n drafted
 * tokens at once); hidden (may be NULL) gets [n, C], the last residual
 * x[L] before model.norm, which MTP heads read.
 * @return SKL_OK or SKL_ERR_RANGE (slot, token id, capacity) */
skl_status skl_decoder_extend(skl_decoder *d, int slot, const int32_t *tokens, int n, float *logits, float *hidden,
                              skl_error *err);
/* Speculative verification of several sequences in ONE forward: append
 * counts[i] tokens to slots[i] (distinct slots; tokens concatenated in
 * slot order) and write logits[sum counts, V] and hidden[sum counts, C]
 * (either may be NULL) in the same row order.
 * exact: the step kernels, whose arithmetic per row is independent of the
 * other rows, so each row's logits equal bit for bit those skl_decoder_step
 * gives for the same token at the same position (greedy speculative output
 * == plain greedy output, guaranteed); they read the weights and each
 * slot's K/V once for all its rows.
 * !exact: the prefill path, model/block.c's decoder block (sgemm, tiled
 * attention); same math, other float order (greedy may differ from plain where two logits tie to
 * rounding), and no faster (bench decode --verify-rows).
 * @return SKL_OK or SKL_ERR_RANGE (slot, count, token id, capacity) */
skl_status skl_decoder_verify(skl_decoder *d, int n, const int *slots, const int *counts, const int32_t *tokens,
                              bool exact, float *logits, float *hidden, skl_error *err);
/* Prefill with hidden states: as skl_decoder_prefill (slot >= 0, prefix
 * -1) or skl_decoder_prefill_prefix (slot -1, prefix >= 0), also writing
 * hidden[n, C], x[L] before model.norm of every token (MTP heads read it).
 * @return as those */
skl_status skl_decoder_prefill_hidden(skl_decoder *d, int slot, int prefix, const int32_t *tokens, int n,
                                      float *logits_last, float *hidden, skl_error *err);
/* Keep only slot s's first len own tokens (drop rejected drafts). O(1):
 * the rows past len are overwritten by the next append.
 * @return SKL_OK or SKL_ERR_RANGE (len outside 0..current length) */
skl_status skl_decoder_truncate(skl_decoder *d, int slot, int len, skl_error *err);

/* ---- generate ------------------------------------------------------------ */

typedef struct {
  int n_prompts;
  const int32_t *const *prompts; /* [n_prompts] token arrays */
  const int *prompt_lens;        /* [n_prompts], each >= 1 */
  int group;                     /* samples per prompt (G >= 1) */
  bool shared_prefix;            /* prefill each prompt once for its G samples */
  int max_new;                   /* generated tokens per sample, >= 1 */
  const int32_t *stop;           /* stop ids (e.g. eos), or NULL */
  int n_stop;
  skl_sample_params sample;
  uint64_t seed;                 /* sample (p, g) uses skl_rng_derive(seed, p, g, 0) */
} skl_gen_request;

typedef struct {
  int n;          /* n_prompts * group, prompt-major: index p * group + g */
  int max_new;
  int32_t *tokens; /* [n, max_new] generated ids (the stop id included) */
  float *logp;     /* [n, max_new] log p(token) under the model (temperature 1) */
  int *len;        /* [n] tokens generated */
  bool *stopped;   /* [n] ended on a stop id (else max_new or capacity) */
  int64_t prefill_tokens, decode_tokens; /* work done, for throughput */
  double prefill_s, decode_s;             /* wall seconds of each phase */
} skl_gen_output;

/* Generate for every (prompt, sample) pair, decoding all of them as one
 * batch (n_prompts * group <= max_batch of the decoder; with shared_prefix,
 * n_prompts <= n_prefix). A sample's logits (so its greedy tokens) do
 * not depend on which or how many other samples are decoded with it, nor
 * on the thread count: the step kernels give each row the logits it has
 * alone (shared_prefix itself changes the float order of attention).
 * @return SKL_OK or the first error (out is then empty) */
skl_status skl_generate(skl_decoder *d, const skl_gen_request *rq, skl_gen_output *out, skl_error *err);
void skl_gen_output_free(skl_gen_output *o); /* NULL ok */

/* A request against a decoder's capacity (>= 1 prompt and sample, slots,
 * prefix regions, prompt lengths) and its sampling parameters: the error
 * both generators (plain and speculative) return before any work. */
skl_status skl_gen_request_check(const skl_decoder *d, const skl_gen_request *rq, skl_error *err);
/* True if t is one of the request's stop ids. */
bool skl_gen_is_stop(const skl_gen_request *rq, int32_t t);
/* What both generators do before and after decoding: check the request,
 * size out (zeroed) and give every sample a sampler and an RNG, sample
 * (p, g) seeded with skl_rng_derive(rq->seed, p, g, 0); skl_gen_end frees
 * them, and out too when st is an error. On error skl_gen_begin has
 * already cleaned up. */
skl_status skl_gen_begin(const skl_decoder *d, const skl_gen_request *rq, skl_gen_output *out, skl_sampler **smp,
                         skl_rng **rng, skl_error *err);
void skl_gen_end(const skl_gen_request *rq, skl_gen_output *out, skl_sampler **smp, skl_rng **rng, skl_status st);

#endif
