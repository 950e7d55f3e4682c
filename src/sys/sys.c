/* skl sys: clocks, peak RSS, cpuid feature probing, OpenBLAS thread/core
 * queries and the bench JSON writer. Not a benchmark runner (see bench/). */
#include "sys/sys.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <xmmintrin.h>
#define SKL_X86 1
#endif

double skl_time_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double skl_peak_rss_mb(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
  return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

int skl_sys_threads(void) { return omp_get_max_threads(); }

#ifdef SKL_X86
enum { MXCSR_FTZ = 1 << 15, MXCSR_DAZ = 1 << 6 };
bool skl_sys_flush_denormals(void) {
  _mm_setcsr(_mm_getcsr() | MXCSR_FTZ | MXCSR_DAZ);
  return true;
}
bool skl_sys_denormals_flushed(void) { return (_mm_getcsr() & (MXCSR_FTZ | MXCSR_DAZ)) == (MXCSR_FTZ | MXCSR_DAZ); }
#else
bool skl_sys_flush_denormals(void) { return false; }
bool skl_sys_denormals_flushed(void) { return false; }
#endif

#ifdef SKL_X86
/* XCR0 says which register states the OS saves; AVX needs bits 1-2,
 * AVX-512 also 5-7. A CPU flag without OS support is unusable. */
static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}
#endif

static void read_model(char *out, size_t n) {
  snprintf(out, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0) continue;
    char *p = strchr(line, ':');
    if (!p) continue;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    size_t len = strcspn(p, "\r\n");
    while (len > 0 && p[len - 1] == ' ') len--;
    if (len > 0) snprintf(out, n, "%.*s", (int)len, p);
    break;
  }
  fclose(f);
}

void skl_cpu_info_get(skl_cpu_info *info) {
  memset(info, 0, sizeof *info);
  read_model(info->model, sizeof info->model);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  info->logical_cpus = ncpu > 0 ? (int)ncpu : 1;
#ifdef SKL_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  info->sse42 = (c >> 20) & 1;
  bool osxsave = (c >> 27) & 1;
  bool avx_hw = (c >> 28) & 1, fma_hw = (c >> 12) & 1;
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  bool ymm_ok = (xcr0 & 0x6) == 0x6;
  bool zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0;
  info->avx = avx_hw && ymm_ok;
  info->fma = fma_hw && ymm_ok;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    info->avx2 = ((b >> 5) & 1) && ymm_ok;
    info->avx512f = ((b >> 16) & 1) && zmm_ok;
    info->avx512bw = ((b >> 30) & 1) && zmm_ok;
  }
#endif
}

char *skl_cpu_features_str(const skl_cpu_info *info, char *buf, size_t n) {
  if (n == 0) return buf;
  buf[0] = '\0';
  const struct {
    bool on;
    const char *name;
  } f[] = {
      {info->sse42, "sse4.2"}, {info->avx, "avx"},         {info->avx2, "avx2"},
      {info->fma, "fma"},      {info->avx512f, "avx512f"}, {info->avx512bw, "avx512bw"},
  };
  size_t len = 0;
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (!f[i].on) continue;
    int w = snprintf(buf + len, n - len, "%s%s", len ? " " : "", f[i].name);
    if (w < 0 || (size_t)w >= n - len) break;
    len += (size_t)w;
  }
  if (len == 0) snprintf(buf, n, "none detected");
  return buf;
}

const char *skl_blas_core(void) {
  const char *c = openblas_get_corename();
  return c && *c ? c : "unknown";
}

int skl_blas_threads(void) { return openblas_get_num_threads(); }

void skl_blas_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

