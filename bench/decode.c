/* bench decode: KV-cached generation throughput of B samples after a
 * prompt of N tokens (shared-prefix groups optional); with --speculative K,
 * speculative decoding with the model's MTP heads against plain decoding in
 * the same run. ONE JSON line. Not a quality check: random prompt tokens
 * unless --prompt, random weights unless --model. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "bench/bench.h"
#include "model/model_config.h"
#include "core/fs.h"
#include "decode/decode.h"
#include "decode/spec.h"
#include "hf/hf_config.h"
#include "model/checkpoint.h"
#include "sys/sys.h"
#include "tok/tokenizer.h"

/* Process CPU seconds (all threads): on a shared machine, wall time alone
 * says more about the neighbours than about the code. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Model from --model DIR (weights) or -m CONFIG (config.json, random weights). */
static skl_status load_model(skl_model *m, const char *cfg_path, const char *dir, uint64_t seed, skl_error *err) {
  if (dir) return skl_ckpt_load_model(m, dir, true, err);
  skl_model_config cfg;
  size_t n = strlen(cfg_path);
  bool yaml = (n > 5 && !strcmp(cfg_path + n - 5, ".yaml")) || (n > 4 && !strcmp(cfg_path + n - 4, ".yml"));
  skl_status s = yaml ? skl_model_cfg_load(cfg_path, NULL, 0, &cfg, NULL, err) : skl_hf_config_load(cfg_path, &cfg, err);
  if (s) return s;
  if ((s = skl_model_init(m, &cfg, err))) return s;
  skl_rng r;
  skl_rng_seed(&r, seed);
  skl_model_init_weights(m, &r, 0.02f);
  return SKL_OK;
}

/* Prompt ids from --prompt TEXT|@FILE with DIR/tokenizer.json, keeping the
 * last max_len tokens (the question sits at the end of skill prompts). */
static skl_status text_prompt(const char *dir, const char *arg, int max_len, int32_t **ids, int *n, skl_error *err) {
  char *text = NULL, *tpath = skl_path_join(dir, "tokenizer.json");
  skl_tokenizer *tok = NULL;
  skl_tokens t = {0};
  skl_status s = tpath ? SKL_OK : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!s && arg[0] == '@') s = skl_fs_read_all(arg + 1, &text, NULL, err);
  else if (!s && !(text = strdup(arg))) s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!s) s = skl_tokenizer_load(tpath, &tok, err);
  if (!s) s = skl_tokenizer_encode_ex(tok, text, strlen(text), SKL_TOK_ADD_SPECIAL, &t, err);
  if (!s && t.len == 0) s = skl_error_set(err, SKL_ERR_INVALID, "--prompt encodes to no tokens");
  if (!s) {
    int keep = (int)t.len < max_len ? (int)t.len : max_len;
    *ids = malloc(sizeof(int32_t) * (size_t)keep);
    if (!*ids) s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    else {
      memcpy(*ids, t.data + t.len - keep, sizeof(int32_t) * (size_t)keep);
      *n = keep;
    }
  }
  skl_tokens_free(&t);
  skl_tokenizer_free(tok);
  free(text);
  free(tpath);
  return s;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --speculative K: plain and speculative generation of the same request,
 * alternated `repeat` times on the same model; medians and spread. */
