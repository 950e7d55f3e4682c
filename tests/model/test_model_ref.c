/* PyTorch reference test: skillrl's forward/backward on random weights and a
 * packed batch, checked by tests/model/ref_model.py in float64 (logits,
 * per-token log-probs, entropy, loss and every parameter gradient).
 * Not a gradcheck (test_model_grad.c). Usage: test_model_ref [slow] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model_testutil.h"
#include "harness.h"

static const char *rope_name(skl_rope_type t) {
  return t == SKL_ROPE_LINEAR ? "linear" : t == SKL_ROPE_LLAMA3 ? "llama3" : t == SKL_ROPE_YARN ? "yarn" : "default";
}

/* Run one configuration through skillrl and the reference. */
static char pending[8][256]; /* exchange files waiting for the reference */
static int n_pending;

/* Run the reference once over every pending file (one torch start-up). */
static void check_pending(void) {
  const char *py = getenv("PYTHON") ? getenv("PYTHON") : "python3";
  const char *src = getenv("SKL_SOURCE_ROOT") ? getenv("SKL_SOURCE_ROOT") : ".";
  char cmd[4096];
  int len = snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s %s/tests/model/ref_model.py", py, src);
  for (int i = 0; i < n_pending; i++) len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %s", pending[i]);
  fflush(stdout);
  int rc = system(cmd);
  CHECK_MSG(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "reference mismatch (rc %d)", rc);
  for (int i = 0; i < n_pending; i++) unlink(pending[i]);
  n_pending = 0;
}

static void run_case(const char *label, skl_model_config cfg, int B, int T, int max_doc,
                     bool recompute, bool with_logits) {
  skl_error err = {0};
  skl_model m;
  skl_acts a;
  CHECK_MSG(skl_model_init(&m, &cfg, &err) == SKL_OK, "%s: %s", label, err.msg);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  CHECK_MSG(skl_acts_init(&a, &cfg, B, T, recompute, &err) == SKL_OK, "%s: %s", label, err.msg);
  tu_randomize(&m, 1234 + (uint64_t)cfg.arch, 0.08f);
  tu_batch tb;
  tu_batch_make(&tb, B, T, cfg.vocab_size, max_doc, 99);
  skl_step_stats st;
  skl_model_zero_grad(&m);
  CHECK_MSG(skl_model_step(&m, &a, &tb.b, true, &st, &err) == SKL_OK, "%s: %s", label, err.msg);
  size_t N = (size_t)B * T;
  float *logits = NULL;
  if (with_logits) {
    logits = malloc(N * cfg.vocab_size * sizeof(float));
    skl_acts a2;
    CHECK(skl_acts_init(&a2, &cfg, B, T, false, &err) == SKL_OK);
    CHECK(skl_model_logits(&m, &a2, &tb.b, logits, &err) == SKL_OK);
    skl_acts_free(&a2);
  }
  static xfile x;
  x.n = 0;
  for (int i = 0; i < m.n_tensors; i++) {
    const skl_tensor_info *t = &m.tensors[i];
    xadd(&x, t->name, t->ndim, t->shape[0], t->shape[1], m.param_mem + t->offset);
  }
  char gname[160][160];
  for (int i = 0; i < m.n_tensors; i++) {
    const skl_tensor_info *t = &m.tensors[i];
    snprintf(gname[i], sizeof gname[i], "grad.%s", t->name);
    xadd(&x, gname[i], t->ndim, t->shape[0], t->shape[1], m.grad_mem + t->offset);
  }
  xadd_ints(&x, "batch.tokens", tb.tokens, N);
  xadd_ints(&x, "batch.targets", tb.targets, N);
  xadd_ints(&x, "batch.pos", tb.pos, N);
  xadd_ints(&x, "batch.doc", tb.doc, N);
  xadd(&x, "batch.coef", 1, (int64_t)N, 0, a.coef);
  xadd(&x, "out.logp", 1, (int64_t)N, 0, a.logp);
  xadd(&x, "out.entropy", 1, (int64_t)N, 0, a.entropy);
  float loss = (float)st.loss;
  xadd(&x, "out.loss", 1, 1, 0, &loss);
  if (logits) xadd(&x, "out.logits", 2, (int64_t)N, cfg.vocab_size, logits);

  char cj[1024];
  snprintf(cj, sizeof cj,
           "{\"hidden_size\":%d,\"num_attention_heads\":%d,\"num_key_value_heads\":%d,"
           "\"head_dim\":%d,\"num_hidden_layers\":%d,\"rms_norm_eps\":%.9g,\"rope_theta\":%.9g,"
           "\"qk_norm\":%s,\"rope_type\":\"%s\",\"factor\":%.9g,\"low_freq_factor\":%.9g,"
           "\"high_freq_factor\":%.9g,\"original_max_position_embeddings\":%d,"
           "\"max_position_embeddings\":%d}",
           cfg.hidden_size, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim, cfg.n_layers,
           (double)cfg.rms_eps, (double)cfg.rope_theta, cfg.qk_norm ? "true" : "false",
           rope_name(cfg.rope_type), (double)cfg.rope_factor, (double)cfg.rope_low_freq_factor,
           (double)cfg.rope_high_freq_factor, cfg.rope_orig_max_position, cfg.max_position);
  char path[256];
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(path, sizeof path, "%s/skl_model_ref_%d_%s.safetensors", tmp, (int)getpid(), label);
  CHECK(xwrite(&x, path, cj, B, T) == 0);
  printf("wrote %s: %s (B=%d T=%d recompute=%d)\n", path, label, B, T, (int)recompute);
  snprintf(pending[n_pending++], sizeof pending[0], "%s", path);
  free(logits);
  tu_batch_free(&tb);
  skl_acts_free(&a);
  skl_model_free(&m);
}

