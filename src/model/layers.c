/* skl layers: embedding, RMSNorm, linear, SwiGLU, RoPE forward/backward.
 * Not attention (attention.c) nor the fused cross-entropy (ce.c). */
#include "model/layers.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"


/* Blocks per parallel skl_gemm along M or N: few, because each block's
 * OpenBLAS call packs the whole shared operand again. */
#define GEMM_BLOCKS 2

/* C = alpha * A @ B + beta * C as two halves of K run side by side: the
 * first into C, the second into a buffer added afterwards, always in that
 * order (the split depends on the shape alone). For long reductions into a
 * small C (weight gradients), where a split along M or N would pack the
 * long operand once per block. false: no buffer (the caller runs it whole). */
static bool gemm_split_k(CBLAS_TRANSPOSE TA, CBLAS_TRANSPOSE TB, bool ta, bool tb, int M, int N,
                         int K, float alpha, const float *A, int lda, const float *B, int ldb,
                         float beta, float *C, int ldc) {
  int k0 = (K / 2 + 15) & ~15;
  float *tmp = malloc(sizeof(float) * (size_t)M * N);
  if (!tmp) return false;
  const float *A1 = ta ? A + (size_t)k0 * lda : A + k0;
  const float *B1 = tb ? B + k0 : B + (size_t)k0 * ldb;
#pragma omp parallel for schedule(static, 1)
  for (int b = 0; b < 2; b++) {
    if (b == 0)
      cblas_sgemm(CblasRowMajor, TA, TB, M, N, k0, alpha, A, lda, B, ldb, beta, C, ldc);
    else
      cblas_sgemm(CblasRowMajor, TA, TB, M, N, K - k0, alpha, A1, lda, B1, ldb, 0.0f, tmp, N);
  }
#pragma omp parallel for schedule(static)
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * ldc;
    const float *t = tmp + (size_t)i * N;
#pragma omp simd
    for (int j = 0; j < N; j++) c[j] += t[j];
  }
  free(tmp);
  return true;
}

void skl_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc) {
  CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  /* One level of parallelism: OpenBLAS stays at one thread and OpenMP runs
   * blocks of the larger output dimension (or two halves of a long K).
   * Block sizes come from the shape alone, so every element is computed by
   * the same single-threaded calls whatever the thread count (OpenBLAS's
   * own threading is not deterministic across thread counts). */
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
  bool split_m = M >= N;
  int D = split_m ? M : N;
  int blk = (D / GEMM_BLOCKS + 15) & ~15;
  blk = blk < 128 ? 128 : blk;
  int nb = (D + blk - 1) / blk;
  bool small = omp_in_parallel() || (double)M * N * K < 4194304.0;
  if (!small && K >= 4 * D && K >= 512 &&
      gemm_split_k(TA, TB, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
    return;
  if (nb < 2 || small) {
    cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int b = 0; b < nb; b++) {
    int d0 = b * blk, dd = D - d0 < blk ? D - d0 : blk;
    if (split_m) {
      const float *Ab = ta ? A + d0 : A + (size_t)d0 * lda;
      cblas_sgemm(CblasRowMajor, TA, TB, dd, N, K, alpha, Ab, lda, B, ldb, beta,
                  C + (size_t)d0 * ldc, ldc);
    } else {
      const float *Bb = tb ? B + (size_t)d0 * ldb : B + d0;
      cblas_sgemm(CblasRowMajor, TA, TB, M, dd, K, alpha, A, lda, Bb, ldb, beta, C + d0, ldc);
    }
  }
}

/* Column blocks: reductions over rows (dw of a norm, bias grads, embedding
 * scatter) are parallel over columns so every sum runs in row order, the
 * same for any thread count (determinism, DESIGN §4). */
#define COLBLK 16

void skl_embed_forward(float *out, const int32_t *tokens, const float *wte, int N, int C) {
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * C))
  for (int n = 0; n < N; n++) memcpy(out + (size_t)n * C, wte + (size_t)tokens[n] * C, sizeof(float) * C);
}

