/* skillrl doctor: one screen about the environment: CPU, BLAS kernel and
 * threads, MPI, library versions, a measured sgemm. Not a benchmark: see bench. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <cblas.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <strings.h>
#include <unistd.h>
#include <utf8proc.h>
#include <yaml.h>
#include <zstd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "skl_build_config.h"
#include "sys/sys.h"

#if SKL_HAVE_MPI
#include <mpi.h>
#endif

/* First executable `name` on $PATH into out; false if none. */
static bool on_path(const char *name, char *out, size_t n) {
  const char *path = getenv("PATH");
  if (!path) return false;
  while (*path) {
    size_t len = strcspn(path, ":");
    snprintf(out, n, "%.*s/%s", (int)len, path, name);
    if (len && access(out, X_OK) == 0) return true;
    path += len + (path[len] == ':');
  }
  return false;
}

static void print_mpi(void) {
#if SKL_HAVE_MPI
  char ver[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int len = 0;
  /* allowed before MPI_Init (MPI-3) */
  MPI_Get_library_version(ver, &len);
  ver[strcspn(ver, "\r\n,")] = '\0';
  char run[512];
  bool have_run = on_path("mpirun", run, sizeof run);
  printf("%-11s %s; mpirun: %s\n", "mpi:", ver[0] ? ver : "built with MPI", have_run ? run : "not on PATH");
#else
  printf("%-11s not built in (reconfigure with -Dmpi=enabled and an MPI library installed)\n", "mpi:");
#endif
}

/* One kernel's `skillrl bench sgemm` in a child (OPENBLAS_CORETYPE = core,
 * or unset for OpenBLAS's own pick): its JSON fields into *picked, *sq and
 * *train. false (with why) when the child fails or runs another kernel. */
static bool core_probe(const char *exe, const char *core, int threads, char *picked, size_t np, double *sq,
                       double *train, char *why, size_t nw) {
  char cmd[PATH_MAX + 128], q[PATH_MAX * 4 + 8];
  size_t k = 0; /* exe single-quoted for sh */
  q[k++] = '\'';
  for (const char *p = exe; *p && k + 6 < sizeof q; p++) {
    if (*p == '\'') {
      memcpy(q + k, "'\\''", 4);
      k += 4;
    } else
      q[k++] = *p;
  }
  q[k++] = '\'';
  q[k] = '\0';
  snprintf(cmd, sizeof cmd, "%s bench sgemm --reps 3 --threads %d 2>&1", q, threads);
  if (core) setenv("OPENBLAS_CORETYPE", core, 1);
  else unsetenv("OPENBLAS_CORETYPE");
  FILE *f = popen(cmd, "r");
  char line[2048] = "";
  bool got = f && fgets(line, sizeof line, f) != NULL;
  int rc = f ? pclose(f) : -1;
  json_error_t je;
  json_t *j = got && rc == 0 ? json_loads(line, 0, &je) : NULL;
  const char *name = j ? json_string_value(json_object_get(j, "blas_core")) : NULL;
  bool ok = name && json_is_number(json_object_get(j, "train_gflops"));
  if (ok) {
    snprintf(picked, np, "%s", name);
    *sq = json_number_value(json_object_get(j, "square_1024_gflops"));
    *train = json_number_value(json_object_get(j, "train_gflops"));
    if (core && strcasecmp(name, core)) {
      snprintf(why, nw, "OpenBLAS ran '%s' instead", name);
      ok = false;
    }
  } else {
    line[strcspn(line, "\n")] = '\0';
    snprintf(why, nw, "bench sgemm failed (status %d): %.200s", rc, line);
  }
  json_decref(j);
  return ok;
}

/* doctor --cores: time sgemm under each candidate kernel, say the fastest. */
static void print_cores(const skl_cpu_info *cpu) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    printf("%-11s not measured: cannot read /proc/self/exe\n", "cores:");
    return;
  }
  exe[n] = '\0';
  const char *cand[8];
  int nc = skl_blas_core_candidates(cpu, cand, 8), threads = skl_blas_threads();
  char *saved = getenv("OPENBLAS_CORETYPE") ? strdup(getenv("OPENBLAS_CORETYPE")) : NULL;
  printf("%-11s sgemm GFLOP/s per OpenBLAS kernel, %d threads (skillrl bench sgemm --reps 3, one child each)\n",
         "cores:", threads);
  printf("%-11s %-28s %9s %9s\n", "", "kernel", "1024^3", "training");
  char best[64] = "", auto_core[64] = "";
  double best_train = 0;
  for (int i = -1; i < nc; i++) { /* -1: OpenBLAS's own pick */
    char picked[64] = "", why[300] = "", label[64];
    double sq = 0, train = 0;
    bool ok = core_probe(exe, i < 0 ? NULL : cand[i], threads, picked, sizeof picked, &sq, &train, why, sizeof why);
    if (i < 0) snprintf(auto_core, sizeof auto_core, "%s", picked);
    snprintf(label, sizeof label, i < 0 ? "%s (OpenBLAS's pick)" : "%s", i < 0 ? picked : cand[i]);
    if (ok) {
      printf("%-11s %-28s %9.1f %9.1f\n", "", label, sq, train);
      if (train > best_train) {
        best_train = train;
        snprintf(best, sizeof best, "%s", picked);
      }
    } else
      printf("%-11s %-28s failed: %s\n", "", i < 0 ? "(OpenBLAS's pick)" : cand[i], why);
  }
  if (saved) {
    setenv("OPENBLAS_CORETYPE", saved, 1);
    free(saved);
  } else
    unsetenv("OPENBLAS_CORETYPE");
  if (best[0])
    printf("%-11s fastest at the training products: %s (export OPENBLAS_CORETYPE=%s); timings are noisy on a "
           "shared machine, run it twice\n",
           "", best, best);
}

