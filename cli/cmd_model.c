/* skillrl model: `model init` writes a fresh Hugging Face model directory
 * from configs/model/NAME.yaml. Not training (sft/train) nor conversion. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "core/rng.h"
#include "model/checkpoint.h"
#include "model/model_config.h"
#include "tok/tokenizer.h"

/* true when path exists and is not an empty directory */
static bool occupied(const char *path) {
  DIR *d = opendir(path);
  if (!d) return skl_fs_exists(path);
  struct dirent *e;
  bool any = false;
  while (!any && (e = readdir(d))) any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(d);
  return any;
}

static int cmd_init(int argc, char **argv) {
  const char *cfg_path = NULL, *out = NULL, *tok = NULL, *dtype = "f32";
  int64_t seed = 0;
  bool overwrite = false;
  const skl_arg_opt opts[] = {
      {"config", 'c', SKL_ARG_STR, &cfg_path, "MODEL_CONFIG", "configs/model/NAME.yaml (kind: model)"},
      {"out", 'o', SKL_ARG_STR, &out, "DIR", "model directory to write (created)"},
      {"tokenizer", 0, SKL_ARG_STR, &tok, "FILE", "tokenizer.json to copy in (ids must fit vocab_size)"},
      {"seed", 0, SKL_ARG_INT, &seed, "S", "initialisation seed (default 0)"},
      {"dtype", 0, SKL_ARG_STR, &dtype, "f32|bf16", "storage type of model.safetensors (default f32)"},
      {"overwrite", 0, SKL_ARG_FLAG, &overwrite, NULL, "replace what DIR already holds"},
  };
  skl_arg_spec spec = {"skillrl model init", "-c MODEL_CONFIG -o DIR [--overwrite] [flags] [key=value ...]",
                       "Write a freshly initialised model directory (config.json, model.safetensors, "
                       "tokenizer.json): weights ~ normal(0, init_std), norms 1, biases 0, as "
                       "transformers initialises them.",
                       opts, (int)(sizeof opts / sizeof opts[0]), 0, -1,
                       "Positional key=value arguments override the model config, e.g. hidden_size=128."};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!cfg_path || !out) {
    fprintf(stderr, "skillrl model init: needs -c MODEL_CONFIG and -o DIR (see --help)\n");
    return 2;
  }
  skl_dtype dt;
  if (!strcmp(dtype, "f32") || !strcmp(dtype, "F32")) dt = SKL_DTYPE_F32;
  else if (!strcmp(dtype, "bf16") || !strcmp(dtype, "BF16")) dt = SKL_DTYPE_BF16;
  else {
    fprintf(stderr, "skillrl model init: --dtype '%s': expected f32 or bf16\n", dtype);
    return 2;
  }
  skl_model_config cfg;
  double std = 0.02;
  skl_error err = {0};
  if (skl_model_cfg_load(cfg_path, argv + 1, npos, &cfg, &std, &err)) return skl_cli_fail("model init", err.msg);
  if (!overwrite && occupied(out)) {
    fprintf(stderr, "skillrl model init: %s already exists and is not empty (a model?); pass --overwrite to "
                    "replace it, or choose another -o\n", out);
    return 1;
  }
  if (tok) { /* a tokenizer the new model could never load is refused now, not at its first use */
    skl_tokenizer *t = NULL;
    skl_status ts = skl_tokenizer_load(tok, &t, &err);
    skl_tokenizer_free(t);
    if (ts) return skl_cli_fail("model init", err.msg);
  }
  skl_model m;
  if (skl_model_init(&m, &cfg, &err)) return skl_cli_fail("model init", err.msg);
  skl_rng r;
  skl_rng_seed(&r, skl_rng_derive((uint64_t)seed, skl_hash_str("model init"), 0, 0));
  skl_model_init_weights(&m, &r, (float)std);
  skl_status s = skl_ckpt_save_model(&m, out, dt, tok, &err);
  size_t n = m.n_params;
  skl_model_free(&m);
  if (s) return skl_cli_fail("model init", err.msg);
  printf("wrote %s: %s, %.2fM parameters, %s\n", out, skl_arch_name(cfg.arch), n / 1e6,
         dt == SKL_DTYPE_BF16 ? "bf16" : "f32");
  return 0;
}

int skl_cmd_model(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    printf("usage: skillrl model init -c MODEL_CONFIG -o DIR [--tokenizer FILE] [--seed S] "
           "[--dtype f32|bf16] [key=value ...]\n\n"
           "  init   write a fresh Hugging Face model directory from a model config\n");
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "init")) return cmd_init(argc - 1, argv + 1);
  fprintf(stderr, "skillrl model: unknown subcommand '%s' (known: init)\n", argv[1]);
  return 2;
}
