/* skl sample: pick the next token from a row of logits: greedy, or
 * temperature -> top-k -> top-p (HF's order) with an explicit skl_rng.
 * Not the decoder (decode.h) and not speculative acceptance. */
#ifndef SKL_DECODE_SAMPLE_H
#define SKL_DECODE_SAMPLE_H

#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"

typedef struct {
  float temperature; /* 0: greedy (argmax, lowest id on ties) */
  int top_k;         /* keep the k most likely ids; 0: off */
  float top_p;       /* keep the smallest most-likely set with mass >= top_p; 1: off */
} skl_sample_params;

/* Defaults: temperature 1, top_k 0, top_p 1 (plain sampling). */
skl_sample_params skl_sample_defaults(void);

/* Check ranges: temperature >= 0 and finite, top_k >= 0, 0 < top_p <= 1.
 * @return SKL_OK or SKL_ERR_RANGE naming the flag */
skl_status skl_sample_check(const skl_sample_params *sp, skl_error *err);

/* Scratch for one sampler call: probabilities and candidate ids for V. */
typedef struct {
  int V;
  float *prob;  /* [V] */
  int32_t *idx; /* [V] */
} skl_sampler;

skl_status skl_sampler_init(skl_sampler *s, int V, skl_error *err);
void skl_sampler_free(skl_sampler *s); /* NULL ok */

/* Next token from logits[V] (not modified). Consumes exactly one uniform
 * from rng unless greedy (then none), so a sequence's stream does not depend
 * on its neighbours in the batch. *logp (may be NULL) gets log p(token) under
 * the model's own distribution (softmax of the raw logits, temperature 1),
 * what policy-gradient training calls the old log-prob.
 * @return the token id in [0, V) */
int32_t skl_sample_token(skl_sampler *s, const float *logits, const skl_sample_params *sp, skl_rng *rng,
                         float *logp);

/* The distribution skl_sample_token draws from, as probabilities:
 * prob[V] (sums to 1 up to rounding; exactly 0 outside the top-k / top-p
 * set), for speculative sampling's p and q. Greedy (temperature 0): one-hot
 * at the argmax. Uses s's scratch; consumes no random numbers.
 * @return the argmax id (lowest on ties) */
int32_t skl_sample_dist(skl_sampler *s, const float *logits, const skl_sample_params *sp, float *prob);

/* log p(tok) under softmax(logits[V]) at temperature 1 (the logp that
 * skl_sample_token reports). */
float skl_sample_logp(const float *logits, int V, int32_t tok);

#endif
