/* skl fused output projection + cross-entropy, chunked over tokens so no
 * [N, V] logits exist. Not sampling (src/decode) and not the loss policy. */
#include <cblas.h>
#include <math.h>

#include "model/layers.h"
#include "model/model_internal.h"

/* ~4M floats (16 MiB) of logits per chunk: large enough for efficient sgemm
 * at small V, small enough at V = 150k (26 rows). */
int skl_ce_chunk(int V) {
  int c = (int)((4u << 20) / (unsigned)V);
  return c < 16 ? 16 : c > 1024 ? 1024 : c;
}

size_t skl_ce_scratch_floats(int V, int C) {
  (void)C;
  return (size_t)skl_ce_chunk(V) * (V + 1); /* logits, then -logp per row */
}

double skl_ce_fused(float *logp, float *ent, float *top1, float *dx, float *dwout, const float *x,
                    const float *wout, const int32_t *targets, const float *coef, int N, int C,
                    int V, float *scratch) {
  int chunk = skl_ce_chunk(V);
  double loss = 0.0;
  for (int n0 = 0; n0 < N; n0 += chunk) {
    int nc = N - n0 < chunk ? N - n0 : chunk;
    float *lg = scratch; /* [nc, V] */
    skl_gemm(false, true, nc, V, C, 1.0f, x + (size_t)n0 * C, C, wout, C, 0.0f, lg, V);
    float *nlp = scratch + (size_t)chunk * V; /* [nc] -logp, summed in row order below */
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)nc * V / 4))
    for (int r = 0; r < nc; r++) {
      int n = n0 + r, y = targets[n];
      float *row = lg + (size_t)r * V;
      if (y < 0) {
        nlp[r] = 0.0f;
        if (logp) logp[n] = 0.0f;
        if (ent) ent[n] = 0.0f;
        if (top1) top1[n] = 0.0f;
        if (dx)
          for (int j = 0; j < V; j++) row[j] = 0.0f;
        continue;
      }
      float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
      for (int j = 0; j < V; j++) mx = row[j] > mx ? row[j] : mx;
      float sum = 0.0f, sl = 0.0f;
#pragma omp simd reduction(+ : sum, sl)
      for (int j = 0; j < V; j++) {
        float z = row[j] - mx, e = skl_expf(z);
        sum += e;
        sl += e * z;
      }
      float lz = logf(sum);
      float lp = row[y] - mx - lz;
      if (logp) logp[n] = lp;
      if (ent) ent[n] = lz - sl / sum; /* -sum p log p = log Z - E[z] */
      if (top1) top1[n] = row[y] >= mx ? 1.0f : 0.0f; /* ties count as a hit */
      float cf = coef ? coef[n] : 1.0f;
      nlp[r] = -lp;
      if (dx) {
        float inv = cf / sum;
#pragma omp simd
        for (int j = 0; j < V; j++) row[j] = skl_expf(row[j] - mx) * inv;
        row[y] -= cf;
      }
    }
    /* in row order, whatever the thread count (the product of two floats is
     * exact in double) */
    for (int r = 0; r < nc; r++)
      if (targets[n0 + r] >= 0) loss += (double)(coef ? coef[n0 + r] : 1.0f) * (double)nlp[r];
    if (dx) {
      skl_gemm(false, false, nc, C, V, 1.0f, lg, V, wout, C, 1.0f, dx + (size_t)n0 * C, C);
      if (dwout)
        skl_gemm(true, false, V, C, nc, 1.0f, lg, V, x + (size_t)n0 * C, C, 1.0f, dwout, C);
    }
  }
  return loss;
}
