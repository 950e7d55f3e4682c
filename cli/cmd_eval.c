/* skillrl eval: `eval -c CONFIG --model DIR` (probes + benchmarks with a
 * model), `eval general` (the held-out general set), `eval score` (outside
 * predictions) and `eval correlate` (skill probes vs benchmarks).
 * Not the metrics or the runner: those live in eval/. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "config/config.h"
#include "eval/correlate.h"
#include "eval/general.h"
#include "eval/run.h"
#include "eval/score.h"
#include "tok/tokenizer.h"

static int cmd_score(int argc, char **argv) {
  const char *data = NULL, *pred = NULL, *metric = NULL, *out = NULL, *task = NULL;
  const skl_arg_opt opts[] = {
      {"data", 'd', SKL_ARG_STR, &data, "FILE", "benchmark file or skill dataset shard (.jsonl or .jsonl.zst)"},
      {"predictions", 'p', SKL_ARG_STR, &pred, "FILE", "predictions JSONL: {\"id\": ID, \"prediction\": TEXT}"},
      {"metric", 'm', SKL_ARG_STR, &metric, "NAME",
       "auto (default), em, f1, ruler, string_match_all, string_match_part, mrcr, choice, babilong, verify"},
      {"task", 0, SKL_ARG_STR, &task, "NAME", "BABILong/RULER task (qa1..qa10, niah_single_1...) when not in the data"},
      {"output", 'o', SKL_ARG_STR, &out, "OUT.jsonl", "write per-sample scores here"},
  };
  const skl_arg_spec spec = {
      .prog = "skillrl eval score",
      .usage = "--data FILE --predictions FILE [--metric NAME] [-o OUT.jsonl]",
      .description =
          "Score predictions made elsewhere (vLLM, an API) with the benchmarks' own metrics and print a markdown\n"
          "summary per group (skill or task): n, score and its standard error, in percent.",
      .opts = opts,
      .nopts = (int)(sizeof opts / sizeof opts[0]),
      .min_pos = 0,
      .max_pos = 0,
      .epilog =
          "Data formats (detected from the first record): skill shard (answer_type -> verify), OpenAI MRCR\n"
          "(random_string_to_prepend -> mrcr), RULER (outputs -> string_match_all, qa tasks string_match_part),\n"
          "LongBench v2 (choice_A + answer letter -> choice), BABILong (target + question -> babilong),\n"
          "LongBench (answers -> f1), plain QA (answer -> em). Sample ids: id, _id or index; else the 0-based\n"
          "record number. Every data id needs exactly one prediction.\n"
          "\n"
          "verify (skill shards) reads the last 'Answer:' line, else the last \\boxed{}, else 'the answer is X',\n"
          "and scores 1 only when it holds exactly one candidate of the answer type: number within 0.005,\n"
          "string after NFKC + case fold, one choice letter, list in order, set in any order. Hedges score 0:\n"
          "the words or/nor/not/no/never/neither/either/except/unless/excluding or n't, the symbols / | != < >\n"
          "(a number may have / left of its last '=': 100/3 = 33.33), a second stand-alone letter in a choice,\n"
          "two different numbers, an empty answer (unless the gold holds the same marker).\n"
          "python/skillrl_reward.py applies the same rules.",
  };
  int rc = skl_args_parse(&spec, argc, argv, NULL);
  if (rc) return rc == 1 ? 0 : 2;
  if (!data || !pred) {
    fprintf(stderr, "skillrl eval score: --data and --predictions are required\nusage: %s %s\n", spec.prog, spec.usage);
    return 2;
  }
  eval_score_opts o = {.data_path = data, .pred_path = pred, .metric = metric, .task = task};
  eval_score_result res;
  skl_error err = {0};
  if (eval_score_files(&o, &res, &err)) return skl_cli_fail("eval score", err.msg);
  skl_buf md = {0};
  if (eval_score_markdown(&res, &md, &err)) {
    eval_score_result_free(&res);
    return skl_cli_fail("eval score", err.msg);
  }
  printf("%s: %zu samples, format %s\n\n%s", data, res.n, res.format, md.data);
  skl_buf_free(&md);
  int ret = 0;
  if (out) {
    if (eval_score_write_samples(&res, out, &err)) ret = skl_cli_fail("eval score", err.msg);
    else printf("\nper-sample scores: %s\n", out);
  }
  eval_score_result_free(&res);
  return ret;
}

static int cmd_correlate(int argc, char **argv) {
  const char *out = "correlation";
  bool no_plot = false;
  const skl_arg_opt opts[] = {
      {"output", 'o', SKL_ARG_STR, &out, "DIR", "folder for correlation.md/.json and the heatmap (default: correlation)"},
      {"no-plot", 0, SKL_ARG_FLAG, &no_plot, NULL, "skip the gnuplot heatmap"},
  };
  const skl_arg_spec spec = {
      .prog = "skillrl eval correlate",
      .usage = "RESULT_DIR RESULT_DIR RESULT_DIR... [-o DIR]",
      .description =
          "Spearman rank correlation (average ranks for ties; two-sided p from Student's t with n-2 degrees of\n"
          "freedom, as scipy.stats.spearmanr) of each skill probe score against each benchmark score across\n"
          "models, plus the skill mean and the benchmark mean. One result folder per model, at least 3.",
      .opts = opts,
      .nopts = (int)(sizeof opts / sizeof opts[0]),
      .min_pos = 1,
      .max_pos = -1,
      .epilog =
          "RESULT_DIR/summary.json (scores in percent):\n"
          "  {\"format\": \"skillrl.eval.summary\", \"version\": 1, \"model\": \"NAME\",\n"
          "   \"probe_set\": {\"dataset_hash\": \"...\", \"tokenizer_hash\": \"...\"},   (optional; must agree)\n"
          "   \"skills\": {\"niah\": 81.5, ...}, \"benchmarks\": {\"ruler\": 70.1, ...}}\n"
          "Writes DIR/correlation.md, DIR/correlation.json and DIR/heatmap.png (gnuplot).",
  };
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  eval_correlation c;
  skl_error err = {0};
  if (eval_correlate_dirs((const char *const *)argv + 1, (size_t)npos, &c, &err))
    return skl_cli_fail("eval correlate", err.msg);
  skl_buf md = {0};
  int ret = 0;
  char *f_md = skl_path_join(out, "correlation.md"), *f_json = skl_path_join(out, "correlation.json");
  char *f_plot = skl_path_join(out, "heatmap");
  if (!f_md || !f_json || !f_plot) { ret = skl_cli_fail("eval correlate", "out of memory"); goto done; }
  if (eval_correlation_markdown(&c, &md, &err) || skl_fs_mkdirs(out, &err) ||
      skl_fs_write_atomic(f_md, md.data, md.len, &err) || eval_correlation_write_json(&c, f_json, &err)) {
    ret = skl_cli_fail("eval correlate", err.msg);
    goto done;
  }
  printf("%s\nwrote %s, %s\n", md.data, f_md, f_json);
  if (!no_plot) {
    if (eval_correlation_plot(&c, f_plot, &err)) ret = skl_cli_fail("eval correlate", err.msg);
    else printf("heatmap: %s.png\n", f_plot);
  }
done:
  free(f_md); free(f_json); free(f_plot);
  skl_buf_free(&md);
  eval_correlation_free(&c);
  return ret;
}


static volatile int g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }
static void print_progress(const char *line, void *user) { (void)user; fprintf(stderr, "%s\n", line); }

static int cmd_run(int argc, char **argv) {
  const char *cfg_path = NULL, *model = NULL, *out = "eval_out";
  int64_t limit = 0;
  bool quiet = false;
  const char *judge = NULL;
  const skl_arg_opt opts[] = {
      {"judge", 0, SKL_ARG_STR, &judge, "CMD|SO", "score free-form answers with a judge: a JSON-lines command, or a "
                                                 "plugin .so (src/judge/judge_plugin.h); same as judge.command/plugin"},
      {"config", 'c', SKL_ARG_STR, &cfg_path, "CONFIG", "eval config (kind: eval), e.g. configs/eval/default.yaml"},
      {"model", 'm', SKL_ARG_STR, &model, "DIR", "model directory (config.json, model.safetensors, tokenizer.json)"},
      {"output", 'o', SKL_ARG_STR, &out, "DIR", "results folder (default eval_out); rerun with the same to resume"},
      {"limit", 0, SKL_ARG_INT, &limit, "N", "stop after N new samples (write the partial summary; rerun resumes)"},
      {"quiet", 'q', SKL_ARG_FLAG, &quiet, NULL, "no progress lines"},
  };
  skl_buf keys = {0};
  skl_cfg_help(eval_cfg_schema(), &keys);
  const skl_arg_spec spec = {
      .prog = "skillrl eval",
      .usage = "-c CONFIG --model DIR [-o OUT_DIR] [key=value ...]",
      .description =
          "Evaluate a model on skill probes (a dataset's held-out split: greedy pass@1, sampled pass@k) and on\n"
          "benchmark files in their published formats (RULER, MRCR, LongBench v2, BABILong, LongBench, generic\n"
          "{context, question, answers}). Writes OUT/results.jsonl (one line per sample), summary.md, summary.json\n"
          "(for eval correlate) and stats.json. An interrupted run resumes from results.jsonl.",
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
  if (!cfg_path || !model) {
    fprintf(stderr, "skillrl eval: -c CONFIG and --model DIR are required (see skillrl eval --help)\n");
    return 2;
  }
  eval_cfg cfg;
  skl_error err = {0};
  if (skl_cfg_load(eval_cfg_schema(), &cfg, cfg_path, argv + 1, npos, &err)) {
    fprintf(stderr, "skillrl eval: %s\n", err.msg);
    return 2;
  }
  if (judge) { /* set directly: a command line need not be valid YAML */
    size_t n = strlen(judge);
    char **slot = n > 3 && !strcmp(judge + n - 3, ".so") ? &cfg.judge_plugin : &cfg.judge_command;
    free(*slot);
    *slot = strdup(judge);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  eval_run_opts o = {.cfg = &cfg, .model_dir = model, .out_dir = out, .limit = limit, .stop = &g_stop,
                     .on_progress = quiet ? NULL : print_progress};
  eval_run_stats st;
  skl_status s = eval_run(&o, &st, &err);
  skl_cfg_free(eval_cfg_schema(), &cfg);
  if (s) return skl_cli_fail("eval", err.msg);
  char *md = skl_path_join(out, "summary.md");
  char *text = NULL;
  size_t len = 0;
  if (md && !skl_fs_read_all(md, &text, &len, NULL)) fputs(text, stdout);
  free(text);
  free(md);
  printf("\n{\"bench\": \"eval\", \"samples\": %zu, \"new\": %zu, \"samples_per_s\": %.3f, \"prefill_s\": %.3f, "
         "\"decode_s\": %.3f, \"prefill_tokens\": %lld, \"decode_tokens\": %lld, \"truncated\": %zu, "
         "\"complete\": %s}\n",
         st.n_total, st.n_new, st.seconds > 0 ? (double)st.n_new / st.seconds : 0.0, st.prefill_s, st.decode_s,
         (long long)st.prefill_tokens, (long long)st.decode_tokens, st.n_truncated, st.complete ? "true" : "false");
  if (!st.complete)
    fprintf(stderr, "skillrl eval: partial (%zu of %zu samples); rerun the same command to resume\n",
            st.n_resumed + st.n_new, st.n_total);
  return 0;
}

