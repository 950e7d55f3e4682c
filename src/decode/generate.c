/* skl generate: the sampling loop over a decoder: prefill (shared or per
 * sample), then batched steps until every sample stops. Not the cached
 * forward itself (decode.c). */
#include "decode/decode.h"

#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"

void skl_gen_output_free(skl_gen_output *o) {
  if (!o) return;
  free(o->tokens);
  free(o->logp);
  free(o->len);
  free(o->stopped);
  memset(o, 0, sizeof *o);
}

skl_status skl_gen_request_check(const skl_decoder *d, const skl_gen_request *rq, skl_error *err) {
  const skl_kv_cache *kv = skl_decoder_cache(d);
  if (rq->n_prompts < 1 || rq->group < 1 || rq->max_new < 1)
    return skl_error_set(err, SKL_ERR_RANGE, "generate: need >= 1 prompt, group >= 1 and max_new >= 1 (got %d, %d, %d)",
                         rq->n_prompts, rq->group, rq->max_new);
  if ((int64_t)rq->n_prompts * rq->group > kv->n_slots)
    return skl_error_set(err, SKL_ERR_RANGE, "generate: %d prompts x %d samples exceed the decoder's %d slots",
                         rq->n_prompts, rq->group, kv->n_slots);
  if (rq->shared_prefix && rq->n_prompts > kv->n_prefix)
    return skl_error_set(err, SKL_ERR_RANGE, "generate: %d shared prompts exceed the decoder's %d prefix regions",
                         rq->n_prompts, kv->n_prefix);
  for (int p = 0; p < rq->n_prompts; p++) {
    int cap = rq->shared_prefix ? kv->P_max : kv->T_max;
    if (rq->prompt_lens[p] < 1 || rq->prompt_lens[p] > cap)
      return skl_error_set(err, SKL_ERR_RANGE, "generate: prompt %d has %d tokens; 1..%d fit", p, rq->prompt_lens[p],
                           cap);
  }
  return skl_sample_check(&rq->sample, err);
}

bool skl_gen_is_stop(const skl_gen_request *rq, int32_t t) {
  for (int i = 0; i < rq->n_stop; i++)
    if (rq->stop[i] == t) return true;
  return false;
}

skl_status skl_gen_begin(const skl_decoder *d, const skl_gen_request *rq, skl_gen_output *out, skl_sampler **smp,
                         skl_rng **rng, skl_error *err) {
  memset(out, 0, sizeof *out);
  *smp = NULL;
  *rng = NULL;
  skl_status s = skl_gen_request_check(d, rq, err);
  if (s) return s;
  int G = rq->group, n = rq->n_prompts * G, M = rq->max_new, V = skl_decoder_model(d)->cfg.vocab_size;
  out->n = n;
  out->max_new = M;
  out->tokens = calloc((size_t)n * M, sizeof *out->tokens);
  out->logp = calloc((size_t)n * M, sizeof *out->logp);
  out->len = calloc((size_t)n, sizeof *out->len);
  out->stopped = calloc((size_t)n, sizeof *out->stopped);
  *smp = calloc((size_t)n, sizeof **smp);
  *rng = calloc((size_t)n, sizeof **rng);
  if (!out->tokens || !out->logp || !out->len || !out->stopped || !*smp || !*rng)
    s = skl_error_set(err, SKL_ERR_NOMEM, "generate: out of memory for %d samples of %d tokens", n, M);
  for (int i = 0; !s && i < n; i++) {
    s = skl_sampler_init(&(*smp)[i], V, err);
    skl_rng_seed(&(*rng)[i], skl_rng_derive(rq->seed, (uint64_t)(i / G), (uint64_t)(i % G), 0));
  }
  if (s) skl_gen_end(rq, out, smp, rng, s);
  return s;
}

