/* skl hf config: the decoder architecture as read from a Hugging Face
 * config.json (llama, qwen2, qwen3) or written back. Not the weights. */
#ifndef SKL_HF_CONFIG_H
#define SKL_HF_CONFIG_H

#include <stdbool.h>

#include "core/error.h"

typedef enum { SKL_ARCH_LLAMA, SKL_ARCH_QWEN2, SKL_ARCH_QWEN3 } skl_arch;

typedef enum {
  SKL_ROPE_DEFAULT, /* plain RoPE with rope_theta */
  SKL_ROPE_LINEAR,  /* positions divided by factor */
  SKL_ROPE_LLAMA3,  /* Llama-3.1 frequency-dependent scaling */
  SKL_ROPE_YARN     /* YaRN ramp + attention temperature */
} skl_rope_type;

typedef struct {
  skl_arch arch;
  int vocab_size;        /* V */
  int hidden_size;       /* C */
  int n_layers;          /* L */
  int n_heads;           /* NH */
  int n_kv_heads;        /* NKV, divides NH */
  int head_dim;          /* HD; C/NH unless config.json sets head_dim (qwen3) */
  int intermediate_size; /* FF, SwiGLU width */
  int max_position;      /* max_position_embeddings: the context window */
  float rms_eps;
  float rope_theta;
  skl_rope_type rope_type;
  float rope_factor;            /* linear/llama3/yarn scaling factor */
  float rope_low_freq_factor;   /* llama3 */
  float rope_high_freq_factor;  /* llama3 */
  int rope_orig_max_position;   /* llama3/yarn original_max_position_embeddings */
  float yarn_beta_fast, yarn_beta_slow; /* yarn ramp bounds (defaults 32, 1) */
  bool tie_embeddings;   /* lm_head shares embed_tokens */
  bool qkv_bias;         /* q/k/v projections carry a bias (qwen2) */
  bool qk_norm;          /* per-head RMSNorm on q and k (qwen3) */
  int bos_token_id;      /* -1 if none */
  int eos_token_ids[8];  /* config.json eos_token_id may be a list */
  int n_eos;
  int n_mtp_heads;       /* multi-token-prediction modules stored with the model (0: none) */
} skl_model_config;

#endif