int skl_cmd_doctor(int argc, char **argv) {
  bool no_bench = false, cores = false;
  const skl_arg_opt opts[] = {
      {"no-bench", 0, SKL_ARG_FLAG, &no_bench, NULL, "skip the sgemm measurement"},
      {"cores", 0, SKL_ARG_FLAG, &cores, NULL,
       "also time sgemm under each OpenBLAS kernel this CPU can run (a child per kernel) and name the fastest"},
  };
  skl_arg_spec spec = {"skillrl doctor",
                       "[--no-bench] [--cores]",
                       "Report the environment: CPU features, the OpenBLAS kernel and threads (with a\n"
                       "fix when it picked a generic kernel), OpenMP and its wait policy, MPI, library\n"
                       "versions and a measured 512x512 sgemm. --cores times sgemm (square 1024 and the\n"
                       "training products of `bench sgemm`) under every OpenBLAS kernel the CPU can run\n"
                       "and names the fastest to export as OPENBLAS_CORETYPE.",
                       opts,
                       (int)(sizeof opts / sizeof opts[0]),
                       0,
                       0,
                       NULL};
  int npos = 0;
  int rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;

  skl_cpu_info cpu;
  skl_cpu_info_get(&cpu);
  char feats[128];
  printf("skillrl %s\n", SKL_VERSION);
  printf("%-11s %s (%d logical CPUs)\n", "cpu:", cpu.model, cpu.logical_cpus);
  printf("%-11s %s\n", "features:", skl_cpu_features_str(&cpu, feats, sizeof feats));
  const char *cfg = openblas_get_config();
  printf("%-11s core %s, %d threads (%s)\n", "openblas:", skl_blas_core(), skl_blas_threads(), cfg ? cfg : "?");
  const char *coretype = getenv("OPENBLAS_CORETYPE");
  if (coretype && *coretype) printf("%-11s OPENBLAS_CORETYPE=%s is set\n", "", coretype);
  char warn[400];
  if (skl_blas_warning(warn, sizeof warn)) printf("%-11s warning: %s\n", "", warn);
  printf("%-11s %d threads (OMP_NUM_THREADS=%s)\n", "openmp:", skl_sys_threads(),
         getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "unset");
  if (skl_omp_wait_warning_for(getenv("OMP_WAIT_POLICY"), warn, sizeof warn))
    printf("%-11s warning: %s\n", "", warn);
  int flushed = 0, nthreads = 0;
#pragma omp parallel reduction(+ : flushed, nthreads)
  {
    flushed += skl_sys_denormals_flushed();
    nthreads++;
  }
  printf("%-11s %s on %d of %d threads%s\n", "denormals:", "flushed to zero (FTZ, DAZ)", flushed, nthreads,
         flushed == nthreads ? "" : ": the others run denormal floats 10-100x slower");
  print_mpi();
  printf("%-11s %s\n", "zstd:", ZSTD_versionString());
  printf("%-11s %s\n", "libyaml:", yaml_get_version_string());
  printf("%-11s %s\n", "jansson:", jansson_version_str());
  char pcre[64] = "";
  if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0) snprintf(pcre, sizeof pcre, "?");
  uint32_t jit = 0;
  pcre2_config(PCRE2_CONFIG_JIT, &jit);
  printf("%-11s %s (JIT %s)\n", "pcre2:", pcre, jit ? "available" : "unavailable");
  printf("%-11s %s\n", "utf8proc:", utf8proc_version());
  if (!no_bench) {
    double gf = 0;
    skl_error err = {0};
    if (skl_blas_sgemm_gflops(512, 5, &gf, &err) == SKL_OK)
      printf("%-11s 512x512x512 %.1f GFLOP/s (best of 5, %d BLAS threads, core %s)\n", "sgemm:", gf, skl_blas_threads(),
             skl_blas_core());
    else
      printf("%-11s not measured: %s\n", "sgemm:", err.msg);
  }
  if (cores) print_cores(&cpu);
  return 0;
}
