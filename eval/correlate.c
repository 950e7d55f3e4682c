/* eval correlate: summaries in, Spearman matrix out (markdown, JSON, gnuplot
 * heatmap). Not the statistics (stats.c) and not the probe runner. */
#include "eval/correlate.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "sys/plot.h"
#include "eval/stats.h"


#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

void eval_correlation_free(eval_correlation *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_models; i++) {
    if (c->models) free(c->models[i]);
    if (c->dirs) free(c->dirs[i]);
  }
  for (size_t i = 0; i < c->n_skills; i++) if (c->skills) free(c->skills[i]);
  for (size_t i = 0; i < c->n_bench; i++) if (c->bench) free(c->bench[i]);
  free(c->models); free(c->dirs); free(c->skills); free(c->bench);
  free(c->skill_scores); free(c->bench_scores); free(c->rho); free(c->p);
  memset(c, 0, sizeof *c);
}

/* Names of a {name: number} object, in order. */
static skl_status object_keys(json_t *o, char ***keys, size_t *n) {
  *n = json_object_size(o);
  *keys = calloc(*n + 1, sizeof **keys);
  if (!*keys) return SKL_ERR_NOMEM;
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!((*keys)[i++] = strdup(k))) return SKL_ERR_NOMEM;
  }
  return SKL_OK;
}

static const char *hash_of(json_t *root, const char *key) {
  json_t *ps = json_object_get(root, "probe_set");
  json_t *v = json_is_object(ps) ? json_object_get(ps, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fill row m of scores from obj[names]; checks types and the name set. */
static skl_status read_scores(json_t *obj, const char *what, const char *file, char **names, size_t n, double *row,
                              const char *first_file, skl_error *err) {
  if (json_object_size(obj) != n) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
      bool known = false;
      for (size_t i = 0; i < n && !known; i++) known = !strcmp(names[i], k);
      if (!known)
        return skl_error_set(err, SKL_ERR_INVALID, "%s: %s '%s' is not in %s; every summary must list the same %s",
                             file, what, k, first_file, what);
    }
  }
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_object_get(obj, names[i]);
    if (!v)
      return skl_error_set(err, SKL_ERR_INVALID, "%s: %s '%s' is missing (it is in %s); every summary must list the same %s",
                           file, what, names[i], first_file, what);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
      return skl_error_set(err, SKL_ERR_INVALID, "%s: %s '%s' must be a finite number (a percentage)", file, what,
                           names[i]);
    row[i] = json_number_value(v);
    sum += row[i];
  }
  row[n] = n ? sum / (double)n : NAN;
  return SKL_OK;
}

static skl_status scores_object(const eval_named_score *v, size_t n, const char *what, json_t **out,
                                skl_error *err) {
  *out = NULL;
  if (n == 0) return skl_error_set(err, SKL_ERR_INVALID, "summary needs at least one %s score", what);
  json_t *o = json_object();
  if (!o) return NOMEM(err);
  for (size_t i = 0; i < n; i++) {
    if (!v[i].name || !isfinite(v[i].score)) {
      json_decref(o);
      return skl_error_set(err, SKL_ERR_INVALID, "%s score %zu ('%s') must have a name and a finite value", what, i,
                           v[i].name ? v[i].name : "(null)");
    }
    if (json_object_get(o, v[i].name)) {
      json_decref(o);
      return skl_error_set(err, SKL_ERR_INVALID, "%s '%s' appears twice", what, v[i].name);
    }
    if (json_object_set_new(o, v[i].name, json_real(v[i].score))) { json_decref(o); return NOMEM(err); }
  }
  *out = o;
  return SKL_OK;
}