static int bench_speculative(skl_model *m, const char *dir, int K, skl_gen_request *rq, int repeat, int window,
                             double min_prob) {
  skl_error err = {0};
  skl_mtp_heads h;
  memset(&h, 0, sizeof h);
  skl_decoder *d1 = NULL, *d2 = NULL;
  skl_spec *sp = NULL;
  skl_gen_output a = {0}, b = {0};
  skl_spec_stats st, tot;
  memset(&tot, 0, sizeof tot);
  int B = rq->group, P = rq->prompt_lens[0], M = rq->max_new, code = 0;
  bool shared = rq->shared_prefix, identical = true;
  double *tp = calloc((size_t)repeat * 4, sizeof(double)), *ts = tp + repeat, *dp = tp + 2 * repeat,
         *ds = tp + 3 * repeat;
  double draft_s = 0, verify_s = 0, spec_decode_s = 0, prefill_s[2] = {0, 0};
  int64_t gen_plain = 0, gen_spec = 0;
  if (!tp) return skl_cli_fail("bench decode", "out of memory");
  if (skl_spec_load_heads(&h, dir, &m->cfg, K, &err) ||
      skl_decoder_init(&d1, m, B, shared ? M : P + M, shared ? 1 : 0, shared ? P : 0, &err) ||
      skl_decoder_init(&d2, m, B, shared ? M : P + M, shared ? 1 : 0, shared ? P : 0, &err) ||
      skl_spec_init(&sp, d2, &h, K, &err)) {
    code = skl_cli_fail("bench decode", err.msg);
    goto out;
  }
  if (window >= 0) skl_spec_set_window(sp, window);
  skl_spec_set_draft_min_prob(sp, (float)min_prob);
  for (int r = 0; r < repeat; r++) {
    skl_gen_output_free(&a);
    skl_gen_output_free(&b);
    if (skl_generate(d1, rq, &a, &err) || skl_generate_speculative(sp, rq, &b, &st, &err)) {
      code = skl_cli_fail("bench decode", err.msg);
      goto out;
    }
    tp[r] = (double)a.decode_tokens / (a.prefill_s + a.decode_s);
    ts[r] = (double)b.decode_tokens / (b.prefill_s + b.decode_s);
    dp[r] = a.decode_s > 0 ? (double)(a.decode_tokens - B) / a.decode_s : 0;
    ds[r] = b.decode_s > 0 ? (double)(b.decode_tokens - B) / b.decode_s : 0;
    draft_s += st.draft_s;
    verify_s += st.verify_s;
    spec_decode_s += b.decode_s;
    prefill_s[0] += a.prefill_s;
    prefill_s[1] += b.prefill_s;
    gen_plain += a.decode_tokens;
    gen_spec += b.decode_tokens;
    for (int k = 0; k < K; k++) {
      tot.drafted[k] += st.drafted[k];
      tot.reached[k] += st.reached[k];
      tot.accepted[k] += st.accepted[k];
    }
    tot.rounds += st.rounds;
    tot.verify_calls += st.verify_calls;
    tot.accepted_total += st.accepted_total;
    tot.emitted += st.emitted;
    if (rq->sample.temperature == 0)
      for (int i = 0; i < B; i++)
        if (a.len[i] != b.len[i] || memcmp(a.tokens + (size_t)i * M, b.tokens + (size_t)i * M,
                                           sizeof(int32_t) * (size_t)a.len[i]))
          identical = false;
  }
  tot.K = K;
  double sp_min = 1e300, sp_max = 0;
  for (int r = 0; r < repeat; r++) {
    double x = tp[r] > 0 ? ts[r] / tp[r] : 0;
    sp_min = x < sp_min ? x : sp_min;
    sp_max = x > sp_max ? x : sp_max;
  }
  double base = median(tp, repeat), spec = median(ts, repeat), dbase = median(dp, repeat),
         dspec = median(ds, repeat);
  double acc[SKL_MTP_MAX_HEADS], cum[SKL_MTP_MAX_HEADS];
  for (int k = 1; k <= K; k++) {
    acc[k - 1] = skl_spec_acceptance(&tot, k);
    cum[k - 1] = skl_spec_cumulative(&tot, k);
  }
  skl_benchjson j;
  skl_benchjson_init(&j, "decode", skl_sys_threads());
  skl_benchjson_num(&j, "seconds", (double)gen_spec / spec / repeat);
  skl_benchjson_num(&j, "tokens_per_s", spec);
  skl_benchjson_num(&j, "baseline_tokens_per_s", base);
  skl_benchjson_num(&j, "speedup", base > 0 ? spec / base : 0);
  skl_benchjson_num(&j, "speedup_min", sp_min);
  skl_benchjson_num(&j, "speedup_max", sp_max);
  skl_benchjson_num(&j, "decode_tokens_per_s", dspec);
  skl_benchjson_num(&j, "baseline_decode_tokens_per_s", dbase);
  skl_benchjson_num(&j, "decode_speedup", dbase > 0 ? dspec / dbase : 0);
  skl_benchjson_int(&j, "heads", K);
  skl_benchjson_nums(&j, "acceptance", acc, K);
  skl_benchjson_nums(&j, "cumulative_acceptance", cum, K);
  skl_benchjson_num(&j, "mean_accepted", skl_spec_mean_accepted(&tot));
  skl_benchjson_num(&j, "tokens_per_round", tot.rounds ? (double)tot.emitted / (double)tot.rounds : 0);
  /* where the speculative decode time goes, per generated token */
  skl_benchjson_num(&j, "draft_ms_per_token", gen_spec > B * repeat ? 1e3 * draft_s / (double)(gen_spec - (int64_t)B * repeat) : 0);
  skl_benchjson_num(&j, "verify_ms_per_token", gen_spec > B * repeat ? 1e3 * verify_s / (double)(gen_spec - (int64_t)B * repeat) : 0);
  skl_benchjson_num(&j, "other_ms_per_token", gen_spec > B * repeat ? 1e3 * (spec_decode_s - draft_s - verify_s) / (double)(gen_spec - (int64_t)B * repeat) : 0);
  skl_benchjson_num(&j, "baseline_ms_per_token", dbase > 0 ? 1e3 / dbase : 0);
  /* per round of the batch (one draft pass + one verify forward) against one
   * plain step of the batch: speculation pays when a round yields more tokens
   * per sequence than (draft + verify) / step */
  double calls = tot.verify_calls > 0 ? (double)tot.verify_calls : 1, step_ms = dbase > 0 ? 1e3 / dbase * B : 0;
  double round_ms = 1e3 * (draft_s + verify_s) / calls;
  skl_benchjson_num(&j, "draft_ms_per_round", 1e3 * draft_s / calls);
  skl_benchjson_num(&j, "verify_ms_per_round", 1e3 * verify_s / calls);
  skl_benchjson_num(&j, "baseline_ms_per_step", step_ms);
  skl_benchjson_num(&j, "break_even_tokens_per_round", step_ms > 0 ? round_ms / step_ms : 0);
  skl_benchjson_num(&j, "tokens_per_round_for_1_8x", step_ms > 0 ? 1.8 * round_ms / step_ms : 0);
  skl_benchjson_num(&j, "prefill_s", prefill_s[1] / repeat);
  skl_benchjson_num(&j, "baseline_prefill_s", prefill_s[0] / repeat);
  skl_benchjson_num(&j, "temperature", rq->sample.temperature);
  skl_benchjson_int(&j, "draft_window", window >= 0 ? window : SKL_SPEC_WINDOW_DEFAULT);
  skl_benchjson_num(&j, "draft_min_prob", min_prob);
  int64_t vrows = tot.rounds; /* one row per sequence and round, plus its drafts */
  for (int k = 0; k < K; k++) vrows += tot.drafted[k];
  skl_benchjson_num(&j, "verify_rows_per_call", tot.verify_calls ? (double)vrows / (double)tot.verify_calls : 0);
  if (rq->sample.temperature == 0) skl_benchjson_bool(&j, "identical", identical);
  skl_benchjson_int(&j, "batch", B);
  skl_benchjson_int(&j, "prompt_len", P);
  skl_benchjson_int(&j, "gen", M);
  skl_benchjson_bool(&j, "shared_prefix", shared);
  skl_benchjson_int(&j, "generated_tokens", gen_spec / repeat);
  skl_benchjson_int(&j, "baseline_generated_tokens", gen_plain / repeat);
  skl_benchjson_int(&j, "repeat", repeat);
  skl_benchjson_str(&j, "peer", "plain-decoding");
  skl_benchjson_str(&j, "arch", skl_arch_name(m->cfg.arch));
  skl_benchjson_int(&j, "params", (int64_t)m->n_params);
  skl_benchjson_num(&j, "peak_rss_mb", skl_peak_rss_mb());
  if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);
  else code = skl_cli_fail("bench decode", err.msg);
  skl_benchjson_free(&j);
