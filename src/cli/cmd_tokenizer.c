/* tokenizer: placeholder until issue 2 lands its implementation here. */
#include "cli/cli.h"
int skl_cmd_tokenizer(int argc, char **argv) { (void)argc; (void)argv; return skl_cmd_pending("tokenizer", 2); }
