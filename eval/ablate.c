/* eval ablate: the leave-one-skill-out plan (which runs, which skills each
 * trains on) and the report from the runs' eval summaries: tables, a probe
 * heatmap and a benchmark bar chart. Not the driver (cli/cmd_ablate.c). */
#include "eval/ablate.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/text.h"
#include "eval/correlate.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

static const skl_cfg_field fields[] = {
    {.key = "train_config", .type = SKL_CFG_STRING, .offset = offsetof(eval_ablate_cfg, train_config),
     .required = true, .help = "train config (kind: train): the shared budget, seed and data"},
    {.key = "eval_config", .type = SKL_CFG_STRING, .offset = offsetof(eval_ablate_cfg, eval_config), .required = true,
     .help = "eval config (kind: eval) with probes and benchmarks"},
    {.key = "model", .type = SKL_CFG_STRING, .offset = offsetof(eval_ablate_cfg, model),
     .help = "base model folder every run starts from (null: the train config's model)"},
    {.key = "out", .type = SKL_CFG_STRING, .offset = offsetof(eval_ablate_cfg, out), .def = "runs/ablate",
     .help = "ablation folder (runs/NAME/{train,eval}, report.md, PNGs)"},
    {.key = "skills", .type = SKL_CFG_STRING, .offset = offsetof(eval_ablate_cfg, skills), .def = "",
     .help = "comma-separated skills to leave out one at a time (empty: all in the train data)"},
    {.key = "single_skill", .type = SKL_CFG_BOOL, .offset = offsetof(eval_ablate_cfg, single_skill),
     .def = "false", .help = "also train one run on each skill alone"},
    {.key = "train_overrides", .type = SKL_CFG_STR_LIST, .offset = offsetof(eval_ablate_cfg, train_overrides),
     .def = "[]", .help = "key=value overrides for every training run (e.g. steps=4)"},
    {.key = "eval_overrides", .type = SKL_CFG_STR_LIST, .offset = offsetof(eval_ablate_cfg, eval_overrides),
     .def = "[]", .help = "key=value overrides for the evaluation"},
};
static const skl_cfg_schema schema = {"ablate", fields, (int)(sizeof fields / sizeof fields[0]),
                                      sizeof(eval_ablate_cfg)};
const skl_cfg_schema *eval_ablate_schema(void) { return &schema; }

/* ---- plan --------------------------------------------------------------------- */

void eval_ablate_plan_free(eval_ablate_plan *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n_skills; i++) free(p->skills[i]);
  free(p->skills);
  for (size_t i = 0; i < p->n_runs; i++) { free(p->runs[i].name); free(p->runs[i].skills); }
  free(p->runs);
  memset(p, 0, sizeof *p);
}

static skl_status add_run(eval_ablate_plan *p, eval_ablate_kind kind, size_t skill, skl_error *err) {
  eval_ablate_run *r = &p->runs[p->n_runs];
  memset(r, 0, sizeof *r);
  skl_buf name = {0}, sk = {0};
  int bad = skl_buf_printf(&name, "%s%s%s", kind == EVAL_ABLATE_FULL ? "full" : kind == EVAL_ABLATE_MINUS ? "minus-" : "only-",
                           kind == EVAL_ABLATE_FULL ? "" : p->skills[skill], "");
  for (size_t i = 0; i < p->n_skills; i++) {
    bool take = kind == EVAL_ABLATE_FULL || (kind == EVAL_ABLATE_MINUS ? i != skill : i == skill);
    if (take) bad |= skl_buf_printf(&sk, "%s%s", sk.len ? "," : "", p->skills[i]);
  }
  if (bad) { skl_buf_free(&name); skl_buf_free(&sk); return NOMEM(err); }
  r->name = name.data;
  r->skills = sk.data;
  r->skill = kind == EVAL_ABLATE_FULL ? NULL : p->skills[skill];
  r->kind = kind;
  p->n_runs++;
  return SKL_OK;
}