int main(int argc, char **argv) {
  bool slow = argc > 1 && !strcmp(argv[1], "slow");
  if (!slow) {
    skl_model_config c = tu_config(SKL_ARCH_LLAMA, 61, 32, 2, 4, 2, 8, 48);
    run_case("llama_gqa", c, 2, 80, 40, false, true);
    run_case("llama_recompute", c, 2, 80, 40, true, false);
    c = tu_config(SKL_ARCH_QWEN2, 50, 32, 2, 4, 1, 8, 40);
    c.tie_embeddings = true;
    c.rope_type = SKL_ROPE_LINEAR;
    c.rope_factor = 4.0f;
    run_case("qwen2_tied_linear", c, 2, 70, 30, false, true);
    c = tu_config(SKL_ARCH_QWEN3, 47, 32, 2, 4, 2, 16, 40);
    c.rope_type = SKL_ROPE_LLAMA3;
    c.rope_factor = 8.0f;
    c.rope_low_freq_factor = 1.0f;
    c.rope_high_freq_factor = 4.0f;
    c.rope_orig_max_position = 64;
    c.rope_theta = 500000.0f;
    run_case("qwen3_llama3", c, 1, 130, 200, false, true);
    c = tu_config(SKL_ARCH_LLAMA, 40, 32, 1, 2, 2, 16, 24);
    c.rope_type = SKL_ROPE_YARN;
    c.rope_factor = 4.0f;
    c.rope_orig_max_position = 256;
    c.max_position = 1024;
    run_case("llama_yarn", c, 1, 100, 100, false, true);
  } else {
    const char *sz = getenv("SKL_SLOW_SIZE");
    int T = sz && !strcmp(sz, "small") ? 1024 : 4096;
    skl_model_config c = tu_config(SKL_ARCH_QWEN3, 97, 64, 2, 4, 2, 16, 96);
    run_case("qwen3_long_packed", c, 1, T, T / 3, true, false);
  }
  check_pending();
  return test_report();
}
