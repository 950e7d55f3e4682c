/* doctor: placeholder until issue 2 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_doctor(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("doctor", 2); }