skl_status skl_blas_sgemm_shape_gflops(bool trans_a, bool trans_b, int M, int N, int K, int reps, double *gflops,
                                       skl_error *err) {
  *gflops = 0;
  if (M < 1 || N < 1 || K < 1 || M > 65536 || N > 65536 || K > 65536 || reps < 1)
    return skl_error_set(err, SKL_ERR_RANGE, "sgemm probe: M=%d N=%d K=%d reps=%d, expected sizes in [1, 65536], reps >= 1",
                         M, N, K, reps);
  size_t na = (size_t)M * (size_t)K, nb = (size_t)K * (size_t)N, nc = (size_t)M * (size_t)N;
  if (na + nb + nc > ((size_t)1 << 28))
    return skl_error_set(err, SKL_ERR_RANGE, "sgemm probe: M=%d N=%d K=%d needs over 1 GiB", M, N, K);
  float *a = malloc((na + nb + nc) * sizeof *a);
  if (!a) return skl_error_set(err, SKL_ERR_NOMEM, "sgemm probe: out of memory for %dx%dx%d", M, N, K);
  float *b = a + na, *c = b + nb;
  /* fixed small values: no RNG needed, no denormals */
  for (size_t i = 0; i < na; i++) a[i] = (float)((int)(i % 13) - 6) / 8.0f;
  for (size_t i = 0; i < nb; i++) b[i] = (float)((int)(i % 7) - 3) / 4.0f;
  double best = 0;
  for (int r = 0; r <= reps; r++) { /* r = 0 warms caches and OpenBLAS's buffers */
    double t0 = skl_time_now();
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                1.0f, a, trans_a ? M : K, b, trans_b ? K : N, 0.0f, c, N);
    double dt = skl_time_now() - t0;
    if (r > 0 && dt > 0 && (best == 0 || dt < best)) best = dt;
  }
  free(a);
  *gflops = best > 0 ? 2.0 * (double)M * (double)N * (double)K / best * 1e-9 : 0;
  return SKL_OK;
}

skl_status skl_blas_sgemm_gflops(int n, int reps, double *gflops, skl_error *err) {
  *gflops = 0;
  if (n < 1 || n > 8192 || reps < 1)
    return skl_error_set(err, SKL_ERR_RANGE, "sgemm probe: n=%d reps=%d, expected n in [1, 8192], reps >= 1", n, reps);
  return skl_blas_sgemm_shape_gflops(false, false, n, n, n, reps, gflops, err);
}

/* OpenBLAS kernel families that have AVX2 (or better) sgemm kernels. Any
 * other name on an AVX2 CPU means a generic/mis-detected kernel. */
static bool core_has_avx2_kernels(const char *core) {
  static const char *const fast[] = {"haswell", "skylakex", "cooperlake", "sapphirerapids", "zen",
                                     "zen3",    "zen4",     "zen5",       "alderlake",      "cascadelake"};
  for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
    if (!strcasecmp(core, fast[i])) return true;
  return false;
}

bool skl_blas_warning_for(const char *core, const skl_cpu_info *cpu, char *buf, size_t n) {
  if (n) buf[0] = '\0';
  if (!cpu->avx2 || core_has_avx2_kernels(core)) return false;
  bool avx512 = cpu->avx512f && cpu->avx512bw;
  const char *fix = avx512 ? "SkylakeX" : "Haswell";
  if (n)
    snprintf(buf, n,
             "OpenBLAS picked the generic '%s' kernel on a CPU with %s; sgemm runs several times "
             "slower. Fix: export OPENBLAS_CORETYPE=%s",
             core, avx512 ? "AVX-512" : "AVX2", fix);
  return true;
}

int skl_blas_core_candidates(const skl_cpu_info *cpu, const char **out, int max) {
  const char *all[4];
  int n = 0;
  if (cpu->avx512f && cpu->avx512bw) {
    all[n++] = "SkylakeX";
    all[n++] = "Cooperlake";
  }
  if (cpu->avx2 && cpu->fma) {
    all[n++] = "Haswell";
    all[n++] = "Zen";
  }
  n = n < max ? n : max;
  for (int i = 0; i < n; i++) out[i] = all[i];
  return n;
}

bool skl_blas_warning(char *buf, size_t n) {
  skl_cpu_info cpu;
  skl_cpu_info_get(&cpu);
  return skl_blas_warning_for(skl_blas_core(), &cpu, buf, n);
}

bool skl_omp_wait_warning_for(const char *policy, char *buf, size_t n) {
  if (n) buf[0] = '\0';
  if (!policy || strcasecmp(policy, "passive")) return false;
  if (n)
    snprintf(buf, n,
             "OMP_WAIT_POLICY=%s: idle OpenMP workers sleep in the kernel between parallel regions, and "
             "decoding (generate, rollouts) runs many short ones: up to 1.75x slower. Fix: unset OMP_WAIT_POLICY",
             policy);
  return true;
}

