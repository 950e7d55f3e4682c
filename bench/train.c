/* bench train: tokens/s, GFLOP/s and MFU (against an sgemm peak measured in
 * the same run) of full training steps, optionally beside a PyTorch peer.
 * Not a trainer: random tokens, fixed shapes, no data loading. */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "bench/bench.h"
#include "core/fs.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/optim.h"
#include "sys/sys.h"

/* sgemm GFLOP/s at the training's typical shape class (square 1024, B
 * transposed as in X @ W^T), best of 3, OpenBLAS's own threading on all our
 * threads: the best it can do. */
static double sgemm_peak(void) {
  int bt = openblas_get_num_threads();
  openblas_set_num_threads(skl_sys_threads());
  double g = 0;
  skl_error err = {0};
  if (skl_blas_sgemm_shape_gflops(false, true, 1024, 1024, 1024, 3, &g, &err)) g = 0;
  openblas_set_num_threads(bt);
  return g;
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

/* Median of n step times (sorts t). */
static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* --grpo: one GRPO group (a prompt of P tokens, G responses of R tokens),
 * forward + backward, as the shared-prefix group step and as the plain
 * per-sample step (G packed rows of prompt+response-1 tokens through
 * skl_model_step, what update.shared_prefix=false trains), on the same model
 * in the same run. tokens_per_s counts response tokens trained. */
static int bench_grpo(const skl_model_config *cfg, int P, int R, int G, int steps, int warmup, bool recompute,
                      int nthr) {
  skl_error err = {0};
  skl_model m;
  skl_group_acts ga;
  skl_acts a;
  int T = P + R - 1; /* the packed row: the last response token is only a target */
  memset(&ga, 0, sizeof ga);
  memset(&a, 0, sizeof a);
  if (skl_model_init(&m, cfg, &err) || skl_model_grads_alloc(&m, &err) ||
      skl_group_acts_init(&ga, cfg, P - 1, G, R, recompute, &err) ||
      skl_acts_init(&a, cfg, G, T, recompute, &err))
    return skl_cli_fail("bench train", err.msg);
  skl_rng r;
  skl_rng_seed(&r, 1);
  skl_model_init_weights(&m, &r, 0.02f);
  size_t N = (size_t)G * T, S = (size_t)G * R;
  int32_t *prompt = malloc(sizeof(int32_t) * (size_t)P), *resp = malloc(sizeof(int32_t) * S);
  int32_t *gtok = malloc(sizeof(int32_t) * S), *tok = malloc(sizeof(int32_t) * N), *tgt = malloc(sizeof(int32_t) * N);
  float *adv = malloc(sizeof(float) * S), *w = calloc(N, sizeof(float)), *mask = calloc(N, sizeof(float));
  int *len = malloc(sizeof(int) * (size_t)G);
  double *tg = malloc(sizeof(double) * (size_t)steps), *tb = malloc(sizeof(double) * (size_t)steps);
  float *ggrad = malloc(sizeof(float) * m.n_params);
  if (!prompt || !resp || !gtok || !tok || !tgt || !adv || !w || !mask || !len || !tg || !tb || !ggrad)
    return skl_cli_fail("bench train", "out of memory");
  for (int i = 0; i < P; i++) prompt[i] = (int32_t)skl_rng_below(&r, (uint64_t)cfg->vocab_size);
  for (size_t i = 0; i < S; i++) {
    resp[i] = (int32_t)skl_rng_below(&r, (uint64_t)cfg->vocab_size);
    adv[i] = (float)(skl_rng_uniform(&r) * 2 - 1); /* per-token weights as -dLoss/dlogp */
  }
  /* group layout (model.h): prefix = prompt[0..P-2], suffix g = prompt[P-1], resp[0..R-2] */
  for (int g = 0; g < G; g++) {
    len[g] = R;
    for (int j = 0; j < R; j++) gtok[(size_t)g * R + j] = j ? resp[(size_t)g * R + j - 1] : prompt[P - 1];
  }
  skl_group_batch gb = {.P = P - 1, .prefix = prompt, .G = G, .R = R, .len = len, .tokens = gtok,
                        .targets = resp, .weight = adv, .loss_norm = (double)S};
  /* plain layout (rl/pack.c): prompt targets masked, response weighted */
  for (int g = 0; g < G; g++)
    for (int t = 0; t < T; t++) {
      size_t n = (size_t)g * T + t;
      tok[n] = t < P ? prompt[t] : resp[(size_t)g * R + t - P];
      tgt[n] = t + 1 < P ? prompt[t + 1] : resp[(size_t)g * R + t + 1 - P];
      if (t >= P - 1) {
        mask[n] = 1;
        w[n] = adv[(size_t)g * R + t + 1 - P];
      }
    }
  skl_batch b = {.B = G, .T = T, .tokens = tok, .targets = tgt, .mask = mask, .weight = w, .loss_norm = (double)S};
  double total = 0, loss_g = 0, loss_b = 0;
  for (int s = 1 - warmup; s <= steps; s++) {
    skl_step_stats st;
    double t0 = skl_time_now();
    skl_model_zero_grad(&m);
    if (skl_group_step(&m, &ga, &gb, true, &st, &err)) return skl_cli_fail("bench train", err.msg);
    double t1 = skl_time_now();
    loss_g = st.loss;
    memcpy(ggrad, m.grad_mem, sizeof(float) * m.n_params);
    skl_model_zero_grad(&m);
    if (skl_model_step(&m, &a, &b, true, &st, &err)) return skl_cli_fail("bench train", err.msg);
    double t2 = skl_time_now();
    loss_b = st.loss;
    if (s > 0) {
      tg[s - 1] = t1 - t0;
      tb[s - 1] = t2 - t1;
      total += t2 - t0;
    }
  }
  /* the two steps' gradients, as a sanity check of the measured work */
  double gmax = 0, dmax = 0;
  for (size_t i = 0; i < m.n_params; i++) {
    double x = m.grad_mem[i], y = ggrad[i];
    gmax = fabs(x) > gmax ? fabs(x) : gmax;
    dmax = fabs(x - y) > dmax ? fabs(x - y) : dmax;
  }
  double mg = median(tg, steps), mb = median(tb, steps);
  skl_benchjson j;
  skl_benchjson_init(&j, "train", nthr);
  skl_benchjson_num(&j, "seconds", total);
  skl_benchjson_str(&j, "mode", "grpo");
  skl_benchjson_num(&j, "tokens_per_s", (double)S / mg);
  skl_benchjson_num(&j, "baseline_tokens_per_s", (double)S / mb);
  skl_benchjson_num(&j, "speedup", mb / mg);
  skl_benchjson_num(&j, "peak_rss_mb", skl_peak_rss_mb());
  skl_benchjson_str(&j, "peer", "per-sample");
  skl_benchjson_num(&j, "ratio", mb / mg);
  skl_benchjson_num(&j, "group_step_s", mg);
  skl_benchjson_num(&j, "baseline_step_s", mb);
  skl_benchjson_num(&j, "group_acts_mb", 4.0 * ga.a.n_floats / (1 << 20));
  skl_benchjson_num(&j, "baseline_acts_mb", 4.0 * a.n_floats / (1 << 20));
  skl_benchjson_int(&j, "prompt_len", P);
  skl_benchjson_int(&j, "response_len", R);
  skl_benchjson_int(&j, "G", G);
  skl_benchjson_int(&j, "steps", steps);
  skl_benchjson_bool(&j, "recompute", recompute);
  skl_benchjson_num(&j, "params_m", m.n_params / 1e6);
  skl_benchjson_num(&j, "loss", loss_g);
  skl_benchjson_num(&j, "baseline_loss", loss_b);
  skl_benchjson_num(&j, "grad_max_diff_rel", gmax > 0 ? dmax / gmax : 0);
  skl_benchjson_str(&j, "blas_core", skl_blas_core());
  int out = 0;
  if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);
  else out = skl_cli_fail("bench train", err.msg);
  skl_benchjson_free(&j);
  free(prompt); free(resp); free(gtok); free(tok); free(tgt); free(adv); free(w); free(mask); free(len);
  free(tg); free(tb); free(ggrad);
  skl_acts_free(&a);
  skl_group_acts_free(&ga);
  skl_model_free(&m);
  return out;
}

