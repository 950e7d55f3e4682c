/* skillrl synth: generate skill datasets from a synth config, and `synth show`
 * to read one sample with its blueprint highlighted. Not the pipeline (synth/). */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/fs.h"
#include "io/jsonl.h"
#include "synth/config.h"
#include "synth/pipeline.h"
#include "sys/sys.h"

typedef struct {
  double t0, last;
  int tty;
  int64_t last_pct;
} progress_state;

static void progress_cb(void *ud, const char *what, int64_t done, int64_t total, uint64_t bytes) {
  progress_state *p = ud;
  double t = skl_time_now(), el = t - p->t0;
  double sps = el > 0 ? (double)done / el : 0, mbs = el > 0 ? (double)bytes / el / 1e6 : 0;
  double eta = sps > 0 ? (double)(total - done) / sps : 0;
  int64_t pct = total ? done * 100 / total : 100;
  if (p->tty) {
    int w = 30, fill = (int)(pct * w / 100);
    fprintf(stderr, "\r%-5s [%.*s%*s] %3lld%% %lld/%lld  %.1f samples/s  %.1f MB/s  ETA %.0fs ", what, fill,
            "==============================", w - fill, "", (long long)pct, (long long)done, (long long)total, sps,
            mbs, eta);
    if (done == total) fputc('\n', stderr);
  } else if (pct / 10 != p->last_pct / 10 || done == total) {
    /* a quiet line per 10% when stderr is a log file */
    fprintf(stderr, "synth: %s %lld/%lld samples (%lld%%), %.1f samples/s, %.1f MB/s\n", what, (long long)done,
            (long long)total, (long long)pct, sps, mbs);
  }
  p->last_pct = pct;
  p->last = t;
}

/* ---------- synth show ---------- */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_INSERT "\033[33m"
#define C_ANCHOR "\033[1;31m"
#define C_HEAD "\033[1;36m"
#define C_Q "\033[1;32m"

static void put_colored(const char *s, size_t n, const char *color, int tty) {
  if (tty) fputs(color, stdout);
  fwrite(s, 1, n, stdout);
  if (tty) fputs(C_RESET, stdout);
}

/* Print text with inserts (from doc_mapping offsets) and anchor names highlighted. */
static void print_prompt(const char *text, json_t *mapping, json_t *anchors, int tty) {
  size_t n = strlen(text), pos = 0;
  size_t nm = json_array_size(mapping);
  /* inserts sorted by offset: they are in blueprint order, so find the next each time */
  for (;;) {
    size_t best = n, blen = 0;
    int bestanchor = -1;
    for (size_t i = 0; i < nm; i++) {
      json_t *m = json_array_get(mapping, i);
      size_t off = (size_t)json_integer_value(json_object_get(m, "offset"));
      const char *t = json_string_value(json_object_get(m, "text"));
      if (t && off >= pos && off < best && off + strlen(t) <= n && !strncmp(text + off, t, strlen(t))) {
        best = off;
        blen = strlen(t);
        bestanchor = (int)json_integer_value(json_object_get(m, "anchor"));
      }
    }
    fwrite(text + pos, 1, best - pos, stdout);
    if (best >= n) break;
    const char *name = bestanchor >= 0 ? json_string_value(json_object_get(json_array_get(anchors, (size_t)bestanchor), "name")) : NULL;
    const char *hit = name ? strstr(text + best, name) : NULL;
    if (hit && hit + strlen(name) <= text + best + blen) {
      put_colored(text + best, (size_t)(hit - text - best), C_INSERT, tty);
      put_colored(hit, strlen(name), C_ANCHOR, tty);
      put_colored(hit + strlen(name), blen - (size_t)(hit - text - best) - strlen(name), C_INSERT, tty);
    } else {
      put_colored(text + best, blen, C_INSERT, tty);
    }
    pos = best + blen;
  }
  fputc('\n', stdout);
}

