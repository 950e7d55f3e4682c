/* eval run report: aggregates result lines into summary.md (per skill and
 * benchmark: n, mean +- standard error, pass@k; by length bucket and needle
 * depth), summary.json for `eval correlate`, and stats.json (speed).
 * Not the decoding loop (run.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "eval/correlate.h"
#include "eval/run_report_internal.h"
#include "eval/stats.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

typedef struct {
  char *a, *b;     /* row labels */
  double *x;       /* [n] scores */
  size_t n, cap;
  double pk[16];   /* sums of pass@k over samples with sampling */
  size_t n_pk;
} row;

typedef struct {
  row *r;
  size_t n, cap;
} table;

static void table_free(table *t) {
  for (size_t i = 0; i < t->n; i++) { free(t->r[i].a); free(t->r[i].b); free(t->r[i].x); }
  free(t->r);
  memset(t, 0, sizeof *t);
}

/* Add a score (and its pass@k values, pk may be NULL) to row (a, b). */
static int table_add(table *t, const char *a, const char *b, double x, const double *pk, int n_k) {
  row *r = NULL;
  for (size_t i = 0; i < t->n && !r; i++)
    if (!strcmp(t->r[i].a, a) && !strcmp(t->r[i].b, b)) r = &t->r[i];
  if (!r) {
    if (t->n == t->cap) {
      size_t nc = t->cap ? 2 * t->cap : 16;
      row *nr = realloc(t->r, nc * sizeof *nr);
      if (!nr) return 1;
      t->r = nr;
      t->cap = nc;
    }
    r = &t->r[t->n];
    memset(r, 0, sizeof *r);
    if (!(r->a = strdup(a)) || !(r->b = strdup(b))) { free(r->a); free(r->b); return 1; }
    t->n++;
  }
  if (r->n == r->cap) {
    size_t nc = r->cap ? 2 * r->cap : 16;
    double *nx = realloc(r->x, nc * sizeof *nx);
    if (!nx) return 1;
    r->x = nx;
    r->cap = nc;
  }
  r->x[r->n++] = x;
  if (pk) {
    for (int k = 0; k < n_k && k < 16; k++) r->pk[k] += pk[k];
    r->n_pk++;
  }
  return 0;
}

static int put_stats(skl_buf *md, const row *r) {
  double m, se;
  eval_mean_se(r->x, r->n, &m, &se);
  if (isnan(se)) return skl_buf_printf(md, " %zu | %.2f | n/a |", r->n, 100 * m);
  return skl_buf_printf(md, " %zu | %.2f | %.2f |", r->n, 100 * m, 100 * se);
}

static int put_table(skl_buf *md, const table *t, const char *title, const char *ha, const char *hb,
                     const eval_cfg *cfg, bool pk) {
  if (!t->n) return 0;
  int bad = skl_buf_printf(md, "\n## %s\n\n| %s |", title, ha);
  if (hb) bad |= skl_buf_printf(md, " %s |", hb);
  bad |= skl_buf_puts(md, " n | score (%) | ± se |");
  int nk = pk && cfg->samples > 0 ? cfg->pass_k.n : 0;
  for (int k = 0; k < nk; k++) bad |= skl_buf_printf(md, " pass@%lld (%%) |", (long long)cfg->pass_k.v[k]);
  bad |= skl_buf_puts(md, "\n|---|");
  if (hb) bad |= skl_buf_puts(md, "---|");
  bad |= skl_buf_puts(md, "--:|--:|--:|");
  for (int k = 0; k < nk; k++) bad |= skl_buf_puts(md, "--:|");
  bad |= skl_buf_puts(md, "\n");
  for (size_t i = 0; i < t->n; i++) {
    const row *r = &t->r[i];
    bad |= skl_buf_printf(md, "| %s |", r->a);
    if (hb) bad |= skl_buf_printf(md, " %s |", r->b);
    bad |= put_stats(md, r);
    for (int k = 0; k < nk; k++)
      bad |= r->n_pk ? skl_buf_printf(md, " %.2f |", 100 * r->pk[k] / (double)r->n_pk) : skl_buf_puts(md, " n/a |");
    bad |= skl_buf_puts(md, "\n");
  }
  return bad;
}

static double row_mean(const row *r) {
  double m, se;
  eval_mean_se(r->x, r->n, &m, &se);
  return m;
}

static skl_status write_json(const char *dir, const char *name, json_t *o, skl_error *err) {
  char *path = skl_path_join(dir, name);
  char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
  skl_status st = path && s ? skl_fs_write_atomic(path, s, strlen(s), err) : NOMEM(err);
  free(s);
  free(path);
  return st;
}

