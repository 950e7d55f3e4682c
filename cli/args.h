/* skl CLI argument parsing: a declarative option table per command, with
 * --help generated from it and "did you mean" errors. CLI-only (prints). */
#ifndef SKL_CLI_ARGS_H
#define SKL_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/text.h"

typedef enum { SKL_ARG_FLAG, SKL_ARG_STR, SKL_ARG_INT, SKL_ARG_DOUBLE } skl_arg_type;

typedef struct {
  const char *name;    /* long name without dashes, e.g. "threads" */
  char short_name;     /* 0 if none, e.g. 'c' */
  skl_arg_type type;
  void *dest;          /* bool*, const char**, int64_t* (>= 0: negatives are refused), double* */
  const char *metavar; /* e.g. "N", "FILE" (ignored for flags) */
  const char *help;
} skl_arg_opt;

typedef struct {
  const char *prog;        /* "skillrl bench tokenize" */
  const char *usage;       /* "[flags] [key.sub=value ...]" */
  const char *description; /* one paragraph shown by --help */
  const skl_arg_opt *opts;
  int nopts;
  int min_pos, max_pos;    /* positional argument counts; max_pos < 0: unlimited */
  const char *epilog;      /* optional text after the flag list */
} skl_arg_spec;

/* Parse argv[1..argc-1] (argv[0] is the command name). Positionals are
 * moved, in order, to the front of argv starting at argv[1]; *npos gets their
 * count. "--" ends flags.
 * @return 0 parsed; 1 --help was printed (exit 0); 2 an error was printed
 *         to stderr, naming the flag and the valid ones (exit 2). */
int skl_args_parse(const skl_arg_spec *spec, int argc, char **argv, int *npos);

/* Print the generated help to stdout. */
void skl_args_help(const skl_arg_spec *spec);

/* Print "skillrl <cmd>: <message>" for an error value to stderr. @return 1 */
int skl_cli_fail(const char *cmd, const char *msg);


#endif
