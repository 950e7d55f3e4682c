/* Tests for decode/: KV-cached prefill and steps reproduce the full forward
 * (llama, qwen2, qwen3), batched and shared-prefix decoding, the sampler's
 * distributions, and generate's stops, seeds and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode_testutil.h"
#include "harness.h"

/* Prefill P, then steps one token at a time; every logits row vs full. */
static void test_incremental(skl_arch arch) {
  skl_model m;
  if (!make_model(&m, arch, 11 + arch)) { CHECK(0); return; }
  int V = m.cfg.vocab_size, T = 300, P = 270; /* P > the 256-row prefill chunk */
  int32_t tok[300];
  gen_tokens(tok, T, V, 5);
  float *ref = full_logits(&m, tok, T);
  CHECK(ref != NULL);
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, 1, T, 0, 0, &err) == SKL_OK);
  if (!ref || !d) { free(ref); skl_decoder_free(d); skl_model_free(&m); return; }
  float *lg = malloc(sizeof(float) * V);
  CHECK(skl_decoder_prefill(d, 0, tok, P, lg, &err) == SKL_OK);
  double worst = max_diff(lg, ref + (size_t)(P - 1) * V, V), scale = 0;
  for (int i = 0; i < T * V; i++) scale = fmax(scale, fabs(ref[i]));
  int slot = 0;
  for (int t = P; t < T; t++) {
    CHECK(skl_decoder_step(d, 1, &slot, &tok[t], lg, &err) == SKL_OK);
    worst = fmax(worst, max_diff(lg, ref + (size_t)t * V, V));
  }
  CHECK_MSG(worst <= TOL * fmax(1.0, scale), "%s: cached vs full logits differ by %g (scale %g)",
            skl_arch_name(arch), worst, scale);
  CHECK(scale > 0.1); /* the logits are not trivially zero */
  CHECK(skl_decoder_cache(d)->len[0] == T);
  /* capacity and token errors */
  CHECK(skl_decoder_step(d, 1, &slot, &tok[0], lg, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "slot 0 holds 300 of 300 tokens; no room for one more");
  skl_decoder_reset_slot(d, 0);
  CHECK(skl_decoder_prefill(d, 0, tok, T, NULL, &err) == SKL_OK);
  CHECK(skl_decoder_prefill(d, 0, tok, 10, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "slot 0 holds 300 of 300 tokens; 10 more do not fit");
  skl_decoder_reset_slot(d, 0);
  int32_t bad = V;
  CHECK(skl_decoder_prefill(d, 0, &bad, 1, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "id 64 outside the vocabulary [0, 64)");
  CHECK(skl_decoder_prefill(d, 1, tok, 1, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "slot 1 out of range");
  free(lg);
  free(ref);
  skl_decoder_free(d);
  skl_model_free(&m);
}

/* Three sequences of different lengths stepped together; and G samples
 * sharing one prefilled prefix, each then with its own tokens. */
static void test_batched_and_shared(skl_arch arch) {
  skl_model m;
  if (!make_model(&m, arch, 21 + arch)) { CHECK(0); return; }
  int V = m.cfg.vocab_size;
  enum { NS = 3, TT = 40 };
  int32_t tok[NS][TT];
  int plen[NS] = {5, 17, 30};
  float *ref[NS];
  for (int s = 0; s < NS; s++) {
    gen_tokens(tok[s], TT, V, 100 + s);
    ref[s] = full_logits(&m, tok[s], TT);
  }
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, NS, TT, 1, TT, &err) == SKL_OK);
  if (!d) { skl_model_free(&m); return; }
  float *lg = malloc(sizeof(float) * NS * V);
  double worst = 0;
  for (int s = 0; s < NS; s++) CHECK(skl_decoder_prefill(d, s, tok[s], plen[s], NULL, &err) == SKL_OK);
  /* step all three together while each has tokens left */
  for (int k = 0; k < TT - plen[NS - 1]; k++) {
    int slots[NS] = {2, 0, 1}; /* any order */
    int32_t in[NS];
    for (int i = 0; i < NS; i++) in[i] = tok[slots[i]][plen[slots[i]] + k];
    CHECK(skl_decoder_step(d, NS, slots, in, lg, &err) == SKL_OK);
    for (int i = 0; i < NS; i++)
      worst = fmax(worst, max_diff(lg + (size_t)i * V, ref[slots[i]] + (size_t)(plen[slots[i]] + k) * V, V));
  }
  CHECK_MSG(worst <= TOL * 10, "%s: batched step differs by %g", skl_arch_name(arch), worst);
  int dup[2] = {1, 1};
  int32_t two[2] = {0, 0};
  CHECK(skl_decoder_step(d, 2, dup, two, lg, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "slot 1 listed twice");
  CHECK(skl_decoder_step(d, NS + 1, dup, two, lg, &err) == SKL_ERR_RANGE);

  /* shared prefix: all sequences start with seq 0's first 12 tokens */
  int P = 12;
  for (int s = 1; s < NS; s++) {
    memcpy(tok[s], tok[0], sizeof(int32_t) * P);
    free(ref[s]);
    ref[s] = full_logits(&m, tok[s], TT);
  }
  for (int s = 0; s < NS; s++) skl_decoder_reset_slot(d, s);
  skl_decoder_reset_prefix(d, 0);
  float *pl = malloc(sizeof(float) * V);
  CHECK(skl_decoder_prefill_prefix(d, 0, tok[0], P, pl, &err) == SKL_OK);
  double wp = max_diff(pl, ref[0] + (size_t)(P - 1) * V, V);
  for (int s = 0; s < NS; s++) CHECK(skl_decoder_attach(d, s, 0, &err) == SKL_OK);
  CHECK(skl_decoder_attach(d, 0, 0, &err) == SKL_ERR_STATE);
  CHECK_CONTAINS(err.msg, "slot 0 is not empty");
  CHECK(skl_decoder_prefill_prefix(d, 0, tok[0], 1, NULL, &err) == SKL_ERR_STATE);
  CHECK_CONTAINS(err.msg, "prefix 0 has 3 slots attached");
  /* seq 2 continues its prompt by prefill on top of the prefix */
  CHECK(skl_decoder_prefill(d, 2, tok[2] + P, 6, pl, &err) == SKL_OK);
  wp = fmax(wp, max_diff(pl, ref[2] + (size_t)(P + 6 - 1) * V, V));
  int done[NS] = {P, P, P + 6};
  for (int k = 0; k < 20; k++) {
    int slots[NS] = {0, 1, 2};
    int32_t in[NS];
    for (int i = 0; i < NS; i++) in[i] = tok[i][done[i] + k];
    CHECK(skl_decoder_step(d, NS, slots, in, lg, &err) == SKL_OK);
    for (int i = 0; i < NS; i++) wp = fmax(wp, max_diff(lg + (size_t)i * V, ref[i] + (size_t)(done[i] + k) * V, V));
  }
  CHECK_MSG(wp <= TOL * 10, "%s: shared-prefix decoding differs by %g", skl_arch_name(arch), wp);
  const skl_kv_cache *kv = skl_decoder_cache(d);
  /* copy-free: the slots hold only their own tokens, all read region NS */
  CHECK(kv->len[0] == 20 && kv->len[2] == 26 && kv->parent[1] == NS && kv->len[NS] == P);
  CHECK(skl_kv_cache_floats(&m.cfg, NS, TT, 1, TT) ==
        2 * (size_t)m.cfg.n_layers * (NS * TT + TT) * m.cfg.n_kv_heads * m.cfg.head_dim);
  { /* the decoder's K/V: the cache plus the step attention's copy, region sizes rounded up to 64 tokens */
    size_t cache = skl_kv_cache_floats(&m.cfg, NS, TT, 1, TT), rounded = (size_t)(TT + 63) / 64 * 64;
    CHECK(skl_decoder_kv_floats(&m.cfg, NS, TT, 1, TT) ==
          cache + 2 * (size_t)m.cfg.n_layers * (NS + 1) * rounded * m.cfg.n_kv_heads * m.cfg.head_dim);
    CHECK(skl_decoder_kv_floats(&m.cfg, NS, TT, 0, 0) > 2 * skl_kv_cache_floats(&m.cfg, NS, TT, 0, 0) - 1);
  }
  free(pl);
  free(lg);
  for (int s = 0; s < NS; s++) free(ref[s]);
  skl_decoder_free(d);
  skl_model_free(&m);
}

/* Speculative primitives: extend scores a block in one forward (logits of
 * every row + the pre-norm hidden state), truncate drops rejected drafts. */
static void test_extend_truncate(skl_arch arch) {
  skl_model m;
  if (!make_model(&m, arch, 41 + arch)) { CHECK(0); return; }
  int V = m.cfg.vocab_size, C = m.cfg.hidden_size, T = 40, P = 10;
  int32_t tok[40], alt[40];
  gen_tokens(tok, T, V, 9);
  gen_tokens(alt, T, V, 10);
  skl_acts a;
  skl_error err = {0};
  CHECK(skl_acts_init(&a, &m.cfg, 1, T, false, &err) == SKL_OK);
  float *ref = malloc(sizeof(float) * (size_t)T * V), *lg = malloc(sizeof(float) * (size_t)T * V);
  float *hid = malloc(sizeof(float) * (size_t)T * C);
  skl_batch b = {0};
  b.B = 1;
  b.T = T;
  b.tokens = tok;
  CHECK(skl_model_logits(&m, &a, &b, ref, &err) == SKL_OK);
  const float *ref_h = a.x + (size_t)m.cfg.n_layers * a.N * C; /* x[L], before model.norm */
  skl_decoder *d = NULL;
  CHECK(skl_decoder_init(&d, &m, 1, T, 0, 0, &err) == SKL_OK);
  if (!d) { skl_acts_free(&a); free(ref); free(lg); free(hid); skl_model_free(&m); return; }
  CHECK(skl_decoder_prefill(d, 0, tok, P, NULL, &err) == SKL_OK);
  /* a wrong draft block, then roll back and verify the right one */
  CHECK(skl_decoder_extend(d, 0, alt, 7, lg, NULL, &err) == SKL_OK);
  CHECK(skl_decoder_cache(d)->len[0] == P + 7);
  CHECK(skl_decoder_truncate(d, 0, P, &err) == SKL_OK);
  CHECK(skl_decoder_extend(d, 0, tok + P, T - P, lg, hid, &err) == SKL_OK);
  double wl = max_diff(lg, ref + (size_t)P * V, (T - P) * V), wh = max_diff(hid, ref_h + (size_t)P * C, (T - P) * C);
  CHECK_MSG(wl <= TOL * 10 && wh <= TOL * 10, "%s: extend logits differ by %g, hidden by %g", skl_arch_name(arch), wl, wh);
  CHECK(skl_decoder_truncate(d, 0, T + 1, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "slot 0 holds 40 tokens; cannot truncate to 41");
  CHECK(skl_decoder_extend(d, 0, tok, 1, lg, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "slot 0 holds 40 of 40 tokens; 1 more do not fit");
  CHECK(skl_decoder_extend(d, 3, tok, 1, lg, NULL, &err) == SKL_ERR_RANGE);
  skl_decoder_free(d);
  skl_acts_free(&a);
  free(ref);
  free(lg);
  free(hid);
  skl_model_free(&m);
}

/* A step of 18 rows (beyond the prefill chunk's 16-row step-kernel limit) vs the full forward. */
static void test_wide_step(void) {
  skl_model m;
  if (!make_model(&m, SKL_ARCH_QWEN2, 31)) { CHECK(0); return; }
  enum { NS = 18, TT = 6 };
  int V = m.cfg.vocab_size;
  int32_t tok[NS][TT];
  float *ref[NS];
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, NS, TT, 0, 0, &err) == SKL_OK);
  float *lg = malloc(sizeof(float) * NS * V);
  int slots[NS];
  double worst = 0;
  for (int s = 0; s < NS; s++) {
    gen_tokens(tok[s], TT, V, 500 + s);
    ref[s] = full_logits(&m, tok[s], TT);
    slots[s] = NS - 1 - s;
    if (d) CHECK(skl_decoder_prefill(d, s, tok[s], 3, NULL, &err) == SKL_OK);
  }
  for (int t = 3; d && t < TT; t++) {
    int32_t in[NS];
    for (int i = 0; i < NS; i++) in[i] = tok[slots[i]][t];
    CHECK(skl_decoder_step(d, NS, slots, in, lg, &err) == SKL_OK);
    for (int i = 0; i < NS; i++) worst = fmax(worst, max_diff(lg + (size_t)i * V, ref[slots[i]] + (size_t)t * V, V));
  }
  CHECK_MSG(worst <= TOL * 10, "wide step differs by %g", worst);
  for (int s = 0; s < NS; s++) free(ref[s]);
  free(lg);
  skl_decoder_free(d);
  skl_model_free(&m);
}

/* ---- sampler ---- */

static void test_sampler(void) {
  skl_sampler s;
  skl_error err = {0};
  CHECK(skl_sampler_init(&s, 4, &err) == SKL_OK);
  float p[4] = {0.5f, 0.3f, 0.15f, 0.05f}, lg[4];
  for (int i = 0; i < 4; i++) lg[i] = logf(p[i]) + 3.0f; /* shift: softmax-invariant */
  skl_rng r;
  skl_rng_seed(&r, 99);
  enum { N = 40000 };
  struct { skl_sample_params sp; double want[4]; } cases[] = {
      {{1.0f, 0, 1.0f}, {0.5, 0.3, 0.15, 0.05}},
      {{1.0f, 2, 1.0f}, {0.625, 0.375, 0, 0}},
      {{1.0f, 0, 0.7f}, {0.625, 0.375, 0, 0}},
      {{1.0f, 0, 0.85f}, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},
      {{0.5f, 0, 1.0f}, {0.25 / 0.3625, 0.09 / 0.3625, 0.0225 / 0.3625, 0.0025 / 0.3625}},
      {{1.0f, 3, 0.7f}, {0.625, 0.375, 0, 0}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int cnt[4] = {0};
    for (int i = 0; i < N; i++) cnt[skl_sample_token(&s, lg, &cases[c].sp, &r, NULL)]++;
    double worst = 0;
    for (int k = 0; k < 4; k++) worst = fmax(worst, fabs((double)cnt[k] / N - cases[c].want[k]));
    CHECK_MSG(worst < 0.012, "sampler case %zu: frequency off by %g", c, worst);
    for (int k = 0; k < 4; k++)
      if (cases[c].want[k] == 0) CHECK(cnt[k] == 0);
  }
  /* greedy and top_k = 1 are argmax and consume no randomness */
  skl_sample_params g = {0.0f, 0, 1.0f}, k1 = {5.0f, 1, 1.0f};
  skl_rng r1 = r;
  float lp = 0;
  CHECK(skl_sample_token(&s, lg, &g, &r, &lp) == 0);
  CHECK(!memcmp(&r1, &r, sizeof r));
  CHECK_NEAR(lp, log(0.5), 1e-5); /* model log-prob, temperature 1 */
  CHECK(skl_sample_token(&s, lg, &k1, &r, NULL) == 0);
  float tie[4] = {1, 2, 2, 0};
  CHECK(skl_sample_token(&s, tie, &g, &r, NULL) == 1); /* lowest id on ties */
  skl_sampler_free(&s);
  skl_sampler_free(NULL);
  /* top-p beyond the first 256 candidates: uniform over 1000, keep 900 */
  CHECK(skl_sampler_init(&s, 1000, &err) == SKL_OK);
  float *u = calloc(1000, sizeof *u);
  skl_sample_params tp = {1.0f, 0, 0.9f};
  int maxid = 0;
  for (int i = 0; i < 5000; i++) {
    int t = skl_sample_token(&s, u, &tp, &r, NULL);
    maxid = t > maxid ? t : maxid;
  }
  CHECK(maxid < 900 && maxid > 800);
  free(u);
  skl_sampler_free(&s);
  /* parameter checks */
  skl_sample_params bad = {-1.0f, 0, 1.0f};
  CHECK(skl_sample_check(&bad, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--temperature -1 must be >= 0");
  bad.temperature = 1;
  bad.top_p = 0;
  CHECK(skl_sample_check(&bad, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--top-p 0 must be in (0, 1]");
  bad.top_p = 1;
  bad.top_k = -2;
  CHECK(skl_sample_check(&bad, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--top-k -2");
  CHECK(skl_sampler_init(&s, 0, &err) == SKL_ERR_RANGE);
}

/* ---- generate ---- */

static void test_generate(void) {
  skl_model m;
  if (!make_model(&m, SKL_ARCH_QWEN3, 77)) { CHECK(0); return; }
  int V = m.cfg.vocab_size;
  int32_t pa[20], pb[9];
  gen_tokens(pa, 20, V, 1);
  gen_tokens(pb, 9, V, 2);
  const int32_t *prompts[2] = {pa, pb};
  int lens[2] = {20, 9};
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, 8, 64, 2, 32, &err) == SKL_OK);
  if (!d) { skl_model_free(&m); return; }
  skl_gen_request rq = {0};
  rq.n_prompts = 2;
  rq.prompts = prompts;
  rq.prompt_lens = lens;
  rq.group = 4;
  rq.max_new = 24;
  rq.sample = skl_sample_defaults();
  rq.sample.temperature = 1.5f;
  rq.seed = 42;
  skl_gen_output o1, o2, o3;
  CHECK(skl_generate(d, &rq, &o1, &err) == SKL_OK);
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_OK);
  CHECK(o1.n == 8 && o1.max_new == 24 && o1.len[5] == 24 && !o1.stopped[5]);
  CHECK(!memcmp(o1.tokens, o2.tokens, sizeof(int32_t) * 8 * 24)); /* same seed, same samples */
  CHECK(memcmp(o1.tokens, o1.tokens + 24, sizeof(int32_t) * 24) != 0); /* samples of a group differ */
  CHECK(o1.prefill_tokens == 8 * 20 / 2 + 4 * 9 && o1.decode_tokens == 8 * 24);
  /* the reported log-probs are the model's: re-score sample 5 by a full forward */
  {
    int32_t seq[9 + 24];
    memcpy(seq, pb, sizeof pb);
    memcpy(seq + 9, o1.tokens + 5 * 24, sizeof(int32_t) * 24);
    float *ref = full_logits(&m, seq, 33);
    double worst = 0;
    for (int t = 0; ref && t < 24; t++) {
      const float *row = ref + (size_t)(8 + t) * V;
      double mx = row[0], z = 0;
      for (int v = 1; v < V; v++) mx = fmax(mx, row[v]);
      for (int v = 0; v < V; v++) z += exp(row[v] - mx);
      worst = fmax(worst, fabs(o1.logp[5 * 24 + t] - (row[seq[9 + t]] - mx - log(z))));
    }
    CHECK(ref != NULL);
    CHECK_MSG(worst < 1e-3, "generate logp vs full forward: %g", worst);
    free(ref);
  }
  skl_gen_output_free(&o2);
  /* shared prefix gives the same samples (greedy, to be immune to last-bit ties) */
  rq.sample.temperature = 0;
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_OK);
  rq.shared_prefix = true;
  CHECK(skl_generate(d, &rq, &o3, &err) == SKL_OK);
  CHECK(!memcmp(o2.tokens, o3.tokens, sizeof(int32_t) * 8 * 24));
  CHECK(o3.prefill_tokens == 20 + 9);
  /* stop ids: stop at the 4th greedy token of sample 0 */
  int32_t stop = o3.tokens[3];
  int first = 0;
  while (o3.tokens[first] != stop) first++;
  rq.stop = &stop;
  rq.n_stop = 1;
  skl_gen_output_free(&o2);
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_OK);
  CHECK(o2.len[0] == first + 1 && o2.stopped[0] && o2.tokens[first] == stop);
  /* capacity: T_max 64 per slot: 20-token prompt (not shared) + 44 generated */
  skl_gen_output_free(&o2);
  rq.stop = NULL;
  rq.n_stop = 0;
  rq.shared_prefix = false;
  rq.max_new = 200;
  rq.n_prompts = 1;
  rq.group = 1;
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_OK);
  CHECK(o2.len[0] == 64 - 20 + 1 && !o2.stopped[0]);
  skl_gen_output_free(&o2);
  /* request errors */
  rq.group = 9;
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "1 prompts x 9 samples exceed the decoder's 8 slots");
  rq.group = 2;
  rq.shared_prefix = true;
  rq.n_prompts = 2;
  lens[0] = 40;
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "prompt 0 has 40 tokens; 1..32 fit");
  lens[0] = 20;
  rq.sample.top_p = 2;
  CHECK(skl_generate(d, &rq, &o2, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--top-p");
  CHECK(o2.tokens == NULL);
  skl_gen_output_free(&o1);
  skl_gen_output_free(&o3);
  skl_gen_output_free(NULL);
  skl_decoder_free(d);
  skl_decoder_free(NULL);
  skl_model_free(&m);
}

int main(void) {
  for (int a = SKL_ARCH_LLAMA; a <= SKL_ARCH_QWEN3; a++) {
    test_incremental((skl_arch)a);
    test_batched_and_shared((skl_arch)a);
    test_extend_truncate((skl_arch)a);
  }
  test_wide_step();
  test_sampler();
  test_generate();
  return test_report();
}