/* ---- bench JSON line ---- */

static void bj_put(skl_benchjson *j, skl_status st) {
  if (st != SKL_OK && j->status == SKL_OK) j->status = st;
}

static void bj_string(skl_benchjson *j, const char *s) {
  bj_put(j, skl_buf_puts(&j->buf, "\""));
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': bj_put(j, skl_buf_puts(&j->buf, "\\\"")); break;
      case '\\': bj_put(j, skl_buf_puts(&j->buf, "\\\\")); break;
      case '\n': bj_put(j, skl_buf_puts(&j->buf, "\\n")); break;
      case '\t': bj_put(j, skl_buf_puts(&j->buf, "\\t")); break;
      case '\r': bj_put(j, skl_buf_puts(&j->buf, "\\r")); break;
      default:
        if (*p < 0x20)
          bj_put(j, skl_buf_printf(&j->buf, "\\u%04x", *p));
        else
          bj_put(j, skl_buf_append(&j->buf, p, 1));
    }
  }
  bj_put(j, skl_buf_puts(&j->buf, "\""));
}

static void bj_key(skl_benchjson *j, const char *key) {
  SKL_ASSERT(!j->ended);
  bj_put(j, skl_buf_puts(&j->buf, ","));
  bj_string(j, key);
  bj_put(j, skl_buf_puts(&j->buf, ":"));
}

/* Shortest of %.6g..%.17g that reads back exactly, so 0.5 stays "0.5". */
static void bj_number(skl_benchjson *j, double v) {
  if (!isfinite(v)) {
    bj_put(j, skl_buf_puts(&j->buf, "null"));
    return;
  }
  char tmp[40];
  for (int p = 6; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*g", p, v);
    if (strtod(tmp, NULL) == v) break;
  }
  bj_put(j, skl_buf_puts(&j->buf, tmp));
}

void skl_benchjson_init(skl_benchjson *j, const char *bench, int threads) {
  memset(j, 0, sizeof *j);
  bj_put(j, skl_buf_puts(&j->buf, "{\"bench\":"));
  bj_string(j, bench);
  bj_put(j, skl_buf_printf(&j->buf, ",\"threads\":%d", threads));
}

void skl_benchjson_str(skl_benchjson *j, const char *key, const char *val) {
  bj_key(j, key);
  if (val)
    bj_string(j, val);
  else
    bj_put(j, skl_buf_puts(&j->buf, "null"));
}

void skl_benchjson_num(skl_benchjson *j, const char *key, double val) {
  bj_key(j, key);
  bj_number(j, val);
}

void skl_benchjson_int(skl_benchjson *j, const char *key, int64_t val) {
  bj_key(j, key);
  bj_put(j, skl_buf_printf(&j->buf, "%lld", (long long)val));
}

void skl_benchjson_bool(skl_benchjson *j, const char *key, bool val) {
  bj_key(j, key);
  bj_put(j, skl_buf_puts(&j->buf, val ? "true" : "false"));
}

void skl_benchjson_nums(skl_benchjson *j, const char *key, const double *vals, int n) {
  bj_key(j, key);
  bj_put(j, skl_buf_puts(&j->buf, "["));
  for (int i = 0; i < n; i++) {
    if (i) bj_put(j, skl_buf_puts(&j->buf, ","));
    bj_number(j, vals[i]);
  }
  bj_put(j, skl_buf_puts(&j->buf, "]"));
}

skl_status skl_benchjson_end(skl_benchjson *j, skl_error *err) {
  if (!j->ended) {
    bj_put(j, skl_buf_puts(&j->buf, "}\n"));
    j->ended = true;
  }
  if (j->status != SKL_OK) return skl_error_set(err, j->status, "bench JSON line: out of memory while building it");
  return SKL_OK;
}

void skl_benchjson_free(skl_benchjson *j) {
  if (!j) return;
  skl_buf_free(&j->buf);
  memset(j, 0, sizeof *j);
}