static int cmd_show(int argc, char **argv) {
  int64_t index = 0;
  bool brief = false;
  const skl_arg_opt opts[] = {
      {"index", 'n', SKL_ARG_INT, &index, "N", "0-based record index in the file (default 0)"},
      {"brief", 0, SKL_ARG_FLAG, &brief, NULL, "print the blueprint and question only, not the whole context"},
  };
  skl_arg_spec spec = {"skillrl synth show", "FILE [--index N]",
                       "Pretty-print one sample of a dataset shard (.jsonl or .jsonl.zst): its answer, blueprint "
                       "(anchors, embedded questions, doc_mapping, expression) and the prompt with inserts and "
                       "anchors highlighted (colours only on a terminal).",
                       opts, 2, 1, 1, NULL};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  const char *path = argv[1];
  skl_error err = {0};
  skl_jsonl_reader *r;
  if (skl_jsonl_open(&r, path, &err)) return skl_cli_fail("synth show", err.msg);
  json_t *rec = NULL;
  int64_t i = 0;
  skl_status s;
  while (!(s = skl_jsonl_next(r, &rec, &err)) && rec) {
    if (i++ == index) break;
    json_decref(rec);
    rec = NULL;
  }
  skl_jsonl_close(r);
  if (s) return skl_cli_fail("synth show", err.msg);
  if (!rec) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s: --index %lld is past the end (the file holds %lld records)", path,
             (long long)index, (long long)i);
    return skl_cli_fail("synth show", msg);
  }
  int tty = isatty(STDOUT_FILENO);
  json_t *ex = json_object_get(rec, "extra_info"), *bp = json_object_get(ex, "blueprint");
  json_t *anchors = json_object_get(bp, "anchors"), *mapping = json_object_get(bp, "doc_mapping");
  put_colored("== sample ", 10, C_HEAD, tty);
  printf("%s  skill=%s split=%s n_tokens=%lld seed=%lld\n", json_string_value(json_object_get(rec, "id")),
         json_string_value(json_object_get(rec, "skill")), json_string_value(json_object_get(rec, "split")),
         (long long)json_integer_value(json_object_get(ex, "n_tokens")),
         (long long)json_integer_value(json_object_get(ex, "seed")));
  printf("difficulty: %s\n", json_string_value(json_object_get(ex, "difficulty")));
  printf("answer (%s): ", json_string_value(json_object_get(rec, "answer_type")));
  const char *ans = json_string_value(json_object_get(rec, "answer"));
  put_colored(ans ? ans : "?", ans ? strlen(ans) : 1, C_BOLD, tty);
  printf("\nexpression: ");
  const char *ex_s = json_string_value(json_object_get(bp, "expr"));
  put_colored(ex_s ? ex_s : "?", ex_s ? strlen(ex_s) : 1, C_Q, tty);
  printf("\n");
  put_colored("== anchors", 10, C_HEAD, tty);
  printf(" (%zu)\n", json_array_size(anchors));
  for (size_t a = 0; a < json_array_size(anchors); a++) {
    json_t *x = json_array_get(anchors, a);
    const char *nm = json_string_value(json_object_get(x, "name"));
    printf("  a%-3zu ", a);
    put_colored(nm ? nm : "?", nm ? strlen(nm) : 1, C_ANCHOR, tty);
    json_t *v = json_object_get(x, "value");
    if (json_is_number(v)) printf("  Q: %s  = %g\n", json_string_value(json_object_get(x, "question")), json_number_value(v));
    else printf("  Q: %s  = %s\n", json_string_value(json_object_get(x, "question")), json_string_value(v));
  }
  put_colored("== doc_mapping", 14, C_HEAD, tty);
  printf(" (%zu inserts)\n", json_array_size(mapping));
  for (size_t k = 0; k < json_array_size(mapping); k++) {
    json_t *x = json_array_get(mapping, k);
    printf("  Document %lld depth %.3f: %s\n", (long long)json_integer_value(json_object_get(x, "doc")) + 1,
           json_number_value(json_object_get(x, "depth")), json_string_value(json_object_get(x, "text")));
  }
  json_t *prompt = json_object_get(rec, "prompt");
  for (size_t k = 0; k < json_array_size(prompt); k++) {
    json_t *m = json_array_get(prompt, k);
    const char *role = json_string_value(json_object_get(m, "role"));
    const char *content = json_string_value(json_object_get(m, "content"));
    put_colored("== ", 3, C_HEAD, tty);
    put_colored(role ? role : "?", role ? strlen(role) : 1, C_HEAD, tty);
    printf("\n");
    if (!content) continue;
    if (brief && role && !strcmp(role, "user")) {
      const char *q = strstr(content, "\n\nQuestion: ");
      printf("[... %zu bytes of documents ...]\n%s\n", q ? (size_t)(q - content) : strlen(content), q ? q + 2 : "");
    } else if (role && !strcmp(role, "user")) {
      print_prompt(content, mapping, anchors, tty);
    } else {
      printf("%s\n", content);
    }
  }
  json_decref(rec);
  return 0;
}

