/* skillrl ablate: the leave-one-skill-out driver — for each run of the plan
 * (eval/ablate.h) train with rl_train_run (the code path of `skillrl train`)
 * and evaluate with eval_run, keeping finished runs, then write the report.
 * Not the plan or the report (eval/ablate.c), not the trainer (rl/). */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/fs.h"
#include "eval/ablate.h"
#include "eval/run.h"
#include "rl/config.h"
#include "rl/trainer.h"
#include "sys/sys.h"

static volatile sig_atomic_t g_stop;
static volatile int g_stop_eval;
static void on_signal(int sig) { (void)sig; g_stop = 1; g_stop_eval = 1; }

static bool g_quiet;
static void train_progress(const rl_progress *p, void *user) {
  if (g_quiet) return;
  fprintf(stderr, "  [%s] %s step %lld/%lld  %.0fs\n", (const char *)user, p->phase, (long long)p->step,
          (long long)p->total, p->seconds);
}
static void eval_progress(const char *line, void *user) {
  if (!g_quiet) fprintf(stderr, "  [%s] %s\n", (const char *)user, line);
}

/* Launched by mpirun with more than one rank: rank from the launcher's env. */
static int mpi_rank(int *size) {
  const char *s = getenv("OMPI_COMM_WORLD_SIZE"), *r = getenv("OMPI_COMM_WORLD_RANK");
  if (!s) { s = getenv("PMI_SIZE"); r = getenv("PMI_RANK"); }
  *size = s ? atoi(s) : 1;
  return r ? atoi(r) : 0;
}

static bool eval_complete(const char *eval_dir) {
  char *p = skl_path_join(eval_dir, "stats.json");
  char *text = NULL;
  size_t n = 0;
  bool ok = p && !skl_fs_read_all(p, &text, &n, NULL) && strstr(text, "\"complete\": true");
  free(text);
  free(p);
  return ok;
}

/* argv-style override list: the user's, then ours (later ones win). */
static char **overrides(const skl_cfg_strs *user, char **extra, int n_extra, int *n) {
  char **v = calloc((size_t)(user->n + n_extra + 1), sizeof *v);
  if (!v) return NULL;
  *n = 0;
  for (int i = 0; i < user->n; i++) v[(*n)++] = user->v[i];
  for (int i = 0; i < n_extra; i++) v[(*n)++] = extra[i];
  return v;
}

static int train_one(const eval_ablate_cfg *ac, const char *base, const eval_ablate_run *r, const char *run_dir,
                     skl_error *err) {
  char o_model[4200], o_out[4200], o_skills[4200];
  snprintf(o_model, sizeof o_model, "model=%s", base);
  snprintf(o_out, sizeof o_out, "out=%s", run_dir);
  snprintf(o_skills, sizeof o_skills, "skills=%s", r->skills);
  char *extra[3] = {o_model, o_out, o_skills};
  int n = 0;
  char **ov = overrides(&ac->train_overrides, extra, 3, &n);
  if (!ov) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  rl_train_cfg tc;
  skl_status st = skl_cfg_load(rl_train_schema(), &tc, ac->train_config, ov, n, err);
  free(ov);
  if (st) return st;
  char *ckpt = skl_path_join(run_dir, "ckpt");
  bool resume = ckpt && skl_fs_is_dir(ckpt);
  free(ckpt);
  rl_session_opts so = {.cfg = &tc, .resume = resume, .stop = &g_stop, .on_progress = train_progress,
                        .user = (void *)r->name};
  st = rl_train_run(&so, err);
  if (st == SKL_ERR_NOTFOUND && resume) { /* a ckpt folder without a checkpoint yet: start over */
    so.resume = false;
    st = rl_train_run(&so, err);
  }
  skl_cfg_free(rl_train_schema(), &tc);
  return st;
}

static int eval_one(const eval_ablate_cfg *ac, const eval_ablate_run *r, const char *model, const char *out,
                    skl_error *err) {
  eval_cfg ec;
  skl_status st = skl_cfg_load(eval_cfg_schema(), &ec, ac->eval_config, ac->eval_overrides.v, ac->eval_overrides.n,
                               err);
  if (st) return st;
  if (!ec.probes || ec.benchmarks.n == 0) {
    skl_cfg_free(eval_cfg_schema(), &ec);
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s: an ablation needs both probes and benchmarks in the eval config (the report compares "
                         "them per removed skill)", ac->eval_config);
  }
  eval_run_opts o = {.cfg = &ec, .model_dir = model, .out_dir = out, .stop = &g_stop_eval,
                     .on_progress = eval_progress, .user = (void *)r->name};
  eval_run_stats s;
  st = eval_run(&o, &s, err);
  skl_cfg_free(eval_cfg_schema(), &ec);
  return st;
}

