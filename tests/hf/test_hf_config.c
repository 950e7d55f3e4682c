/* Tests for hf/hf_config: config.json of each arch (real-model shapes),
 * transformers' defaults, every validation error, and save -> load. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "harness.h"
#include "hf/hf_config.h"

static char tmpdir[] = "/tmp/skl_test_cfg_XXXXXX";

static const char *cfg_file(const char *json) {
  static char path[512];
  snprintf(path, sizeof path, "%s/config.json", tmpdir);
  skl_fs_write_atomic(path, json, strlen(json), NULL);
  return path;
}

static skl_status load(const char *json, skl_model_config *c, skl_error *err) {
  return skl_hf_config_load(cfg_file(json), c, err);
}

static void expect_err(const char *json, skl_status code, const char *needle) {
  skl_model_config c;
  skl_error err = {0};
  skl_status s = load(json, &c, &err);
  CHECK_MSG(s == code, "%s: got %s (%s)", json, skl_status_name(s), err.msg);
  CHECK_CONTAINS(err.msg, needle);
  CHECK_CONTAINS(err.msg, "config.json");
}

/* Llama-3.2-1B's config.json (abridged to the keys that matter). */
static const char *llama32 =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"attention_bias\":false,\"attention_dropout\":0.0,"
    "\"bos_token_id\":128000,\"eos_token_id\":[128001,128008,128009],\"head_dim\":64,\"hidden_act\":\"silu\","
    "\"hidden_size\":2048,\"initializer_range\":0.02,\"intermediate_size\":8192,\"max_position_embeddings\":131072,"
    "\"mlp_bias\":false,\"model_type\":\"llama\",\"num_attention_heads\":32,\"num_hidden_layers\":16,"
    "\"num_key_value_heads\":8,\"pretraining_tp\":1,\"rms_norm_eps\":1e-05,\"rope_scaling\":{\"factor\":32.0,"
    "\"high_freq_factor\":4.0,\"low_freq_factor\":1.0,\"original_max_position_embeddings\":8192,"
    "\"rope_type\":\"llama3\"},\"rope_theta\":500000.0,\"tie_word_embeddings\":true,\"torch_dtype\":\"bfloat16\","
    "\"transformers_version\":\"4.45.0.dev0\",\"use_cache\":true,\"vocab_size\":128256}";

/* Qwen2.5-7B-Instruct with the documented YaRN block (legacy "type"). */
static const char *qwen25 =
    "{\"architectures\":[\"Qwen2ForCausalLM\"],\"attention_dropout\":0.0,\"bos_token_id\":151643,"
    "\"eos_token_id\":151645,\"hidden_act\":\"silu\",\"hidden_size\":3584,\"initializer_range\":0.02,"
    "\"intermediate_size\":18944,\"max_position_embeddings\":32768,\"max_window_layers\":28,\"model_type\":\"qwen2\","
    "\"num_attention_heads\":28,\"num_hidden_layers\":28,\"num_key_value_heads\":4,\"rms_norm_eps\":1e-06,"
    "\"rope_theta\":1000000.0,\"sliding_window\":131072,\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\","
    "\"use_cache\":true,\"use_sliding_window\":false,\"vocab_size\":152064,"
    "\"rope_scaling\":{\"factor\":4.0,\"original_max_position_embeddings\":32768,\"type\":\"yarn\"}}";

/* Qwen3-0.6B: head_dim 128 with hidden 1024 and 16 heads (NH*HD != C). */
static const char *qwen3 =
    "{\"architectures\":[\"Qwen3ForCausalLM\"],\"attention_bias\":false,\"attention_dropout\":0.0,"
    "\"bos_token_id\":151643,\"eos_token_id\":151645,\"head_dim\":128,\"hidden_act\":\"silu\",\"hidden_size\":1024,"
    "\"initializer_range\":0.02,\"intermediate_size\":3072,\"max_position_embeddings\":40960,\"max_window_layers\":28,"
    "\"model_type\":\"qwen3\",\"num_attention_heads\":16,\"num_hidden_layers\":28,\"num_key_value_heads\":8,"
    "\"rms_norm_eps\":1e-06,\"rope_scaling\":null,\"rope_theta\":1000000,\"sliding_window\":null,"
    "\"tie_word_embeddings\":true,\"torch_dtype\":\"bfloat16\",\"use_cache\":true,\"use_sliding_window\":false,"
    "\"vocab_size\":151936}";

