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
  /* added by the HF room (read by skl_hf_config_load, written by _save) */
  bool o_bias;           /* o_proj carries a bias (llama/qwen3 attention_bias) */
  bool mlp_bias;         /* gate/up/down carry a bias (llama mlp_bias) */
  float rope_attn_factor; /* yarn attention temperature (attention_factor; default
                             0.1*ln(factor)+1); 1 for the other rope types */
  int pad_token_id;      /* -1 if none */
  char torch_dtype[16];  /* "float32" | "bfloat16" | "float16" (storage hint) */
} skl_model_config;

/* @return "llama", "qwen2" or "qwen3" */
const char *skl_arch_name(skl_arch a);

/* Fill cfg with the defaults of transformers' LlamaConfig / Qwen2Config /
 * Qwen3Config for ARCH (what a config.json that omits a key means). */
void skl_hf_config_default(skl_model_config *cfg, skl_arch arch);

/* Parse PATH (a config.json, or a directory holding one): model_type
 * (or architectures[0]) llama | qwen2 | qwen3; sizes, rope_theta,
 * rope_scaling (linear, llama3, yarn; "rope_type" or legacy "type"),
 * tie_word_embeddings, attention_bias, head_dim, bos/eos (int or list).
 * Missing keys take the transformers defaults; then skl_hf_config_validate.
 * @return SKL_OK, SKL_ERR_IO/NOTFOUND, SKL_ERR_PARSE (JSON, with line:col),
 *         SKL_ERR_INVALID (wrong type or contradiction, naming the key),
 *         SKL_ERR_UNSUPPORTED (other model_type, rope type, sliding window). */
skl_status skl_hf_config_load(const char *path_or_dir, skl_model_config *cfg, skl_error *err);

/* Check sizes in range (skl_hf_config_check_sizes), NH % NKV == 0, C == NH*HD for llama/qwen2, rope fields
 * consistent with rope_type, eos ids < vocab. Messages name the config.json
 * key and the fix. @return SKL_OK or SKL_ERR_INVALID/SKL_ERR_RANGE */
skl_status skl_hf_config_validate(const skl_model_config *cfg, skl_error *err);

/* Upper bounds on the sizes a config may give: each is above any released
 * decoder and small enough that every product of them the engine forms
 * (V*C, L*FF*C, NH*HD, 14*L tensors) fits in int64 / size_t without
 * overflow. A crafted config.json past them is refused before any
 * arithmetic or allocation. */
#define SKL_HF_MAX_VOCAB (1 << 24)
#define SKL_HF_MAX_HIDDEN (1 << 20)
#define SKL_HF_MAX_LAYERS 1024
#define SKL_HF_MAX_HEADS 1024
#define SKL_HF_MAX_HEAD_DIM 1024
#define SKL_HF_MAX_INTERMEDIATE (1 << 22)
#define SKL_HF_MAX_POSITION (1 << 24)
#define SKL_HF_MAX_MTP_HEADS 64

/* Check every size of cfg lies in [1, its SKL_HF_MAX_*] (n_mtp_heads in
 * [0, max]), naming the config.json key, the value and the range.
 * Called by skl_hf_config_validate and skl_model_config_check.
 * @return SKL_OK or SKL_ERR_RANGE */
skl_status skl_hf_config_check_sizes(const skl_model_config *cfg, skl_error *err);

/* Write DIR/config.json atomically (DIR created if needed) with every key
 * transformers reads for the arch, architectures ["LlamaForCausalLM" |
 * "Qwen2ForCausalLM" | "Qwen3ForCausalLM"] and torch_dtype.
 * @return SKL_OK or the validation / IO error */
skl_status skl_hf_config_save(const skl_model_config *cfg, const char *dir, skl_error *err);

#endif
