/* skillrl config: `config show` prints a fully resolved config, `config keys`
 * lists a kind's keys. Not a schema owner: each kind's schema lives in its module. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/fs.h"
#include "eval/ablate.h"
#include "eval/run.h"
#include "model/model_config.h"
#include "rl/config.h"
#include "synth/config.h"

/* One line per config kind; the modules own the schemas. */
typedef struct {
  const char *kind;
  const skl_cfg_schema *(*get)(void);
} kind_entry;

static const kind_entry kinds[] = {
    {"synth", synth_cfg_schema},
    {"model", skl_model_cfg_schema},
    {"train", rl_train_schema},
    {"eval", eval_cfg_schema},
    {"ablate", eval_ablate_schema},
    {NULL, NULL},
};

static const skl_cfg_schema *find_kind(const char *kind) {
  for (const kind_entry *k = kinds; k->kind; k++)
    if (!strcmp(k->kind, kind)) return k->get();
  return NULL;
}

static void known_kinds(char *buf, size_t n) {
  size_t len = 0;
  buf[0] = '\0';
  for (const kind_entry *k = kinds; k->kind && len + 1 < n; k++) {
    int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", k->kind);
    if (w > 0) len += (size_t)w;
  }
  if (!kinds[0].kind) snprintf(buf, n, "none registered yet");
}

/* The parent folder's name: configs/synth/x.yaml -> "synth". */
static void folder_kind(const char *path, char *out, size_t n) {
  const char *end = strrchr(path, '/');
  out[0] = '\0';
  if (!end) return;
  const char *start = end;
  while (start > path && start[-1] != '/') start--;
  snprintf(out, n, "%.*s", (int)(end - start), start);
}

static int unknown_kind(const char *kind, const char *from) {
  char known[512];
  known_kinds(known, sizeof known);
  fprintf(stderr, "skillrl config: no config schema for kind '%s' (%s); known kinds: %s\n", kind, from, known);
  return 2;
}

static int cmd_show(int argc, char **argv) {
  const char *path = NULL, *kind = NULL;
  const skl_arg_opt opts[] = {
      {"config", 'c', SKL_ARG_STR, &path, "FILE", "YAML config to resolve"},
      {"kind", 0, SKL_ARG_STR, &kind, "KIND", "schema to use (default: the file's kind: key, else its folder name)"},
  };
  char known[512], epilog[768];
  known_kinds(known, sizeof known);
  snprintf(epilog, sizeof epilog,
           "Prints defaults + file + overrides as YAML, keys in schema order; the output\n"
           "loads back to the same config. Without -c, prints a kind's defaults.\n"
           "known kinds: %s\nkeys of a kind: skillrl config keys KIND",
           known);
  skl_arg_spec spec = {"skillrl config show",
                       "[-c CONFIG] [--kind KIND] [key.sub=value ...]",
                       "Print a fully resolved config.",
                       opts,
                       2,
                       0,
                       -1,
                       epilog};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!path && !kind) {
    fprintf(stderr, "skillrl config show: needs -c CONFIG or --kind KIND\n");
    return 2;
  }
  char kbuf[128];
  const char *from = "from --kind";
  if (path && !skl_fs_exists(path)) {
    fprintf(stderr, "skillrl config show: %s: no such file\n", path);
    return 1;
  }
  if (!kind) {
    skl_error err = {0};
    skl_status st = skl_cfg_peek_kind(path, kbuf, sizeof kbuf, &err);
    if (st == SKL_ERR_NOTFOUND) {
      folder_kind(path, kbuf, sizeof kbuf);
      if (!kbuf[0]) {
        fprintf(stderr,
                "skillrl config show: %s has no 'kind:' key and no folder to name its kind; add "
                "'kind: synth' (or model, train, eval, ablate) at the top, or pass --kind\n",
                path);
        return 2;
      }
      from = "from the folder name; add a 'kind:' key or pass --kind to choose another";
    } else if (st) {
      return skl_cli_fail("config show", err.msg);
    } else {
      from = "from the file's kind: key";
    }
    kind = kbuf;
  }
  const skl_cfg_schema *schema = find_kind(kind);
  if (!schema) return unknown_kind(kind, from);

  void *cfg = calloc(1, schema->struct_size ? schema->struct_size : 1);
  if (!cfg) return skl_cli_fail("config show", "out of memory");
  skl_error err = {0};
  if (skl_cfg_load(schema, cfg, path, argv + 1, npos, &err)) {
    free(cfg);
    return skl_cli_fail("config show", err.msg);
  }
  skl_buf out = {0};
  skl_status st = skl_cfg_dump_yaml(schema, cfg, &out);
  if (!st) fputs(out.data, stdout);
  skl_buf_free(&out);
  skl_cfg_free(schema, cfg);
  free(cfg);
  return st ? skl_cli_fail("config show", "out of memory") : 0;
}

static int cmd_keys(int argc, char **argv) {
  char known[512], epilog[600];
  known_kinds(known, sizeof known);
  snprintf(epilog, sizeof epilog, "known kinds: %s", known);
  skl_arg_spec spec = {
      "skillrl config keys", "KIND", "List a config kind's keys: type, default, range, help.", NULL, 0, 1, 1, epilog};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  const skl_cfg_schema *schema = find_kind(argv[1]);
  if (!schema) return unknown_kind(argv[1], "from the command line");
  skl_buf out = {0};
  skl_status st = skl_cfg_help(schema, &out);
  if (!st) fputs(out.data, stdout);
  skl_buf_free(&out);
  return st ? skl_cli_fail("config keys", "out of memory") : 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: skillrl config show [-c CONFIG] [--kind KIND] [key.sub=value ...]\n"
          "       skillrl config keys KIND\n\n"
          "  show   print the fully resolved config (defaults + file + overrides) as YAML\n"
          "  keys   list a kind's keys with types, defaults, ranges and help\n");
}

int skl_cmd_config(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(sub, "show")) return cmd_show(argc - 1, argv + 1);
  if (!strcmp(sub, "keys")) return cmd_keys(argc - 1, argv + 1);
  fprintf(stderr, "skillrl config: unknown subcommand '%s'", sub);
  if (skl_edit_distance(sub, "show") <= 2)
    fprintf(stderr, " (did you mean 'show'?)");
  else if (skl_edit_distance(sub, "keys") <= 2)
    fprintf(stderr, " (did you mean 'keys'?)");
  fprintf(stderr, "\n");
  usage(stderr);
  return 2;
}
