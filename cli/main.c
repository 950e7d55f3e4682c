/* skillrl: the command-line entry. Dispatches to one cmd_* per subcommand.
 * Not business logic: every command is a thin layer over a module's API. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "dist/dist.h"
#include "skl_build_config.h"
#include "sys/sys.h"

typedef struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} command;

static const command commands[] = {
    {"synth", skl_cmd_synth, "generate per-skill datasets (synth -c CONFIG), or show a sample"},
    {"export", skl_cmd_export, "write a dataset as .jsonl or .parquet for verl, OpenRLHF or TRL"},
    {"tokenizer", skl_cmd_tokenizer, "train, encode or decode with an HF tokenizer.json"},
    {"pretrain", skl_cmd_pretrain, "next-token pretraining on a generated curriculum (induction, recall, documents)"},
    {"sft", skl_cmd_sft, "supervised warm-up on gold answers"},
    {"train", skl_cmd_train, "RL training: GRPO with dynamic sampling (mpirun for data parallel)"},
    {"filter", skl_cmd_filter, "keep items whose pass rate under a model lies in a band"},
    {"eval", skl_cmd_eval, "probes and benchmarks; eval score / eval correlate"},
    {"ablate", skl_cmd_ablate, "leave-one-skill-out study"},
    {"generate", skl_cmd_generate, "sample or decode text from a model"},
    {"model", skl_cmd_model, "model init: create a fresh model directory"},
    {"mtp", skl_cmd_mtp, "train or extend multi-token-prediction heads"},
    {"bench", skl_cmd_bench, "benchmarks: train|decode|synth|tokenize, one JSON line"},
    {"doctor", skl_cmd_doctor, "report the environment: CPU, BLAS kernel, threads, MPI"},
    {"config", skl_cmd_config, "config show: print a resolved config"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
  fprintf(f,
          "skillrl %s: reinforcement learning of atomic long-context skills\n\n"
          "usage: skillrl COMMAND [flags]   (skillrl COMMAND --help for its flags)\n\ncommands:\n",
          SKL_VERSION);
  for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
  skl_sys_flush_denormals(); /* before any thread starts: they inherit it */
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("skillrl %s\n", SKL_VERSION);
    return 0;
  }
  for (int i = 0; i < NCOMMANDS; i++)
    if (!strcmp(argv[1], commands[i].name)) return skl_dist_exit_code(commands[i].fn(argc - 1, argv + 1));
  const char *best = NULL;
  int bd = 3;
  for (int i = 0; i < NCOMMANDS; i++) {
    int d = skl_edit_distance(argv[1], commands[i].name);
    if (d < bd) { bd = d; best = commands[i].name; }
  }
  fprintf(stderr, "skillrl: unknown command '%s'", argv[1]);
  if (best) fprintf(stderr, " (did you mean '%s'?)", best);
  fprintf(stderr, "\nvalid commands:");
  for (int i = 0; i < NCOMMANDS; i++) fprintf(stderr, " %s", commands[i].name);
  fprintf(stderr, "\n");
  return 2;
}
