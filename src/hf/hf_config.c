/* skl hf config: read, check and write a Hugging Face config.json for
 * llama / qwen2 / qwen3 decoders. Not the tokenizer or the weights. */
#include "hf/hf_config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

const char *skl_arch_name(skl_arch a) {
  switch (a) {
  case SKL_ARCH_LLAMA: return "llama";
  case SKL_ARCH_QWEN2: return "qwen2";
  case SKL_ARCH_QWEN3: return "qwen3";
  }
  return "?";
}

static const char *arch_class(skl_arch a) {
  return a == SKL_ARCH_LLAMA ? "LlamaForCausalLM" : a == SKL_ARCH_QWEN2 ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM";
}

/* transformers' LlamaConfig / Qwen2Config / Qwen3Config __init__ defaults. */
void skl_hf_config_default(skl_model_config *c, skl_arch arch) {
  memset(c, 0, sizeof *c);
  c->arch = arch;
  c->rms_eps = 1e-6f;
  c->rope_theta = 10000.0f;
  c->rope_type = SKL_ROPE_DEFAULT;
  c->rope_factor = 1.0f;
  c->rope_attn_factor = 1.0f;
  c->yarn_beta_fast = 32.0f;
  c->yarn_beta_slow = 1.0f;
  c->bos_token_id = -1;
  c->pad_token_id = -1;
  snprintf(c->torch_dtype, sizeof c->torch_dtype, "float32");
  c->hidden_size = 4096;
  c->n_layers = 32;
  c->n_heads = 32;
  c->n_kv_heads = 32;
  if (arch == SKL_ARCH_LLAMA) {
    c->vocab_size = 32000;
    c->intermediate_size = 11008;
    c->max_position = 2048;
    c->bos_token_id = 1;
    c->eos_token_ids[0] = 2;
    c->n_eos = 1;
    c->head_dim = c->hidden_size / c->n_heads;
  } else {
    c->vocab_size = 151936;
    c->intermediate_size = 22016;
    c->max_position = 32768;
    c->head_dim = arch == SKL_ARCH_QWEN3 ? 128 : c->hidden_size / c->n_heads;
    c->qkv_bias = arch == SKL_ARCH_QWEN2;
    c->qk_norm = arch == SKL_ARCH_QWEN3;
  }
}

/* ---- reading ----------------------------------------------------------- */

typedef struct {
  const char *path;
  json_t *root;
  skl_error *err;
} cfg_reader;

static skl_status bad_type(cfg_reader *r, const char *key, const char *want) {
  return skl_error_set(r->err, SKL_ERR_INVALID, "%s: key '%s' must be %s", r->path, key, want);
}

/* Integer key: absent or null leaves *out (the default); *present set if given. */
static skl_status get_int(cfg_reader *r, json_t *obj, const char *key, int *out, int *present) {
  json_t *v = json_object_get(obj, key);
  if (present) *present = v && !json_is_null(v);
  if (!v || json_is_null(v)) return SKL_OK;
  if (!json_is_integer(v)) return bad_type(r, key, "an integer");
  json_int_t x = json_integer_value(v);
  if (x < -2147483647 || x > 2147483647) return bad_type(r, key, "an integer that fits in 32 bits");
  *out = (int)x;
  return SKL_OK;
}

static skl_status get_float(cfg_reader *r, json_t *obj, const char *key, float *out, int *present) {
  json_t *v = json_object_get(obj, key);
  if (present) *present = v && !json_is_null(v);
  if (!v || json_is_null(v)) return SKL_OK;
  if (!json_is_number(v)) return bad_type(r, key, "a number");
  *out = (float)json_number_value(v);
  return SKL_OK;
}

static skl_status get_bool(cfg_reader *r, json_t *obj, const char *key, bool *out) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return SKL_OK;
  if (!json_is_boolean(v)) return bad_type(r, key, "true or false");
  *out = json_is_true(v);
  return SKL_OK;
}

