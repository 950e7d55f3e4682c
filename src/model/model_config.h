/* skl model config: the YAML schema of configs/model/NAME.yaml (kind "model")
 * and its conversion to the shared skl_model_config. Not config.json
 * (hf/hf_config.h) and not the YAML parser (config/config.h). */
#ifndef SKL_MODEL_CONFIG_H
#define SKL_MODEL_CONFIG_H

#include <stdint.h>

#include "config/config.h"
#include "core/error.h"
#include "hf/hf_config.h"

/* configs/model/NAME.yaml, keys named as in config.json:
 *   kind: model
 *   arch: llama | qwen2 | qwen3
 *   vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 *   num_key_value_heads (0: = heads), head_dim (0: hidden/heads),
 *   intermediate_size, max_position_embeddings, rms_norm_eps, rope_theta,
 *   rope_scaling: {type: none|linear|llama3|yarn, factor, low_freq_factor,
 *                  high_freq_factor, original_max_position_embeddings}
 *   tie_word_embeddings, qkv_bias / qk_norm (auto: by arch),
 *   bos_token_id, eos_token_id (list), init_std (HF initializer_range) */
typedef struct {
  int arch; /* index into llama, qwen2, qwen3 */
  int vocab_size, hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads;
  int head_dim, intermediate_size, max_position_embeddings;
  double rms_norm_eps, rope_theta;
  int rope_type; /* none, linear, llama3, yarn */
  double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
  int rope_original_max_position;
  bool tie_word_embeddings;
  int qkv_bias, qk_norm; /* auto, true, false */
  int bos_token_id;
  skl_cfg_ints eos_token_id;
  double init_std;
} skl_model_yaml;

/* @return the schema (static storage) */
const skl_cfg_schema *skl_model_cfg_schema(void);

/* Load PATH with overrides ("hidden_size=128") into *cfg (transformers
 * defaults for the arch, then the file) and check it with
 * skl_model_config_check. *init_std (may be NULL) gets init_std.
 * @return SKL_OK or the config error (file:line: key: ...). */
skl_status skl_model_cfg_load(const char *path, char **overrides, int n_overrides,
                              skl_model_config *cfg, double *init_std, skl_error *err);

#endif
