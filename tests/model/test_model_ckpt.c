/* Checkpoint tests: model directory round trips (F32 exact, BF16 rounded),
 * optimizer state, and every loader failure path with its message.
 * Not the safetensors reader's own validation (tests/hf). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.h"
#include "harness.h"
#include "hf/safetensors.h"
#include "model/checkpoint.h"
#include "model_testutil.h"

static char root[256];

static void path_of(char *out, size_t n, const char *sub) { snprintf(out, n, "%s/%s", root, sub); }

static void write_text(const char *path, const char *text) {
  skl_error err;
  SKL_ASSERT(skl_fs_write_atomic(path, text, strlen(text), &err) == SKL_OK);
}

/* tokenizer.json with ids 0..n-1 */
static void write_tokenizer(const char *path, int n) {
  size_t cap = 64 + 24 * (size_t)n, len = 0;
  char *buf = malloc(cap);
  SKL_ASSERT(buf);
  len += (size_t)snprintf(buf + len, cap - len, "{\"model\":{\"type\":\"BPE\",\"vocab\":{");
  for (int i = 0; i < n - 1; i++) len += (size_t)snprintf(buf + len, cap - len, "%s\"t%d\":%d", i ? "," : "", i, i);
  snprintf(buf + len, cap - len, "}},\"added_tokens\":[{\"id\":%d,\"content\":\"<eos>\"}]}", n - 1);
  write_text(path, buf);
  free(buf);
}

/* Save m's tensors except `skip`, with `extra` (if any) and one tensor
 * reshaped when `bad_shape` names it. */
static void write_weights(const skl_model *m, const char *dir, const char *skip, const char *extra,
                          const char *bad_shape) {
  skl_error err;
  skl_st_writer *w;
  SKL_ASSERT(skl_st_writer_init(&w, &err) == SKL_OK);
  for (int i = 0; i < m->n_tensors; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    if (skip && !strcmp(skip, t->name)) continue;
    int64_t shape[2] = {t->shape[0], t->shape[1]};
    if (bad_shape && !strcmp(bad_shape, t->name) && t->ndim == 2) {
      shape[0] = t->shape[1];
      shape[1] = t->shape[0];
    }
    SKL_ASSERT(skl_st_writer_add(w, t->name, SKL_DTYPE_F32, t->ndim, shape, m->param_mem + t->offset, &err) == SKL_OK);
  }
  int64_t one = 1;
  if (extra) SKL_ASSERT(skl_st_writer_add(w, extra, SKL_DTYPE_F32, 1, &one, m->param_mem, &err) == SKL_OK);
  char path[512];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  SKL_ASSERT(skl_st_writer_save(w, path, NULL, &err) == SKL_OK);
  skl_st_writer_free(w);
}

