/* bench decode: KV-cached generation throughput of B samples after a
 * prompt of N tokens (shared-prefix groups optional); ONE JSON line. Not a
 * quality check: random prompt tokens, random weights unless --model. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "model/model_config.h"
#include "core/fs.h"
#include "decode/decode.h"
#include "hf/hf_config.h"
#include "model/checkpoint.h"
#include "sys/sys.h"

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

int skl_bench_decode(int argc, char **argv) {
  const char *cfg_path = NULL, *dir = NULL;
  int64_t prompt_len = 1024, gen = 128, batch = 1, threads = 0, seed = 1;
  double temperature = 1.0;
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
  };
  skl_arg_spec spec = {"skillrl bench decode", "(-m CONFIG | --model DIR) [flags]",
                       "Time prefill + KV-cached decoding of B samples and print one JSON line: "
                       "tokens_per_s (generated tokens / total seconds), prefill_tokens_per_s, "
                       "decode_tokens_per_s.",
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
  if (threads > 0) {
    omp_set_num_threads((int)threads);
    skl_blas_set_threads((int)threads);
  }
  skl_error err = {0};
  skl_model m;
  memset(&m, 0, sizeof m);
  if (load_model(&m, cfg_path, dir, (uint64_t)seed, &err)) return skl_cli_fail("bench decode", err.msg);
  int B = (int)batch, P = (int)prompt_len, M = (int)gen;
  int32_t *prompt = malloc(sizeof(int32_t) * (size_t)P);
  if (!prompt) { skl_model_free(&m); return skl_cli_fail("bench decode", "out of memory"); }
  skl_rng r;
  skl_rng_seed(&r, skl_rng_derive((uint64_t)seed, 1, 0, 0));
  for (int i = 0; i < P; i++) prompt[i] = (int32_t)skl_rng_below(&r, (uint64_t)m.cfg.vocab_size);
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
  skl_benchjson_num(&j, "kv_cache_mb", (double)skl_kv_cache_floats(&m.cfg, B, shared ? M : P + M, shared, shared ? P : 0) * 4 / 1048576.0);
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
