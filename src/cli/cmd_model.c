/* model: placeholder until issue 4 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_model(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("model", 4); }
