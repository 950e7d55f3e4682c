/* bench train: placeholder until issue 4 lands its implementation here. */
#include "cli/cli.h"
int skl_bench_train(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("bench train", 4); }
