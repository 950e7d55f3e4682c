/* Slow decode check: long contexts (4096 tokens; 1024 with
 * SKL_SLOW_SIZE=small) prefilled in many chunks, shared by two slots that
 * each continue differently; every arch and rope type vs the full forward. */
#include "decode_testutil.h"
#include "harness.h"

static void check_long(skl_model_config *cfg, int T, const char *what) {
  skl_model m;
  if (!make_model_cfg(&m, cfg, 1234)) { CHECK(0); return; }
  int V = m.cfg.vocab_size, P = T / 2, Q = T / 4, S = 16; /* prefix, continuation, steps */
  int32_t *a = malloc(sizeof(int32_t) * (size_t)T), *b = malloc(sizeof(int32_t) * (size_t)T);
  gen_tokens(a, T, V, 1);
  gen_tokens(b, T, V, 2);
  memcpy(b, a, sizeof(int32_t) * (size_t)P); /* same prefix, different continuation */
  int Tc = P + Q + S;
  float *ra = full_logits(&m, a, Tc), *rb = full_logits(&m, b, Tc);
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, 2, Q + S, 1, P, &err) == SKL_OK);
  float *lg = malloc(sizeof(float) * 2 * (size_t)V);
  double worst = 0, scale = 0;
  if (d && ra && rb) {
    CHECK(skl_decoder_prefill_prefix(d, 0, a, P, lg, &err) == SKL_OK);
    worst = max_diff(lg, ra + (size_t)(P - 1) * V, V);
    CHECK(skl_decoder_attach(d, 0, 0, &err) == SKL_OK && skl_decoder_attach(d, 1, 0, &err) == SKL_OK);
    CHECK(skl_decoder_prefill(d, 0, a + P, Q, lg, &err) == SKL_OK);
    worst = fmax(worst, max_diff(lg, ra + (size_t)(P + Q - 1) * V, V));
    CHECK(skl_decoder_prefill(d, 1, b + P, Q, lg, &err) == SKL_OK);
    worst = fmax(worst, max_diff(lg, rb + (size_t)(P + Q - 1) * V, V));
    for (int k = 0; k < S; k++) {
      int slots[2] = {0, 1};
      int32_t in[2] = {a[P + Q + k], b[P + Q + k]};
      CHECK(skl_decoder_step(d, 2, slots, in, lg, &err) == SKL_OK);
      worst = fmax(worst, max_diff(lg, ra + (size_t)(P + Q + k) * V, V));
      worst = fmax(worst, max_diff(lg + V, rb + (size_t)(P + Q + k) * V, V));
    }
    for (size_t i = 0; i < (size_t)Tc * V; i++) scale = fmax(scale, fabs(ra[i]));
  }
  CHECK_MSG(worst <= TOL * fmax(1.0, scale), "%s T=%d: cached vs full differ by %g (scale %g)", what, T, worst, scale);
  printf("%s T=%d: max |cached - full| = %.3g (logit scale %.3g)\n", what, T, worst, scale);
  free(lg);
  free(ra);
  free(rb);
  free(a);
  free(b);
  skl_decoder_free(d);
  skl_model_free(&m);
}

int main(void) {
  const char *size = getenv("SKL_SLOW_SIZE");
  int T = size && !strcmp(size, "small") ? 1024 : 4096;
  skl_model_config c;
  tiny_config(&c, SKL_ARCH_LLAMA); /* llama3 rope scaling */
  check_long(&c, T, "llama/llama3-rope");
  tiny_config(&c, SKL_ARCH_QWEN2);
  c.rope_type = SKL_ROPE_YARN;
  c.rope_factor = 4.0f;
  c.rope_orig_max_position = 512;
  c.rope_attn_factor = 1.0f + 0.1f * logf(4.0f);
  check_long(&c, T, "qwen2/yarn");
  tiny_config(&c, SKL_ARCH_QWEN3);
  c.rope_type = SKL_ROPE_LINEAR;
  c.rope_factor = 2.0f;
  check_long(&c, T, "qwen3/linear");
  return test_report();
}
