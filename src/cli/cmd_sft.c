/* sft: placeholder until issue 5 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_sft(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("sft", 5); }
