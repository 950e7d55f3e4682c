/* Tests for src/sys: clocks, RSS, CPU features against /proc/cpuinfo, BLAS
 * threads, the generic-kernel warning, the bench JSON line. Not a benchmark. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/sys.h"
#include "tests/harness.h"

/* Does /proc/cpuinfo's first "flags" line list this flag? -1: no cpuinfo. */
static int cpuinfo_flag(const char *flag) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return -1;
  static char line[8192];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "flags", 5) != 0) continue;
    found = 0;
    for (char *tok = strtok(strchr(line, ':') + 1, " \n"); tok; tok = strtok(NULL, " \n"))
      if (!strcmp(tok, flag)) found = 1;
    break;
  }
  fclose(f);
  return found;
}

static void test_time_rss(void) {
  double t0 = skl_time_now();
  volatile double x = 0;
  for (int i = 0; i < 2000000; i++) x += i * 1e-9;
  double t1 = skl_time_now();
  CHECK(t0 > 0 && t1 > t0);
  double before = skl_peak_rss_mb();
  CHECK(before > 0);
  size_t n = 64u << 20;
  char *p = malloc(n);
  CHECK(p != NULL);
  if (p) {
    memset(p, 1, n); /* touch every page */
    double after = skl_peak_rss_mb();
    /* a high-water mark: at least what is resident now */
    CHECK_MSG(after >= 64 && after >= before, "peak RSS %.1f -> %.1f MiB after touching 64 MiB", before, after);
    free(p);
  }
  CHECK(skl_sys_threads() >= 1);
}

static void test_cpu(void) {
  skl_cpu_info c;
  skl_cpu_info_get(&c);
  CHECK(c.logical_cpus >= 1);
  CHECK(c.model[0] != '\0');
  /* feature hierarchy */
  CHECK(!c.avx2 || c.avx);
  CHECK(!c.avx512bw || c.avx512f);
  CHECK(!c.avx512f || c.avx2);
  /* cpuid agrees with the kernel's view (independent source) */
  const struct {
    bool have;
    const char *flag;
  } f[] = {{c.sse42, "sse4_2"}, {c.avx, "avx"},         {c.avx2, "avx2"},
           {c.fma, "fma"},      {c.avx512f, "avx512f"}, {c.avx512bw, "avx512bw"}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    int k = cpuinfo_flag(f[i].flag);
    if (k >= 0) CHECK_MSG(k == (int)f[i].have, "%s: cpuid %d, /proc/cpuinfo %d", f[i].flag, f[i].have, k);
  }
  char buf[128];
  skl_cpu_info fake = {.sse42 = true, .avx = true, .avx2 = true, .fma = true};
  CHECK_STR(skl_cpu_features_str(&fake, buf, sizeof buf), "sse4.2 avx avx2 fma");
  skl_cpu_info none = {0};
  CHECK_STR(skl_cpu_features_str(&none, buf, sizeof buf), "none detected");
}

