/* skl mtp loss: the teacher's top-N from the main model's logits and each
 * head's CE + self-distillation terms and logits gradient, chunked over
 * tokens (no [N, V] buffer). Not the heads' forward (step.c). */
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "mtp/mtp.h"
#include "mtp/mtp_internal.h"

/* ---- teacher ------------------------------------------------------------ */

/* Top-N of each row of the main model's logits (lnf @ wout^T), sorted by
 * logit descending; ties keep the smaller id (deterministic). */
void mtp_teacher_topn(skl_mtp_acts *a, const float *lnf, const float *wout, int N, int C, int V) {
  int chunk = skl_ce_chunk(V), topn = a->topn;
  for (int n0 = 0; n0 < N; n0 += chunk) {
    int nc = N - n0 < chunk ? N - n0 : chunk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nc, V, C, 1.0f, lnf + (size_t)n0 * C, C,
                wout, C, 0.0f, a->logits, V);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < nc; r++) {
      const float *z = a->logits + (size_t)r * V;
      int32_t *ti = a->top_idx + (size_t)(n0 + r) * topn;
      float *tl = a->top_logit + (size_t)(n0 + r) * topn;
      int filled = 0;
      for (int j = 0; j < V; j++) {
        float v = z[j];
        if (filled == topn && !(v > tl[topn - 1])) continue;
        int p = filled < topn ? filled++ : topn - 1;
        while (p > 0 && v > tl[p - 1]) {
          tl[p] = tl[p - 1];
          ti[p] = ti[p - 1];
          p--;
        }
        tl[p] = v;
        ti[p] = j;
      }
    }
  }
}

/* ---- loss of one head --------------------------------------------------- */

/* Forward loss terms of head kk into row_ce/row_kl/s_argmax; with dlnf, the
 * gradient w.r.t. its model.norm output [N, C] (overwritten). */
void mtp_head_loss(skl_mtp_acts *a, int kk, const float *wout, int N, int C, int V,
                      const skl_mtp_loss_config *lc, float *dlnf) {
  int chunk = skl_ce_chunk(V), topn = a->topn, k = kk + 1;
  size_t base = (size_t)kk * a->N;
  const float *lnf = a->lnf + base * C;
  float alpha = (float)lc->alpha, beta = (float)lc->beta, tau = (float)lc->tau, itau = 1.0f / tau;
  for (int n0 = 0; n0 < N; n0 += chunk) {
    int nc = N - n0 < chunk ? N - n0 : chunk;
    float *lg = a->logits;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nc, V, C, 1.0f, lnf + (size_t)n0 * C, C,
                wout, C, 0.0f, lg, V);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < nc; r++) {
      int n = n0 + r, y = a->tgt[base + n];
      float *z = lg + (size_t)r * V;
      if (y < 0) {
        a->row_ce[base + n] = a->row_kl[base + n] = 0.0f;
        a->s_argmax[base + n] = -1;
        if (dlnf) memset(z, 0, (size_t)V * sizeof(float));
        continue;
      }
      float mx = z[0];
      int am = 0;
      for (int j = 1; j < V; j++)
        if (z[j] > mx) {
          mx = z[j];
          am = j;
        }
      /* float exps summed in double; at tau = 1 the tempered sum is the same */
      bool tempered = beta > 0 && tau != 1.0f;
      double s1 = 0.0, st = 0.0;
      for (int j = 0; j < V; j++) s1 += expf(z[j] - mx);
      if (tempered)
        for (int j = 0; j < V; j++) st += expf((z[j] - mx) * itau);
      double lse = mx + log(s1), lse_t = tempered ? mx * (double)itau + log(st) : lse;
      a->row_ce[base + n] = (float)(lse - z[y]);
      a->s_argmax[base + n] = am;
      /* teacher at position n + k, renormalised over its top-N at tau */
      const int32_t *ti = a->top_idx + (size_t)(n + k) * topn;
      const float *tl = a->top_logit + (size_t)(n + k) * topn;
      double pt[SKL_MTP_MAX_TOPN], kl = 0.0;
      if (beta > 0) {
        double tz = 0.0, tm = tl[0] * (double)itau;
        for (int j = 0; j < topn; j++) tz += exp(tl[j] * (double)itau - tm);
        double ltz = log(tz);
        for (int j = 0; j < topn; j++) {
          double lpt = tl[j] * (double)itau - tm - ltz;
          pt[j] = exp(lpt);
          kl += pt[j] * (lpt - ((double)z[ti[j]] * itau - lse_t));
        }
      }
      a->row_kl[base + n] = (float)kl;
      if (!dlnf) continue;
      float cf = a->coef[base + n];
      float flse = (float)lse, flse_t = (float)lse_t, ca = cf * alpha, cb = cf * beta * tau;
      if (tempered)
        for (int j = 0; j < V; j++) z[j] = ca * expf(z[j] - flse) + cb * expf(z[j] * itau - flse_t);
      else
        for (int j = 0; j < V; j++) z[j] = (ca + (beta > 0 ? cb : 0.0f)) * expf(z[j] - flse);
      z[y] -= cf * alpha;
      if (beta > 0)
        for (int j = 0; j < topn; j++) z[ti[j]] -= (float)(cf * beta * tau * pt[j]);
    }
    if (dlnf)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nc, C, V, 1.0f, lg, V, wout, C, 0.0f,
                  dlnf + (size_t)n0 * C, C);
  }
}

