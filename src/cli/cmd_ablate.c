/* ablate: placeholder until issue 6 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_ablate(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("ablate", 6); }