static skl_status arch_from_name(const char *s, skl_arch *a) {
  if (!strcmp(s, "llama") || !strcmp(s, "LlamaForCausalLM")) *a = SKL_ARCH_LLAMA;
  else if (!strcmp(s, "qwen2") || !strcmp(s, "Qwen2ForCausalLM")) *a = SKL_ARCH_QWEN2;
  else if (!strcmp(s, "qwen3") || !strcmp(s, "Qwen3ForCausalLM")) *a = SKL_ARCH_QWEN3;
  else return SKL_ERR_UNSUPPORTED;
  return SKL_OK;
}

static skl_status read_arch(cfg_reader *r, skl_arch *arch) {
  json_t *mt = json_object_get(r->root, "model_type"), *ar = json_object_get(r->root, "architectures");
  int have_mt = mt && !json_is_null(mt), have_ar = ar && !json_is_null(ar);
  if (have_mt && !json_is_string(mt)) return bad_type(r, "model_type", "a string");
  if (have_ar && (!json_is_array(ar) || !json_array_size(ar) || !json_is_string(json_array_get(ar, 0))))
    return bad_type(r, "architectures", "a non-empty list of class names");
  if (!have_mt && !have_ar)
    return skl_error_set(r->err, SKL_ERR_INVALID,
                         "%s: no 'model_type' (or 'architectures'); add \"model_type\": \"llama\", \"qwen2\" or "
                         "\"qwen3\"",
                         r->path);
  skl_arch a_mt = SKL_ARCH_LLAMA, a_ar = SKL_ARCH_LLAMA;
  if (have_mt && arch_from_name(json_string_value(mt), &a_mt))
    return skl_error_set(r->err, SKL_ERR_UNSUPPORTED,
                         "%s: model_type '%s' is not supported (llama, qwen2, qwen3 are)", r->path,
                         json_string_value(mt));
  if (have_ar) {
    const char *cls = json_string_value(json_array_get(ar, 0));
    if (arch_from_name(cls, &a_ar)) {
      /* A known model_type with another head class (e.g. ...ForSequenceClassification) is fine. */
      if (!have_mt)
        return skl_error_set(r->err, SKL_ERR_UNSUPPORTED,
                             "%s: architectures[0] '%s' is not supported (LlamaForCausalLM, Qwen2ForCausalLM, "
                             "Qwen3ForCausalLM are)",
                             r->path, cls);
      a_ar = a_mt;
    }
    if (have_mt && a_ar != a_mt)
      return skl_error_set(r->err, SKL_ERR_INVALID,
                           "%s: model_type '%s' contradicts architectures[0] '%s'; make them name the same model",
                           r->path, json_string_value(mt), cls);
  }
  *arch = have_mt ? a_mt : a_ar;
  return SKL_OK;
}

/* transformers' get_mscale for YaRN. */
static float yarn_mscale(float scale, float m) { return scale <= 1.0f ? 1.0f : 0.1f * m * logf(scale) + 1.0f; }

