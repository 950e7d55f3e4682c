/* skillrl sft / skillrl train: supervised warm-up and GRPO, with signals
 * turned into a clean checkpoint-and-exit. Not the loops (rl/sft.c, rl/trainer.c). */
#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/cli_train.h"
#include "rl/config.h"
#include "rl/sft.h"
#include "rl/trainer.h"
#include "sys/sys.h"

static volatile sig_atomic_t g_stop;

/* Under mpirun only rank 0 talks; the rank is known before MPI starts. */
static bool rank_zero(void) {
  const char *r = getenv("OMPI_COMM_WORLD_RANK");
  if (!r) r = getenv("PMI_RANK");
  return !r || atoi(r) == 0;
}
static void on_signal(int sig) { g_stop = sig; } /* nonzero: the signal to report in the exit code */

static void print_progress(const rl_progress *p, void *user) {
  (void)user;
  int tty = isatty(2);
  fprintf(stderr, "%s step %lld/%lld  %.0fs  eta %.0fs  %s\n", p->phase, (long long)p->step, (long long)p->total,
          p->seconds, p->eta_s, tty ? "" : p->line);
  if (tty) fprintf(stderr, "  %s\n", p->line);
}

static void print_note(const char *msg, void *user) {
  (void)user;
  fprintf(stderr, "%s\n", msg);
}

typedef enum { MODE_PRETRAIN, MODE_SFT, MODE_GRPO } train_mode;

