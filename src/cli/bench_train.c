/* bench train: tokens/s, GFLOP/s and MFU (against an sgemm peak measured in
 * the same run) of full training steps, optionally beside a PyTorch peer.
 * Not a trainer: random tokens, fixed shapes, no data loading. */
#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/optim.h"
#include "sys/sys.h"

/* sgemm GFLOP/s at the training's typical shape class (square 1024), best of 3. */
static double sgemm_peak(void) {
  int n = 1024;
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
        *c = malloc(sizeof(float) * n * n);
  if (!a || !b || !c) {
    free(a), free(b), free(c);
    return 0;
  }
  for (int i = 0; i < n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
  double best = 0;
  /* OpenBLAS's own threading on all our threads: the best it can do */
  int bt = openblas_get_num_threads();
  openblas_set_num_threads(skl_sys_threads());
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
  for (int r = 0; r < 3; r++) {
    double t0 = skl_time_now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double dt = skl_time_now() - t0, g = 2.0 * n * n * n / dt / 1e9;
    best = g > best ? g : best;
  }
  openblas_set_num_threads(bt);
  free(a), free(b), free(c);
  return best;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A file of the source tree: $SKL_SOURCE_ROOT/REL, else REL above the
 * binary's build folder. */
static bool source_file(const char *rel, char *out, size_t n) {
  const char *src = getenv("SKL_SOURCE_ROOT");
  if (src) {
    snprintf(out, n, "%s/%s", src, rel);
    if (skl_fs_exists(out)) return true;
  }
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return false;
  exe[len] = '\0';
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = '\0';
    snprintf(out, n, "%s/%s", exe, rel);
    if (skl_fs_exists(out)) return true;
  }
  return false;
}

static double run_peer(const skl_model_config *c, int B, int T, int steps, int threads) {
  char script[PATH_MAX + 64], cmd[PATH_MAX + 512];
  if (!source_file("tests/model/torch_train_peer.py", script, sizeof script)) {
    fprintf(stderr, "skillrl bench train: cannot find tests/model/torch_train_peer.py (set SKL_SOURCE_ROOT)\n");
    return -1;
  }
  /* Debian's python3 carries python3-torch; a python3 earlier on PATH may not */
  const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
  snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=%d %s %s %d %d %d %d %d %d %d %d %d %d %d", threads, py,
           script, c->vocab_size, c->hidden_size, c->n_layers, c->n_heads, c->n_kv_heads,
           c->head_dim, c->intermediate_size, B, T, steps, threads);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512] = {0};
  double tps = -1;
  while (fgets(line, sizeof line, p)) {
    const char *k = strstr(line, "\"tokens_per_s\":");
    if (k) tps = strtod(k + 15, NULL);
  }
  int rc = pclose(p);
  if (rc != 0) fprintf(stderr, "skillrl bench train: torch peer failed (%s)\n", cmd);
  return rc == 0 ? tps : -1;
}

