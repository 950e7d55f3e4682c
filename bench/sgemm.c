/* bench sgemm: OpenBLAS sgemm GFLOP/s under the kernel OpenBLAS runs now
 * (OPENBLAS_CORETYPE), at square sizes and at the three products of a
 * transformer linear in training (forward X @ W^T, input gradient dY @ W,
 * weight gradient dY^T @ X); prints ONE JSON line. `skillrl doctor --cores`
 * runs it once per candidate kernel. */
#include <stdio.h>

#include "cli/args.h"
#include "bench/bench.h"
#include "sys/sys.h"

int skl_bench_sgemm(int argc, char **argv) {
  int64_t threads = 0, reps = 5, tokens = 4096, hidden = 256, ff = 688;
  const skl_arg_opt opts[] = {
      {"threads", 0, SKL_ARG_INT, &threads, "N", "OpenBLAS threads (default: all cores)"},
      {"reps", 0, SKL_ARG_INT, &reps, "N", "timed calls per shape after one warm-up; the best counts (default 5)"},
      {"tokens", 0, SKL_ARG_INT, &tokens, "N", "rows of the training products, B*T (default 4096: ref5m's B=4, T=1024)"},
      {"hidden", 0, SKL_ARG_INT, &hidden, "N", "model width (default 256)"},
      {"ff", 0, SKL_ARG_INT, &ff, "N", "MLP width (default 688)"},
  };
  skl_arg_spec spec = {"skillrl bench sgemm",
                       "[--threads N] [--reps N] [--tokens N] [--hidden N] [--ff N]",
                       "Time OpenBLAS sgemm with the kernel it runs now and print ONE JSON line: blas_core, "
                       "square_512_gflops, square_1024_gflops, and the training products of an MLP linear "
                       "(tokens x hidden -> ff): fwd_gflops (X @ W^T), dx_gflops (dY @ W), dw_gflops (dY^T @ X), "
                       "train_gflops (their total FLOPs over their total best times). Best of --reps per shape. "
                       "Compare kernels with OPENBLAS_CORETYPE=NAME skillrl bench sgemm, or skillrl doctor --cores.",
                       opts,
                       (int)(sizeof opts / sizeof opts[0]),
                       0,
                       0,
                       NULL};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (threads < 0 || reps < 1 || tokens < 1 || hidden < 1 || ff < 1 || tokens > 65536 || hidden > 65536 ||
      ff > 65536) {
    fprintf(stderr, "skillrl bench sgemm: --reps, --tokens, --hidden, --ff must be >= 1 (sizes <= 65536), "
                    "--threads >= 0\n");
    return 2;
  }
  int nthr = threads > 0 ? (int)threads : skl_sys_threads();
  skl_blas_set_threads(nthr);
  int T = (int)tokens, C = (int)hidden, F = (int)ff, R = (int)reps;
  double sq512 = 0, sq1024 = 0, fwd = 0, dx = 0, dw = 0;
  skl_error err = {0};
  if (skl_blas_sgemm_shape_gflops(false, false, 512, 512, 512, R, &sq512, &err) ||
      skl_blas_sgemm_shape_gflops(false, false, 1024, 1024, 1024, R, &sq1024, &err) ||
      skl_blas_sgemm_shape_gflops(false, true, T, F, C, R, &fwd, &err) || /* [T,C] @ [F,C]^T */
      skl_blas_sgemm_shape_gflops(false, false, T, C, F, R, &dx, &err) || /* [T,F] @ [F,C] */
      skl_blas_sgemm_shape_gflops(true, false, F, C, T, R, &dw, &err))    /* [T,F]^T @ [T,C] */
    return skl_cli_fail("bench sgemm", err.msg);
  double flops = 2.0 * (double)T * (double)C * (double)F;
  double train = fwd > 0 && dx > 0 && dw > 0 ? 3.0 * flops / (flops / fwd + flops / dx + flops / dw) : 0;
  skl_benchjson j;
  skl_benchjson_init(&j, "sgemm", nthr);
  skl_benchjson_str(&j, "blas_core", skl_blas_core());
  skl_benchjson_num(&j, "square_512_gflops", sq512);
  skl_benchjson_num(&j, "square_1024_gflops", sq1024);
  skl_benchjson_num(&j, "fwd_gflops", fwd);
  skl_benchjson_num(&j, "dx_gflops", dx);
  skl_benchjson_num(&j, "dw_gflops", dw);
  skl_benchjson_num(&j, "train_gflops", train);
  skl_benchjson_int(&j, "tokens", tokens);
  skl_benchjson_int(&j, "hidden", hidden);
  skl_benchjson_int(&j, "ff", ff);
  skl_benchjson_int(&j, "reps", reps);
  int out = 0;
  if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);
  else out = skl_cli_fail("bench sgemm", err.msg);
  skl_benchjson_free(&j);
  return out;
}