skl_status eval_ablate_plan_make(const char *data_dir, const char *subset, bool single_skill, eval_ablate_plan *p,
                                 skl_error *err) {
  memset(p, 0, sizeof *p);
  char *mpath = skl_path_join(data_dir, "manifest.json");
  if (!mpath) return NOMEM(err);
  if (!skl_fs_exists(mpath)) {
    skl_status st = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: not found (the train config's data folder must be a "
                                  "skillrl dataset; make one with skillrl synth)", mpath);
    free(mpath);
    return st;
  }
  json_error_t je;
  json_t *man = json_load_file(mpath, 0, &je);
  skl_status st = SKL_OK;
  json_t *counts = json_object_get(man, "counts");
  if (!man) st = skl_error_set(err, SKL_ERR_PARSE, "%s:%d: %s", mpath, je.line, je.text);
  else if (!json_is_object(counts))
    st = skl_error_set(err, SKL_ERR_INVALID, "%s: no 'counts' object (skill -> split -> records)", mpath);
  size_t nk = st ? 0 : json_object_size(counts);
  if (!st && !(p->skills = calloc(nk + 1, sizeof *p->skills))) st = NOMEM(err);
  const char *key;
  json_t *v;
  skl_buf have = {0};
  if (!st) json_object_foreach(counts, key, v) {
    skl_buf_printf(&have, "%s%s", have.len ? ", " : "", key);
    if (!json_integer_value(json_object_get(v, "train"))) continue;
    if (subset && *subset && !skl_name_in_list(subset, key)) continue;
    if (!(p->skills[p->n_skills++] = strdup(key))) { st = NOMEM(err); break; }
  }
  /* every requested skill must exist */
  for (const char *q = subset ? subset : ""; !st && *q;) {
    while (*q == ',' || *q == ' ') q++;
    const char *e = q;
    while (*e && *e != ',' && *e != ' ') e++;
    bool found = e == q;
    for (size_t i = 0; i < p->n_skills && !found; i++)
      found = strlen(p->skills[i]) == (size_t)(e - q) && !strncmp(p->skills[i], q, (size_t)(e - q));
    if (!found)
      st = skl_error_set(err, SKL_ERR_INVALID, "skills: '%.*s' has no train records in %s (it has: %s)",
                         (int)(e - q), q, mpath, have.data ? have.data : "none");
    q = e;
  }
  if (!st && p->n_skills < 2)
    st = skl_error_set(err, SKL_ERR_INVALID,
                       "ablation needs at least 2 skills with train records; %s has %zu (%s)", mpath, p->n_skills,
                       have.data ? have.data : "none");
  size_t n_runs = 1 + p->n_skills * (single_skill ? 2 : 1);
  if (!st && !(p->runs = calloc(n_runs, sizeof *p->runs))) st = NOMEM(err);
  if (!st) st = add_run(p, EVAL_ABLATE_FULL, 0, err);
  for (size_t i = 0; !st && i < p->n_skills; i++) st = add_run(p, EVAL_ABLATE_MINUS, i, err);
  for (size_t i = 0; !st && single_skill && i < p->n_skills; i++) st = add_run(p, EVAL_ABLATE_ONLY, i, err);
  skl_buf_free(&have);
  json_decref(man);
  free(mpath);
  if (st) eval_ablate_plan_free(p);
  return st;
}

char *eval_ablate_path(const char *out, const eval_ablate_run *r, const char *sub) {
  size_t n = strlen(out) + strlen(r->name) + strlen(sub) + 16;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/runs/%s/%s", out, r->name, sub);
  return s;
}

/* ---- report --------------------------------------------------------------------- */

typedef struct {
  size_t R, S, B;
  char **skills, **bench; /* from the full run's summary */
  double *sk;             /* [R][S] probe scores (percent) */
  double *bn;             /* [R][B] benchmark scores */
} scores;

static void scores_free(scores *s) {
  for (size_t i = 0; i < s->S; i++) free(s->skills[i]);
  for (size_t i = 0; i < s->B; i++) free(s->bench[i]);
  free(s->skills); free(s->bench); free(s->sk); free(s->bn);
  memset(s, 0, sizeof *s);
}