static int cmd_general(int argc, char **argv) {
  const char *out = NULL, *tokp = NULL, *tasks = NULL;
  int64_t count = 20, length = 1024, seed = 0;
  const skl_arg_opt opts[] = {
      {"output", 'o', SKL_ARG_STR, &out, "DIR", "folder for general.jsonl"},
      {"count", 'n', SKL_ARG_INT, &count, "N", "records per task (default 20)"},
      {"length", 'l', SKL_ARG_INT, &length, "L", "target prompt length in tokens (default 1024)"},
      {"tokenizer", 't', SKL_ARG_STR, &tokp, "FILE", "tokenizer.json that counts tokens (default: 4 bytes a token)"},
      {"tasks", 0, SKL_ARG_STR, &tasks, "LIST", "comma-separated subset of qa,vt,cwe (default all)"},
      {"seed", 0, SKL_ARG_INT, &seed, "S", "generator seed (default 0)"},
  };
  const skl_arg_spec spec = {
      .prog = "skillrl eval general",
      .usage = "-o DIR [--count N] [--length L] [--tokenizer FILE]",
      .description =
          "Generate the held-out general set: RULER-style qa, variable tracking (vt) and common-word extraction\n"
          "(cwe), tasks outside the training mixture, as RULER-format JSONL (DIR/general.jsonl). Use it in an eval\n"
          "config as benchmarks: [general=DIR/general.jsonl]. Deterministic in (seed, count, length, tokenizer).",
      .opts = opts,
      .nopts = (int)(sizeof opts / sizeof opts[0]),
      .min_pos = 0,
      .max_pos = 0,
  };
  int rc = skl_args_parse(&spec, argc, argv, NULL);
  if (rc) return rc == 1 ? 0 : 2;
  if (!out) { fprintf(stderr, "skillrl eval general: -o DIR is required\n"); return 2; }
  if (count < 1 || count > 1000000 || length < 64 || length > (1 << 24)) {
    fprintf(stderr, "skillrl eval general: --count must be in [1, 1000000] and --length in [64, 16777216]\n");
    return 2;
  }
  skl_error err = {0};
  skl_tokenizer *tok = NULL;
  if (tokp && skl_tokenizer_load(tokp, &tok, &err)) return skl_cli_fail("eval general", err.msg);
  char *path = skl_path_join(out, "general.jsonl");
  size_t n = 0;
  eval_general_opts o = {.out_path = path, .count = (int)count, .length = (int)length, .tok = tok,
                         .seed = (uint64_t)seed, .tasks = tasks};
  int ret = 0;
  if (!path || skl_fs_mkdirs(out, &err) || eval_general_write(&o, &n, &err)) ret = skl_cli_fail("eval general", path ? err.msg : "out of memory");
  else printf("wrote %zu records to %s\n", n, path);
  free(path);
  skl_tokenizer_free(tok);
  return ret;
}

int skl_cmd_eval(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "score")) return cmd_score(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "correlate")) return cmd_correlate(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "general")) return cmd_general(argc - 1, argv + 1);
  if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    printf("usage: skillrl eval -c CONFIG --model DIR [-o OUT_DIR] [--limit N] [key=value ...]\n"
           "       skillrl eval general -o DIR [--count N] [--length L] [--tokenizer FILE]\n"
           "       skillrl eval score --data FILE --predictions FILE [--metric NAME] [-o OUT.jsonl]\n"
           "       skillrl eval correlate RESULT_DIR... [-o DIR]\n"
           "\n'skillrl eval run --help', 'skillrl eval general --help', 'skillrl eval score --help' and\n"
           "'skillrl eval correlate --help' describe the flags.\n");
    return 0;
  }
  if (argc >= 2 && argv[1][0] != '-') {
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 1, argv + 1);
    fprintf(stderr, "skillrl eval: unknown subcommand '%s' (valid: run, general, score, correlate; or -c CONFIG --model DIR)\n",
            argv[1]);
    return 2;
  }
  return cmd_run(argc, argv);
}
