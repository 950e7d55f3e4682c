/* skillrl export: a dataset folder as files verl, OpenRLHF or TRL read as
 * they are. Not the conversion itself (io/export.h) nor a reward function. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "io/export.h"

/* What to type next, per trainer (docs/trainers.md has full configs). */
static void print_hint(skl_export_trainer t, const char *out, const char *ext) {
  if (t == SKL_EXPORT_ALL || t == SKL_EXPORT_VERL)
    printf("verl:     data.train_files=%s/<skill>/train.%s data.prompt_key=prompt "
           "custom_reward_function.path=python/skillrl_reward.py custom_reward_function.name=compute_score\n",
           out, ext);
  if (t == SKL_EXPORT_ALL || t == SKL_EXPORT_OPENRLHF)
    printf("OpenRLHF: --prompt_data %s/<skill>/train.%s --input_key prompt --label_key label --apply_chat_template "
           "--remote_rm_url python/skillrl_reward.py\n",
           out, ext);
  if (t == SKL_EXPORT_ALL || t == SKL_EXPORT_TRL)
    printf("TRL:      load_dataset(\"%s\", data_files=\"%s/<skill>/train.%s\"); "
           "GRPOTrainer(reward_funcs=[skillrl_reward.trl_reward], ...)\n",
           !strcmp(ext, "parquet") ? "parquet" : "json", out, ext);
}

int skl_cmd_export(int argc, char **argv) {
  const char *out = NULL, *format = "jsonl", *trainer = "all", *compression = "zstd";
  bool overwrite = false;
  const skl_arg_opt opts[] = {
      {"output", 'o', SKL_ARG_STR, &out, "OUT", "folder to create: OUT/<skill>/<split>.jsonl|.parquet + export.json"},
      {"format", 'f', SKL_ARG_STR, &format, "FMT", "jsonl (default; uncompressed) or parquet"},
      {"for", 0, SKL_ARG_STR, &trainer, "TRAINER",
       "verl, openrlhf, trl, or all (default): all adds every trainer's columns"},
      {"compression", 0, SKL_ARG_STR, &compression, "C", "parquet pages: zstd (default) or none"},
      {"overwrite", 0, SKL_ARG_FLAG, &overwrite, NULL, "replace an existing OUT (only once the new one is complete)"},
  };
  const skl_arg_spec spec = {
      .prog = "skillrl export",
      .usage = "DATASET_DIR -o OUT [--format jsonl|parquet] [--for verl|openrlhf|trl|all] [--compression zstd|none]\n"
               "       [--overwrite]",
      .description =
          "Rewrite a dataset folder (skillrl synth -o DIR) as files an RL trainer reads as they are: one\n"
          "uncompressed .jsonl or one .parquet per skill and split, the same columns in every file. The\n"
          "dataset is verified first (manifest sha256 of every shard); OUT is built under OUT.tmp.PID and\n"
          "renamed into place, so an error leaves nothing half-written.",
      .opts = opts,
      .nopts = (int)(sizeof opts / sizeof opts[0]),
      .min_pos = 1,
      .max_pos = 1,
      .epilog =
          "Columns: data_source (skillrl/<skill>), prompt (chat messages [{role, content}]), ability,\n"
          "reward_model {style, ground_truth}, extra_info {index, id, skill, split, answer_type, n_tokens,\n"
          "template, seed, difficulty, blueprint (JSON text)}, answer_type, ground_truth (a string);\n"
          "--for openrlhf adds datasource and label ({answer_type, ground_truth} as JSON text), --for trl\n"
          "adds solution.\n"
          "Rewards: python/skillrl_reward.py (compute_score for verl, reward_func for OpenRLHF, trl_reward\n"
          "for TRL) scores exactly as skillrl's own verifier; docs/trainers.md has a config per trainer.",
  };
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!out) {
    fprintf(stderr, "skillrl export: -o OUT is required\nusage: %s %s\n", spec.prog, spec.usage);
    return 2;
  }
  skl_error err = {0};
  skl_export_opts o = {.in_dir = argv[1], .out_dir = out, .overwrite = overwrite};
  if (skl_export_format_parse(format, &o.format, &err) || skl_export_trainer_parse(trainer, &o.trainer, &err)) {
    fprintf(stderr, "skillrl export: %s\n", err.msg);
    return 2;
  }
  if (!strcmp(compression, "zstd")) o.codec = SKL_PARQUET_ZSTD;
  else if (!strcmp(compression, "none")) o.codec = SKL_PARQUET_UNCOMPRESSED;
  else {
    fprintf(stderr, "skillrl export: unknown --compression '%s': use zstd or none\n", compression);
    return 2;
  }
  skl_export_report rep;
  if (skl_export_run(&o, &rep, &err)) return skl_cli_fail("export", err.msg);
  const char *ext = o.format == SKL_EXPORT_JSONL ? "jsonl" : "parquet";
  printf("export: %llu records from %s into %s (%s, columns for %s)\n", (unsigned long long)rep.rows, o.in_dir, out,
         ext, skl_export_trainer_name(o.trainer));
  for (size_t i = 0; i < rep.n_files; i++)
    printf("  %s/%s  %llu rows\n", out, rep.files[i].path, (unsigned long long)rep.files[i].rows);
  print_hint(o.trainer, out, ext);
  skl_export_report_free(&rep);
  return 0;
}