static void test_real_configs(void) {
  skl_model_config c;
  skl_error err = {0};
  CHECK(load(llama32, &c, &err) == SKL_OK);
  CHECK(c.arch == SKL_ARCH_LLAMA && c.vocab_size == 128256 && c.hidden_size == 2048 && c.n_layers == 16);
  CHECK(c.n_heads == 32 && c.n_kv_heads == 8 && c.head_dim == 64 && c.intermediate_size == 8192);
  CHECK(c.max_position == 131072 && c.tie_embeddings && !c.qkv_bias && !c.o_bias && !c.qk_norm && !c.mlp_bias);
  CHECK_NEAR(c.rms_eps, 1e-5, 1e-12);
  CHECK_NEAR(c.rope_theta, 500000.0, 0);
  CHECK(c.rope_type == SKL_ROPE_LLAMA3 && c.rope_orig_max_position == 8192);
  CHECK_NEAR(c.rope_factor, 32, 0);
  CHECK_NEAR(c.rope_low_freq_factor, 1, 0);
  CHECK_NEAR(c.rope_high_freq_factor, 4, 0);
  CHECK(c.bos_token_id == 128000 && c.n_eos == 3 && c.eos_token_ids[2] == 128009);
  CHECK_STR(c.torch_dtype, "bfloat16");

  CHECK(load(qwen25, &c, &err) == SKL_OK);
  CHECK(c.arch == SKL_ARCH_QWEN2 && c.head_dim == 128 && c.n_kv_heads == 4 && c.qkv_bias && !c.o_bias);
  CHECK(!c.qk_norm && !c.tie_embeddings && c.n_eos == 1 && c.eos_token_ids[0] == 151645);
  CHECK(c.rope_type == SKL_ROPE_YARN && c.rope_orig_max_position == 32768);
  CHECK_NEAR(c.rope_factor, 4, 0);
  CHECK_NEAR(c.rope_attn_factor, 0.1 * log(4.0) + 1, 1e-6);
  CHECK_NEAR(c.yarn_beta_fast, 32, 0);
  CHECK_NEAR(c.yarn_beta_slow, 1, 0);

  CHECK(load(qwen3, &c, &err) == SKL_OK);
  CHECK(c.arch == SKL_ARCH_QWEN3 && c.head_dim == 128 && c.hidden_size == 1024 && c.n_heads == 16);
  CHECK(c.qk_norm && !c.qkv_bias && c.tie_embeddings && c.rope_type == SKL_ROPE_DEFAULT && c.max_position == 40960);
  CHECK_NEAR(c.rope_attn_factor, 1, 0);
  /* the directory form */
  CHECK(skl_hf_config_load(tmpdir, &c, &err) == SKL_OK && c.arch == SKL_ARCH_QWEN3);
}