void skl_embed_backward(float *dwte, const float *dout, const int32_t *tokens, int N, int C) {
  int nb = (C + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * C))
  for (int b = 0; b < nb; b++) {
    int c0 = b * COLBLK, c1 = c0 + COLBLK < C ? c0 + COLBLK : C;
    for (int n = 0; n < N; n++) {
      float *d = dwte + (size_t)tokens[n] * C;
      const float *g = dout + (size_t)n * C;
      for (int c = c0; c < c1; c++) d[c] += g[c];
    }
  }
}

void skl_rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C,
                         float eps) {
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * C))
  for (int n = 0; n < N; n++) {
    const float *x = inp + (size_t)n * C;
    float *o = out + (size_t)n * C;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; c++) ss += x[c] * x[c];
    float r = 1.0f / sqrtf(ss / (float)C + eps);
    if (rstd) rstd[n] = r;
#pragma omp simd
    for (int c = 0; c < C; c++) o[c] = x[c] * r * w[c];
  }
}

void skl_rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
                          const float *w, const float *rstd, int N, int C) {
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * C))
  for (int n = 0; n < N; n++) {
    const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
    float *dx = dinp + (size_t)n * C;
    float r = rstd[n], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int c = 0; c < C; c++) dot += g[c] * w[c] * x[c];
    float k = dot * r * r / (float)C; /* mean(dxhat * xhat) / rstd */
#pragma omp simd
    for (int c = 0; c < C; c++) dx[c] += r * (g[c] * w[c] - x[c] * k);
  }
  if (!dw) return;
  int nb = (C + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * C))
  for (int b = 0; b < nb; b++) {
    int c0 = b * COLBLK, c1 = c0 + COLBLK < C ? c0 + COLBLK : C;
    float acc[COLBLK] = {0};
    for (int n = 0; n < N; n++) {
      const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
      float r = rstd[n];
      for (int c = c0; c < c1; c++) acc[c - c0] += g[c] * x[c] * r;
    }
    for (int c = c0; c < c1; c++) dw[c] += acc[c - c0];
  }
}

void skl_linear_forward(float *out, const float *inp, const float *w, const float *bias, int N,
                        int IC, int OC) {
  float beta = 0.0f;
  if (bias) {
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * OC))
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * OC, bias, sizeof(float) * OC);
    beta = 1.0f;
  }
  skl_gemm(false, true, N, OC, IC, 1.0f, inp, IC, w, IC, beta, out, OC);
}

void skl_linear_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                         const float *w, int N, int IC, int OC) {
  if (dinp)
    skl_gemm(false, false, N, IC, OC, 1.0f, dout, OC, w, IC, 1.0f, dinp, IC);
  if (dw)
    skl_gemm(true, false, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
  if (dbias) {
    int nb = (OC + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * OC))
    for (int b = 0; b < nb; b++) {
      int c0 = b * COLBLK, c1 = c0 + COLBLK < OC ? c0 + COLBLK : OC;
      float acc[COLBLK] = {0};
      for (int n = 0; n < N; n++)
        for (int c = c0; c < c1; c++) acc[c - c0] += dout[(size_t)n * OC + c];
      for (int c = c0; c < c1; c++) dbias[c] += acc[c - c0];
    }
  }
}

void skl_swiglu_forward(float *out, const float *gate, const float *up, size_t n) {
#pragma omp parallel for simd schedule(static) if (SKL_PAR(n))
  for (size_t i = 0; i < n; i++) {
    float g = gate[i];
    out[i] = g / (1.0f + skl_expf(-g)) * up[i];
  }
}

void skl_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, size_t n) {
#pragma omp parallel for simd schedule(static) if (SKL_PAR(n))
  for (size_t i = 0; i < n; i++) {
    float g = gate[i], s = 1.0f / (1.0f + skl_expf(-g));
    float silu = g * s;
    dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
    dup[i] += dout[i] * silu;
  }
}

