/* skl CLI argument parsing: long/short flags, --flag=value, typed values,
 * generated help. Not a config parser (see src/config for YAML + overrides). */
#include "cli/args.h"
#include "core/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void skl_args_help(const skl_arg_spec *spec) {
  printf("usage: %s %s\n\n%s\n", spec->prog, spec->usage ? spec->usage : "[flags]",
         spec->description ? spec->description : "");
  printf("\nflags:\n");
  for (int i = 0; i < spec->nopts; i++) {
    const skl_arg_opt *o = &spec->opts[i];
    char left[64];
    if (o->short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
               o->type == SKL_ARG_FLAG ? "" : " ", o->type == SKL_ARG_FLAG ? "" : o->metavar);
    else
      snprintf(left, sizeof left, "    --%s%s%s", o->name, o->type == SKL_ARG_FLAG ? "" : " ",
               o->type == SKL_ARG_FLAG ? "" : o->metavar);
    printf("  %-26s %s\n", left, o->help);
  }
  printf("  %-26s %s\n", "-h, --help", "show this help and exit");
  if (spec->epilog) printf("\n%s\n", spec->epilog);
}

static void list_valid(const skl_arg_spec *spec) {
  fprintf(stderr, "valid flags:");
  for (int i = 0; i < spec->nopts; i++) fprintf(stderr, " --%s", spec->opts[i].name);
  fprintf(stderr, " --help\n");
}

static int set_value(const skl_arg_spec *spec, const skl_arg_opt *o, const char *v) {
  char *end;
  switch (o->type) {
    case SKL_ARG_FLAG: *(bool *)o->dest = true; return 0;
    case SKL_ARG_STR: *(const char **)o->dest = v; return 0;
    case SKL_ARG_INT: {
      errno = 0;
      long long x = strtoll(v, &end, 10);
      if (errno || end == v || *end) {
        fprintf(stderr, "%s: --%s expects an integer, got '%s'\n", spec->prog, o->name, v);
        return 2;
      }
      /* every integer flag is a count, size, index or seed: a negative one
       * was taken as "unset" or wrapped (--threads -1, --limit -1) */
      if (x < 0) {
        fprintf(stderr, "%s: --%s expects a non-negative integer, got '%s'\n", spec->prog, o->name, v);
        return 2;
      }
      *(int64_t *)o->dest = x;
      return 0;
    }
    case SKL_ARG_DOUBLE: {
      errno = 0;
      double x = strtod(v, &end);
      if (errno || end == v || *end) {
        fprintf(stderr, "%s: --%s expects a number, got '%s'\n", spec->prog, o->name, v);
        return 2;
      }
      *(double *)o->dest = x;
      return 0;
    }
  }
  return 2;
}

int skl_args_parse(const skl_arg_spec *spec, int argc, char **argv, int *npos) {
  int np = 0;
  bool flags_done = false;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (flags_done || a[0] != '-' || a[1] == '\0') {
      argv[1 + np++] = a;
      continue;
    }
    if (!strcmp(a, "--")) { flags_done = true; continue; }
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { skl_args_help(spec); return 1; }
    const skl_arg_opt *o = NULL;
    const char *inline_val = NULL;
    char name[128];
    if (a[1] == '-') {
      snprintf(name, sizeof name, "%s", a + 2);
      char *eq = strchr(name, '=');
      if (eq) { *eq = '\0'; inline_val = strchr(a, '=') + 1; }
      for (int k = 0; k < spec->nopts; k++)
        if (!strcmp(spec->opts[k].name, name)) o = &spec->opts[k];
    } else if (a[2] == '\0') {
      snprintf(name, sizeof name, "%c", a[1]);
      for (int k = 0; k < spec->nopts; k++)
        if (spec->opts[k].short_name == a[1]) o = &spec->opts[k];
    } else {
      snprintf(name, sizeof name, "%s", a + 1);
    }
    if (!o) {
      const char *best = NULL;
      int bd = 3;
      for (int k = 0; k < spec->nopts; k++) {
        int d = skl_edit_distance(name, spec->opts[k].name);
        if (d < bd) { bd = d; best = spec->opts[k].name; }
      }
      fprintf(stderr, "%s: unknown flag '%s'", spec->prog, a);
      if (best) fprintf(stderr, " (did you mean --%s?)", best);
      fprintf(stderr, "\n");
      list_valid(spec);
      return 2;
    }
    if (o->type == SKL_ARG_FLAG) {
      if (inline_val) { fprintf(stderr, "%s: --%s takes no value\n", spec->prog, o->name); return 2; }
      *(bool *)o->dest = true;
      continue;
    }
    const char *v = inline_val;
    if (!v) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --%s needs a value (%s)\n", spec->prog, o->name, o->metavar);
        return 2;
      }
      v = argv[++i];
    }
    if (set_value(spec, o, v)) return 2;
  }
  if (np < spec->min_pos || (spec->max_pos >= 0 && np > spec->max_pos)) {
    fprintf(stderr, "%s: expected %d%s positional argument%s, got %d\nusage: %s %s\n", spec->prog,
            spec->min_pos, spec->max_pos < 0 ? " or more" : "",
            spec->min_pos == 1 && spec->max_pos == 1 ? "" : "s", np, spec->prog,
            spec->usage ? spec->usage : "");
    return 2;
  }
  if (npos) *npos = np;
  return 0;
}

int skl_cli_fail(const char *cmd, const char *msg) {
  fprintf(stderr, "skillrl %s: %s\n", cmd, msg);
  return 1;
}
