/* skillrl filter: keep dataset items whose pass rate under a model lies in
 * a band. Not training. */
#include <omp.h>
#include <stdio.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "rl/filter.h"
#include "sys/sys.h"

int skl_cmd_filter(int argc, char **argv) {
  const char *cfg_path = NULL;
  bool overwrite = false;
  skl_arg_opt opts[] = {
      {"config", 'c', SKL_ARG_STR, &cfg_path, "FILE", "train config (uses model, data, rollout.*, filter.*)"},
      {"overwrite", 0, SKL_ARG_FLAG, &overwrite, NULL, "replace a dataset already in filter.out"},
  };
  skl_arg_spec spec = {.prog = "skillrl filter", .usage = "-c CONFIG [--overwrite] [key.sub=value ...]",
                       .description = "Sample filter.k answers per item with the config's model (rollout.* sampling), "
                                      "score them with the reward verifiers, and keep items whose pass rate lies in "
                                      "[filter.low, filter.high] (default 0.3-0.6). Writes a dataset in filter.out "
                                      "with extra_info.pass_rate on every kept record.",
                       .opts = opts, .nopts = 2, .min_pos = 0, .max_pos = -1};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!cfg_path) { fprintf(stderr, "skillrl filter: -c CONFIG is required\n"); return 2; }
  rl_train_cfg cfg;
  skl_error err;
  if (skl_cfg_load(rl_train_schema(), &cfg, cfg_path, argv + 1, npos, &err)) {
    fprintf(stderr, "skillrl filter: %s\n", err.msg);
    return 2;
  }
  if (cfg.threads > 0) { omp_set_num_threads(cfg.threads); skl_blas_set_threads(cfg.threads); }
  rl_filter_stats fs;
  skl_status s = rl_filter_run(&cfg, overwrite, &fs, &err);
  if (s) fprintf(stderr, "skillrl filter: %s\n", err.msg);
  else
    printf("{\"seen\":%lld,\"kept\":%lld,\"mean_pass_rate\":%.4f,\"out\":\"%s\"}\n", (long long)fs.seen,
           (long long)fs.kept, fs.mean_pass_rate, cfg.filter_out);
  skl_cfg_free(rl_train_schema(), &cfg);
  return s ? 1 : 0;
}
