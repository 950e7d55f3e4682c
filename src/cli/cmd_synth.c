/* synth: placeholder until issue 3 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_synth(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("synth", 3); }