int skl_cmd_ablate(int argc, char **argv) {
  const char *cfg_path = NULL;
  bool no_plot = false, quiet = false;
  int64_t max_runs = 0, threads = -1;
  const skl_arg_opt opts[] = {
      {"config", 'c', SKL_ARG_STR, &cfg_path, "FILE", "ablation config (kind: ablate), e.g. configs/ablate/tiny.yaml"},
      {"max-runs", 0, SKL_ARG_INT, &max_runs, "N", "train at most N runs this time, then stop (rerun to continue)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "compute threads"},
      {"no-plot", 0, SKL_ARG_FLAG, &no_plot, NULL, "skip the gnuplot PNGs"},
      {"quiet", 'q', SKL_ARG_FLAG, &quiet, NULL, "no progress lines"},
  };
  skl_buf keys = {0};
  skl_cfg_help(eval_ablate_schema(), &keys);
  const skl_arg_spec spec = {
      .prog = "skillrl ablate",
      .usage = "-c CONFIG [--max-runs N] [key=value ...]",
      .description =
          "Leave-one-skill-out ablation from one base model and one train config: the full-mixture run, one run\n"
          "without each skill (and with single_skill: true, one run per single skill), each trained like skillrl\n"
          "train with the same seed and budget and evaluated with the same eval config. Finished runs are kept:\n"
          "rerun the same command to resume. Writes OUT/report.md, OUT/ablation.json, OUT/probe_change.png\n"
          "(heatmap) and OUT/bench_change.png (bars). Runs under mpirun too (every rank trains each run; rank 0\n"
          "evaluates, within dist.timeout).",
      .opts = opts,
      .nopts = (int)(sizeof opts / sizeof opts[0]),
      .min_pos = 0,
      .max_pos = -1,
      .epilog = keys.data,
  };
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  skl_buf_free(&keys);
  if (rc) return rc == 1 ? 0 : 2;
  if (!cfg_path) {
    fprintf(stderr, "skillrl ablate: -c CONFIG is required (e.g. configs/ablate/tiny.yaml)\n");
    return 2;
  }
  g_quiet = quiet;
  eval_ablate_cfg ac;
  skl_error err = {0};
  if (skl_cfg_load(eval_ablate_schema(), &ac, cfg_path, argv + 1, npos, &err)) {
    fprintf(stderr, "skillrl ablate: %s\n", err.msg);
    return 2;
  }
  if (threads > 0) { omp_set_num_threads((int)threads); skl_blas_set_threads((int)threads); }
  int ret = 0;
  eval_ablate_plan plan = {0};
  rl_train_cfg tc;
  char *base = NULL;
  /* the base model and data from the train config (with the user's overrides) */
  int n_ov = 0;
  char **ov = overrides(&ac.train_overrides, NULL, 0, &n_ov);
  if (!ov || skl_cfg_load(rl_train_schema(), &tc, ac.train_config, ov, n_ov, &err)) {
    free(ov);
    ret = skl_cli_fail("ablate", ov ? err.msg : "out of memory");
    skl_cfg_free(eval_ablate_schema(), &ac);
    return ret;
  }
  free(ov);
  base = strdup(ac.model ? ac.model : tc.model ? tc.model : "");
  if (!base || !*base) { ret = skl_cli_fail("ablate", "no base model: set model in the ablate or train config"); goto done; }
  if (!tc.data) { ret = skl_cli_fail("ablate", "the train config has no data folder"); goto done; }
  if (eval_ablate_plan_make(tc.data, ac.skills, ac.single_skill, &plan, &err)) {
    ret = skl_cli_fail("ablate", err.msg);
    goto done;
  }
  int size = 1, rank = mpi_rank(&size);
  (void)size;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int64_t trained = 0;
  size_t finished = 0;
  for (size_t i = 0; i < plan.n_runs && !ret && !g_stop; i++) {
    const eval_ablate_run *r = &plan.runs[i];
    char *tdir = eval_ablate_path(ac.out, r, "train"), *fdir = eval_ablate_path(ac.out, r, "train/final");
    char *edir = eval_ablate_path(ac.out, r, "eval"), *fcfg = fdir ? skl_path_join(fdir, "config.json") : NULL;
    if (!tdir || !fdir || !edir || !fcfg) { ret = skl_cli_fail("ablate", "out of memory"); }
    bool trained_before = !ret && skl_fs_exists(fcfg);
    if (!ret && !trained_before) {
      if (max_runs > 0 && trained >= max_runs) {
        free(tdir); free(fdir); free(edir); free(fcfg);
        break;
      }
      if (!quiet && rank == 0) fprintf(stderr, "skillrl ablate: training %s on %s\n", r->name, r->skills);
      if (train_one(&ac, base, r, tdir, &err)) ret = skl_cli_fail("ablate", err.msg);
      else if (g_stop) fprintf(stderr, "skillrl ablate: stopped during %s; rerun to resume\n", r->name);
      trained++;
    }
    /* evaluation: rank 0 only (the others have nothing to do) */
    if (!ret && !g_stop && rank == 0 && skl_fs_exists(fcfg) && !eval_complete(edir)) {
      if (!quiet) fprintf(stderr, "skillrl ablate: evaluating %s\n", r->name);
      if (eval_one(&ac, r, fdir, edir, &err)) ret = skl_cli_fail("ablate", err.msg);
    }
    if (!ret && skl_fs_exists(fcfg) && eval_complete(edir)) finished++;
    free(tdir); free(fdir); free(edir); free(fcfg);
  }
  if (!ret && rank == 0) {
    if (finished < plan.n_runs) {
      fprintf(stderr, "skillrl ablate: %zu of %zu runs finished; rerun the same command to continue\n", finished,
              plan.n_runs);
    } else {
      skl_buf md = {0};
      skl_status st = eval_ablate_report(&plan, ac.out, !no_plot, &md, &err);
      if (md.data) fputs(md.data, stdout);
      skl_buf_free(&md);
      if (st == SKL_ERR_UNSUPPORTED) fprintf(stderr, "skillrl ablate: plots skipped: %s\n", err.msg);
      else if (st) ret = skl_cli_fail("ablate", err.msg);
      if (!ret) printf("\nreport: %s/report.md\n", ac.out);
    }
  }
done:
  free(base);
  eval_ablate_plan_free(&plan);
  skl_cfg_free(rl_train_schema(), &tc);
  skl_cfg_free(eval_ablate_schema(), &ac);
  return ret;
}