/* json_dumps plus a newline, written atomically. */
static skl_status write_json(const char *path, json_t *root, skl_error *err) {
  char *text = json_dumps(root, JSON_INDENT(2));
  if (!text) return NOMEM(err);
  size_t len = strlen(text);
  char *withnl = realloc(text, len + 2);
  if (!withnl) { free(text); return NOMEM(err); }
  withnl[len] = '\n';
  withnl[len + 1] = '\0';
  skl_status st = skl_fs_write_atomic(path, withnl, len + 1, err);
  free(withnl);
  return st;
}

skl_status eval_summary_write(const char *path, const char *model, const char *dataset_hash,
                              const char *tokenizer_hash, const eval_named_score *skills, size_t n_skills,
                              const eval_named_score *bench, size_t n_bench, skl_error *err) {
  json_t *sk, *be;
  skl_status st = scores_object(skills, n_skills, "skill", &sk, err);
  if (st) return st;
  st = scores_object(bench, n_bench, "benchmark", &be, err);
  if (st) { json_decref(sk); return st; }
  json_t *root = json_pack("{s:s, s:i, s:s}", "format", "skillrl.eval.summary", "version", 1, "model", model ? model : "");
  if (!root) { json_decref(sk); json_decref(be); return NOMEM(err); }
  if (dataset_hash || tokenizer_hash) {
    json_t *ps = json_object();
    if (dataset_hash) json_object_set_new(ps, "dataset_hash", json_string(dataset_hash));
    if (tokenizer_hash) json_object_set_new(ps, "tokenizer_hash", json_string(tokenizer_hash));
    json_object_set_new(root, "probe_set", ps);
  }
  json_object_set_new(root, "skills", sk);
  json_object_set_new(root, "benchmarks", be);
  st = write_json(path, root, err);
  json_decref(root);
  return st;
}

