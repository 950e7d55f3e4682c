/* skl sys: clocks, memory, CPU features, OpenBLAS/OpenMP threads, and the
 * bench JSON line writer. Not a profiler or a thread pool: facts and one writer. */
#ifndef SKL_SYS_H
#define SKL_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* @return monotonic seconds (CLOCK_MONOTONIC) since an arbitrary origin;
 * only differences mean anything. */
double skl_time_now(void);

/* @return peak resident set size of this process in MiB (getrusage
 * ru_maxrss), or 0 if unavailable. */
double skl_peak_rss_mb(void);

/* Flush denormal floats to zero, in results (FTZ) and in inputs (DAZ), on
 * the calling thread and on the threads it creates afterwards (they inherit
 * the SSE control register: call it before the first parallel region).
 * Training makes denormals (attention weights and their gradients once the
 * attention sharpens), and each costs a microcode assist: a pretraining step
 * ran 3-4x slower with them. Values below 1.2e-38 become 0, so results can
 * differ from an unflushed run in the last bits where denormals arose.
 * @return true where the CPU's float unit has these modes (x86 SSE). */
bool skl_sys_flush_denormals(void);
/* @return true if the calling thread flushes denormals (FTZ and DAZ set). */
bool skl_sys_denormals_flushed(void);

/* @return OpenMP's omp_get_max_threads() (what a parallel region gets). */
int skl_sys_threads(void);

/* What the CPU can run. Filled from cpuid (features, gated on OS support
 * for the AVX/AVX-512 register state via xgetbv) and /proc/cpuinfo (model). */
typedef struct {
  char model[128]; /* "AMD EPYC 9654 ...", or "unknown" */
  bool sse42, avx, avx2, fma, avx512f, avx512bw;
  int logical_cpus; /* online logical CPUs (sysconf), >= 1 */
} skl_cpu_info;

/* Fill *info for the machine we run on. Never fails. */
void skl_cpu_info_get(skl_cpu_info *info);

/* Space-separated feature list into buf, e.g. "sse4.2 avx avx2 fma avx512f".
 * @return buf */
char *skl_cpu_features_str(const skl_cpu_info *info, char *buf, size_t n);

/* @return the OpenBLAS kernel family picked at load time, e.g. "Haswell",
 * "SkylakeX", "Prescott" (openblas_get_corename); never NULL. */
const char *skl_blas_core(void);
/* @return OpenBLAS's thread count. */
int skl_blas_threads(void);
/* Set OpenBLAS's thread count (n < 1 is treated as 1). */
void skl_blas_set_threads(int n);

/* Measure single-precision GEMM throughput: C[n,n] = A[n,n] @ B[n,n] with
 * cblas_sgemm, one warm-up then reps timed runs; *gflops gets the best
 * (2*n^3 / seconds / 1e9). n = 512, reps = 5 takes well under a second even
 * on a generic kernel. @return SKL_OK, SKL_ERR_RANGE (n < 1, reps < 1) or
 * SKL_ERR_NOMEM. */
skl_status skl_blas_sgemm_gflops(int n, int reps, double *gflops, skl_error *err);
/* The same for any shape and transposition: C[M,N] = op(A) @ op(B), row-major,
 * op(A) [M,K], op(B) [K,N]; best of reps after one warm-up. @return SKL_OK,
 * SKL_ERR_RANGE (a size outside [1, 65536], reps < 1, over 1 GiB) or
 * SKL_ERR_NOMEM. */
skl_status skl_blas_sgemm_shape_gflops(bool trans_a, bool trans_b, int M, int N, int K, int reps, double *gflops,
                                       skl_error *err);

/* When OpenBLAS picked a generic kernel (no AVX2 code: Prescott, Core2,
 * Nehalem, Sandybridge...) on a CPU that has AVX2 or AVX-512, write a one-line
 * warning with the fix (export OPENBLAS_CORETYPE=SkylakeX or =Haswell) into
 * buf and return true. Otherwise buf gets "" and it returns false.
 * Debian's OpenBLAS 0.3.21 takes recent AMD/Intel CPUs for Prescott and runs
 * sgemm about 5x slower. */
bool skl_blas_warning(char *buf, size_t n);
/* The same decision for a given core name and CPU (pure; for tests). */
bool skl_blas_warning_for(const char *core, const skl_cpu_info *cpu, char *buf, size_t n);

/* OpenBLAS kernel families worth forcing (OPENBLAS_CORETYPE) on this CPU, in
 * the order `doctor --cores` tries them: SkylakeX and Cooperlake (AVX-512F/BW),
 * Haswell and Zen (AVX2 + FMA). Which is fastest depends on the CPU: on AMD
 * Zen 4, which runs AVX-512 as two 256-bit halves, the AVX2 Haswell kernel can
 * beat SkylakeX. Writes at most max names into out; @return their count. */
int skl_blas_core_candidates(const skl_cpu_info *cpu, const char **out, int max);

/* When OMP_WAIT_POLICY (policy; NULL = unset) is "passive", write a one-line
 * warning with the fix into buf and return true; otherwise buf gets "" and it
 * returns false. Passive workers sleep in the kernel between parallel regions,
 * and decoding runs many short ones: plain decoding measured 1.4-1.75x slower
 * (deep10m, batch 1 and 8) than with the default policy, training the same. */
bool skl_omp_wait_warning_for(const char *policy, char *buf, size_t n);

/* One bench JSON line, fields in call order, numbers as numbers:
 *
 *   skl_benchjson j;
 *   skl_benchjson_init(&j, "tokenize", threads);   // {"bench":"tokenize","threads":2
 *   skl_benchjson_num(&j, "seconds", 1.25);
 *   skl_benchjson_int(&j, "tokens", 123456);
 *   skl_benchjson_str(&j, "peer", "hf-tokenizers");
 *   if (skl_benchjson_end(&j, &err) == SKL_OK) fputs(j.buf.data, stdout);  // ...}\n
 *   skl_benchjson_free(&j);
 *
 * Strings are JSON-escaped; non-finite numbers are written as null. An
 * allocation failure is remembered and reported by _end. */
typedef struct {
  skl_buf buf; /* the line; complete (with "}\n") after _end */
  skl_status status;
  bool ended;
} skl_benchjson;

void skl_benchjson_init(skl_benchjson *j, const char *bench, int threads);
void skl_benchjson_str(skl_benchjson *j, const char *key, const char *val);
void skl_benchjson_num(skl_benchjson *j, const char *key, double val);
void skl_benchjson_int(skl_benchjson *j, const char *key, int64_t val);
void skl_benchjson_bool(skl_benchjson *j, const char *key, bool val);
/* An array of numbers, e.g. per-head acceptance: "acceptance":[0.8,0.6]. */
void skl_benchjson_nums(skl_benchjson *j, const char *key, const double *vals, int n);
/* Close the object and add the newline. @return SKL_OK or SKL_ERR_NOMEM. */
skl_status skl_benchjson_end(skl_benchjson *j, skl_error *err);
void skl_benchjson_free(skl_benchjson *j);

#endif
