/* skillrl bench: dispatch to a benchmark mode; each prints one JSON line.
 * Not the benchmarks themselves (bench/). */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} modes[] = {
    {"train", skl_bench_train, "training step: tokens/s, GFLOP/s, MFU, peak RSS (--grpo: shared prefix)"},
    {"decode", skl_bench_decode, "decoding: tokens/s (--shared-prefix, --speculative)"},
    {"synth", skl_bench_synth, "dataset synthesis: samples/s, MB/s"},
    {"tokenize", skl_bench_tokenize, "tokenizer encode: MB/s, tokens/s, beside the JS reference"},
    {"sgemm", skl_bench_sgemm, "OpenBLAS sgemm GFLOP/s of the kernel in use: square and training shapes"},
};

int skl_cmd_bench(int argc, char **argv) {
  int n = (int)(sizeof modes / sizeof modes[0]);
  if (argc >= 2)
    for (int i = 0; i < n; i++)
      if (!strcmp(argv[1], modes[i].name)) return modes[i].fn(argc - 1, argv + 1);
  FILE *f = (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) ? stdout : stderr;
  if (f == stderr && argc >= 2) fprintf(stderr, "skillrl bench: unknown mode '%s'\n", argv[1]);
  fprintf(f, "usage: skillrl bench MODE [flags]   (skillrl bench MODE --help)\n\nmodes:\n");
  for (int i = 0; i < n; i++) fprintf(f, "  %-9s %s\n", modes[i].name, modes[i].summary);
  return f == stdout ? 0 : 2;
}