static skl_status read_scores(const eval_ablate_plan *p, const char *out, scores *sc, skl_error *err) {
  memset(sc, 0, sizeof *sc);
  sc->R = p->n_runs;
  skl_status st = SKL_OK;
  for (size_t r = 0; r < p->n_runs && !st; r++) {
    char *dir = eval_ablate_path(out, &p->runs[r], "eval/summary.json");
    if (!dir) return NOMEM(err);
    json_error_t je;
    json_t *o = skl_fs_exists(dir) ? json_load_file(dir, 0, &je) : NULL;
    json_t *sk = json_object_get(o, "skills"), *bn = json_object_get(o, "benchmarks");
    if (!o || !json_is_object(sk) || !json_is_object(bn)) {
      st = skl_error_set(err, SKL_ERR_NOTFOUND,
                         "%s: %s; the run '%s' has not been evaluated with both probes and benchmarks (rerun "
                         "skillrl ablate to finish it)", dir, o ? "no skills/benchmarks" : "missing or unreadable",
                         p->runs[r].name);
    } else if (r == 0) {
      sc->S = json_object_size(sk);
      sc->B = json_object_size(bn);
      sc->skills = calloc(sc->S + 1, sizeof *sc->skills);
      sc->bench = calloc(sc->B + 1, sizeof *sc->bench);
      sc->sk = calloc(sc->R * (sc->S + 1), sizeof *sc->sk);
      sc->bn = calloc(sc->R * (sc->B + 1), sizeof *sc->bn);
      if (!sc->skills || !sc->bench || !sc->sk || !sc->bn) st = NOMEM(err);
      size_t i = 0;
      const char *k;
      json_t *v;
      json_object_foreach(sk, k, v) if (!st && !(sc->skills[i++] = strdup(k))) st = NOMEM(err);
      i = 0;
      json_object_foreach(bn, k, v) if (!st && !(sc->bench[i++] = strdup(k))) st = NOMEM(err);
    }
    for (size_t i = 0; !st && i < sc->S; i++) {
      json_t *v = json_object_get(sk, sc->skills[i]);
      if (!json_is_number(v))
        st = skl_error_set(err, SKL_ERR_INVALID, "%s: no probe score for skill '%s' (the full run has it); evaluate "
                           "every run with the same eval config", dir, sc->skills[i]);
      else sc->sk[r * sc->S + i] = json_number_value(v);
    }
    for (size_t i = 0; !st && i < sc->B; i++) {
      json_t *v = json_object_get(bn, sc->bench[i]);
      if (!json_is_number(v))
        st = skl_error_set(err, SKL_ERR_INVALID, "%s: no score for benchmark '%s' (the full run has it)", dir,
                           sc->bench[i]);
      else sc->bn[r * sc->B + i] = json_number_value(v);
    }
    json_decref(o);
    free(dir);
  }
  if (st) scores_free(sc);
  return st;
}

static double mean(const double *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return n ? s / (double)n : NAN;
}