static skl_status read_rope_scaling(cfg_reader *r, skl_model_config *c) {
  json_t *rs = json_object_get(r->root, "rope_scaling");
  if (!rs || json_is_null(rs)) return SKL_OK;
  if (!json_is_object(rs)) return bad_type(r, "rope_scaling", "an object or null");
  json_t *ty = json_object_get(rs, "rope_type");
  if (!ty || json_is_null(ty)) ty = json_object_get(rs, "type"); /* legacy key */
  if (!ty || !json_is_string(ty))
    return skl_error_set(r->err, SKL_ERR_INVALID, "%s: rope_scaling has no 'rope_type' (or 'type') string", r->path);
  const char *t = json_string_value(ty);
  skl_status s;
  int has_factor = 0;
  if ((s = get_float(r, rs, "factor", &c->rope_factor, &has_factor))) return s;
  if (!strcmp(t, "default")) return SKL_OK;
  if (strcmp(t, "linear") && strcmp(t, "llama3") && strcmp(t, "yarn"))
    return skl_error_set(r->err, SKL_ERR_UNSUPPORTED,
                         "%s: rope_scaling type '%s' is not supported (default, linear, llama3, yarn are)", r->path, t);
  if (!has_factor)
    return skl_error_set(r->err, SKL_ERR_INVALID, "%s: rope_scaling (%s) needs 'factor'", r->path, t);
  if (!strcmp(t, "linear")) {
    c->rope_type = SKL_ROPE_LINEAR;
    return SKL_OK;
  }
  int has_orig = 0;
  if ((s = get_int(r, rs, "original_max_position_embeddings", &c->rope_orig_max_position, &has_orig))) return s;
  if (!strcmp(t, "llama3")) {
    int has_lo = 0, has_hi = 0;
    c->rope_type = SKL_ROPE_LLAMA3;
    if ((s = get_float(r, rs, "low_freq_factor", &c->rope_low_freq_factor, &has_lo))) return s;
    if ((s = get_float(r, rs, "high_freq_factor", &c->rope_high_freq_factor, &has_hi))) return s;
    if (!has_lo || !has_hi || !has_orig)
      return skl_error_set(r->err, SKL_ERR_INVALID, "%s: rope_scaling (llama3) needs '%s'", r->path,
                           !has_lo ? "low_freq_factor" : !has_hi ? "high_freq_factor"
                                                                 : "original_max_position_embeddings");
    return SKL_OK;
  }
  c->rope_type = SKL_ROPE_YARN;
  if (!has_orig) c->rope_orig_max_position = c->max_position;
  if ((s = get_float(r, rs, "beta_fast", &c->yarn_beta_fast, NULL))) return s;
  if ((s = get_float(r, rs, "beta_slow", &c->yarn_beta_slow, NULL))) return s;
  float mscale = 0, mscale_all = 0;
  int has_af = 0, has_ms = 0, has_msa = 0;
  if ((s = get_float(r, rs, "attention_factor", &c->rope_attn_factor, &has_af))) return s;
  if ((s = get_float(r, rs, "mscale", &mscale, &has_ms))) return s;
  if ((s = get_float(r, rs, "mscale_all_dim", &mscale_all, &has_msa))) return s;
  if (!has_af)
    c->rope_attn_factor = has_ms && has_msa ? yarn_mscale(c->rope_factor, mscale) / yarn_mscale(c->rope_factor, mscale_all)
                                            : yarn_mscale(c->rope_factor, 1.0f);
  return SKL_OK;
}

static skl_status read_token_ids(cfg_reader *r, skl_model_config *c) {
  skl_status s;
  if ((s = get_int(r, r->root, "bos_token_id", &c->bos_token_id, NULL))) return s;
  if ((s = get_int(r, r->root, "pad_token_id", &c->pad_token_id, NULL))) return s;
  json_t *e = json_object_get(r->root, "eos_token_id");
  if (!e) return SKL_OK;
  if (json_is_null(e)) { c->n_eos = 0; return SKL_OK; }
  if (json_is_integer(e)) {
    c->n_eos = 1;
    return get_int(r, r->root, "eos_token_id", &c->eos_token_ids[0], NULL);
  }
  if (!json_is_array(e)) return bad_type(r, "eos_token_id", "an integer or a list of integers");
  if (json_array_size(e) > 8)
    return skl_error_set(r->err, SKL_ERR_UNSUPPORTED, "%s: eos_token_id lists %zu ids (at most 8 supported)", r->path,
                         json_array_size(e));
  c->n_eos = 0;
  size_t i;
  json_t *v;
  json_array_foreach(e, i, v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2147483647)
      return bad_type(r, "eos_token_id", "an integer or a list of non-negative integers");
    c->eos_token_ids[c->n_eos++] = (int)json_integer_value(v);
  }
  return SKL_OK;
}

