/* mtp: placeholder until issue 7 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_mtp(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("mtp", 7); }
