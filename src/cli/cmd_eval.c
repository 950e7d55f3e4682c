/* skillrl eval: `eval score` (outside predictions against a benchmark or a
 * skill shard) and `eval correlate` (skill probes vs benchmarks). Not the
 * metrics: those live in eval/; the model-driven `eval -c` is issue 6's rest. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "eval/correlate.h"
#include "eval/score.h"

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
          "record number. Every data id needs exactly one prediction.",
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

int skl_cmd_eval(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "score")) return cmd_score(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "correlate")) return cmd_correlate(argc - 1, argv + 1);
  if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    printf("usage: skillrl eval score --data FILE --predictions FILE [--metric NAME] [-o OUT.jsonl]\n"
           "       skillrl eval correlate RESULT_DIR... [-o DIR]\n"
           "       skillrl eval -c CONFIG --model DIR   (probes + benchmarks with a model: not yet, issue 6)\n"
           "\n'skillrl eval score --help' and 'skillrl eval correlate --help' describe the flags.\n");
    return 0;
  }
  if (argc >= 2 && argv[1][0] != '-') {
    fprintf(stderr, "skillrl eval: unknown subcommand '%s' (valid: score, correlate; or -c CONFIG --model DIR)\n",
            argv[1]);
    return 2;
  }
  return skl_cmd_pending("eval -c CONFIG --model DIR (probes with a model)", 6);
}