void skl_gen_end(const skl_gen_request *rq, skl_gen_output *out, skl_sampler **smp, skl_rng **rng, skl_status st) {
  if (*smp)
    for (int i = 0; i < rq->n_prompts * rq->group; i++) skl_sampler_free(&(*smp)[i]);
  free(*smp);
  free(*rng);
  *smp = NULL;
  *rng = NULL;
  if (st) skl_gen_output_free(out);
}

skl_status skl_generate(skl_decoder *d, const skl_gen_request *rq, skl_gen_output *out, skl_error *err) {
  skl_sampler *smp;
  skl_rng *rng;
  skl_status s = skl_gen_begin(d, rq, out, &smp, &rng, err);
  if (s) return s;
  const skl_kv_cache *kv = skl_decoder_cache(d);
  int G = rq->group, n = rq->n_prompts * G, M = rq->max_new, vocab = skl_decoder_model(d)->cfg.vocab_size;
  int *active = malloc(sizeof *active * (size_t)n);
  int32_t *last = malloc(sizeof *last * (size_t)n), *step_tok = malloc(sizeof *step_tok * (size_t)n);
  float *logits = malloc(sizeof(float) * (size_t)n * vocab);
  if (!active || !last || !step_tok || !logits) {
    s = skl_error_set(err, SKL_ERR_NOMEM, "generate: out of memory for %d x %d logits", n, vocab);
    goto done;
  }
  /* prefill */
  double t0 = skl_time_now();
  for (int p = 0; p < rq->n_prompts; p++) {
    float *row0 = logits + (size_t)p * G * vocab;
    if (rq->shared_prefix) {
      for (int g = 0; g < G; g++) skl_decoder_reset_slot(d, p * G + g);
      skl_decoder_reset_prefix(d, p);
      if ((s = skl_decoder_prefill_prefix(d, p, rq->prompts[p], rq->prompt_lens[p], row0, err))) goto done;
      out->prefill_tokens += rq->prompt_lens[p];
      for (int g = 0; g < G; g++) {
        if ((s = skl_decoder_attach(d, p * G + g, p, err))) goto done;
        if (g) memcpy(row0 + (size_t)g * vocab, row0, sizeof(float) * vocab);
      }
    } else {
      for (int g = 0; g < G; g++) {
        skl_decoder_reset_slot(d, p * G + g);
        if ((s = skl_decoder_prefill(d, p * G + g, rq->prompts[p], rq->prompt_lens[p], row0 + (size_t)g * vocab, err)))
          goto done;
        out->prefill_tokens += rq->prompt_lens[p];
      }
    }
  }
  double t1 = skl_time_now();
  out->prefill_s = t1 - t0;
  /* first token of every sample from its prompt's logits, then steps */
  int n_active = n;
  for (int i = 0; i < n; i++) active[i] = i;
  for (int t = 0; n_active > 0; t++) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int a = 0; a < n_active; a++) {
      int i = active[a];
      float lp = 0;
      int32_t tok = skl_sample_token(&smp[i], logits + (size_t)a * vocab, &rq->sample, &rng[i], &lp);
      out->tokens[(size_t)i * M + t] = tok;
      out->logp[(size_t)i * M + t] = lp;
      out->len[i] = t + 1;
      last[i] = tok;
    }
    out->decode_tokens += n_active;
    int k = 0;
    for (int a = 0; a < n_active; a++) {
      int i = active[a];
      if (skl_gen_is_stop(rq, last[i])) { out->stopped[i] = true; continue; }
      if (t + 1 >= M || kv->len[i] >= kv->T_max) continue; /* budget or capacity spent */
      active[k++] = i;
    }
    n_active = k;
    if (!n_active) break;
    for (int a = 0; a < n_active; a++) step_tok[a] = last[active[a]];
    /* logits row a now belongs to sample active[a] */
    if ((s = skl_decoder_step(d, n_active, active, step_tok, logits, err))) goto done;
  }
  out->decode_s = skl_time_now() - t1;
done:
  free(active);
  free(last);
  free(step_tok);
  free(logits);
  skl_gen_end(rq, out, &smp, &rng, s);
  return s;
}