static skl_status read_config(cfg_reader *r, skl_model_config *c) {
  if (!json_is_object(r->root)) return skl_error_set(r->err, SKL_ERR_PARSE, "%s: not a JSON object", r->path);
  skl_arch arch = SKL_ARCH_LLAMA;
  skl_status s = read_arch(r, &arch);
  if (s) return s;
  skl_hf_config_default(c, arch);
  json_t *o = r->root;
  int has_vocab = 0, has_kv = 0, has_hd = 0;
  if ((s = get_int(r, o, "vocab_size", &c->vocab_size, &has_vocab))) return s;
  if (!has_vocab)
    return skl_error_set(r->err, SKL_ERR_INVALID,
                         "%s: missing 'vocab_size'; set it to the tokenizer's vocabulary size (the rows of "
                         "embed_tokens)",
                         r->path);
  if ((s = get_int(r, o, "hidden_size", &c->hidden_size, NULL))) return s;
  if ((s = get_int(r, o, "num_hidden_layers", &c->n_layers, NULL))) return s;
  if ((s = get_int(r, o, "num_attention_heads", &c->n_heads, NULL))) return s;
  if ((s = get_int(r, o, "num_key_value_heads", &c->n_kv_heads, &has_kv))) return s;
  if (!has_kv) c->n_kv_heads = c->n_heads; /* all three: None means MHA */
  if ((s = get_int(r, o, "intermediate_size", &c->intermediate_size, NULL))) return s;
  if ((s = get_int(r, o, "max_position_embeddings", &c->max_position, NULL))) return s;
  if ((s = get_int(r, o, "head_dim", &c->head_dim, &has_hd))) return s;
  if (!has_hd && arch != SKL_ARCH_QWEN3) c->head_dim = c->n_heads > 0 ? c->hidden_size / c->n_heads : 0;
  if (!has_hd && arch != SKL_ARCH_QWEN3 && c->n_heads > 0 && c->hidden_size % c->n_heads)
    return skl_error_set(r->err, SKL_ERR_INVALID,
                         "%s: hidden_size (%d) is not a multiple of num_attention_heads (%d); fix one or set "
                         "head_dim",
                         r->path, c->hidden_size, c->n_heads);
  if ((s = get_float(r, o, "rms_norm_eps", &c->rms_eps, NULL))) return s;
  if ((s = get_float(r, o, "rope_theta", &c->rope_theta, NULL))) return s;
  if ((s = get_bool(r, o, "tie_word_embeddings", &c->tie_embeddings))) return s;
  if (arch != SKL_ARCH_QWEN2) { /* qwen2: q/k/v bias always, no o bias; no key */
    bool ab = false;
    if ((s = get_bool(r, o, "attention_bias", &ab))) return s;
    c->qkv_bias = c->o_bias = ab;
  }
  if (arch == SKL_ARCH_LLAMA && (s = get_bool(r, o, "mlp_bias", &c->mlp_bias))) return s;
  json_t *act = json_object_get(o, "hidden_act");
  if (act && !json_is_null(act) && (!json_is_string(act) || strcmp(json_string_value(act), "silu")))
    return skl_error_set(r->err, SKL_ERR_UNSUPPORTED, "%s: hidden_act %s%s%s is not supported (only \"silu\")",
                         r->path, json_is_string(act) ? "'" : "", json_is_string(act) ? json_string_value(act) : "(not a string)",
                         json_is_string(act) ? "'" : "");
  bool sliding = false;
  if ((s = get_bool(r, o, "use_sliding_window", &sliding))) return s;
  if (sliding)
    return skl_error_set(r->err, SKL_ERR_UNSUPPORTED,
                         "%s: use_sliding_window is true; sliding-window attention is not supported (set it to false "
                         "for full attention)",
                         r->path);
  if ((s = get_int(r, o, "num_nextn_predict_layers", &c->n_mtp_heads, NULL))) return s;
  json_t *dt = json_object_get(o, "torch_dtype");
  if (!dt || json_is_null(dt)) dt = json_object_get(o, "dtype"); /* transformers >= 4.56 */
  if (dt && json_is_string(dt)) snprintf(c->torch_dtype, sizeof c->torch_dtype, "%s", json_string_value(dt));
  if ((s = read_rope_scaling(r, c))) return s;
  return read_token_ids(r, c);
}