static int run(int argc, char **argv, train_mode mode) {
  bool grpo = mode == MODE_GRPO;
  static const char *const phase[] = {"pretrain", "sft", "grpo"};
  const char *cfg_path = NULL;
  bool resume = false, overwrite = false, quiet = false;
  int64_t stop_after = 0, threads = -1;
  skl_arg_opt opts[] = {
      {"config", 'c', SKL_ARG_STR, &cfg_path, "FILE", "train config (YAML, kind: train)"},
      {"resume", 0, SKL_ARG_FLAG, &resume, NULL, "continue from the run's newest checkpoint (bit-exact)"},
      {"overwrite", 0, SKL_ARG_FLAG, &overwrite, NULL, "replace a run already in the folder (its ckpt/ and final/)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "compute threads (overrides the config's threads)"},
      {"stop-after", 0, SKL_ARG_INT, &stop_after, "N", "stop (with a checkpoint) after N steps, as on SIGTERM"},
      {"quiet", 'q', SKL_ARG_FLAG, &quiet, NULL, "no per-step console lines"},
  };
  skl_buf help = {0};
  skl_cfg_help(rl_train_schema(), &help);
  skl_arg_spec spec = {
      .prog = grpo ? "skillrl train" : mode == MODE_SFT ? "skillrl sft" : "skillrl pretrain",
      .usage = "-c CONFIG [--resume | --overwrite] [key.sub=value ...]",
      .description =
          grpo ? "RL with GRPO and DAPO dynamic sampling on a skill dataset. Run under mpirun -np N for "
                 "data parallel training (groups stay whole on one rank).\nWrites RUN/config.yaml, "
                 "RUN/metrics.jsonl, RUN/ckpt/step-N/ and RUN/final/. SIGINT/SIGTERM checkpoint and exit with "
                 "130/143."
          : mode == MODE_SFT
              ? "Supervised warm-up: cross-entropy on the gold answer tokens (prompt masked), samples "
                "packed into rows of sft.seq tokens.\nWrites into RUN = sft.out (default OUT/sft): "
                "RUN/config.yaml, RUN/metrics.jsonl, RUN/ckpt/step-N/ and RUN/final/ (the model to "
                "start RL from: skillrl train -c CONFIG model=RUN/final)."
              : "Pretraining that teaches a fresh model to read: next-token loss on a stream generated on the "
                "fly (no dataset), deterministic from the seed and the same whatever the thread or rank count. "
                "Each row is one of pretrain.mixture's components: induction (spans of random tokens, drawn from "
                "every ordinary token of the vocabulary so that copying works on any, or of genre "
                "text, repeated at random later offsets: content-based copying), recall (entries \"Entry NAME: "
                "its value is SPEC.\" among genre text, then questions answered by quoting the entry, as "
                "sft.target quote answers; a pretrain.recall_random share of them in random tokens instead: entries "
                "\"KEY TEMPLATE VALUE\" among random filler, then some repeated, the keys of a row sharing a prefix "
                "and every entry the template, so the value's first token needs a match on the key some tokens "
                "back, the lookup that previous-token copying cannot do and that forms there first), documents (genre text under \"Document k\" headers, plus "
                "pretrain.corpus). Up to three stages: first only random-token induction rows of pretrain.induction_seq "
                "tokens at a flat learning rate, until the repeat accuracy reaches pretrain.induction_until (the "
                "copying circuit's phase change) or pretrain.induction_steps; then (pretrain.lookup_steps > 0) only "
                "recall rows of pretrain.lookup_seq tokens, still at the flat rate, until the recall accuracy reaches "
                "pretrain.lookup_until (the key-to-value lookup's phase change) or pretrain.lookup_steps; then the "
                "mixture, rows growing "
                "quadratically from pretrain.seq_start to pretrain.seq over pretrain.curriculum of the steps "
                "left, the learning rate on a cosine; pretrain.tokens tokens per step.\nWrites into RUN "
                "= pretrain.out (default OUT/pretrain): RUN/config.yaml, RUN/metrics.jsonl (loss, and per row "
                "kind loss_<kind> and acc_<kind>: argmax accuracy on the repeats, on each quoted value's first token "
                "(the lookup; the entries of a row have distinct first tokens, so no guess from the row's mix passes) and on documents' tokens, where the phase changes show), RUN/curves.png, RUN/ckpt/step-N/ and RUN/final/ (the model SFT starts "
                "from: skillrl sft -c CONFIG model=RUN/final).",
      .opts = opts, .nopts = (int)(sizeof opts / sizeof opts[0]), .min_pos = 0, .max_pos = -1,
      .epilog = help.data};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) { skl_buf_free(&help); return rc == 1 ? 0 : 2; }
  skl_buf_free(&help);
  if (!cfg_path) {
    fprintf(stderr, "%s: -c CONFIG is required (e.g. configs/train/quick.yaml)\n", spec.prog);
    return 2;
  }
  rl_train_cfg cfg;
  skl_error err;
  if (skl_cfg_load(rl_train_schema(), &cfg, cfg_path, argv + 1, npos, &err)) {
    fprintf(stderr, "%s: %s\n", spec.prog, err.msg);
    return 2;
  }
  if (threads >= 0) cfg.threads = (int)threads;
  if (cfg.threads > 0) { omp_set_num_threads(cfg.threads); skl_blas_set_threads(cfg.threads); }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  bool early = false;
  int64_t last = 0;
  rl_session_opts so = {.cfg = &cfg, .resume = resume, .overwrite = overwrite, .stop = &g_stop,
                        .on_progress = quiet ? NULL : print_progress, .stop_after = stop_after,
                        .stopped_early = &early, .last_step = &last, .on_note = print_note};
  skl_status s = grpo ? rl_train_run(&so, &err)
                 : mode == MODE_SFT ? rl_sft_run(&so, &err) : skl_cli_pretrain_run(&so, &err);
  if (!s && rank_zero()) {
    if (early)
      fprintf(stderr, "%s: stopped after step %lld (%s); checkpoint written: continue with --resume\n", spec.prog,
              (long long)last, g_stop ? "signal" : "--stop-after");
    else {
      char *dir = rl_run_dir(&cfg, phase[mode]);
      fprintf(stderr, "%s: done; model in %s/final\n", spec.prog, dir ? dir : "?");
      free(dir);
    }
  }
  skl_cfg_free(rl_train_schema(), &cfg);
  if (s) { fprintf(stderr, "%s: %s\n", spec.prog, err.msg); return 1; }
  /* stopped by SIGINT/SIGTERM with a checkpoint written: the shell's
   * convention 128 + signal (130, 143), so a scheduler sees the stop */
  return early && g_stop ? 128 + (int)g_stop : 0;
}

int skl_cmd_pretrain(int argc, char **argv) { return run(argc, argv, MODE_PRETRAIN); }
int skl_cmd_sft(int argc, char **argv) { return run(argc, argv, MODE_SFT); }
int skl_cmd_train(int argc, char **argv) { return run(argc, argv, MODE_GRPO); }