skl_status eval_correlate_dirs(const char *const *dirs, size_t n, eval_correlation *c, skl_error *err) {
  memset(c, 0, sizeof *c);
  if (n < 3)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "need at least 3 result folders to rank models, got %zu (Spearman's rho on fewer is "
                         "undefined or meaningless)",
                         n);
  json_t **roots = calloc(n, sizeof *roots);
  char **files = calloc(n, sizeof *files);
  c->models = calloc(n, sizeof *c->models);
  c->dirs = calloc(n, sizeof *c->dirs);
  skl_status st = SKL_OK;
  if (!roots || !files || !c->models || !c->dirs) { st = NOMEM(err); goto done; }
  c->n_models = n;
  for (size_t m = 0; m < n; m++) {
    if (!(c->dirs[m] = strdup(dirs[m])) || !(files[m] = skl_path_join(dirs[m], "summary.json"))) { st = NOMEM(err); goto done; }
    if (!skl_fs_exists(files[m])) {
      st = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: not found; each result folder needs a summary.json (see "
                         "'skillrl eval correlate --help' for its fields)", files[m]);
      goto done;
    }
    json_error_t je;
    roots[m] = json_load_file(files[m], JSON_REJECT_DUPLICATES, &je);
    if (!roots[m]) {
      st = skl_error_set(err, SKL_ERR_PARSE, "%s:%d: invalid JSON: %s (column %d)", files[m], je.line, je.text, je.column);
      goto done;
    }
    json_t *r = roots[m];
    json_t *fmt = json_object_get(r, "format");
    if (!json_is_object(r) || !json_is_string(fmt) || strcmp(json_string_value(fmt), "skillrl.eval.summary")) {
      st = skl_error_set(err, SKL_ERR_INVALID, "%s: not an eval summary (field \"format\" must be \"skillrl.eval.summary\")",
                         files[m]);
      goto done;
    }
    json_t *ver = json_object_get(r, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
      st = skl_error_set(err, SKL_ERR_UNSUPPORTED, "%s: summary version must be 1 (this skillrl reads version 1)", files[m]);
      goto done;
    }
    json_t *model = json_object_get(r, "model");
    if (!json_is_string(model)) {
      st = skl_error_set(err, SKL_ERR_INVALID, "%s: missing string field \"model\"", files[m]);
      goto done;
    }
    if (!(c->models[m] = strdup(json_string_value(model)))) { st = NOMEM(err); goto done; }
    static const char *const sections[] = {"skills", "benchmarks"};
    for (int s = 0; s < 2; s++) {
      json_t *o = json_object_get(r, sections[s]);
      if (!json_is_object(o) || json_object_size(o) == 0) {
        st = skl_error_set(err, SKL_ERR_INVALID, "%s: field \"%s\" must be a non-empty object {name: score}", files[m],
                           sections[s]);
        goto done;
      }
    }
    static const char *const hashes[] = {"dataset_hash", "tokenizer_hash"};
    for (int h = 0; h < 2 && m > 0; h++) {
      const char *a = hash_of(roots[0], hashes[h]), *b = hash_of(r, hashes[h]);
      if ((a == NULL) != (b == NULL)) {
        st = skl_error_set(err, SKL_ERR_INVALID,
                           "%s has probe_set.%s but %s does not: cannot tell whether both models were probed on the "
                           "same dataset; add it to every summary (from the probe dataset's manifest.json)",
                           a ? files[0] : files[m], hashes[h], a ? files[m] : files[0]);
        goto done;
      }
      if (a && strcmp(a, b)) {
        st = skl_error_set(err, SKL_ERR_INVALID,
                           "probe_set.%s differs: %s has '%s', %s has '%s'; correlate only models probed on the same "
                           "skill dataset (same dataset and tokenizer)",
                           hashes[h], files[0], a, files[m], b);
        goto done;
      }
    }
  }
  if (object_keys(json_object_get(roots[0], "skills"), &c->skills, &c->n_skills) ||
      object_keys(json_object_get(roots[0], "benchmarks"), &c->bench, &c->n_bench)) {
    st = NOMEM(err);
    goto done;
  }
  for (size_t i = 0; i < c->n_skills; i++)
    if (!strcmp(c->skills[i], "skill mean")) {
      st = skl_error_set(err, SKL_ERR_INVALID, "%s: 'skill mean' is a reserved name (the mean over skills)", files[0]);
      goto done;
    }
  for (size_t i = 0; i < c->n_bench; i++)
    if (!strcmp(c->bench[i], "benchmark mean")) {
      st = skl_error_set(err, SKL_ERR_INVALID, "%s: 'benchmark mean' is a reserved name (the mean over benchmarks)",
                         files[0]);
      goto done;
    }
  size_t S = c->n_skills, B = c->n_bench;
  c->skill_scores = calloc(n * (S + 1), sizeof *c->skill_scores);
  c->bench_scores = calloc(n * (B + 1), sizeof *c->bench_scores);
  c->rho = calloc((S + 1) * (B + 1), sizeof *c->rho);
  c->p = calloc((S + 1) * (B + 1), sizeof *c->p);
  double *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
  if (!c->skill_scores || !c->bench_scores || !c->rho || !c->p || !x || !y) {
    free(x); free(y);
    st = NOMEM(err);
    goto done;
  }
  for (size_t m = 0; m < n && !st; m++) {
    st = read_scores(json_object_get(roots[m], "skills"), "skill", files[m], c->skills, S, c->skill_scores + m * (S + 1),
                     files[0], err);
    if (!st)
      st = read_scores(json_object_get(roots[m], "benchmarks"), "benchmark", files[m], c->bench, B,
                       c->bench_scores + m * (B + 1), files[0], err);
  }
  for (size_t s = 0; s <= S && !st; s++)
    for (size_t b = 0; b <= B && !st; b++) {
      for (size_t m = 0; m < n; m++) {
        x[m] = c->skill_scores[m * (S + 1) + s];
        y[m] = c->bench_scores[m * (B + 1) + b];
      }
      st = eval_spearman(x, y, n, &c->rho[s * (B + 1) + b], &c->p[s * (B + 1) + b], err);
    }
  free(x);
  free(y);
