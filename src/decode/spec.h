/* skl spec: speculative decoding with MTP heads. The heads draft K tokens
 * one after another, the main model verifies them (and yields one more) in
 * one forward over the KV cache, the accepted prefix is kept and the cache
 * rolled back past it. Greedy output is token for token plain greedy
 * decoding's; sampling (temperature > 0) accepts draft x with probability
 * min(1, p(x)/q(x)) and on rejection samples the normalised residual
 * max(0, p - q), so the output distribution is the main model's (p, q after
 * the same temperature / top-k / top-p as plain sampling). Not the heads'
 * training (mtp/) and not plain decoding (decode.h).
 *
 * Usage (same request and output as skl_generate):
 *   skl_mtp_heads h;  skl_spec_load_heads(&h, dir, &model.cfg, K, &err);
 *   skl_decoder *d;   skl_decoder_init(&d, &model, G, max_new, 1, prompt_len, &err);
 *   skl_spec *sp;     skl_spec_init(&sp, d, &h, K, &err);
 *   skl_spec_stats st;
 *   skl_generate_speculative(sp, &rq, &out, &st, &err);
 *   skl_spec_free(sp); skl_decoder_free(d); skl_mtp_free(&h);
 *
 * Each head's block attends over earlier positions at its own depth, so the
 * heads keep a one-layer KV cache each, regions mirroring the decoder's
 * (shared prompt prefixes included), plus a few rows of every depth's
 * hidden states. Head k's row at position j reads t_{j+k}; rows whose
 * token is still a draft are recomputed once it is settled, so every draft
 * equals what a full skl_mtp forward over the same tokens would give (up to
 * float summation order). */
#ifndef SKL_DECODE_SPEC_H
#define SKL_DECODE_SPEC_H

#include <stdint.h>

#include "decode/decode.h"
#include "mtp/mtp.h"

typedef struct skl_spec skl_spec;

/* Counts over all sequences of one skl_generate_speculative call. Head k
 * is index k-1. A round is one verify forward of one sequence. */
typedef struct {
  int K;                                 /* heads drafting */
  int64_t rounds;                        /* verify rounds (sequence x round) */
  int64_t drafted[SKL_MTP_MAX_HEADS];    /* rounds in which head k drafted */
  int64_t reached[SKL_MTP_MAX_HEADS];    /* drafts of head k checked (drafts 1..k-1 accepted) */
  int64_t accepted[SKL_MTP_MAX_HEADS];   /* drafts of head k accepted */
  int64_t accepted_total;                /* sum over heads */
  int64_t emitted;                       /* tokens emitted by rounds (accepted + one each) */
  int64_t verify_calls;                  /* batched verify forwards (one per round of the batch) */
  double draft_s, verify_s;              /* wall seconds in the heads / the main verify forward */
} skl_spec_stats;

/* Per-head acceptance accepted[k]/reached[k] (conditional on the earlier
 * drafts), cumulative acceptance accepted[k]/drafted[k] (drafts 1..k all
 * accepted), mean accepted drafts per round; 0 where undefined. */
double skl_spec_acceptance(const skl_spec_stats *st, int k);
double skl_spec_cumulative(const skl_spec_stats *st, int k);
double skl_spec_mean_accepted(const skl_spec_stats *st);

/* Load K heads from model directory dir for main config cfg (K <= the
 * heads stored). Errors say what to do: no heads ("train some with
 * 'skillrl mtp train'"), K larger than trained ("use at most N or 'skillrl
 * mtp extend --to K'").
 * @return SKL_OK, SKL_ERR_NOTFOUND, SKL_ERR_RANGE, SKL_ERR_INVALID */
skl_status skl_spec_load_heads(skl_mtp_heads *h, const char *dir, const skl_model_config *cfg, int K,
                               skl_error *err);

/* Speculative state for decoder d (borrowed) with the first K of heads h
 * (borrowed; made for d's model): the heads' caches sized like d's (slots
 * of T_max + K + 1 rows, d's prefix regions) and all scratch, allocated
 * once. @return SKL_OK, SKL_ERR_RANGE (K outside 1..h->K, with the fix),
 * SKL_ERR_INVALID (heads of another model shape), SKL_ERR_NOMEM */
skl_status skl_spec_init(skl_spec **s, skl_decoder *d, const skl_mtp_heads *h, int K, skl_error *err);
void skl_spec_free(skl_spec *s); /* NULL ok */

/* Draft window: the heads attend at most the last `window` prompt rows
 * they run over (plus everything generated), and are prefilled over those
 * only, not the whole prompt: their prefill, K/L of the main model's over a
 * long prompt, becomes K*window/(L*P) of it. Drafts are proposals, so the
 * output (greedy tokens, the sampling distribution) does not change; only
 * the acceptance may. Default SKL_SPEC_WINDOW_DEFAULT, the windows `skillrl
 * mtp train` trains heads on (-T 128), where acceptance was also higher
 * than with the whole prompt (bench decode --draft-window). 0: the whole
 * prompt, every draft equal to a full skl_mtp forward over the sequence. */
#define SKL_SPEC_WINDOW_DEFAULT 128
void skl_spec_set_window(skl_spec *s, int window);

/* Dynamic draft length: a sequence's round stops drafting after a draft
 * its head gave probability < p (q after the request's temperature /
 * top-k / top-p; greedy: the head's temperature-1 softmax); that draft is
 * still verified. The stop depends on the drafts only, so the output
 * distribution (greedy: the tokens) stays the main model's; fewer rows are
 * drafted and verified when the heads are unsure. Default 0: off (always
 * the K drafts the budget allows). */
void skl_spec_set_draft_min_prob(skl_spec *s, float p);

/* Observer of every draft (tests): sequence index, head k, position n of
 * the last settled token t_n (the draft is for position n + k), the drafted
 * id and head k's logits [V]. NULL: none. */
typedef void (*skl_spec_draft_fn)(void *ctx, int seq, int k, int n, int32_t token, const float *logits);
void skl_spec_set_observer(skl_spec *s, skl_spec_draft_fn fn, void *ctx);

/* skl_generate's contract (request, output, per-sequence seeds from
 * skl_rng_derive(seed, p, g, 0), stops, budget, capacity) with speculative
 * rounds. out->logp are the main model's temperature-1 log-probs. st may
 * be NULL.
 * @return SKL_OK or the first error (out is then empty) */
skl_status skl_generate_speculative(skl_spec *s, const skl_gen_request *rq, skl_gen_output *out,
                                    skl_spec_stats *st, skl_error *err);

#endif