skl_status skl_hf_config_load(const char *path_or_dir, skl_model_config *cfg, skl_error *err) {
  char *path = skl_fs_is_dir(path_or_dir) ? skl_path_join(path_or_dir, "config.json") : strdup(path_or_dir);
  if (!path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  char *text = NULL;
  size_t len = 0;
  skl_status s = skl_fs_read_all(path, &text, &len, err);
  if (s) { free(path); return s; }
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  free(text);
  if (!root) {
    s = skl_error_set(err, SKL_ERR_PARSE, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column, je.text);
    free(path);
    return s;
  }
  cfg_reader r = {path, root, err};
  s = read_config(&r, cfg);
  json_decref(root);
  if (!s && (s = skl_hf_config_validate(cfg, err))) skl_error_prefix(err, "%s", path);
  free(path);
  return s;
}

/* ---- checking ---------------------------------------------------------- */

skl_status skl_hf_config_check_sizes(const skl_model_config *c, skl_error *err) {
  const struct { const char *key; int v, max; } pos[] = {
      {"vocab_size", c->vocab_size, SKL_HF_MAX_VOCAB},
      {"hidden_size", c->hidden_size, SKL_HF_MAX_HIDDEN},
      {"num_hidden_layers", c->n_layers, SKL_HF_MAX_LAYERS},
      {"num_attention_heads", c->n_heads, SKL_HF_MAX_HEADS},
      {"num_key_value_heads", c->n_kv_heads, SKL_HF_MAX_HEADS},
      {"head_dim", c->head_dim, SKL_HF_MAX_HEAD_DIM},
      {"intermediate_size", c->intermediate_size, SKL_HF_MAX_INTERMEDIATE},
      {"max_position_embeddings", c->max_position, SKL_HF_MAX_POSITION}};
  for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
    if (pos[i].v <= 0)
      return skl_error_set(err, SKL_ERR_RANGE, "'%s' is %d; it must be a positive integer%s", pos[i].key, pos[i].v,
                           i == 0 ? " (the tokenizer's vocabulary size)" : "");
    if (pos[i].v > pos[i].max)
      return skl_error_set(err, SKL_ERR_RANGE, "'%s' is %d; skillrl supports at most %d (is the file corrupt?)",
                           pos[i].key, pos[i].v, pos[i].max);
  }
  if (c->n_mtp_heads < 0 || c->n_mtp_heads > SKL_HF_MAX_MTP_HEADS)
    return skl_error_set(err, SKL_ERR_RANGE, "'num_nextn_predict_layers' (%d) must be in [0, %d]", c->n_mtp_heads,
                         SKL_HF_MAX_MTP_HEADS);
  return SKL_OK;
}

