/* bench synth: dataset synthesis throughput — samples/s and MB/s of JSONL
 * (length fitting, oracle and zstd shards included) at 8k and 64k tokens, one
 * thread and all threads, beside a zstd-only peer; prints ONE JSON line.
 * Not a correctness test (tests/synth). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "bench/bench.h"
#include "io/jsonl.h"
#include "skills/registry.h"
#include "synth/pipeline.h"
#include "sys/sys.h"

/* CPU time of the whole process (all threads): on a shared machine wall time
 * includes waiting for a core; CPU time shows the work itself. */
static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
  int64_t tokens;
  int threads;
  int64_t samples;
  double seconds, samples_per_s, mb_per_s, cpu_seconds, mb_per_cpu_s;
  double phase[SYNTH_PHASE_COUNT + 1]; /* summed thread-seconds; last: zstd + write */
  uint64_t bytes;
} run_result;

/* Generate n samples of target length `tokens` round-robin over the skills,
 * in chunks (parallel) written in order to one zstd shard, like synth_generate. */
static int bench_run(const synth_ctx *c, const char *dir, int64_t tokens, int threads, int64_t n, run_result *r,
                     skl_error *err) {
  memset(r, 0, sizeof *r);
  r->tokens = tokens;
  r->threads = threads;
  r->samples = n;
  char path[512];
  snprintf(path, sizeof path, "%s/bench-%lld-%d.jsonl.zst", dir, (long long)tokens, threads);
  enum { CHUNK = 64 };
  synth_sample *s = calloc(CHUNK, sizeof *s);
  skl_status *st = calloc(CHUNK, sizeof *st);
  skl_error *errs = calloc(CHUNK, sizeof *errs);
  if (!s || !st || !errs) { free(s); free(st); free(errs); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  skl_jsonl_writer *w = NULL;
  skl_status rc = skl_jsonl_writer_open(&w, path, NULL, err);
  int ns = skill_count();
  double t0 = skl_time_now(), c0 = cpu_s();
  for (int64_t i0 = 0; !rc && i0 < n; i0 += CHUNK) {
    int m = (int)(n - i0 < CHUNK ? n - i0 : CHUNK);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < m; i++)
      st[i] = synth_sample_make(c, skill_get((int)((i0 + i) % ns))->id, 0, i0 + i, NULL, tokens, &s[i], &errs[i]);
    double tw = skl_time_now();
    for (int i = 0; i < m; i++) {
      if (!rc && st[i]) { rc = st[i]; *err = errs[i]; }
      if (!rc) rc = skl_jsonl_write_line(w, s[i].line, s[i].len, err);
      if (!rc) {
        r->bytes += s[i].len + 1;
        for (int p = 0; p < SYNTH_PHASE_COUNT; p++) r->phase[p] += s[i].seconds[p];
      }
      synth_sample_free(&s[i]);
    }
    r->phase[SYNTH_PHASE_COUNT] += skl_time_now() - tw;
  }
  double tc = skl_time_now();
  if (!rc) rc = skl_jsonl_writer_close(w, NULL, err);
  else skl_jsonl_writer_abort(w);
  r->phase[SYNTH_PHASE_COUNT] += skl_time_now() - tc;
  r->seconds = skl_time_now() - t0;
  r->cpu_seconds = cpu_s() - c0;
  r->mb_per_cpu_s = (double)r->bytes / r->cpu_seconds / 1e6;
  unlink(path);
  r->samples_per_s = (double)n / r->seconds;
  r->mb_per_s = (double)r->bytes / r->seconds / 1e6;
  free(s);
  free(st);
  free(errs);
  return rc;
}

/* The peer: the same bytes through zstd alone (level 3, one shard), MB/s. */
static double zstd_peer(const char *dir, uint64_t bytes, skl_error *err) {
  char path[512];
  snprintf(path, sizeof path, "%s/peer.jsonl.zst", dir);
  /* representative text: one generated record repeated with a varying id */
  const char *line = "{\"id\":\"x\",\"prompt\":[{\"role\":\"user\",\"content\":\"The board approved a dividend of 4.12 "
                     "per share, payable on May 3, 2031 to holders of record. Entry LTUCRHGAXK: its value is 42.\"}]}";
  skl_jsonl_writer *w;
  if (skl_jsonl_writer_open(&w, path, NULL, err)) return -1;
  size_t ll = strlen(line);
  uint64_t done = 0;
  double t0 = skl_time_now();
  while (done < bytes) {
    if (skl_jsonl_write_line(w, line, ll, err)) { skl_jsonl_writer_abort(w); return -1; }
    done += ll + 1;
  }
  if (skl_jsonl_writer_close(w, NULL, err)) return -1;
  double dt = skl_time_now() - t0;
  unlink(path);
  return (double)done / dt / 1e6;
}