/* transformers modeling_rope_utils.py, transcribed. */
void skl_rope_init(float *inv_freq, float *attn_factor, const skl_model_config *cfg) {
  int HD = cfg->head_dim, half = HD / 2;
  double base = cfg->rope_theta;
  *attn_factor = 1.0f;
  for (int i = 0; i < half; i++) {
    /* torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32 */
    float e = (float)(2 * i) / (float)HD;
    float pw = powf((float)base, e);
    inv_freq[i] = 1.0f / pw;
  }
  if (cfg->rope_type == SKL_ROPE_LINEAR) {
    for (int i = 0; i < half; i++) inv_freq[i] /= cfg->rope_factor;
  } else if (cfg->rope_type == SKL_ROPE_LLAMA3) {
    double factor = cfg->rope_factor, lo = cfg->rope_low_freq_factor, hi = cfg->rope_high_freq_factor;
    double old = cfg->rope_orig_max_position;
    double lo_wl = old / lo, hi_wl = old / hi;
    for (int i = 0; i < half; i++) {
      float f = inv_freq[i];
      float wl = 2.0f * (float)M_PI / f;
      float fl = wl > lo_wl ? f / (float)factor : f;
      float smooth = ((float)old / wl - (float)lo) / (float)(hi - lo);
      float smoothed = (1.0f - smooth) * fl / (float)factor + smooth * fl;
      bool medium = !(wl < hi_wl) && !(wl > lo_wl);
      inv_freq[i] = medium ? smoothed : fl;
    }
  } else if (cfg->rope_type == SKL_ROPE_YARN) {
    double factor = cfg->rope_factor;
    double orig = cfg->rope_orig_max_position > 0 ? cfg->rope_orig_max_position : cfg->max_position;
    double bf = cfg->yarn_beta_fast > 0 ? cfg->yarn_beta_fast : 32.0;
    double bs = cfg->yarn_beta_slow > 0 ? cfg->yarn_beta_slow : 1.0;
    *attn_factor = cfg->rope_attn_factor > 0 ? cfg->rope_attn_factor
                   : factor <= 1.0                ? 1.0f
                                                  : (float)(0.1 * log(factor) + 1.0);
    double low = floor((HD * log(orig / (bf * 2 * M_PI))) / (2 * log(base)));
    double high = ceil((HD * log(orig / (bs * 2 * M_PI))) / (2 * log(base)));
    if (low < 0) low = 0;
    if (high > HD - 1) high = HD - 1;
    if (low == high) high += 0.001;
    for (int i = 0; i < half; i++) {
      float pos_freq = powf((float)base, (float)(2 * i) / (float)HD);
      float extra = 1.0f / pos_freq, inter = 1.0f / ((float)factor * pos_freq);
      float ramp = ((float)i - (float)low) / (float)(high - low);
      ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
      float ef = 1.0f - ramp;
      inv_freq[i] = inter * (1.0f - ef) + extra * ef;
    }
  }
}

void skl_rope_table(float *cs, const int32_t *pos, int N, const float *inv_freq, float attn_factor,
                    int HD) {
  int half = HD / 2;
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * HD))
  for (int n = 0; n < N; n++) {
    float p = (float)pos[n];
    float *t = cs + (size_t)n * HD;
    for (int i = 0; i < half; i++) {
      float a = p * inv_freq[i];
      t[2 * i] = cosf(a) * attn_factor;
      t[2 * i + 1] = sinf(a) * attn_factor;
    }
  }
}

static void rope_apply(float *x, const float *cs, int N, int H, int HD, size_t stride, float sgn) {
  int half = HD / 2;
#pragma omp parallel for schedule(static) if (SKL_PAR((size_t)N * H * HD))
  for (int n = 0; n < N; n++) {
    const float *t = cs + (size_t)n * HD;
    for (int h = 0; h < H; h++) {
      float *a = x + (size_t)n * stride + (size_t)h * HD, *b = a + half;
#pragma omp simd
      for (int i = 0; i < half; i++) {
        float c = t[2 * i], s = sgn * t[2 * i + 1];
        float x1 = a[i], x2 = b[i];
        a[i] = x1 * c - x2 * s;
        b[i] = x2 * c + x1 * s;
      }
    }
  }
}

void skl_rope_forward(float *x, const float *cs, int N, int H, int HD, size_t stride) {
  rope_apply(x, cs, N, H, HD, stride, 1.0f);
}

void skl_rope_backward(float *dx, const float *cs, int N, int H, int HD, size_t stride) {
  rope_apply(dx, cs, N, H, HD, stride, -1.0f);
}
