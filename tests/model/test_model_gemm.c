/* skl_gemm (src/model/layers.c): every way it splits a product (two blocks
 * along M, along N, two halves of a long K, one call when small) against a
 * double-precision reference, with beta 0 and 1 and every transpose, and
 * bit-identical results at 1 and 2 threads. Not OpenBLAS itself. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/model_internal.h"

static float frand(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float *rand_buf(size_t n, unsigned seed) {
  float *x = malloc(sizeof(float) * n);
  for (size_t i = 0; i < n; i++) x[i] = frand(&seed);
  return x;
}

static void check_case(const char *name, bool ta, bool tb, int M, int N, int K, float beta) {
  int lda = ta ? M + 3 : K + 5, ldb = tb ? K + 1 : N + 2, ldc = N + 7;
  size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
  float *A = rand_buf(na, 1), *B = rand_buf(nb, 2), *C0 = rand_buf(nc, 3);
  float *C1 = malloc(sizeof(float) * nc), *C2 = malloc(sizeof(float) * nc);
  memcpy(C1, C0, sizeof(float) * nc);
  memcpy(C2, C0, sizeof(float) * nc);
  int nt = omp_get_max_threads();
  omp_set_num_threads(1);
  skl_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C1, ldc);
  omp_set_num_threads(2);
  skl_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C2, ldc);
  omp_set_num_threads(nt);
  CHECK_MSG(!memcmp(C1, C2, sizeof(float) * nc), "%s: 1 vs 2 threads differ", name);
  double maxerr = 0.0;
  bool pad_kept = true;
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      double acc = 0.0;
      for (int k = 0; k < K; k++) {
        double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
        double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
        acc += a * b;
      }
      double want = 0.5 * acc + beta * C0[(size_t)i * ldc + j];
      double e = fabs(C1[(size_t)i * ldc + j] - want);
      maxerr = e > maxerr ? e : maxerr;
    }
    for (int j = N; j < ldc; j++) pad_kept = pad_kept && C1[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j];
  }
  CHECK_MSG(maxerr < 1e-5 * sqrt((double)K) * 8, "%s: max error %g vs double reference", name, maxerr);
  CHECK_MSG(pad_kept, "%s: wrote past N in a row", name);
  free(A);
  free(B);
  free(C0);
  free(C1);
  free(C2);
}

int main(void) {
  /* weight gradient shapes: long K, split into two halves (K not a multiple of 32) */
  check_case("dW tn K split", true, false, 80, 96, 1000, 1.0f);
  check_case("dW tn K split beta 0", true, false, 64, 72, 2051, 0.0f);
  check_case("nt K split", false, true, 48, 40, 4000, 1.0f);
  /* forward / input gradient shapes: blocks along M, then along N */
  check_case("fwd nt M blocks", false, true, 1000, 72, 64, 0.0f);
  check_case("bwd nn M blocks", false, false, 700, 96, 80, 1.0f);
  check_case("tt N blocks", true, true, 72, 900, 96, 1.0f);
  /* small: one call */
  check_case("small", false, false, 33, 17, 9, 1.0f);
  return test_report();
}