static void test_roundtrip(void) {
  skl_model_config cfg = tu_config(SKL_ARCH_QWEN3, 40, 16, 2, 4, 2, 8, 24);
  skl_model m, l;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  tu_randomize(&m, 3, 0.1f);
  char dir[512], tok[512], path[600];
  path_of(tok, sizeof tok, "tok40.json");
  write_tokenizer(tok, 40);
  path_of(dir, sizeof dir, "f32");
  CHECK_MSG(skl_ckpt_save_model(&m, dir, SKL_DTYPE_F32, tok, &err) == SKL_OK, "%s", err.msg);
  snprintf(path, sizeof path, "%s/tokenizer.json", dir);
  CHECK(skl_fs_exists(path));
  CHECK_MSG(skl_ckpt_load_model(&l, dir, false, &err) == SKL_OK, "%s", err.msg);
  CHECK(l.n_params == m.n_params && l.cfg.qk_norm && l.cfg.n_kv_heads == 2);
  CHECK(l.param_mem && !memcmp(l.param_mem, m.param_mem, sizeof(float) * m.n_params));
  skl_model_free(&l);
  /* BF16: every value within bf16 rounding (2^-8 relative) */
  path_of(dir, sizeof dir, "bf16");
  CHECK(skl_ckpt_save_model(&m, dir, SKL_DTYPE_BF16, NULL, &err) == SKL_OK);
  CHECK_MSG(skl_ckpt_load_model(&l, dir, false, &err) == SKL_OK, "%s", err.msg);
  double worst = 0;
  for (size_t i = 0; i < m.n_params; i++) {
    double d = fabs(l.param_mem[i] - m.param_mem[i]) / (fabs(m.param_mem[i]) + 1e-30);
    worst = d > worst ? d : worst;
  }
  CHECK_MSG(worst <= 1.0 / 256 && worst > 0, "bf16 worst relative error %g", worst);
  skl_model_free(&l);
  /* optimizer state */
  skl_adamw_config oc = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
  skl_adamw o, o2;
  CHECK(skl_adamw_init(&o, &m, &oc, &err) == SKL_OK);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  for (size_t i = 0; i < m.n_params; i++) m.grad_mem[i] = (float)((int)(i % 7) - 3) * 0.01f;
  CHECK(skl_adamw_step(&o, &m, 1e-3, NULL, &err) == SKL_OK);
  CHECK(skl_adamw_step(&o, &m, 1e-3, NULL, &err) == SKL_OK);
  path_of(dir, sizeof dir, "f32");
  CHECK_MSG(skl_ckpt_save_optim(&o, &m, dir, &err) == SKL_OK, "%s", err.msg);
  CHECK(skl_adamw_init(&o2, &m, &oc, &err) == SKL_OK);
  CHECK_MSG(skl_ckpt_load_optim(&o2, &m, dir, &err) == SKL_OK, "%s", err.msg);
  CHECK(o2.step == 2 && !memcmp(o2.mem, o.mem, sizeof(float) * 2 * m.n_params));
  /* optimizer of another model shape */
  skl_model_config c2 = tu_config(SKL_ARCH_QWEN3, 40, 16, 1, 4, 2, 8, 24);
  skl_model small;
  skl_adamw o3;
  CHECK(skl_model_init(&small, &c2, &err) == SKL_OK);
  CHECK(skl_adamw_init(&o3, &small, &oc, &err) == SKL_OK);
  CHECK(skl_ckpt_load_optim(&o3, &small, dir, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "wrong model?");
  skl_adamw_free(&o3);
  skl_model_free(&small);
  skl_adamw_free(&o);
  skl_adamw_free(&o2);
  skl_model_free(&m);
}

static void test_failures(void) {
  skl_model_config cfg = tu_config(SKL_ARCH_LLAMA, 30, 16, 1, 2, 2, 8, 24);
  skl_model m, l;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  tu_randomize(&m, 4, 0.1f);
  char dir[512], tok[512], path[600];
  path_of(dir, sizeof dir, "bad");
  CHECK(skl_ckpt_save_model(&m, dir, SKL_DTYPE_F32, NULL, &err) == SKL_OK);
  /* missing tensor */
  write_weights(&m, dir, "model.layers.0.mlp.up_proj.weight", NULL, NULL);
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "'model.layers.0.mlp.up_proj.weight' [24, 16] is missing");
  /* wrong shape */
  write_weights(&m, dir, NULL, NULL, "model.layers.0.mlp.down_proj.weight");
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) != SKL_OK);
  CHECK_CONTAINS(err.msg, "model.layers.0.mlp.down_proj.weight");
  CHECK_CONTAINS(err.msg, "[24, 16] expected [16, 24]");
  /* unexpected tensor: error, or allowed */
  write_weights(&m, dir, NULL, "model.layers.0.self_attn.rotary_emb.inv_freq", NULL);
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "unexpected tensor 'model.layers.0.self_attn.rotary_emb.inv_freq'");
  CHECK(skl_ckpt_load_model(&l, dir, true, &err) == SKL_OK);
  skl_model_free(&l);
  /* issue 18: NaN/Inf weights are refused at load, naming the tensor */
  float keep = m.p.w_up[5];
  m.p.w_up[5] = NAN;
  write_weights(&m, dir, NULL, NULL, NULL);
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) == SKL_ERR_NUMERIC);
  CHECK_CONTAINS(err.msg, "tensor 'model.layers.0.mlp.up_proj.weight' holds a non-finite value");
  m.p.w_up[5] = keep;
  /* tokenizer larger than the embedding */
  write_weights(&m, dir, NULL, NULL, NULL);
  snprintf(path, sizeof path, "%s/tokenizer.json", dir);
  write_tokenizer(path, 31);
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "token id 30 (added_tokens");
  CHECK_CONTAINS(err.msg, "vocab_size 30");
  path_of(tok, sizeof tok, "tok31.json");
  write_tokenizer(tok, 31);
  CHECK(skl_ckpt_save_model(&m, dir, SKL_DTYPE_F32, tok, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "tok31.json");
  write_tokenizer(path, 20); /* smaller vocabulary than the embedding: fine */
  CHECK_MSG(skl_ckpt_load_model(&l, dir, false, &err) == SKL_OK, "%s", err.msg);
  skl_model_free(&l);
  write_text(path, "{\"model\": {\"vocab\": ");
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) == SKL_ERR_PARSE);
  CHECK_CONTAINS(err.msg, "tokenizer.json:1:");
  unlink(path);
  /* corrupt safetensors: truncated file (reader's validation, names the file) */
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  char *data;
  size_t len;
  CHECK(skl_fs_read_all(path, &data, &len, &err) == SKL_OK);
  CHECK(skl_fs_write_atomic(path, data, len - 10, &err) == SKL_OK);
  free(data);
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) != SKL_OK);
  CHECK_CONTAINS(err.msg, "model.safetensors");
  /* config.json contradictions and absence (hf_config's messages name keys) */
  snprintf(path, sizeof path, "%s/config.json", dir);
  write_text(path, "{\"model_type\": \"llama\", \"hidden_size\": 16, \"num_attention_heads\": 2, "
                   "\"num_key_value_heads\": 3, \"num_hidden_layers\": 1, \"vocab_size\": 30, "
                   "\"intermediate_size\": 24}");
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) != SKL_OK);
  CHECK_CONTAINS(err.msg, "num_key_value_heads");
  /* issue 18: a crafted layer count wrapped 3 + 14 * L and build_table wrote
   * past the tensor table; now refused before any arithmetic. */
  write_text(path, "{\"model_type\": \"qwen3\", \"hidden_size\": 2, \"num_attention_heads\": 1, "
                   "\"head_dim\": 2, \"num_hidden_layers\": 306783379, \"vocab_size\": 30, "
                   "\"intermediate_size\": 1}");
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "config.json");
  CHECK_CONTAINS(err.msg, "'num_hidden_layers' is 306783379");
  skl_model_config huge = cfg;
  huge.n_layers = 1 << 30;
  CHECK(skl_model_init(&l, &huge, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "num_hidden_layers");
  skl_model_free(&l);
  huge = cfg;
  huge.vocab_size = 2000000000;
  CHECK(skl_model_init(&l, &huge, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "vocab_size");
  skl_model_free(&l);
  unlink(path);
  CHECK(skl_ckpt_load_model(&l, dir, false, &err) != SKL_OK);
  CHECK_CONTAINS(err.msg, "config.json");
  skl_model_free(&m);
}

/* `skillrl model init`: deterministic bytes for a seed, HF-style init,
 * loads back; bad config keys fail with the key named. */
static int run(const char *args, char *out, size_t n) {
  const char *bin = getenv("SKL_BIN");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  size_t len = fread(out, 1, n - 1, p);
  out[len] = '\0';
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_cli_init(void) {
  if (!getenv("SKL_BIN") || !getenv("SKL_SOURCE_ROOT")) {
    CHECK_MSG(0, "SKL_BIN / SKL_SOURCE_ROOT not set: run through meson test");
    return;
  }
  const char *src = getenv("SKL_SOURCE_ROOT");
  char args[1024], out[4096], a[600], b[600];
  snprintf(args, sizeof args, "model init -c %s/configs/model/tiny.yaml -o %s/init1 --seed 3", src, root);
  CHECK_MSG(run(args, out, sizeof out) == 0, "%s", out);
  CHECK_CONTAINS(out, "parameters");
  /* issue 18: an existing model is not replaced without --overwrite */
  snprintf(args, sizeof args, "model init -c %s/configs/model/tiny.yaml -o %s/init1 --seed 4", src, root);
  CHECK(run(args, out, sizeof out) == 1);
  CHECK_CONTAINS(out, "init1 already exists");
  CHECK_CONTAINS(out, "--overwrite");
  snprintf(args, sizeof args, "model init -c %s/configs/model/tiny.yaml -o %s/init2 --seed 4", src, root);
  CHECK(run(args, out, sizeof out) == 0);
  snprintf(args, sizeof args, "model init -c %s/configs/model/tiny.yaml -o %s/init2 --seed 3 --overwrite", src, root);
  CHECK_MSG(run(args, out, sizeof out) == 0, "%s", out);
  /* issue 18: a tokenizer.json the loader refuses is refused by init, before anything is written */
  snprintf(a, sizeof a, "%s/unigram.json", root);
  write_text(a, "{\"model\":{\"type\":\"Unigram\",\"vocab\":{\"a\":0,\"b\":1}}}");
  snprintf(args, sizeof args, "model init -c %s/configs/model/tiny.yaml -o %s/init_badtok --tokenizer %s", src, root, a);
  CHECK(run(args, out, sizeof out) == 1);
  CHECK_CONTAINS(out, "unigram.json");
  snprintf(b, sizeof b, "%s/init_badtok", root);
  CHECK(!skl_fs_exists(b));
  snprintf(a, sizeof a, "%s/init1/model.safetensors", root);
  snprintf(b, sizeof b, "%s/init2/model.safetensors", root);
  char *da, *db;
  size_t la, lb;
  skl_error err;
  CHECK(skl_fs_read_all(a, &da, &la, &err) == SKL_OK && skl_fs_read_all(b, &db, &lb, &err) == SKL_OK);
  CHECK(la == lb && !memcmp(da, db, la));
  free(da);
  free(db);
  skl_model m;
  snprintf(a, sizeof a, "%s/init1", root);
  CHECK_MSG(skl_ckpt_load_model(&m, a, false, &err) == SKL_OK, "%s", err.msg);
  CHECK(m.cfg.hidden_size == 64 && m.cfg.tie_embeddings && m.p.lm_head == NULL);
  CHECK(m.p.attn_norm[5] == 1.0f && m.p.final_norm[0] == 1.0f);
  double ss = 0;
  size_t n = (size_t)m.cfg.vocab_size * m.cfg.hidden_size;
  for (size_t i = 0; i < n; i++) ss += (double)m.p.embed[i] * m.p.embed[i];
  CHECK_NEAR(sqrt(ss / n), 0.02, 0.001);
  skl_model_free(&m);
  snprintf(args, sizeof args, "model init -c %s/configs/model/ref5m.yaml -o %s/init3 num_attention_heads=7", src, root);
  CHECK(run(args, out, sizeof out) == 1);
  CHECK_CONTAINS(out, "num_attention_heads");
  /* bench train: one JSON line with the documented fields */
  snprintf(args, sizeof args, "bench train -m %s/configs/model/tiny.yaml -B 1 -T 64 --steps 1 --threads 1", src);
  CHECK_MSG(run(args, out, sizeof out) == 0, "%s", out);
  const char *keys[] = {"\"bench\":\"train\"", "\"threads\":1", "\"seconds\":", "\"tokens_per_s\":",
                        "\"gflops\":", "\"mfu\":", "\"peak_rss_mb\":", "\"blas_core\":"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK_CONTAINS(out, keys[i]);
  snprintf(args, sizeof args, "bench train -m %s/configs/model/tiny.yaml --peer jax", src);
  CHECK(run(args, out, sizeof out) == 2);
  CHECK_CONTAINS(out, "only 'torch'");
  snprintf(args, sizeof args, "model init -c %s/configs/model/ref5m.yaml", src);
  CHECK(run(args, out, sizeof out) == 2);
  CHECK_CONTAINS(out, "-o DIR");
}

int main(void) {
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(root, sizeof root, "%s/skl_ckpt_%d", tmp, (int)getpid());
  skl_error err;
  SKL_ASSERT(skl_fs_mkdirs(root, &err) == SKL_OK);
  test_roundtrip();
  test_failures();
  test_cli_init();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
  return test_report();
}