done:
  if (roots)
    for (size_t m = 0; m < n; m++) json_decref(roots[m]);
  if (files)
    for (size_t m = 0; m < n; m++) free(files[m]);
  free(roots);
  free(files);
  if (st) eval_correlation_free(c);
  return st;
}

static const char *row_name(const eval_correlation *c, size_t s) { return s < c->n_skills ? c->skills[s] : "skill mean"; }
static const char *col_name(const eval_correlation *c, size_t b) { return b < c->n_bench ? c->bench[b] : "benchmark mean"; }

skl_status eval_correlation_markdown(const eval_correlation *c, skl_buf *out, skl_error *err) {
  size_t S = c->n_skills, B = c->n_bench;
  int bad = skl_buf_printf(out, "Spearman rho (two-sided p) over %zu models\n\n| skill |", c->n_models);
  for (size_t b = 0; b <= B; b++) bad |= skl_buf_printf(out, " %s |", col_name(c, b));
  bad |= skl_buf_puts(out, "\n|---|");
  for (size_t b = 0; b <= B; b++) bad |= skl_buf_puts(out, "---:|");
  bad |= skl_buf_puts(out, "\n");
  for (size_t s = 0; s <= S; s++) {
    bad |= skl_buf_printf(out, "| %s |", row_name(c, s));
    for (size_t b = 0; b <= B; b++) {
      double r = c->rho[s * (B + 1) + b], p = c->p[s * (B + 1) + b];
      if (isnan(r)) bad |= skl_buf_puts(out, " n/a |");
      else bad |= skl_buf_printf(out, " %.3f (%.3g) |", r, p);
    }
    bad |= skl_buf_puts(out, "\n");
  }
  bad |= skl_buf_puts(out, "\nScores (percent)\n\n| model |");
  for (size_t s = 0; s <= S; s++) bad |= skl_buf_printf(out, " %s |", row_name(c, s));
  for (size_t b = 0; b <= B; b++) bad |= skl_buf_printf(out, " %s |", col_name(c, b));
  bad |= skl_buf_puts(out, "\n|---|");
  for (size_t k = 0; k < S + B + 2; k++) bad |= skl_buf_puts(out, "---:|");
  bad |= skl_buf_puts(out, "\n");
  for (size_t m = 0; m < c->n_models; m++) {
    bad |= skl_buf_printf(out, "| %s |", c->models[m]);
    for (size_t s = 0; s <= S; s++) bad |= skl_buf_printf(out, " %.2f |", c->skill_scores[m * (S + 1) + s]);
    for (size_t b = 0; b <= B; b++) bad |= skl_buf_printf(out, " %.2f |", c->bench_scores[m * (B + 1) + b]);
    bad |= skl_buf_puts(out, "\n");
  }
  return bad ? NOMEM(err) : SKL_OK;
}

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

skl_status eval_correlation_write_json(const eval_correlation *c, const char *path, skl_error *err) {
  size_t S = c->n_skills, B = c->n_bench;
  json_t *root = json_object(), *models = json_array(), *skills = json_array(), *bench = json_array();
  json_t *rho = json_object(), *p = json_object();
  if (!root || !models || !skills || !bench || !rho || !p) goto nomem;
  json_object_set_new(root, "format", json_string("skillrl.eval.correlation"));
  json_object_set_new(root, "version", json_integer(1));
  json_object_set_new(root, "method", json_string("spearman, average ranks; p two-sided from t(n-2) as scipy"));
  json_object_set_new(root, "n_models", json_integer((json_int_t)c->n_models));
  for (size_t m = 0; m < c->n_models; m++) json_array_append_new(models, json_string(c->models[m]));
  for (size_t s = 0; s <= S; s++) json_array_append_new(skills, json_string(row_name(c, s)));
  for (size_t b = 0; b <= B; b++) json_array_append_new(bench, json_string(col_name(c, b)));
  for (size_t s = 0; s <= S; s++) {
    json_t *rr = json_object(), *pr = json_object();
    if (!rr || !pr) { json_decref(rr); json_decref(pr); goto nomem; }
    for (size_t b = 0; b <= B; b++) {
      json_object_set_new(rr, col_name(c, b), num_or_null(c->rho[s * (B + 1) + b]));
      json_object_set_new(pr, col_name(c, b), num_or_null(c->p[s * (B + 1) + b]));
    }
    json_object_set_new(rho, row_name(c, s), rr);
    json_object_set_new(p, row_name(c, s), pr);
  }
  json_object_set_new(root, "models", models);
  json_object_set_new(root, "skills", skills);
  json_object_set_new(root, "benchmarks", bench);
  json_object_set_new(root, "rho", rho);
  json_object_set_new(root, "p", p);
  skl_status st = write_json(path, root, err);
  json_decref(root);
  return st;
nomem:
  json_decref(root); json_decref(models); json_decref(skills); json_decref(bench); json_decref(rho); json_decref(p);
  return NOMEM(err);
}