int skl_bench_train(int argc, char **argv) {
  const char *model_cfg = NULL, *peer = NULL;
  int64_t B = 4, T = 1024, steps = -1, threads = 0, warmup = 1;
  int64_t prompt_len = 4096, response_len = 128, group = 8;
  bool recompute = false, grpo = false, no_recompute = false;
  const skl_arg_opt opts[] = {
      {"model-config", 'm', SKL_ARG_STR, &model_cfg, "MODEL_CONFIG",
       "configs/model/NAME.yaml (default: configs/model/ref5m.yaml)"},
      {"batch", 'B', SKL_ARG_INT, &B, "N", "rows per step (default 4)"},
      {"seq", 'T', SKL_ARG_INT, &T, "N", "tokens per row (default 1024)"},
      {"steps", 0, SKL_ARG_INT, &steps, "N", "timed steps (default 3; --grpo: 1)"},
      {"warmup", 0, SKL_ARG_INT, &warmup, "N", "untimed steps first (default 1)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "OpenMP and OpenBLAS threads (default: OMP_NUM_THREADS)"},
      {"recompute", 0, SKL_ARG_FLAG, &recompute, NULL, "recompute activations per layer in the backward"},
      {"peer", 0, SKL_ARG_STR, &peer, "torch", "also time plain PyTorch on the same config"},
      {"grpo", 0, SKL_ARG_FLAG, &grpo, NULL,
       "time one GRPO group's update (forward + backward): the shared-prefix group step vs the plain "
       "per-sample step (G packed rows of prompt+response), same model, same run"},
      {"prompt-len", 0, SKL_ARG_INT, &prompt_len, "N", "--grpo: prompt tokens (default 4096)"},
      {"response-len", 0, SKL_ARG_INT, &response_len, "N", "--grpo: tokens per response (default 128)"},
      {"group", 'G', SKL_ARG_INT, &group, "N", "--grpo: responses per prompt (default 8)"},
      {"no-recompute", 0, SKL_ARG_FLAG, &no_recompute, NULL, "--grpo: keep every layer's activations (default: recompute)"},
  };
  skl_arg_spec spec = {"skillrl bench train",
                       "[-m MODEL_CONFIG] [-B N] [-T N] [--steps N] [--threads N] [--peer torch]\n"
                       "       skillrl bench train --grpo [--prompt-len N] [--response-len N] [-G N] [--steps N]",
                       "Time full training steps (forward, backward, AdamW) on random tokens and print "
                       "ONE JSON line: tokens_per_s (median step), gflops, mfu (vs. an sgemm peak measured now), "
                       "peak_rss_mb, blas_core; with --peer torch also peer_tokens_per_s and ratio. "
                       "With --grpo: one GRPO group (a prompt, G responses) as the shared-prefix group step and "
                       "as the plain per-sample step, forward + backward, in the same run: tokens_per_s and "
                       "baseline_tokens_per_s count response tokens trained per second (median step), speedup "
                       "is their ratio, grad_max_diff_rel compares the two steps' gradients (default --steps 1).",
                       opts, (int)(sizeof opts / sizeof opts[0]), 0, -1,
                       "Set OPENBLAS_CORETYPE (e.g. SkylakeX) when OpenBLAS misdetects the CPU."};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (steps == -1) steps = grpo ? 1 : 3; /* not given */
  if (B < 1 || T < 1 || steps < 1 || warmup < 0 || B * T > (int64_t)1 << 30) {
    fprintf(stderr, "skillrl bench train: -B, -T and --steps must be >= 1, --warmup >= 0\n");
    return 2;
  }
  if (grpo && (prompt_len < 1 || response_len < 1 || group < 1 || prompt_len + response_len > (1 << 24) ||
               group * (prompt_len + response_len) > ((int64_t)1 << 28))) {
    fprintf(stderr, "skillrl bench train: --prompt-len, --response-len and -G must be >= 1 (and fit memory)\n");
    return 2;
  }
  if (grpo && peer) {
    fprintf(stderr, "skillrl bench train: --grpo measures its own peer (the per-sample step); drop --peer\n");
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
  if (grpo) {
    return bench_grpo(&cfg, (int)prompt_len, (int)response_len, (int)group, (int)steps, (int)warmup,
                      !no_recompute, nthr);
  }
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