/* ---------- synth (generate) ---------- */

int skl_cmd_synth(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "show")) return cmd_show(argc - 1, argv + 1);
  const char *cfg_path = NULL, *out = NULL;
  bool overwrite = false;
  int64_t threads = 0;
  const skl_arg_opt opts[] = {
      {"config", 'c', SKL_ARG_STR, &cfg_path, "CONFIG", "synth config (YAML, kind: synth)"},
      {"out", 'o', SKL_ARG_STR, &out, "DIR", "output folder (default: output.dir of the config)"},
      {"overwrite", 0, SKL_ARG_FLAG, &overwrite, NULL, "replace a dataset already in DIR"},
      {"threads", 't', SKL_ARG_INT, &threads, "N", "generator threads (default: all cores); output is identical"},
  };
  skl_arg_spec spec = {"skillrl synth", "-c CONFIG [-o DIR] [--overwrite] [--threads N] [key.sub=value ...]",
                       "Generate one dataset per atomic skill: DIR/<skill>/<split>-NNNNN.jsonl.zst plus "
                       "DIR/manifest.json. Every answer is the evaluation of the sample's blueprint expression and "
                       "is re-derived by an oracle that reads only the prompt text.",
                       opts, 4, 0, -1,
                       "subcommands:\n  skillrl synth show FILE [--index N]   pretty-print one sample\n"
                       "keys: skillrl config keys synth"};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!cfg_path) {
    fprintf(stderr, "skillrl synth: needs -c CONFIG (e.g. configs/synth/default.yaml)\n");
    return 2;
  }
  if (threads < 0 || threads > 4096) {
    fprintf(stderr, "skillrl synth: --threads %lld is out of range (1..4096, or 0 for all cores)\n", (long long)threads);
    return 2;
  }
  skl_error err = {0};
  synth_cfg cfg;
  if (skl_cfg_load(synth_cfg_schema(), &cfg, cfg_path, argv + 1, npos, &err)) return skl_cli_fail("synth", err.msg);
  /* a copy: cfg (which may own the folder's name) is freed before the summary */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", out ? out : cfg.out ? cfg.out : "");
  if (!dir[0]) {
    skl_cfg_free(synth_cfg_schema(), &cfg);
    fprintf(stderr, "skillrl synth: no output folder: pass -o DIR or set output.dir in %s\n", cfg_path);
    return 2;
  }
  synth_ctx *c;
  if (synth_ctx_init(&c, &cfg, &err)) {
    skl_cfg_free(synth_cfg_schema(), &cfg);
    return skl_cli_fail("synth", err.msg);
  }
  progress_state ps = {.t0 = skl_time_now(), .tty = isatty(STDERR_FILENO), .last_pct = -1};
  synth_progress prog = {progress_cb, &ps};
  synth_stats st;
  skl_status s = synth_generate(c, dir, overwrite, (int)threads, &prog, &st, &err);
  double el = skl_time_now() - ps.t0;
  synth_ctx_free(c);
  skl_cfg_free(synth_cfg_schema(), &cfg);
  if (s) return skl_cli_fail("synth", err.msg);
  fprintf(stderr,
          "synth: wrote %lld samples to %s in %.1fs (%.1f samples/s, %.1f MB/s uncompressed, %.1f MB on disk); "
          "regenerated: %lld oracle disagreements, %lld expression checks, %lld train-name overlaps\n",
          (long long)st.samples, dir, el, el > 0 ? (double)st.samples / el : 0, el > 0 ? (double)st.bytes / el / 1e6 : 0,
          (double)st.file_bytes / 1e6, (long long)st.oracle_rejects, (long long)st.expr_rejects,
          (long long)st.overlap_rejects);
  return 0;
}