typedef struct {
  size_t rows, cols;
  const char *const *row_names, *const *col_names;
  const char *title, *cblabel;
  double lo, hi;
} heat_ctx;

static int heat_body(skl_buf *gp, const char *f_dat, const void *vc) {
  const heat_ctx *h = vc;
  int bad = skl_buf_puts(gp, "set title ");
  bad |= skl_plot_quote(gp, h->title);
  bad |= skl_buf_printf(gp, "\nunset key\nset view map\nset cbrange [%g:%g]\nset cblabel ", h->lo, h->hi);
  bad |= skl_plot_quote(gp, h->cblabel);
  bad |= skl_buf_printf(gp,
                        "\nset palette defined (%g '#b2182b', %g '#f7f7f7', %g '#2166ac')\n"
                        "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset xtics rotate by 25 right\nset xtics (",
                        h->lo, (h->lo + h->hi) / 2, h->hi, h->cols - 1, h->rows - 1);
  for (size_t b = 0; b < h->cols; b++) {
    bad |= skl_buf_puts(gp, b ? ", " : "");
    bad |= skl_plot_quote(gp, h->col_names[b]);
    bad |= skl_buf_printf(gp, " %zu", b);
  }
  bad |= skl_buf_puts(gp, ")\nset ytics (");
  for (size_t s = 0; s < h->rows; s++) {
    bad |= skl_buf_puts(gp, s ? ", " : "");
    bad |= skl_plot_quote(gp, h->row_names[s]);
    bad |= skl_buf_printf(gp, " %zu", s);
  }
  bad |= skl_buf_puts(gp, ")\nplot ");
  bad |= skl_plot_quote(gp, f_dat);
  bad |= skl_buf_puts(gp, " matrix with image, ");
  bad |= skl_plot_quote(gp, f_dat);
  bad |= skl_buf_puts(gp, " matrix using 1:2:($3 == $3 ? sprintf('%.2f', $3) : 'n/a') with labels\n");
  return bad;
}

skl_status eval_plot_heatmap(const double *m, size_t rows, size_t cols, const char *const *row_names,
                             const char *const *col_names, const char *title, const char *cblabel, double lo,
                             double hi, const char *out_prefix, skl_error *err) {
  if (!rows || !cols) return skl_error_set(err, SKL_ERR_INVALID, "heatmap %s: nothing to plot", out_prefix);
  skl_buf dat = {0};
  int bad = 0;
  for (size_t s = 0; s < rows; s++) { /* one line per row; NaN undefined */
    for (size_t b = 0; b < cols; b++) {
      double r = m[s * cols + b];
      bad |= isnan(r) ? skl_buf_printf(&dat, "%sNaN", b ? " " : "") : skl_buf_printf(&dat, "%s%.6f", b ? " " : "", r);
    }
    bad |= skl_buf_puts(&dat, "\n");
  }
  if (bad) { skl_buf_free(&dat); return NOMEM(err); }
  heat_ctx h = {rows, cols, row_names, col_names, title, cblabel, lo, hi};
  skl_status st = skl_plot_render(out_prefix, &dat, 220 + 110 * (int)cols, 160 + 45 * (int)rows, heat_body, &h, err);
  skl_buf_free(&dat);
  return st;
}