static void test_defaults(void) {
  skl_model_config c;
  skl_error err = {0};
  CHECK(load("{\"model_type\":\"llama\",\"vocab_size\":1000}", &c, &err) == SKL_OK);
  CHECK(c.hidden_size == 4096 && c.n_layers == 32 && c.n_heads == 32 && c.n_kv_heads == 32 && c.head_dim == 128);
  CHECK(c.intermediate_size == 11008 && c.max_position == 2048 && c.bos_token_id == 1 && c.n_eos == 1 &&
        c.eos_token_ids[0] == 2 && !c.tie_embeddings && c.pad_token_id == -1);
  CHECK_NEAR(c.rms_eps, 1e-6, 1e-13);
  CHECK_NEAR(c.rope_theta, 10000, 0);
  CHECK(load("{\"model_type\":\"qwen2\",\"vocab_size\":1000,\"num_attention_heads\":8,\"hidden_size\":256}", &c,
             &err) == SKL_OK);
  CHECK(c.n_kv_heads == 8 && c.head_dim == 32 && c.max_position == 32768 && c.intermediate_size == 22016);
  CHECK(c.bos_token_id == -1 && c.n_eos == 0 && c.qkv_bias);
  CHECK(load("{\"model_type\":\"qwen3\",\"vocab_size\":1000,\"attention_bias\":true}", &c, &err) == SKL_OK);
  CHECK(c.head_dim == 128 && c.qk_norm && c.qkv_bias && c.o_bias);
  /* architectures alone is enough; a non-causal-LM class with model_type too */
  CHECK(load("{\"architectures\":[\"Qwen2ForCausalLM\"],\"vocab_size\":10,\"hidden_size\":64,"
             "\"num_attention_heads\":4}",
             &c, &err) == SKL_OK &&
        c.arch == SKL_ARCH_QWEN2);
  CHECK(load("{\"model_type\":\"llama\",\"architectures\":[\"LlamaForSequenceClassification\"],\"vocab_size\":10}", &c,
             &err) == SKL_OK);
  /* llama attention_bias means q, k, v and o; mlp_bias; linear rope; eos null; pad */
  CHECK(load("{\"model_type\":\"llama\",\"vocab_size\":100,\"attention_bias\":true,\"mlp_bias\":true,"
             "\"rope_scaling\":{\"type\":\"linear\",\"factor\":2},\"eos_token_id\":null,\"pad_token_id\":0,"
             "\"num_nextn_predict_layers\":2,\"dtype\":\"float16\"}",
             &c, &err) == SKL_OK);
  CHECK(c.qkv_bias && c.o_bias && c.mlp_bias && c.rope_type == SKL_ROPE_LINEAR && c.n_eos == 0 &&
        c.pad_token_id == 0 && c.n_mtp_heads == 2);
  CHECK_STR(c.torch_dtype, "float16");
  CHECK_NEAR(c.rope_factor, 2, 0);
  /* yarn with explicit attention_factor, mscale pair, default original max */
  CHECK(load("{\"model_type\":\"qwen2\",\"vocab_size\":100,\"hidden_size\":64,\"num_attention_heads\":4,"
             "\"max_position_embeddings\":4096,\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":8,"
             "\"mscale\":1.0,\"mscale_all_dim\":0.5,\"beta_fast\":16}}",
             &c, &err) == SKL_OK);
  CHECK(c.rope_orig_max_position == 4096);
  CHECK_NEAR(c.yarn_beta_fast, 16, 0);
  CHECK_NEAR(c.rope_attn_factor, (0.1 * log(8.0) + 1) / (0.05 * log(8.0) + 1), 1e-6);
  CHECK(load("{\"model_type\":\"qwen2\",\"vocab_size\":100,\"hidden_size\":64,\"num_attention_heads\":4,"
             "\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":8,\"attention_factor\":1.5}}",
             &c, &err) == SKL_OK);
  CHECK_NEAR(c.rope_attn_factor, 1.5, 0);
  CHECK(load("{\"model_type\":\"llama\",\"vocab_size\":100,\"rope_scaling\":{\"rope_type\":\"default\"}}", &c,
             &err) == SKL_OK &&
        c.rope_type == SKL_ROPE_DEFAULT);
}

