/* bench tokenize: placeholder until issue 2 lands its implementation here. */
#include "cli/cli.h"
int skl_bench_tokenize(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("bench tokenize", 2); }