typedef struct {
  size_t groups, series;
  const char *const *series_names;
  const char *title, *ylabel;
} bar_ctx;

static int bar_body(skl_buf *gp, const char *f_dat, const void *vc) {
  const bar_ctx *b = vc;
  int bad = skl_buf_puts(gp, "set title ");
  bad |= skl_plot_quote(gp, b->title);
  bad |= skl_buf_puts(gp, "\nset ylabel ");
  bad |= skl_plot_quote(gp, b->ylabel);
  bad |= skl_buf_puts(gp, "\nset style data histograms\nset style histogram clustered gap 1\n"
                          "set style fill solid 0.8 border -1\nset xtics rotate by 25 right\nset grid ytics\n"
                          "set key outside right top\nset xzeroaxis lt -1\nplot ");
  for (size_t k = 0; k < b->series; k++) {
    bad |= skl_buf_puts(gp, k ? ", '' " : "");
    if (!k) bad |= skl_plot_quote(gp, f_dat);
    bad |= skl_buf_printf(gp, " using %zu:xtic(1) title ", k + 2);
    bad |= skl_plot_quote(gp, b->series_names[k]);
  }
  bad |= skl_buf_puts(gp, "\n");
  return bad;
}

skl_status eval_plot_bars(const double *v, size_t groups, size_t series, const char *const *group_names,
                          const char *const *series_names, const char *title, const char *ylabel,
                          const char *out_prefix, skl_error *err) {
  if (!groups || !series) return skl_error_set(err, SKL_ERR_INVALID, "bar chart %s: nothing to plot", out_prefix);
  skl_buf dat = {0};
  int bad = 0;
  for (size_t g = 0; g < groups; g++) {
    bad |= skl_buf_puts(&dat, "\"");
    for (const char *p = group_names[g]; *p; p++) bad |= skl_buf_printf(&dat, "%c", *p == '"' ? '\'' : *p);
    bad |= skl_buf_puts(&dat, "\"");
    for (size_t k = 0; k < series; k++) {
      double x = v[g * series + k];
      bad |= isnan(x) ? skl_buf_puts(&dat, " NaN") : skl_buf_printf(&dat, " %.6f", x);
    }
    bad |= skl_buf_puts(&dat, "\n");
  }
  if (bad) { skl_buf_free(&dat); return NOMEM(err); }
  bar_ctx b = {groups, series, series_names, title, ylabel};
  skl_status st = skl_plot_render(out_prefix, &dat, 260 + 90 * (int)(groups * series), 480, bar_body, &b, err);
  skl_buf_free(&dat);
  return st;
}

skl_status eval_correlation_plot(const eval_correlation *c, const char *out_prefix, skl_error *err) {
  size_t S = c->n_skills + 1, B = c->n_bench + 1;
  const char **rn = calloc(S, sizeof *rn), **cn = calloc(B, sizeof *cn);
  skl_buf title = {0};
  skl_status st = SKL_OK;
  if (!rn || !cn || skl_buf_printf(&title, "Spearman rho: skill probes vs benchmarks (%zu models)", c->n_models))
    st = NOMEM(err);
  for (size_t s = 0; !st && s < S; s++) rn[s] = row_name(c, s);
  for (size_t b = 0; !st && b < B; b++) cn[b] = col_name(c, b);
  if (!st) st = eval_plot_heatmap(c->rho, S, B, rn, cn, title.data, "rho", -1, 1, out_prefix, err);
  free(rn);
  free(cn);
  skl_buf_free(&title);
  return st;
}