skl_status skl_hf_config_validate(const skl_model_config *c, skl_error *err) {
  skl_status s = skl_hf_config_check_sizes(c, err);
  if (s) return s;
  if (c->n_heads % c->n_kv_heads)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "num_attention_heads (%d) is not a multiple of num_key_value_heads (%d); set "
                         "num_key_value_heads to a divisor of %d",
                         c->n_heads, c->n_kv_heads, c->n_heads);
  if (c->arch != SKL_ARCH_QWEN3 && (int64_t)c->n_heads * c->head_dim != c->hidden_size)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "head_dim (%d) x num_attention_heads (%d) = %lld differs from hidden_size (%d); for %s set "
                         "head_dim to hidden_size / num_attention_heads or remove it",
                         c->head_dim, c->n_heads, (long long)c->n_heads * c->head_dim, c->hidden_size,
                         skl_arch_name(c->arch));
  if (c->head_dim % 2)
    return skl_error_set(err, SKL_ERR_INVALID, "head_dim (%d) must be even for rotary embeddings", c->head_dim);
  if (!(c->rms_eps > 0) || !isfinite(c->rms_eps))
    return skl_error_set(err, SKL_ERR_RANGE, "'rms_norm_eps' (%g) must be a positive number", (double)c->rms_eps);
  if (!(c->rope_theta > 0) || !isfinite(c->rope_theta))
    return skl_error_set(err, SKL_ERR_RANGE, "'rope_theta' (%g) must be a positive number", (double)c->rope_theta);
  if (c->rope_type != SKL_ROPE_DEFAULT && (!(c->rope_factor > 0) || !isfinite(c->rope_factor)))
    return skl_error_set(err, SKL_ERR_RANGE, "'rope_scaling.factor' (%g) must be a positive number",
                         (double)c->rope_factor);
  if (c->rope_type == SKL_ROPE_LLAMA3) {
    if (c->rope_orig_max_position <= 0)
      return skl_error_set(err, SKL_ERR_RANGE, "'rope_scaling.original_max_position_embeddings' (%d) must be positive",
                           c->rope_orig_max_position);
    if (!(c->rope_low_freq_factor > 0) || !(c->rope_high_freq_factor > c->rope_low_freq_factor))
      return skl_error_set(err, SKL_ERR_RANGE,
                           "rope_scaling (llama3): need 0 < low_freq_factor (%g) < high_freq_factor (%g)",
                           (double)c->rope_low_freq_factor, (double)c->rope_high_freq_factor);
  }
  if (c->rope_type == SKL_ROPE_YARN) {
    if (c->rope_orig_max_position <= 0)
      return skl_error_set(err, SKL_ERR_RANGE, "'rope_scaling.original_max_position_embeddings' (%d) must be positive",
                           c->rope_orig_max_position);
    if (!(c->yarn_beta_fast > c->yarn_beta_slow))
      return skl_error_set(err, SKL_ERR_RANGE, "rope_scaling (yarn): beta_fast (%g) must exceed beta_slow (%g)",
                           (double)c->yarn_beta_fast, (double)c->yarn_beta_slow);
  }
  if (c->arch == SKL_ARCH_QWEN2 && (!c->qkv_bias || c->o_bias || c->qk_norm))
    return skl_error_set(err, SKL_ERR_INVALID,
                         "qwen2 has q/k/v biases, no o_proj bias and no q/k norm; set qkv_bias=true, o_bias=false, "
                         "qk_norm=false or pick another arch");
  if (c->arch != SKL_ARCH_QWEN2 && c->qkv_bias != c->o_bias)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s's attention_bias covers q, k, v and o together; set qkv_bias and o_bias alike",
                         skl_arch_name(c->arch));
  if ((c->arch == SKL_ARCH_QWEN3) != c->qk_norm)
    return skl_error_set(err, SKL_ERR_INVALID, "q/k norm is %s for %s; %s", c->qk_norm ? "on" : "off",
                         skl_arch_name(c->arch), c->qk_norm ? "only qwen3 has it" : "qwen3 always has it");
  if (c->mlp_bias && c->arch != SKL_ARCH_LLAMA)
    return skl_error_set(err, SKL_ERR_INVALID, "mlp_bias exists only for llama");
  if (c->n_eos < 0 || c->n_eos > 8) return skl_error_set(err, SKL_ERR_RANGE, "n_eos (%d) must be 0..8", c->n_eos);
  for (int i = 0; i < c->n_eos; i++)
    if (c->eos_token_ids[i] < 0 || c->eos_token_ids[i] >= c->vocab_size)
      return skl_error_set(err, SKL_ERR_RANGE, "'eos_token_id' %d is outside the vocabulary [0, %d)",
                           c->eos_token_ids[i], c->vocab_size);
  if (c->bos_token_id >= c->vocab_size || c->bos_token_id < -1)
    return skl_error_set(err, SKL_ERR_RANGE, "'bos_token_id' %d is outside the vocabulary [0, %d)", c->bos_token_id,
                         c->vocab_size);
  return SKL_OK;
}

/* ---- writing ----------------------------------------------------------- */

/* A float as the shortest decimal that reads back to the same float, so
 * 1e-6f is written "1e-06", not 9.9999999747524271e-07. */
static json_t *jfloat(float x) {
  char buf[32];
  for (int p = 6; p <= 9; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, (double)x);
    if ((float)strtod(buf, NULL) == x) break;
  }
  return json_real(strtod(buf, NULL));
}