skl_status eval_ablate_report(const eval_ablate_plan *p, const char *out, bool plot, skl_buf *md_out,
                              skl_error *err) {
  scores sc;
  skl_status st = read_scores(p, out, &sc, err);
  if (st) return st;
  size_t R = sc.R, S = sc.S, B = sc.B;
  skl_buf md = {0};
  int bad = skl_buf_printf(&md,
                           "# Skill ablation\n\n%zu runs from one base model, same seed and training budget: the "
                           "full mixture, one run leaving out each skill%s. Scores in percent.\n\n"
                           "## Benchmarks and probes per run\n\n| run | trained on |",
                           R, p->n_runs > 1 + p->n_skills ? ", one run per single skill" : "");
  for (size_t b = 0; b < B; b++) bad |= skl_buf_printf(&md, " %s |", sc.bench[b]);
  bad |= skl_buf_puts(&md, " benchmark mean |");
  for (size_t s = 0; s < S; s++) bad |= skl_buf_printf(&md, " probe %s |", sc.skills[s]);
  bad |= skl_buf_puts(&md, " probe mean |\n|---|---|");
  for (size_t c = 0; c < B + S + 2; c++) bad |= skl_buf_puts(&md, "--:|");
  bad |= skl_buf_puts(&md, "\n");
  for (size_t r = 0; r < R; r++) {
    bad |= skl_buf_printf(&md, "| %s | %s |", p->runs[r].name, p->runs[r].skills);
    for (size_t b = 0; b < B; b++) bad |= skl_buf_printf(&md, " %.2f |", sc.bn[r * B + b]);
    bad |= skl_buf_printf(&md, " %.2f |", mean(sc.bn + r * B, B));
    for (size_t s = 0; s < S; s++) bad |= skl_buf_printf(&md, " %.2f |", sc.sk[r * S + s]);
    bad |= skl_buf_printf(&md, " %.2f |\n", mean(sc.sk + r * S, S));
  }
  /* change vs the full mixture for each leave-one-out run: [n_minus][S+1], [n_minus][B+1] */
  size_t M = 0;
  for (size_t r = 0; r < R; r++) M += p->runs[r].kind == EVAL_ABLATE_MINUS;
  double *dp = calloc(M * (S + 1) + 1, sizeof *dp), *db = calloc(M * (B + 1) + 1, sizeof *db);
  const char **rows = calloc(M + 1, sizeof *rows), **pc = calloc(S + 2, sizeof *pc), **bc = calloc(B + 2, sizeof *bc);
  if (!dp || !db || !rows || !pc || !bc) bad = 1;
  double maxabs = 1;
  size_t m = 0;
  for (size_t r = 0; !bad && r < R; r++) {
    if (p->runs[r].kind != EVAL_ABLATE_MINUS) continue;
    rows[m] = p->runs[r].skill;
    for (size_t s = 0; s < S; s++) dp[m * (S + 1) + s] = sc.sk[r * S + s] - sc.sk[s];
    dp[m * (S + 1) + S] = mean(sc.sk + r * S, S) - mean(sc.sk, S);
    for (size_t b = 0; b < B; b++) db[m * (B + 1) + b] = sc.bn[r * B + b] - sc.bn[b];
    db[m * (B + 1) + B] = mean(sc.bn + r * B, B) - mean(sc.bn, B);
    for (size_t s = 0; s <= S; s++) maxabs = fmax(maxabs, fabs(dp[m * (S + 1) + s]));
    m++;
  }
  if (!bad) {
    for (size_t s = 0; s < S; s++) pc[s] = sc.skills[s];
    pc[S] = "probe mean";
    for (size_t b = 0; b < B; b++) bc[b] = sc.bench[b];
    bc[B] = "benchmark mean";
    bad |= skl_buf_puts(&md, "\n## Change when a skill is left out (points vs full)\n\n| removed skill |");
    for (size_t b = 0; b <= B; b++) bad |= skl_buf_printf(&md, " %s |", bc[b]);
    for (size_t s = 0; s <= S; s++) bad |= skl_buf_printf(&md, " probe %s |", s < S ? pc[s] : "mean");
    bad |= skl_buf_puts(&md, "\n|---|");
    for (size_t c = 0; c < B + S + 2; c++) bad |= skl_buf_puts(&md, "--:|");
    bad |= skl_buf_puts(&md, "\n");
    for (size_t i = 0; i < M; i++) {
      bad |= skl_buf_printf(&md, "| %s |", rows[i]);
      for (size_t b = 0; b <= B; b++) bad |= skl_buf_printf(&md, " %+.2f |", db[i * (B + 1) + b]);
      for (size_t s = 0; s <= S; s++) bad |= skl_buf_printf(&md, " %+.2f |", dp[i * (S + 1) + s]);
      bad |= skl_buf_puts(&md, "\n");
    }
  }
  char *f_heat = skl_path_join(out, "probe_change"), *f_bar = skl_path_join(out, "bench_change");
  skl_status plot_st = SKL_OK;
  skl_error plot_err = {0};
  if (!bad && plot && f_heat && f_bar && M) {
    plot_st = eval_plot_heatmap(dp, M, S + 1, rows, pc, "Probe change (points) per removed skill", "change",
                                -maxabs, maxabs, f_heat, &plot_err);
    if (!plot_st)
      plot_st = eval_plot_bars(db, M, B + 1, rows, bc, "Benchmark change per removed skill", "points vs full",
                               f_bar, &plot_err);
    if (!plot_st)
      bad |= skl_buf_puts(&md, "\n![probe change per removed skill](probe_change.png)\n\n"
                               "![benchmark change per removed skill](bench_change.png)\n");
    else bad |= skl_buf_printf(&md, "\n(plots skipped: %s)\n", plot_err.msg);
  }
  char *f_md = skl_path_join(out, "report.md");
  if (bad || !f_md || !f_heat || !f_bar) st = NOMEM(err);
  if (!st) st = skl_fs_write_atomic(f_md, md.data, md.len, err);
  if (!st) { /* ablation.json: the numbers behind the report */
    json_t *o = json_object(), *runs = json_array();
    for (size_t r = 0; o && runs && r < R; r++) {
      json_t *ro = json_pack("{s:s, s:s, s:{}, s:{}}", "name", p->runs[r].name, "skills", p->runs[r].skills, "probes",
                             "benchmarks");
      for (size_t s = 0; ro && s < S; s++)
        json_object_set_new(json_object_get(ro, "probes"), sc.skills[s], json_real(sc.sk[r * S + s]));
      for (size_t b = 0; ro && b < B; b++)
        json_object_set_new(json_object_get(ro, "benchmarks"), sc.bench[b], json_real(sc.bn[r * B + b]));
      json_array_append_new(runs, ro);
    }
    json_object_set_new(o, "format", json_string("skillrl.ablation"));
    json_object_set_new(o, "runs", runs);
    char *txt = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    char *f_js = skl_path_join(out, "ablation.json");
    st = txt && f_js ? skl_fs_write_atomic(f_js, txt, strlen(txt), err) : NOMEM(err);
    free(txt);
    free(f_js);
    json_decref(o);
  }
  if (!st && plot_st) { *err = plot_err; st = plot_st; }
  if (md_out && md.data) skl_buf_puts(md_out, md.data);
  free(f_md); free(f_heat); free(f_bar);
  free(dp); free(db); free(rows); free(pc); free(bc);
  skl_buf_free(&md);
  scores_free(&sc);
  return st;
}
