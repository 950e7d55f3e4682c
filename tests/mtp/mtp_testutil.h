/* Test helpers for tests/mtp: small configs, a randomised main model and
 * heads, random windows. Not part of the library. */
#ifndef SKL_TEST_MTP_UTIL_H
#define SKL_TEST_MTP_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"
#include "model/model_testutil.h"
#include "mtp/mtp.h"

/* tu_config (tests/model) plus the fields a saved model directory needs:
 * pad id, tied embeddings except qwen2, dtype, rope factor. */
static inline skl_model_config mu_config(skl_arch arch, int V, int C, int L, int NH, int NKV, int HD,
                                         int FF) {
  skl_model_config c = tu_config(arch, V, C, L, NH, NKV, HD, FF);
  c.rope_attn_factor = 1.0f;
  c.pad_token_id = -1;
  c.tie_embeddings = arch != SKL_ARCH_QWEN2;
  snprintf(c.torch_dtype, sizeof c.torch_dtype, "float32");
  return c;
}

/* Random tensors with non-trivial norms and biases (so every gradient is
 * exercised): 2-D ~ N(0, std), norms 1 + N(0, 0.2), biases N(0, 0.1). */
static inline void mu_fill(float *mem, const skl_tensor_info *tab, int n, skl_rng *r, float std) {
  for (int i = 0; i < n; i++) {
    float *d = mem + tab[i].offset;
    bool norm = strstr(tab[i].name, "norm") != NULL;
    for (size_t j = 0; j < tab[i].numel; j++)
      d[j] = (float)skl_rng_normal(r) *
                 (tab[i].ndim == 2 ? std : norm ? 0.2f : 0.1f) + (tab[i].ndim == 1 && norm ? 1.0f : 0.0f);
  }
}

static inline void mu_tokens(int32_t *tok, size_t n, int V, uint64_t seed) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) tok[i] = (int32_t)skl_rng_below(&r, (uint64_t)V);
}

#endif