out:
  skl_gen_output_free(&a);
  skl_gen_output_free(&b);
  skl_spec_free(sp);
  skl_decoder_free(d1);
  skl_decoder_free(d2);
  skl_mtp_free(&h);
  free(tp);
  return code;
}

/* --verify-rows N: the main model's verify forward alone, after a prompt:
 * one step row, N rows of one slot, and N rows of each of B slots, with
 * the exact step kernels and (peer) the prefill kernels, alternated
 * `repeat` times; median milliseconds. Each call is rolled back after. */
static int bench_verify(skl_model *m, const skl_gen_request *rq, int rows, int repeat) {
  skl_error err = {0};
  int B = rq->group, P = rq->prompt_lens[0], code = 0;
  bool shared = rq->shared_prefix;
  skl_decoder *d = NULL;
  int *slots = malloc(sizeof(int) * (size_t)B), *cnt = malloc(sizeof(int) * (size_t)B);
  int32_t *tok = malloc(sizeof(int32_t) * (size_t)B * rows);
  float *lg = malloc(sizeof(float) * (size_t)B * rows * m->cfg.vocab_size);
  enum { N_KIND = 6 };
  double *t = calloc((size_t)repeat * N_KIND, sizeof(double));
  if (!slots || !cnt || !tok || !lg || !t) { code = skl_cli_fail("bench decode", "out of memory"); goto out; }
  if (skl_decoder_init(&d, m, B, shared ? rows + 1 : P + rows + 1, shared ? 1 : 0, shared ? P : 0, &err)) {
    code = skl_cli_fail("bench decode", err.msg);
    goto out;
  }
  if (shared && skl_decoder_prefill_prefix(d, 0, rq->prompts[0], P, NULL, &err)) goto fail;
  for (int b = 0; b < B; b++) {
    slots[b] = b;
    cnt[b] = rows;
    if (shared ? skl_decoder_attach(d, b, 0, &err) : skl_decoder_prefill(d, b, rq->prompts[0], P, NULL, &err)) goto fail;
  }
  for (int i = 0; i < B * rows; i++) tok[i] = rq->prompts[0][i % P];
  for (int r = 0; r < repeat; r++)
    for (int k = 0; k < N_KIND; k++) {
      int ns = k == 0 ? 1 : k == 1 ? B : k < 4 ? 1 : B;
      double t0 = skl_time_now();
      skl_status s = k < 2 ? skl_decoder_step(d, ns, slots, tok, lg, &err)
                           : skl_decoder_verify(d, ns, slots, cnt, tok, k % 2 == 0, lg, NULL, &err);
      t[(size_t)k * repeat + r] = 1e3 * (skl_time_now() - t0);
      if (s) goto fail;
      for (int b = 0; b < ns; b++)
        if (skl_decoder_truncate(d, b, shared ? 0 : P, &err)) goto fail;
    }
  double ms[N_KIND];
  for (int k = 0; k < N_KIND; k++) ms[k] = median(t + (size_t)k * repeat, repeat);
  skl_benchjson j;
  skl_benchjson_init(&j, "decode", skl_sys_threads());
  skl_benchjson_num(&j, "seconds", ms[2] / 1e3);
  skl_benchjson_num(&j, "step_1_ms", ms[0]);
  skl_benchjson_num(&j, "step_batch_ms", ms[1]);
  skl_benchjson_num(&j, "verify_ms", ms[2]);
  skl_benchjson_num(&j, "verify_prefill_kernels_ms", ms[3]);
  skl_benchjson_num(&j, "verify_batch_ms", ms[4]);
  skl_benchjson_num(&j, "verify_batch_prefill_kernels_ms", ms[5]);
  skl_benchjson_num(&j, "verify_vs_step", ms[0] > 0 ? ms[2] / ms[0] : 0);
  skl_benchjson_num(&j, "ratio", ms[2] > 0 ? ms[3] / ms[2] : 0);
  skl_benchjson_num(&j, "batch_ratio", ms[4] > 0 ? ms[5] / ms[4] : 0);
  skl_benchjson_str(&j, "peer", "prefill-kernels");
  skl_benchjson_int(&j, "rows", rows);
  skl_benchjson_int(&j, "batch", B);
  skl_benchjson_int(&j, "prompt_len", P);
  skl_benchjson_bool(&j, "shared_prefix", shared);
  skl_benchjson_int(&j, "repeat", repeat);
  skl_benchjson_str(&j, "arch", skl_arch_name(m->cfg.arch));
  skl_benchjson_int(&j, "params", (int64_t)m->n_params);
  if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);
  else code = skl_cli_fail("bench decode", err.msg);
  skl_benchjson_free(&j);
  goto out;