skl_status eval_report_write(const eval_report_in *in, skl_error *err) {
  const eval_cfg *cfg = in->cfg;
  const eval_run_stats *s = in->stats;
  table probes = {0}, bench = {0}, bench_all = {0}, lengths = {0}, depth = {0};
  skl_buf md = {0};
  skl_status st = SKL_OK;
  int bad = 0;
  size_t i;
  json_t *o;
  int nk = cfg->samples > 0 ? cfg->pass_k.n : 0;
  json_array_foreach(in->results, i, o) {
    const char *set = json_string_value(json_object_get(o, "set"));
    const char *grp = json_string_value(json_object_get(o, "group"));
    const char *bk = json_string_value(json_object_get(o, "length_bucket"));
    double x = json_number_value(json_object_get(o, "score"));
    if (!set || !grp) continue;
    double pk[16];
    const double *pkp = NULL;
    json_t *ns = json_object_get(o, "samples"), *cs = json_object_get(o, "samples_correct");
    if (nk && json_is_integer(ns) && json_is_integer(cs)) {
      for (int k = 0; k < nk && k < 16; k++)
        pk[k] = eval_pass_at_k((int)json_integer_value(ns), (int)json_integer_value(cs), (int)cfg->pass_k.v[k]);
      pkp = pk;
    }
    bool probe = !strcmp(set, "probe");
    if (probe) bad |= table_add(&probes, grp, "", x, pkp, nk);
    else {
      bad |= table_add(&bench, set, grp, x, pkp, nk);
      bad |= table_add(&bench_all, set, "all", x, pkp, nk);
    }
    if (bk) bad |= table_add(&lengths, probe ? grp : set, bk, x, NULL, 0);
    json_t *d = json_object_get(o, "depth");
    if (probe && json_is_number(d)) {
      int nb = cfg->depth_bins, b = (int)(json_number_value(d) * nb);
      if (b >= nb) b = nb - 1;
      if (b < 0) b = 0;
      char lab[48];
      snprintf(lab, sizeof lab, "%.2f-%.2f", (double)b / nb, (double)(b + 1) / nb);
      bad |= table_add(&depth, grp, lab, x, NULL, 0);
    }
  }
  const char *model = strrchr(in->model_dir, '/');
  model = model && model[1] ? model + 1 : in->model_dir;
  double sps = s->seconds > 0 ? (double)s->n_new / s->seconds : 0;
  bad |= skl_buf_printf(&md,
                        "# Evaluation of %s\n\n%s: %zu of %zu samples scored (%zu this run, %zu resumed); "
                        "%zu benchmark prompts truncated in the middle; %zu probes longer than the window skipped.\n\n"
                        "Speed this run: %.2f samples/s; prefill %.2f s (%lld tokens), decode %.2f s (%lld tokens).\n",
                        model, s->complete ? "complete" : "PARTIAL", s->n_resumed + s->n_new, s->n_total, s->n_new,
                        s->n_resumed, s->n_truncated, s->n_too_long, sps, s->prefill_s, (long long)s->prefill_tokens,
                        s->decode_s, (long long)s->decode_tokens);
  bad |= put_table(&md, &probes, "Skill probes (greedy pass@1)", "skill", NULL, cfg, true);
  bad |= put_table(&md, &bench_all, "Benchmarks", "benchmark", NULL, cfg, true);
  if (bench.n > bench_all.n) bad |= put_table(&md, &bench, "Benchmarks by group", "benchmark", "group", cfg, true);
  bad |= put_table(&md, &lengths, "By length bucket (tokens)", "skill or benchmark", "bucket", cfg, false);
  bad |= put_table(&md, &depth, "By needle depth", "skill", "depth", cfg, false);
  if (bad) st = NOMEM(err);
  char *mdp = skl_path_join(in->out_dir, "summary.md");
  if (!st) st = mdp ? skl_fs_write_atomic(mdp, md.data, md.len, err) : NOMEM(err);
  free(mdp);
  /* summary.json: skills and benchmarks in percent, for eval correlate */
  if (!st && probes.n > 0 && bench_all.n > 0) { /* correlate needs both */
    eval_named_score *sk = calloc(probes.n + 1, sizeof *sk), *bn = calloc(bench_all.n + 1, sizeof *bn);
    size_t nb = 0;
    if (!sk || !bn) st = NOMEM(err);
    for (size_t k = 0; !st && k < probes.n; k++) sk[k] = (eval_named_score){probes.r[k].a, 100 * row_mean(&probes.r[k])};
    for (size_t n = 0; !st && n < in->n_sets; n++) /* config order */
      for (size_t k = 0; k < bench_all.n; k++)
        if (!strcmp(bench_all.r[k].a, in->set_names[n]))
          bn[nb++] = (eval_named_score){bench_all.r[k].a, 100 * row_mean(&bench_all.r[k])};
    char *sp = skl_path_join(in->out_dir, "summary.json");
    if (!st) st = sp ? eval_summary_write(sp, model, in->has_probes ? in->manifest_hash : NULL,
                                          in->has_probes ? in->tokenizer_hash : NULL, sk, probes.n, bn, nb, err)
                     : NOMEM(err);
    free(sp);
    free(sk);
    free(bn);
  }
  if (!st) {
    json_t *js = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:f, s:f, s:f, s:f, s:I, s:I}", "samples_total",
                           (json_int_t)s->n_total, "samples_new", (json_int_t)s->n_new, "samples_resumed",
                           (json_int_t)s->n_resumed, "truncated", (json_int_t)s->n_truncated, "too_long",
                           (json_int_t)s->n_too_long, "complete", s->complete, "seconds", s->seconds, "samples_per_s",
                           sps, "prefill_s", s->prefill_s, "decode_s", s->decode_s, "prefill_tokens",
                           (json_int_t)s->prefill_tokens, "decode_tokens", (json_int_t)s->decode_tokens);
    st = write_json(in->out_dir, "stats.json", js, err);
    json_decref(js);
  }
  skl_buf_free(&md);
  table_free(&probes);
  table_free(&bench);
  table_free(&bench_all);
  table_free(&lengths);
  table_free(&depth);
  return st;
}
