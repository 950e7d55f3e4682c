/* Optimizer tests: AdamW + clipping + schedule against torch.optim.AdamW
 * (tests/model/ref_optim.py), and the failure paths. Not model gradients. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "model/optim.h"
#include "model_testutil.h"

static void test_vs_torch(void) {
  skl_model_config cfg = tu_config(SKL_ARCH_QWEN2, 11, 8, 1, 2, 1, 4, 6);
  skl_model m;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  tu_randomize(&m, 5, 0.5f);
  skl_adamw_config oc = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1,
                         .grad_clip = 1.0, .warmup_steps = 2, .total_steps = 6, .min_lr_ratio = 0.1};
  skl_adamw o;
  CHECK(skl_adamw_init(&o, &m, &oc, &err) == SKL_OK);
  enum { K = 5 };
  static xfile x;
  x.n = 0;
  float *p0 = malloc(sizeof(float) * m.n_params), *gk[K];
  memcpy(p0, m.param_mem, sizeof(float) * m.n_params);
  float dec[64], lrs[K];
  char names[8][64][32];
  skl_rng r;
  skl_rng_seed(&r, 77);
  for (int i = 0; i < m.n_tensors; i++) {
    snprintf(names[0][i], 32, "p0.%d", i);
    xadd(&x, names[0][i], 1, (int64_t)m.tensors[i].numel, 0, p0 + m.tensors[i].offset);
    snprintf(names[7][i], 32, "decay.%d", i);
    dec[i] = m.tensors[i].decay ? 1.0f : 0.0f;
    xadd(&x, names[7][i], 1, 1, 0, &dec[i]);
  }
  double norm = 0;
  for (int k = 0; k < K; k++) {
    gk[k] = malloc(sizeof(float) * m.n_params);
    /* step 0 is large (clipped), later ones small (not clipped) */
    for (size_t j = 0; j < m.n_params; j++) gk[k][j] = (float)skl_rng_normal(&r) * (k == 0 ? 1.0f : 0.01f);
    memcpy(m.grad_mem, gk[k], sizeof(float) * m.n_params);
    lrs[k] = (float)skl_lr_at(&oc, k);
    CHECK(skl_adamw_step(&o, &m, lrs[k], &norm, &err) == SKL_OK);
    if (k == 0) CHECK(norm > 1.0);
    for (int i = 0; i < m.n_tensors; i++) {
      snprintf(names[1 + k][i], 32, "g%d.%d", k, i);
      xadd(&x, names[1 + k][i], 1, (int64_t)m.tensors[i].numel, 0, gk[k] + m.tensors[i].offset);
    }
  }
  for (int i = 0; i < m.n_tensors; i++) {
    snprintf(names[6][i], 32, "p%d.%d", K, i);
    xadd(&x, names[6][i], 1, (int64_t)m.tensors[i].numel, 0, m.param_mem + m.tensors[i].offset);
  }
  xadd(&x, "lrs", 1, K, 0, lrs);
  CHECK(o.step == K);
  char path[256], cmd[1024];
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(path, sizeof path, "%s/skl_optim_ref_%d.safetensors", tmp, (int)getpid());
  CHECK(xwrite(&x, path,
               "{\"lr\":0.01,\"beta1\":0.9,\"beta2\":0.95,\"eps\":1e-8,\"weight_decay\":0.1,"
               "\"grad_clip\":1.0,\"warmup\":2,\"total\":6,\"min_ratio\":0.1}",
               K, 0) == 0);
  const char *py = getenv("PYTHON") ? getenv("PYTHON") : "python3";
  const char *src = getenv("SKL_SOURCE_ROOT") ? getenv("SKL_SOURCE_ROOT") : ".";
  snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s %s/tests/model/ref_optim.py %s", py, src, path);
  int rc = system(cmd);
  CHECK_MSG(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "AdamW differs from torch (rc %d)", rc);
  unlink(path);
  for (int k = 0; k < K; k++) free(gk[k]);
  free(p0);
  skl_adamw_free(&o);
  skl_model_free(&m);
}

static void test_schedule_and_errors(void) {
  skl_adamw_config oc = {.lr = 1.0, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .warmup_steps = 10,
                         .total_steps = 110, .min_lr_ratio = 0.0};
  CHECK_NEAR(skl_lr_at(&oc, 0), 0.1, 1e-12);
  CHECK_NEAR(skl_lr_at(&oc, 9), 1.0, 1e-12);
  CHECK_NEAR(skl_lr_at(&oc, 60), 0.5, 1e-12);
  CHECK_NEAR(skl_lr_at(&oc, 110), 0.0, 1e-12);
  CHECK_NEAR(skl_lr_at(&oc, 500), 0.0, 1e-12);
  skl_model_config cfg = tu_config(SKL_ARCH_LLAMA, 11, 8, 1, 2, 1, 4, 6);
  skl_model m;
  skl_error err;
  CHECK(skl_model_init(&m, &cfg, &err) == SKL_OK);
  skl_adamw o;
  oc.beta2 = 1.0;
  CHECK(skl_adamw_init(&o, &m, &oc, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "beta2");
  oc.beta2 = 0.999;
  CHECK(skl_adamw_init(&o, &m, &oc, &err) == SKL_OK);
  CHECK(skl_adamw_step(&o, &m, 0.1, NULL, &err) == SKL_ERR_STATE);
  CHECK(skl_model_grads_alloc(&m, &err) == SKL_OK);
  float keep = m.param_mem[3];
  m.grad_mem[7] = NAN;
  double norm;
  CHECK(skl_adamw_step(&o, &m, 0.1, &norm, &err) == SKL_ERR_NUMERIC);
  CHECK_CONTAINS(err.msg, "parameters left unchanged");
  CHECK(m.param_mem[3] == keep && o.step == 0);
  /* norm is independent of the block split: compare against a serial sum */
  m.grad_mem[7] = 0;
  double s = 0;
  for (size_t i = 0; i < m.n_params; i++) m.grad_mem[i] = (float)(i % 13) * 0.25f, s += (double)m.grad_mem[i] * m.grad_mem[i];
  CHECK_NEAR(skl_grad_norm(m.grad_mem, m.n_params), sqrt(s), 1e-9 * sqrt(s));
  skl_adamw_free(&o);
  skl_adamw_free(NULL);
  skl_model_free(&m);
}

int main(void) {
  test_vs_torch();
  test_schedule_and_errors();
  return test_report();
}
