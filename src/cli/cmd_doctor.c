/* skillrl doctor: one screen about the environment: CPU, BLAS kernel and
 * threads, MPI, library versions, a measured sgemm. Not a benchmark: see bench. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <cblas.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int skl_cmd_doctor(int argc, char **argv) {
  bool no_bench = false;
  const skl_arg_opt opts[] = {
      {"no-bench", 0, SKL_ARG_FLAG, &no_bench, NULL, "skip the sgemm measurement"},
  };
  skl_arg_spec spec = {"skillrl doctor",
                       "[--no-bench]",
                       "Report the environment: CPU features, the OpenBLAS kernel and threads (with a\n"
                       "fix when it picked a generic kernel), OpenMP, MPI, library versions and a\n"
                       "measured 512x512 sgemm.",
                       opts,
                       1,
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
  return 0;
}
