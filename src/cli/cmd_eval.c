/* eval: placeholder until issue 6 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_eval(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("eval", 6); }