int skl_bench_synth(int argc, char **argv) {
  int64_t tokens = 0, threads = 0, samples = 0;
  const skl_arg_opt opts[] = {
      {"tokens", 'T', SKL_ARG_INT, &tokens, "N", "target length in tokens (default: 8192 and 65536)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "threads of the parallel runs (default: all cores)"},
      {"samples", 0, SKL_ARG_INT, &samples, "N", "samples per run (default: 4M tokens' worth, at least 24)"},
  };
  skl_arg_spec spec = {"skillrl bench synth", "[--tokens N] [--threads N] [--samples N]",
                       "Time dataset synthesis end to end (blueprint, expression, background text, length fitting, "
                       "oracle, JSON, zstd shard) round-robin over the six skills, with one thread and with N, and "
                       "report samples/s and MB/s of JSONL beside a zstd-only peer. Prints one JSON line.",
                       opts, 3, 0, 0, NULL};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (tokens < 0 || threads < 0 || samples < 0 || (tokens && tokens < 1024)) {
    fprintf(stderr, "skillrl bench synth: --tokens must be >= 1024, --threads and --samples >= 0\n");
    return 2;
  }
  int nthreads = threads ? (int)threads : omp_get_max_threads();
  skl_error err = {0};
  synth_cfg cfg;
  char *ov[] = {"difficulty.logic={docs: 4, anchors: 8}"};
  if (skl_cfg_load(synth_cfg_schema(), &cfg, NULL, ov, 1, &err)) return skl_cli_fail("bench synth", err.msg);
  synth_ctx *c;
  if (synth_ctx_init(&c, &cfg, &err)) {
    skl_cfg_free(synth_cfg_schema(), &cfg);
    return skl_cli_fail("bench synth", err.msg);
  }
  char dir[] = "/tmp/skillrl-bench-synth-XXXXXX";
  if (!mkdtemp(dir)) {
    synth_ctx_free(c);
    skl_cfg_free(synth_cfg_schema(), &cfg);
    return skl_cli_fail("bench synth", "cannot create a temp folder under /tmp");
  }
  int64_t lens[2] = {tokens ? tokens : 8192, 65536};
  int nlens = tokens ? 1 : 2;
  int thr[2] = {1, nthreads};
  int nthr = nthreads > 1 ? 2 : 1;
  run_result res[4];
  int nr = 0;
  skl_status s = SKL_OK;
  for (int li = 0; li < nlens && !s; li++)
    for (int ti = 0; ti < nthr && !s; ti++) {
      int64_t n = samples ? samples : (int64_t)(4 << 20) / lens[li];
      if (n < 24) n = 24;
      s = bench_run(c, dir, lens[li], thr[ti], n, &res[nr++], &err);
    }
  double peer = s ? -1 : zstd_peer(dir, res[0].bytes, &err);
  rmdir(dir);
  synth_ctx_free(c);
  skl_cfg_free(synth_cfg_schema(), &cfg);
  if (s || peer < 0) return skl_cli_fail("bench synth", err.msg);
  /* headline: the first length with all threads; per-run details and phase shares follow */
  const run_result *h = &res[nthr - 1];
  double total = 0;
  for (int p = 0; p <= SYNTH_PHASE_COUNT; p++) total += res[0].phase[p];
  static const char *const pn[] = {"blueprint", "render", "oracle", "record", "zstd_write"};
  printf("{\"bench\":\"synth\",\"threads\":%d,\"seconds\":%.3f,\"tokens\":%lld,\"samples_per_s\":%.2f,"
         "\"mb_per_s\":%.2f,\"mb_per_s_per_thread\":%.2f,\"peer\":\"zstd_only_mb_per_s\",\"peer_mb_per_s\":%.2f,"
         "\"ratio\":%.4f,\"runs\":[",
         h->threads, h->seconds, (long long)h->tokens, h->samples_per_s, h->mb_per_s, res[0].mb_per_s, peer,
         h->mb_per_s / peer);
  for (int i = 0; i < nr; i++)
    printf("%s{\"tokens\":%lld,\"threads\":%d,\"samples\":%lld,\"seconds\":%.3f,\"samples_per_s\":%.2f,"
           "\"mb_per_s\":%.2f,\"cpu_seconds\":%.3f,\"mb_per_cpu_s\":%.2f}",
           i ? "," : "", (long long)res[i].tokens, res[i].threads, (long long)res[i].samples, res[i].seconds,
           res[i].samples_per_s, res[i].mb_per_s, res[i].cpu_seconds, res[i].mb_per_cpu_s);
  printf("],\"time_share_1_thread\":{");
  for (int p = 0; p <= SYNTH_PHASE_COUNT; p++)
    printf("%s\"%s\":%.3f", p ? "," : "", pn[p], total > 0 ? res[0].phase[p] / total : 0);
  printf("}}\n");
  return 0;
}