fail:
  code = skl_cli_fail("bench decode", err.msg);
out:
  skl_decoder_free(d);
  free(slots);
  free(cnt);
  free(tok);
  free(lg);
  free(t);
  return code;
}

int skl_bench_decode(int argc, char **argv) {
  const char *cfg_path = NULL, *dir = NULL, *prompt_arg = NULL;
  int64_t prompt_len = 1024, gen = 128, batch = 1, threads = 0, seed = 1, speculative = 0, repeat = 3,
          verify_rows = 0, draft_window = -1;
  double temperature = 1.0, draft_min_prob = 0;
  bool shared = false, peer = false;
  const skl_arg_opt opts[] = {
      {"model-config", 'm', SKL_ARG_STR, &cfg_path, "CONFIG", "configs/model/NAME.yaml or a config.json (or a folder with one): random weights"},
      {"model", 0, SKL_ARG_STR, &dir, "DIR", "Hugging Face model folder: real weights"},
      {"prompt-len", 0, SKL_ARG_INT, &prompt_len, "N", "prompt tokens (default 1024)"},
      {"gen", 0, SKL_ARG_INT, &gen, "N", "tokens generated per sample (default 128; no stop token)"},
      {"batch", 'B', SKL_ARG_INT, &batch, "N", "samples decoded together (default 1)"},
      {"shared-prefix", 0, SKL_ARG_FLAG, &shared, NULL, "the B samples share the prompt: prefill it once"},
      {"peer", 0, SKL_ARG_FLAG, &peer, NULL, "with --shared-prefix: also time B separate prefills (ratio)"},
      {"temperature", 0, SKL_ARG_DOUBLE, &temperature, "T", "sampling temperature (default 1; 0 greedy)"},
      {"seed", 0, SKL_ARG_INT, &seed, "S", "weights / prompt / sampling seed (default 1)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "OpenMP and OpenBLAS threads (default: OpenMP's)"},
      {"speculative", 0, SKL_ARG_INT, &speculative, "K",
       "speculative decoding with the model's first K MTP heads (--model DIR with mtp.safetensors), timed against "
       "plain decoding of the same request in the same run"},
      {"repeat", 0, SKL_ARG_INT, &repeat, "N", "with --speculative: alternate plain and speculative runs N times "
       "(default 3; medians and the speedup's spread)"},
      {"draft-window", 0, SKL_ARG_INT, &draft_window, "N",
       "with --speculative: the heads attend (and are prefilled over) at most the last N prompt rows (default "
       "128; 0: all); drafts only, the output does not change"},
      {"draft-min-prob", 0, SKL_ARG_DOUBLE, &draft_min_prob, "P",
       "with --speculative: a sequence's round stops drafting after a draft its head gave probability < P "
       "(default 0: off); the output distribution does not change"},
      {"verify-rows", 0, SKL_ARG_INT, &verify_rows, "N",
       "time the verify forward alone: 1 step row, N rows of one slot, N rows of each of -B slots, exact (step "
       "kernels) vs the prefill kernels (sgemm, tiled attention; the peer), medians over --repeat calls"},
      {"prompt", 0, SKL_ARG_STR, &prompt_arg, "TEXT|@FILE",
       "prompt text (with --model: its tokenizer), cut to its last --prompt-len tokens; default random ids"},
  };
  skl_arg_spec spec = {"skillrl bench decode", "(-m CONFIG | --model DIR) [flags]",
                       "Time prefill + KV-cached decoding of B samples and print one JSON line: "
                       "tokens_per_s (generated tokens / total seconds), prefill_tokens_per_s, "
                       "decode_tokens_per_s. With --speculative K: tokens_per_s and baseline_tokens_per_s "
                       "(plain decoding, same run), speedup, decode_speedup, acceptance (per head: accepted / "
                       "checked), cumulative_acceptance (drafts 1..k all accepted), mean_accepted (drafts per "
                       "verify round), draft/verify ms per token, and identical (greedy: same tokens as plain).",
                       opts, (int)(sizeof opts / sizeof opts[0]), 0, 0, NULL};
  int npos = 0, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!cfg_path == !dir) {
    fprintf(stderr, "skillrl bench decode: give exactly one of -m CONFIG or --model DIR\n");
    return 2;
  }
  if (prompt_len < 1 || gen < 1 || batch < 1 || prompt_len > (1 << 24) || gen > (1 << 24) || batch > 4096) {
    fprintf(stderr, "skillrl bench decode: --prompt-len, --gen and -B must be positive (and sane)\n");
    return 2;
  }
  if (speculative < 0 || speculative > SKL_MTP_MAX_HEADS || repeat < 1 || repeat > 1000) {
    fprintf(stderr, "skillrl bench decode: --speculative must be in 0..%d and --repeat in 1..1000\n",
            SKL_MTP_MAX_HEADS);
    return 2;
  }
  if ((speculative || prompt_arg) && !dir) {
    fprintf(stderr, "skillrl bench decode: --speculative and --prompt need --model DIR (a model folder%s)\n",
            speculative ? " with MTP heads: skillrl mtp train writes one" : " with tokenizer.json");
    return 2;
  }
  if (threads > 0) {
    omp_set_num_threads((int)threads);
    skl_blas_set_threads((int)threads);
  }
  skl_error err = {0};
  skl_model m;
  memset(&m, 0, sizeof m);
  if (load_model(&m, cfg_path, dir, (uint64_t)seed, &err)) return skl_cli_fail("bench decode", err.msg);
  int B = (int)batch, P = (int)prompt_len, M = (int)gen;
  int32_t *prompt = NULL;
  if (prompt_arg) {
    if (text_prompt(dir, prompt_arg, P, &prompt, &P, &err)) {
      skl_model_free(&m);
      return skl_cli_fail("bench decode", err.msg);
    }
  } else {
    prompt = malloc(sizeof(int32_t) * (size_t)P);
    if (!prompt) { skl_model_free(&m); return skl_cli_fail("bench decode", "out of memory"); }
    skl_rng r;
    skl_rng_seed(&r, skl_rng_derive((uint64_t)seed, 1, 0, 0));
    for (int i = 0; i < P; i++) prompt[i] = (int32_t)skl_rng_below(&r, (uint64_t)m.cfg.vocab_size);
  }
  const int32_t *prompts[1] = {prompt};
  int lens[1] = {P};
  skl_gen_request rq = {0};
  rq.n_prompts = 1;
  rq.prompts = prompts;
  rq.prompt_lens = lens;
  rq.group = B;
  rq.shared_prefix = shared;
  rq.max_new = M;
  rq.sample = skl_sample_defaults();
  rq.sample.temperature = (float)temperature;
  rq.seed = (uint64_t)seed;
  if (verify_rows > 0) {
    int code = verify_rows > 4096 ? skl_cli_fail("bench decode", "--verify-rows must be in 1..4096")
                                  : bench_verify(&m, &rq, (int)verify_rows, (int)repeat);
    free(prompt);
    skl_model_free(&m);
    return code;
  }
  if (speculative) {
    int code = bench_speculative(&m, dir, (int)speculative, &rq, (int)repeat, (int)(draft_window < 0 ? -1 : draft_window),
                                 draft_min_prob);
    free(prompt);
    skl_model_free(&m);
    return code;
  }
  /* slots hold prompt + generated tokens unless the prompt is shared */
  skl_decoder *d = NULL;
  skl_gen_output o = {0}, op = {0};
  int code = 0;
  double cpu0 = cpu_now();
  if (skl_decoder_init(&d, &m, B, shared ? M : P + M, shared ? 1 : 0, shared ? P : 0, &err) ||
      skl_generate(d, &rq, &o, &err)) {
    code = skl_cli_fail("bench decode", err.msg);
    goto out;
  }
  double cpu_s = cpu_now() - cpu0, peer_tps = 0;
  if (shared && peer) {
    skl_decoder_free(d);
    d = NULL;
    rq.shared_prefix = false;
    if (skl_decoder_init(&d, &m, B, P + M, 0, 0, &err) || skl_generate(d, &rq, &op, &err)) {
      code = skl_cli_fail("bench decode", err.msg);
      goto out;
    }
    peer_tps = (double)op.decode_tokens / (op.prefill_s + op.decode_s);
  }
  double secs = o.prefill_s + o.decode_s;
  skl_benchjson j;
  skl_benchjson_init(&j, "decode", skl_sys_threads());
  skl_benchjson_num(&j, "seconds", secs);
  skl_benchjson_num(&j, "tokens_per_s", (double)o.decode_tokens / secs);
  skl_benchjson_num(&j, "cpu_seconds", cpu_s);
  skl_benchjson_num(&j, "prefill_tokens_per_s", o.prefill_s > 0 ? (double)o.prefill_tokens / o.prefill_s : 0);
  skl_benchjson_num(&j, "decode_tokens_per_s", o.decode_s > 0 ? (double)(o.decode_tokens - B) / o.decode_s : 0);
  skl_benchjson_int(&j, "batch", B);
  skl_benchjson_int(&j, "prompt_len", P);
  skl_benchjson_int(&j, "gen", M);
  skl_benchjson_bool(&j, "shared_prefix", shared);
  skl_benchjson_int(&j, "prefill_tokens", o.prefill_tokens);
  skl_benchjson_int(&j, "generated_tokens", o.decode_tokens);
  skl_benchjson_str(&j, "arch", skl_arch_name(m.cfg.arch));
  skl_benchjson_int(&j, "params", (int64_t)m.n_params);
  /* the cache and the step attention's per-head copy of it */
  skl_benchjson_num(&j, "kv_cache_mb",
                    (double)skl_decoder_kv_floats(&m.cfg, B, shared ? M : P + M, shared, shared ? P : 0) * 4 / 1048576.0);
  skl_benchjson_num(&j, "peak_rss_mb", skl_peak_rss_mb());
  if (shared && peer) {
    skl_benchjson_str(&j, "peer", "separate-prefill");
    skl_benchjson_num(&j, "peer_tokens_per_s", peer_tps);
    skl_benchjson_num(&j, "ratio", peer_tps > 0 ? (double)o.decode_tokens / secs / peer_tps : 0);
  }
  if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);
  else code = skl_cli_fail("bench decode", err.msg);
  skl_benchjson_free(&j);
out:
  skl_gen_output_free(&o);
  skl_gen_output_free(&op);
  skl_decoder_free(d);
  free(prompt);
  skl_model_free(&m);
  return code;
}