int skl_bench_train(int argc, char **argv) {
  const char *model_cfg = NULL, *peer = NULL;
  int64_t B = 4, T = 1024, steps = 3, threads = 0, warmup = 1;
  bool recompute = false;
  const skl_arg_opt opts[] = {
      {"model-config", 'm', SKL_ARG_STR, &model_cfg, "MODEL_CONFIG",
       "configs/model/NAME.yaml (default: configs/model/ref5m.yaml)"},
      {"batch", 'B', SKL_ARG_INT, &B, "N", "rows per step (default 4)"},
      {"seq", 'T', SKL_ARG_INT, &T, "N", "tokens per row (default 1024)"},
      {"steps", 0, SKL_ARG_INT, &steps, "N", "timed steps (default 3)"},
      {"warmup", 0, SKL_ARG_INT, &warmup, "N", "untimed steps first (default 1)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "OpenMP and OpenBLAS threads (default: OMP_NUM_THREADS)"},
      {"recompute", 0, SKL_ARG_FLAG, &recompute, NULL, "recompute activations per layer in the backward"},
      {"peer", 0, SKL_ARG_STR, &peer, "torch", "also time plain PyTorch on the same config"},
  };
  skl_arg_spec spec = {"skillrl bench train", "[-m MODEL_CONFIG] [-B N] [-T N] [--steps N] [--threads N] [--peer torch]",
                       "Time full training steps (forward, backward, AdamW) on random tokens and print "
                       "ONE JSON line: tokens_per_s (median step), gflops, mfu (vs. an sgemm peak measured now), "
                       "peak_rss_mb, blas_core; with --peer torch also peer_tokens_per_s and ratio.",
                       opts, (int)(sizeof opts / sizeof opts[0]), 0, -1,
                       "Set OPENBLAS_CORETYPE (e.g. SkylakeX) when OpenBLAS misdetects the CPU."};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (B < 1 || T < 1 || steps < 1 || warmup < 0 || B * T > (int64_t)1 << 30) {
    fprintf(stderr, "skillrl bench train: -B, -T and --steps must be >= 1, --warmup >= 0\n");
    return 2;
  }
  if (peer && strcmp(peer, "torch")) {
    fprintf(stderr, "skillrl bench train: --peer '%s': only 'torch' is known\n", peer);
    return 2;
  }
  if (threads > 0) {
    omp_set_num_threads((int)threads);
    skl_blas_set_threads((int)threads);
  }
  int nthr = skl_sys_threads();
  char warn[512];
  if (skl_blas_warning(warn, sizeof warn)) fprintf(stderr, "%s\n", warn);
  skl_model_config cfg;
  skl_error err = {0};
  char defpath[PATH_MAX + 64];
  const char *path = model_cfg;
  if (!path) {
    path = "configs/model/ref5m.yaml";
    if (!skl_fs_exists(path) && source_file(path, defpath, sizeof defpath)) path = defpath;
  }
  if (skl_model_cfg_load(path, argv + 1, npos, &cfg, NULL, &err)) return skl_cli_fail("bench train", err.msg);
  skl_model m;
  skl_acts a;
  skl_adamw opt;
  skl_adamw_config oc = {.lr = 1e-4, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1, .grad_clip = 1.0};
  if (skl_model_init(&m, &cfg, &err) || skl_model_grads_alloc(&m, &err) ||
      skl_acts_init(&a, &cfg, (int)B, (int)T, recompute, &err) || skl_adamw_init(&opt, &m, &oc, &err))
    return skl_cli_fail("bench train", err.msg);
  skl_rng r;
  skl_rng_seed(&r, 1);
  skl_model_init_weights(&m, &r, 0.02f);
  size_t N = (size_t)B * T;
  int32_t *tok = malloc(sizeof(int32_t) * N), *tgt = malloc(sizeof(int32_t) * N);
  if (!tok || !tgt) return skl_cli_fail("bench train", "out of memory");
  for (size_t i = 0; i < N; i++) {
    tok[i] = (int32_t)skl_rng_below(&r, (uint64_t)cfg.vocab_size);
    tgt[i] = (int32_t)skl_rng_below(&r, (uint64_t)cfg.vocab_size);
  }
  skl_batch b = {.B = (int)B, .T = (int)T, .tokens = tok, .targets = tgt};
  double peak = sgemm_peak();
  double t_total = 0, loss = 0;
  double *times = malloc(sizeof(double) * (size_t)steps);
  if (!times) return skl_cli_fail("bench train", "out of memory");
  for (int s = 1 - (int)warmup; s <= steps; s++) {
    double t0 = skl_time_now();
    skl_step_stats st;
    skl_model_zero_grad(&m);
    if (skl_model_step(&m, &a, &b, true, &st, &err) || skl_adamw_step(&opt, &m, 1e-4, NULL, &err))
      return skl_cli_fail("bench train", err.msg);
    double dt = skl_time_now() - t0;
    if (s > 0) { /* steps <= 0 warm caches and pages */
      t_total += dt;
      times[s - 1] = dt;
    }
    loss = st.loss;
  }
  /* median step: robust to the load spikes of a shared machine */
  qsort(times, (size_t)steps, sizeof(double), cmp_double);
  double med = steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
  free(times);
  double peak2 = sgemm_peak();
  peak = peak2 > peak ? peak2 : peak;
  double tps = (double)N / med;
  double gflops = skl_model_flops_per_token(&cfg, (int)T, true) * tps / 1e9;
  double peer_tps = peer ? run_peer(&cfg, (int)B, (int)T, (int)steps, nthr) : 0;
  skl_benchjson j;
  skl_benchjson_init(&j, "train", nthr);
  skl_benchjson_num(&j, "seconds", t_total);
  skl_benchjson_num(&j, "tokens_per_s", tps);
  skl_benchjson_num(&j, "gflops", gflops);
  skl_benchjson_num(&j, "mfu", peak > 0 ? gflops / peak : 0);
  skl_benchjson_num(&j, "sgemm_peak_gflops", peak);
  skl_benchjson_num(&j, "peak_rss_mb", skl_peak_rss_mb());
  skl_benchjson_str(&j, "blas_core", skl_blas_core());
  /* planned memory: params + grads + AdamW moments, and the activations */
  skl_benchjson_num(&j, "state_mb", 16.0 * m.n_params / (1 << 20));
  skl_benchjson_num(&j, "acts_mb", 4.0 * a.n_floats / (1 << 20));
  skl_benchjson_int(&j, "B", B);
  skl_benchjson_int(&j, "T", T);
  skl_benchjson_int(&j, "steps", steps);
  skl_benchjson_bool(&j, "recompute", recompute);
  skl_benchjson_num(&j, "params_m", m.n_params / 1e6);
  skl_benchjson_num(&j, "us_per_token", 1e6 / tps);
  skl_benchjson_num(&j, "loss", loss);
  if (peer) {
    skl_benchjson_str(&j, "peer", "torch");
    skl_benchjson_num(&j, "peer_tokens_per_s", peer_tps > 0 ? peer_tps : 0.0 / 0.0);
    skl_benchjson_num(&j, "ratio", peer_tps > 0 ? tps / peer_tps : 0.0 / 0.0);
  }
  int out = 0;
  if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);
  else out = skl_cli_fail("bench train", err.msg);
  skl_benchjson_free(&j);
  free(tok);
  free(tgt);
  skl_adamw_free(&opt);
  skl_acts_free(&a);
  skl_model_free(&m);
  return out || (peer && peer_tps <= 0) ? 1 : 0;
}