static skl_status build_json(const skl_model_config *c, json_t *o) {
  int bad = 0;
#define SETK(k, v) bad |= json_object_set_new(o, k, v)
  json_t *ar = json_array();
  bad |= !ar || json_array_append_new(ar, json_string(arch_class(c->arch)));
  SETK("architectures", ar);
  SETK("model_type", json_string(skl_arch_name(c->arch)));
  SETK("vocab_size", json_integer(c->vocab_size));
  SETK("hidden_size", json_integer(c->hidden_size));
  SETK("intermediate_size", json_integer(c->intermediate_size));
  SETK("num_hidden_layers", json_integer(c->n_layers));
  SETK("num_attention_heads", json_integer(c->n_heads));
  SETK("num_key_value_heads", json_integer(c->n_kv_heads));
  SETK("head_dim", json_integer(c->head_dim));
  SETK("hidden_act", json_string("silu"));
  SETK("max_position_embeddings", json_integer(c->max_position));
  SETK("rms_norm_eps", jfloat(c->rms_eps));
  SETK("rope_theta", jfloat(c->rope_theta));
  if (c->rope_type == SKL_ROPE_DEFAULT) {
    SETK("rope_scaling", json_null());
  } else {
    json_t *rs = json_object();
    bad |= !rs;
    const char *t = c->rope_type == SKL_ROPE_LINEAR ? "linear" : c->rope_type == SKL_ROPE_LLAMA3 ? "llama3" : "yarn";
    if (rs) {
      /* both keys: transformers reads rope_type, older releases read type */
      bad |= json_object_set_new(rs, "rope_type", json_string(t));
      bad |= json_object_set_new(rs, "type", json_string(t));
      bad |= json_object_set_new(rs, "factor", jfloat(c->rope_factor));
      if (c->rope_type != SKL_ROPE_LINEAR)
        bad |= json_object_set_new(rs, "original_max_position_embeddings", json_integer(c->rope_orig_max_position));
      if (c->rope_type == SKL_ROPE_LLAMA3) {
        bad |= json_object_set_new(rs, "low_freq_factor", jfloat(c->rope_low_freq_factor));
        bad |= json_object_set_new(rs, "high_freq_factor", jfloat(c->rope_high_freq_factor));
      }
      if (c->rope_type == SKL_ROPE_YARN) {
        bad |= json_object_set_new(rs, "beta_fast", jfloat(c->yarn_beta_fast));
        bad |= json_object_set_new(rs, "beta_slow", jfloat(c->yarn_beta_slow));
        bad |= json_object_set_new(rs, "attention_factor", jfloat(c->rope_attn_factor));
      }
    }
    SETK("rope_scaling", rs);
  }
  SETK("tie_word_embeddings", json_boolean(c->tie_embeddings));
  if (c->arch != SKL_ARCH_QWEN2) SETK("attention_bias", json_boolean(c->qkv_bias));
  if (c->arch == SKL_ARCH_LLAMA) SETK("mlp_bias", json_boolean(c->mlp_bias));
  if (c->arch != SKL_ARCH_LLAMA) {
    SETK("use_sliding_window", json_false());
    SETK("sliding_window", json_null());
    SETK("max_window_layers", json_integer(c->n_layers));
  }
  SETK("attention_dropout", json_real(0.0));
  SETK("initializer_range", json_real(0.02));
  SETK("use_cache", json_true());
  SETK("bos_token_id", c->bos_token_id >= 0 ? json_integer(c->bos_token_id) : json_null());
  if (c->n_eos == 1) {
    SETK("eos_token_id", json_integer(c->eos_token_ids[0]));
  } else if (c->n_eos == 0) {
    SETK("eos_token_id", json_null());
  } else {
    json_t *e = json_array();
    bad |= !e;
    for (int i = 0; e && i < c->n_eos; i++) bad |= json_array_append_new(e, json_integer(c->eos_token_ids[i]));
    SETK("eos_token_id", e);
  }
  if (c->pad_token_id >= 0) SETK("pad_token_id", json_integer(c->pad_token_id));
  if (c->n_mtp_heads > 0) SETK("num_nextn_predict_layers", json_integer(c->n_mtp_heads));
  SETK("torch_dtype", json_string(c->torch_dtype[0] ? c->torch_dtype : "float32"));
#undef SETK
  return bad ? SKL_ERR_NOMEM : SKL_OK;
}

skl_status skl_hf_config_save(const skl_model_config *cfg, const char *dir, skl_error *err) {
  skl_status s = skl_hf_config_validate(cfg, err);
  if (s) return skl_error_prefix(err, "config.json not written");
  if ((s = skl_fs_mkdirs(dir, err))) return s;
  json_t *o = json_object();
  if (!o || build_json(cfg, o)) {
    json_decref(o);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
  json_decref(o);
  char *path = skl_path_join(dir, "config.json");
  if (!text || !path) {
    free(text);
    free(path);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  size_t n = strlen(text);
  text[n] = '\n'; /* json_dumps leaves no newline; reuse the NUL slot */
  s = skl_fs_write_atomic(path, text, n + 1, err);
  free(text);
  free(path);
  return s;
}