static void test_errors(void) {
  expect_err("{\"model_type\":\"llama\"}", SKL_ERR_INVALID, "missing 'vocab_size'");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"num_attention_heads\":32,\"num_key_value_heads\":5}",
             SKL_ERR_INVALID, "num_attention_heads (32) is not a multiple of num_key_value_heads (5)");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":256,\"num_attention_heads\":4,"
             "\"head_dim\":32}",
             SKL_ERR_INVALID, "head_dim (32) x num_attention_heads (4) = 128 differs from hidden_size (256)");
  expect_err("{\"model_type\":\"qwen2\",\"vocab_size\":10,\"hidden_size\":100,\"num_attention_heads\":3}",
             SKL_ERR_INVALID, "hidden_size (100) is not a multiple of num_attention_heads (3)");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":0}", SKL_ERR_RANGE,
             "'hidden_size' is 0; it must be a positive integer");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"num_hidden_layers\":-2}", SKL_ERR_RANGE,
             "'num_hidden_layers' is -2");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":0}", SKL_ERR_RANGE, "'vocab_size' is 0");
  /* issue 18: sizes that wrapped 3 + 14 * L (heap overflow in skl_model_init) are refused here. */
  expect_err("{\"model_type\":\"qwen3\",\"vocab_size\":4,\"hidden_size\":2,\"num_attention_heads\":1,"
             "\"head_dim\":2,\"intermediate_size\":1,\"num_hidden_layers\":306783379}",
             SKL_ERR_RANGE, "'num_hidden_layers' is 306783379; skillrl supports at most 1024");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"num_hidden_layers\":1000000000}", SKL_ERR_RANGE,
             "'num_hidden_layers' is 1000000000");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":2147483647}", SKL_ERR_RANGE, "'vocab_size' is 2147483647");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"intermediate_size\":2000000000}", SKL_ERR_RANGE,
             "'intermediate_size' is 2000000000");
  expect_err("{\"model_type\":\"qwen3\",\"vocab_size\":10,\"head_dim\":65536}", SKL_ERR_RANGE,
             "'head_dim' is 65536");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"num_nextn_predict_layers\":100000}", SKL_ERR_RANGE,
             "'num_nextn_predict_layers' (100000)");
  expect_err("{\"model_type\":\"mistral\",\"vocab_size\":10}", SKL_ERR_UNSUPPORTED,
             "model_type 'mistral' is not supported (llama, qwen2, qwen3 are)");
  expect_err("{\"architectures\":[\"GPT2LMHeadModel\"],\"vocab_size\":10}", SKL_ERR_UNSUPPORTED,
             "architectures[0] 'GPT2LMHeadModel' is not supported");
  expect_err("{\"model_type\":\"llama\",\"architectures\":[\"Qwen2ForCausalLM\"],\"vocab_size\":10}",
             SKL_ERR_INVALID, "model_type 'llama' contradicts architectures[0] 'Qwen2ForCausalLM'");
  expect_err("{\"vocab_size\":10}", SKL_ERR_INVALID, "no 'model_type'");
  expect_err("{\"model_type\":\"llama\",\n\"vocab_size\":10,,}", SKL_ERR_PARSE, "config.json:2:");
  expect_err("[1]", SKL_ERR_PARSE, "not a JSON object");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":\"big\"}", SKL_ERR_INVALID,
             "key 'hidden_size' must be an integer");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rms_norm_eps\":\"small\"}", SKL_ERR_INVALID,
             "key 'rms_norm_eps' must be a number");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"tie_word_embeddings\":1}", SKL_ERR_INVALID,
             "key 'tie_word_embeddings' must be true or false");
  expect_err("{\"model_type\":3,\"vocab_size\":10}", SKL_ERR_INVALID, "key 'model_type' must be a string");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":{\"rope_type\":\"dynamic\",\"factor\":2}}",
             SKL_ERR_UNSUPPORTED, "rope_scaling type 'dynamic' is not supported");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8,"
             "\"high_freq_factor\":4,\"original_max_position_embeddings\":8192}}",
             SKL_ERR_INVALID, "rope_scaling (llama3) needs 'low_freq_factor'");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8,"
             "\"low_freq_factor\":4,\"high_freq_factor\":1,\"original_max_position_embeddings\":8192}}",
             SKL_ERR_RANGE, "need 0 < low_freq_factor (4) < high_freq_factor (1)");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":{\"type\":\"linear\"}}", SKL_ERR_INVALID,
             "rope_scaling (linear) needs 'factor'");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":{\"factor\":2}}", SKL_ERR_INVALID,
             "rope_scaling has no 'rope_type'");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":[2]}", SKL_ERR_INVALID,
             "key 'rope_scaling' must be an object or null");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rope_scaling\":{\"type\":\"linear\",\"factor\":-1}}",
             SKL_ERR_RANGE, "'rope_scaling.factor' (-1) must be a positive number");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"eos_token_id\":10}", SKL_ERR_RANGE,
             "'eos_token_id' 10 is outside the vocabulary [0, 10)");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"eos_token_id\":[1,\"x\"]}", SKL_ERR_INVALID,
             "key 'eos_token_id' must be an integer or a list");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"eos_token_id\":[1,2,3,4,5,6,7,8,9]}",
             SKL_ERR_UNSUPPORTED, "eos_token_id lists 9 ids (at most 8 supported)");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"bos_token_id\":12}", SKL_ERR_RANGE,
             "'bos_token_id' 12 is outside the vocabulary");
  expect_err("{\"model_type\":\"qwen2\",\"vocab_size\":10,\"use_sliding_window\":true}", SKL_ERR_UNSUPPORTED,
             "use_sliding_window is true");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_act\":\"gelu\"}", SKL_ERR_UNSUPPORTED,
             "hidden_act 'gelu' is not supported");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"rms_norm_eps\":0}", SKL_ERR_RANGE,
             "'rms_norm_eps' (0) must be a positive number");
  expect_err("{\"model_type\":\"llama\",\"vocab_size\":10,\"hidden_size\":4294967296}", SKL_ERR_INVALID,
             "fits in 32 bits");
  skl_model_config c;
  skl_error err = {0};
  char missing[600];
  snprintf(missing, sizeof missing, "%s/nope", tmpdir);
  CHECK(skl_hf_config_load(missing, &c, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "nope: cannot open");
  snprintf(missing, sizeof missing, "%s/empty", tmpdir);
  skl_fs_mkdirs(missing, NULL);
  CHECK(skl_hf_config_load(missing, &c, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "empty/config.json");
  /* struct-level contradictions (what a caller building a config can get wrong) */
  skl_hf_config_default(&c, SKL_ARCH_QWEN2);
  c.vocab_size = 10;
  c.qkv_bias = false;
  CHECK(skl_hf_config_validate(&c, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "qwen2 has q/k/v biases");
  skl_hf_config_default(&c, SKL_ARCH_LLAMA);
  c.qk_norm = true;
  CHECK(skl_hf_config_validate(&c, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "only qwen3 has it");
  skl_hf_config_default(&c, SKL_ARCH_QWEN3);
  c.qk_norm = false;
  CHECK(skl_hf_config_validate(&c, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "qwen3 always has it");
  skl_hf_config_default(&c, SKL_ARCH_LLAMA);
  c.qkv_bias = true;
  CHECK(skl_hf_config_validate(&c, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "set qkv_bias and o_bias alike");
  skl_hf_config_default(&c, SKL_ARCH_LLAMA);
  c.head_dim = 127;
  c.hidden_size = 127 * 32;
  CHECK(skl_hf_config_validate(&c, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "head_dim (127) must be even");
  /* save refuses an invalid config and writes nothing */
  char d[600];
  snprintf(d, sizeof d, "%s/refused", tmpdir);
  CHECK(skl_hf_config_save(&c, d, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "config.json not written");
  CHECK(!skl_fs_exists(d));
}

static int same_config(const skl_model_config *a, const skl_model_config *b) {
  int ok = a->arch == b->arch && a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
           a->n_layers == b->n_layers && a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads &&
           a->head_dim == b->head_dim && a->intermediate_size == b->intermediate_size &&
           a->max_position == b->max_position && a->rms_eps == b->rms_eps && a->rope_theta == b->rope_theta &&
           a->rope_type == b->rope_type && a->tie_embeddings == b->tie_embeddings && a->qkv_bias == b->qkv_bias &&
           a->o_bias == b->o_bias && a->mlp_bias == b->mlp_bias && a->qk_norm == b->qk_norm &&
           a->bos_token_id == b->bos_token_id && a->n_eos == b->n_eos && a->pad_token_id == b->pad_token_id &&
           a->n_mtp_heads == b->n_mtp_heads && !strcmp(a->torch_dtype, b->torch_dtype);
  for (int i = 0; ok && i < a->n_eos; i++) ok = a->eos_token_ids[i] == b->eos_token_ids[i];
  if (ok && a->rope_type != SKL_ROPE_DEFAULT)
    ok = a->rope_factor == b->rope_factor && a->rope_attn_factor == b->rope_attn_factor &&
         (a->rope_type == SKL_ROPE_LINEAR || a->rope_orig_max_position == b->rope_orig_max_position);
  if (ok && a->rope_type == SKL_ROPE_LLAMA3)
    ok = a->rope_low_freq_factor == b->rope_low_freq_factor && a->rope_high_freq_factor == b->rope_high_freq_factor;
  if (ok && a->rope_type == SKL_ROPE_YARN)
    ok = a->yarn_beta_fast == b->yarn_beta_fast && a->yarn_beta_slow == b->yarn_beta_slow;
  return ok;
}

static void test_save_roundtrip(void) {
  const char *srcs[3] = {llama32, qwen25, qwen3};
  const char *cls[3] = {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"};
  for (int i = 0; i < 3; i++) {
    skl_model_config a, b;
    skl_error err = {0};
    CHECK(load(srcs[i], &a, &err) == SKL_OK);
    if (i == 0) a.n_mtp_heads = 3;
    char d[600];
    snprintf(d, sizeof d, "%s/saved%d/sub", tmpdir, i);
    CHECK(skl_hf_config_save(&a, d, &err) == SKL_OK);
    CHECK(skl_hf_config_load(d, &b, &err) == SKL_OK);
    CHECK_MSG(same_config(&a, &b), "arch %d differs after save/load", i);
    /* keys transformers reads, and the shortest float spelling */
    char p[700];
    snprintf(p, sizeof p, "%s/config.json", d);
    char *text = NULL;
    skl_fs_read_all(p, &text, NULL, NULL);
    CHECK(text != NULL);
    if (!text) continue;
    json_t *root = json_loads(text, 0, NULL);
    CHECK(root != NULL);
    CHECK_STR(json_string_value(json_array_get(json_object_get(root, "architectures"), 0)), cls[i]);
    CHECK_STR(json_string_value(json_object_get(root, "model_type")), skl_arch_name(a.arch));
    CHECK_STR(json_string_value(json_object_get(root, "torch_dtype")), "bfloat16");
    CHECK_STR(json_string_value(json_object_get(root, "hidden_act")), "silu");
    CHECK(json_is_integer(json_object_get(root, "num_key_value_heads")));
    CHECK(json_is_boolean(json_object_get(root, "tie_word_embeddings")));
    if (i == 0) {
      CHECK(json_array_size(json_object_get(root, "eos_token_id")) == 3);
      CHECK_STR(json_string_value(json_object_get(json_object_get(root, "rope_scaling"), "rope_type")), "llama3");
      CHECK(json_integer_value(json_object_get(root, "num_nextn_predict_layers")) == 3);
      CHECK(!strstr(text, "9999") && !strstr(text, "0000001")); /* 1e-5, not 9.99999975e-06 */
    }
    if (i == 1) {
      CHECK(json_object_get(root, "attention_bias") == NULL); /* qwen2 has no such key */
      CHECK(json_is_false(json_object_get(root, "use_sliding_window")));
      CHECK_STR(json_string_value(json_object_get(json_object_get(root, "rope_scaling"), "type")), "yarn");
    }
    if (i == 2) CHECK(json_is_null(json_object_get(root, "rope_scaling")));
    json_decref(root);
    free(text);
  }
}

int main(void) {
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  test_real_configs();
  test_defaults();
  test_errors();
  test_save_roundtrip();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
