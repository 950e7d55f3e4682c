/* skl model config: schema of configs/model/NAME.yaml and conversion to
 * skl_model_config. Not a config.json reader. */
#include "model/model_config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "model/model.h"

static const char *const arch_choices[] = {"llama", "qwen2", "qwen3", NULL};
static const char *const rope_choices[] = {"none", "linear", "llama3", "yarn", NULL};
static const char *const auto_choices[] = {"auto", "true", "false", NULL};

#define F(k, t, field, d, lo, hi, h) \
  {.key = k, .type = t, .offset = offsetof(skl_model_yaml, field), .def = d, .min = lo, .max = hi, .help = h}
#define R(k, field, lo, hi, h) \
  {.key = k, .type = SKL_CFG_INT, .offset = offsetof(skl_model_yaml, field), .min = lo, .max = hi, \
   .required = true, .help = h}
static const skl_cfg_field fields[] = {
    {.key = "arch", .type = SKL_CFG_ENUM, .offset = offsetof(skl_model_yaml, arch), .def = "llama",
     .choices = arch_choices, .help = "architecture (config.json model_type)"},
    R("vocab_size", vocab_size, 1, 1 << 24, "V: embedding rows"),
    R("hidden_size", hidden_size, 1, 1 << 20, "C: residual width"),
    R("num_hidden_layers", num_hidden_layers, 1, 1024, "L: decoder layers"),
    R("num_attention_heads", num_attention_heads, 1, 1024, "NH: query heads"),
    F("num_key_value_heads", SKL_CFG_INT, num_key_value_heads, "0", 0, 1024, "NKV: kv heads (0: = NH)"),
    F("head_dim", SKL_CFG_INT, head_dim, "0", 0, 256, "HD (0: hidden_size / heads)"),
    R("intermediate_size", intermediate_size, 1, 1 << 22, "FF: SwiGLU width"),
    F("max_position_embeddings", SKL_CFG_INT, max_position_embeddings, "4096", 1, 1 << 24,
      "context window"),
    F("rms_norm_eps", SKL_CFG_FLOAT, rms_norm_eps, "1e-6", 1e-12, 1, "RMSNorm epsilon"),
    F("rope_theta", SKL_CFG_FLOAT, rope_theta, "10000", 1, 1e12, "RoPE base"),
    {.key = "rope_scaling.type", .type = SKL_CFG_ENUM, .offset = offsetof(skl_model_yaml, rope_type),
     .def = "none", .choices = rope_choices, .help = "RoPE scaling as transformers' rope_type"},
    F("rope_scaling.factor", SKL_CFG_FLOAT, rope_factor, "1", 1e-6, 1e6, "scaling factor"),
    F("rope_scaling.low_freq_factor", SKL_CFG_FLOAT, rope_low_freq_factor, "1", 1e-6, 1e6, "llama3"),
    F("rope_scaling.high_freq_factor", SKL_CFG_FLOAT, rope_high_freq_factor, "4", 1e-6, 1e6, "llama3"),
    F("rope_scaling.original_max_position_embeddings", SKL_CFG_INT, rope_original_max_position, "0",
      0, 1 << 24, "llama3/yarn pre-scaling context"),
    F("tie_word_embeddings", SKL_CFG_BOOL, tie_word_embeddings, "false", 0, 0,
      "lm_head shares embed_tokens"),
    {.key = "qkv_bias", .type = SKL_CFG_ENUM, .offset = offsetof(skl_model_yaml, qkv_bias),
     .def = "auto", .choices = auto_choices, .help = "q/k/v biases (auto: qwen2 only)"},
    {.key = "qk_norm", .type = SKL_CFG_ENUM, .offset = offsetof(skl_model_yaml, qk_norm),
     .def = "auto", .choices = auto_choices, .help = "per-head q/k RMSNorm (auto: qwen3 only)"},
    F("bos_token_id", SKL_CFG_INT, bos_token_id, "-1", -1, 1 << 24, "-1: none"),
    F("eos_token_id", SKL_CFG_INT_LIST, eos_token_id, "[]", 0, 1 << 24, "end-of-sequence ids"),
    F("init_std", SKL_CFG_FLOAT, init_std, "0.02", 0, 10, "initializer_range: normal std of weights"),
};
#undef F
#undef R

static const skl_cfg_schema schema = {"model", fields, (int)(sizeof fields / sizeof fields[0]),
                                      sizeof(skl_model_yaml)};

const skl_cfg_schema *skl_model_cfg_schema(void) { return &schema; }

skl_status skl_model_cfg_load(const char *path, char **overrides, int n_overrides,
                              skl_model_config *cfg, double *init_std, skl_error *err) {
  skl_model_yaml y;
  skl_status s = skl_cfg_load(&schema, &y, path, overrides, n_overrides, err);
  if (s) return s;
  skl_hf_config_default(cfg, (skl_arch)y.arch);
  cfg->vocab_size = y.vocab_size;
  cfg->hidden_size = y.hidden_size;
  cfg->n_layers = y.num_hidden_layers;
  cfg->n_heads = y.num_attention_heads;
  cfg->n_kv_heads = y.num_key_value_heads ? y.num_key_value_heads : y.num_attention_heads;
  cfg->head_dim = y.head_dim ? y.head_dim : y.hidden_size / y.num_attention_heads;
  cfg->intermediate_size = y.intermediate_size;
  cfg->max_position = y.max_position_embeddings;
  cfg->rms_eps = (float)y.rms_norm_eps;
  cfg->rope_theta = (float)y.rope_theta;
  cfg->rope_type = y.rope_type == 1 ? SKL_ROPE_LINEAR
                   : y.rope_type == 2 ? SKL_ROPE_LLAMA3
                   : y.rope_type == 3 ? SKL_ROPE_YARN
                                      : SKL_ROPE_DEFAULT;
  cfg->rope_factor = (float)y.rope_factor;
  cfg->rope_low_freq_factor = (float)y.rope_low_freq_factor;
  cfg->rope_high_freq_factor = (float)y.rope_high_freq_factor;
  cfg->rope_orig_max_position = y.rope_original_max_position;
  if (cfg->rope_type == SKL_ROPE_YARN)
    cfg->rope_attn_factor = y.rope_factor <= 1 ? 1.0f : (float)(0.1 * log(y.rope_factor) + 1.0);
  cfg->tie_embeddings = y.tie_word_embeddings;
  if (y.qkv_bias) cfg->qkv_bias = y.qkv_bias == 1;
  if (y.qk_norm) cfg->qk_norm = y.qk_norm == 1;
  cfg->bos_token_id = y.bos_token_id;
  cfg->n_eos = 0;
  for (int i = 0; i < y.eos_token_id.n && i < 8; i++) cfg->eos_token_ids[cfg->n_eos++] = (int)y.eos_token_id.v[i];
  if (init_std) *init_std = y.init_std;
  int n_eos = y.eos_token_id.n;
  skl_cfg_free(&schema, &y);
  if (n_eos > 8)
    return skl_error_set(err, SKL_ERR_RANGE, "%s: eos_token_id: at most 8 ids (got %d)", path, n_eos);
  if ((s = skl_model_config_check(cfg, err))) return skl_error_prefix(err, "%s", path);
  if ((s = skl_hf_config_validate(cfg, err))) return skl_error_prefix(err, "%s", path);
  return SKL_OK;
}