static void test_blas(void) {
  CHECK(skl_blas_core()[0] != '\0');
  int t0 = skl_blas_threads();
  CHECK(t0 >= 1);
  skl_blas_set_threads(1);
  CHECK(skl_blas_threads() == 1);
  skl_blas_set_threads(0); /* clamped to 1 */
  CHECK(skl_blas_threads() == 1);
  skl_blas_set_threads(t0);
  CHECK(skl_blas_threads() == t0);

  double gf = -1;
  skl_error err = {0};
  CHECK(skl_blas_sgemm_gflops(64, 2, &gf, &err) == SKL_OK);
  CHECK(gf > 0);
  CHECK(skl_blas_sgemm_gflops(0, 2, &gf, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "sgemm probe: n=0");

  char msg[300];
  skl_cpu_info avx512 = {.avx = true, .avx2 = true, .fma = true, .avx512f = true, .avx512bw = true};
  skl_cpu_info avx2 = {.avx = true, .avx2 = true, .fma = true};
  skl_cpu_info old = {.sse42 = true, .avx = true};
  CHECK(skl_blas_warning_for("Prescott", &avx512, msg, sizeof msg));
  CHECK_STR(msg,
            "OpenBLAS picked the generic 'Prescott' kernel on a CPU with AVX-512; sgemm runs several times "
            "slower. Fix: export OPENBLAS_CORETYPE=SkylakeX");
  CHECK(skl_blas_warning_for("Core2", &avx2, msg, sizeof msg));
  CHECK_CONTAINS(msg, "with AVX2;");
  CHECK_CONTAINS(msg, "Fix: export OPENBLAS_CORETYPE=Haswell");
  CHECK(skl_blas_warning_for("Sandybridge", &avx512, msg, sizeof msg));
  CHECK(!skl_blas_warning_for("SkylakeX", &avx512, msg, sizeof msg));
  CHECK_STR(msg, "");
  CHECK(!skl_blas_warning_for("Haswell", &avx512, msg, sizeof msg));
  CHECK(!skl_blas_warning_for("Cooperlake", &avx512, msg, sizeof msg));
  CHECK(!skl_blas_warning_for("Zen", &avx2, msg, sizeof msg));
  CHECK(!skl_blas_warning_for("Prescott", &old, msg, sizeof msg)); /* nothing better to pick */
  const char *cand[8];
  CHECK(skl_blas_core_candidates(&avx512, cand, 8) == 4);
  CHECK_STR(cand[0], "SkylakeX");
  CHECK_STR(cand[1], "Cooperlake");
  CHECK_STR(cand[2], "Haswell");
  CHECK_STR(cand[3], "Zen");
  CHECK(skl_blas_core_candidates(&avx2, cand, 8) == 2);
  CHECK_STR(cand[0], "Haswell");
  CHECK(skl_blas_core_candidates(&old, cand, 8) == 0);
  CHECK(skl_blas_core_candidates(&avx512, cand, 1) == 1);
  double g = 0;
  CHECK(skl_blas_sgemm_shape_gflops(true, false, 24, 8, 40, 1, &g, &err) == SKL_OK);
  CHECK(g > 0);
  CHECK(skl_blas_sgemm_shape_gflops(false, true, 0, 8, 8, 1, &g, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "sgemm probe: M=0 N=8 K=8");
  CHECK(skl_blas_sgemm_shape_gflops(false, true, 8, 8, 8, 0, &g, &err) == SKL_ERR_RANGE);
  CHECK(skl_omp_wait_warning_for("passive", msg, sizeof msg));
  CHECK_CONTAINS(msg, "OMP_WAIT_POLICY=passive: ");
  CHECK_CONTAINS(msg, "Fix: unset OMP_WAIT_POLICY");
  CHECK(skl_omp_wait_warning_for("PASSIVE", msg, sizeof msg));
  CHECK(!skl_omp_wait_warning_for(NULL, msg, sizeof msg));
  CHECK_STR(msg, "");
  CHECK(!skl_omp_wait_warning_for("active", msg, sizeof msg));
  CHECK(!skl_omp_wait_warning_for("", msg, sizeof msg));
  /* the live check agrees with the pure one */
  skl_cpu_info me;
  skl_cpu_info_get(&me);
  char live[300];
  CHECK(skl_blas_warning(live, sizeof live) == skl_blas_warning_for(skl_blas_core(), &me, msg, sizeof msg));
  CHECK_STR(live, msg);
}

static void test_benchjson(void) {
  skl_benchjson j;
  skl_error err = {0};
  double acc[] = {0.8, 0.25, 1.0 / 3.0};
  skl_benchjson_init(&j, "tokenize", 2);
  skl_benchjson_num(&j, "seconds", 1.25);
  skl_benchjson_num(&j, "mb_per_s", 0.1);
  skl_benchjson_int(&j, "tokens", 123456789012LL);
  skl_benchjson_str(&j, "peer", "hf \"tok\"\n\\");
  skl_benchjson_bool(&j, "ok", true);
  skl_benchjson_nums(&j, "acceptance", acc, 3);
  skl_benchjson_num(&j, "ratio", INFINITY);
  skl_benchjson_num(&j, "tiny", 1e-7);
  skl_benchjson_str(&j, "none", NULL);
  CHECK(skl_benchjson_end(&j, &err) == SKL_OK);
  CHECK_STR(j.buf.data,
            "{\"bench\":\"tokenize\",\"threads\":2,\"seconds\":1.25,\"mb_per_s\":0.1,"
            "\"tokens\":123456789012,\"peer\":\"hf \\\"tok\\\"\\n\\\\\",\"ok\":true,"
            "\"acceptance\":[0.8,0.25,0.3333333333333333],\"ratio\":null,\"tiny\":1e-07,"
            "\"none\":null}\n");
  /* a JSON parser reads it back with numbers as numbers */
  json_error_t je;
  json_t *o = json_loads(j.buf.data, 0, &je);
  CHECK_MSG(o != NULL, "%s", je.text);
  if (o) {
    CHECK(json_is_integer(json_object_get(o, "threads")));
    CHECK(json_integer_value(json_object_get(o, "tokens")) == 123456789012LL);
    CHECK(json_real_value(json_object_get(o, "seconds")) == 1.25);
    CHECK(json_real_value(json_array_get(json_object_get(o, "acceptance"), 2)) == 1.0 / 3.0);
    CHECK_STR(json_string_value(json_object_get(o, "peer")), "hf \"tok\"\n\\");
    json_decref(o);
  }
  CHECK(skl_benchjson_end(&j, &err) == SKL_OK); /* idempotent */
  CHECK(j.buf.data[j.buf.len - 1] == '\n' && j.buf.data[j.buf.len - 2] == '}');
  skl_benchjson_free(&j);
  skl_benchjson_free(NULL);
}

/* FTZ/DAZ: a product below FLT_MIN becomes 0, a denormal input reads as 0,
 * and threads started afterwards inherit it (how main() sets every thread). */
static void test_denormals(void) {
  volatile float tiny = 1e-30f, scale = 1e-10f, den = 1e-40f; /* 1e-40: a denormal */
  CHECK(tiny * scale != 0.0f); /* the default: gradual underflow */
  CHECK(!skl_sys_denormals_flushed());
  if (!skl_sys_flush_denormals()) { printf("no FTZ/DAZ on this CPU: skipped\n"); return; }
  CHECK(skl_sys_denormals_flushed());
  CHECK(tiny * scale == 0.0f);
  CHECK(den * 1.0f == 0.0f);
  int flushed = 0, n = 0;
#pragma omp parallel num_threads(3) reduction(+ : flushed, n)
  {
    volatile float a = 1e-30f, b = 1e-10f;
    flushed += skl_sys_denormals_flushed() && a * b == 0.0f;
    n++;
  }
  CHECK_MSG(flushed == n, "%d of %d threads flush", flushed, n);
}

int main(void) {
  test_denormals();
  test_time_rss();
  test_cpu();
  test_blas();
  test_benchjson();
  return test_report();
}
