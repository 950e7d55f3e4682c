/* skl optim: AdamW, gradient clipping and the learning-rate schedule.
 * Not the loss or the data loop. */
#include "model/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

skl_status skl_adamw_init(skl_adamw *o, const skl_model *m, const skl_adamw_config *c,
                          skl_error *err) {
  memset(o, 0, sizeof *o);
#define RANGE(cond, key)                                                                     \
  if (!(cond)) return skl_error_set(err, SKL_ERR_RANGE, "optimizer: %s out of range", key)
  RANGE(c->lr >= 0 && isfinite(c->lr), "lr");
  RANGE(c->beta1 >= 0 && c->beta1 < 1, "beta1 (need 0 <= beta1 < 1)");
  RANGE(c->beta2 >= 0 && c->beta2 < 1, "beta2 (need 0 <= beta2 < 1)");
  RANGE(c->eps > 0, "eps (need > 0)");
  RANGE(c->weight_decay >= 0, "weight_decay (need >= 0)");
  RANGE(c->warmup_steps >= 0, "warmup_steps (need >= 0)");
  RANGE(c->min_lr_ratio >= 0 && c->min_lr_ratio <= 1, "min_lr_ratio (need [0, 1])");
#undef RANGE
  o->cfg = *c;
  o->n = m->n_params;
  o->mem = calloc(2 * o->n, sizeof(float));
  if (!o->mem)
    return skl_error_set(err, SKL_ERR_NOMEM, "optimizer: cannot allocate %.1f MiB of moments",
                         o->n * 8.0 / (1 << 20));
  o->m = o->mem;
  o->v = o->mem + o->n;
  return SKL_OK;
}

void skl_adamw_free(skl_adamw *o) {
  if (!o) return;
  free(o->mem);
  memset(o, 0, sizeof *o);
}

double skl_lr_at(const skl_adamw_config *c, int64_t step) {
  if (c->warmup_steps > 0 && step < c->warmup_steps)
    return c->lr * (double)(step + 1) / (double)c->warmup_steps;
  if (c->total_steps <= 0) return c->lr;
  int64_t span = c->total_steps - c->warmup_steps;
  if (span <= 0 || step >= c->total_steps) return c->lr * c->min_lr_ratio;
  double prog = (double)(step - c->warmup_steps) / (double)span;
  double cosv = 0.5 * (1.0 + cos(M_PI * prog));
  return c->lr * (c->min_lr_ratio + (1.0 - c->min_lr_ratio) * cosv);
}

#define NBLK 4096
double skl_grad_norm(const float *g, size_t n) {
  size_t nb = (n + NBLK - 1) / NBLK;
  double total = 0.0;
  /* blocks are summed in index order after a parallel per-block pass: the
   * result does not depend on the thread count */
  double *part = malloc(sizeof(double) * (nb ? nb : 1));
  if (!part) { /* fall back to a serial sum */
    for (size_t i = 0; i < n; i++) total += (double)g[i] * g[i];
    return sqrt(total);
  }
#pragma omp parallel for schedule(static) if (n >= 65536)
  for (size_t b = 0; b < nb; b++) {
    size_t i0 = b * NBLK, i1 = i0 + NBLK < n ? i0 + NBLK : n;
    double s = 0.0;
    for (size_t i = i0; i < i1; i++) s += (double)g[i] * g[i];
    part[b] = s;
  }
  for (size_t b = 0; b < nb; b++) total += part[b];
  free(part);
  return sqrt(total);
}

skl_status skl_adamw_step(skl_adamw *o, skl_model *m, double lr, double *grad_norm,
                          skl_error *err) {
  if (!m->grad_mem)
    return skl_error_set(err, SKL_ERR_STATE, "optimizer step: the model has no gradients");
  double norm = skl_grad_norm(m->grad_mem, m->n_params);
  if (grad_norm) *grad_norm = norm;
  if (!isfinite(norm))
    return skl_error_set(err, SKL_ERR_NUMERIC,
                         "optimizer step %lld: gradient norm is %g; parameters left unchanged "
                         "(lower the learning rate or check the data)",
                         (long long)o->step, norm);
  const skl_adamw_config *c = &o->cfg;
  float clip = c->grad_clip > 0 && norm > c->grad_clip ? (float)(c->grad_clip / (norm + 1e-6)) : 1.0f;
  double t = (double)(o->step + 1);
  float b1 = (float)c->beta1, b2 = (float)c->beta2;
  float bc1 = (float)(1.0 - pow(c->beta1, t)), bc2s = (float)sqrt(1.0 - pow(c->beta2, t));
  float step_size = (float)lr / bc1, eps = (float)c->eps;
  for (int ti = 0; ti < m->n_tensors; ti++) {
    const skl_tensor_info *tn = &m->tensors[ti];
    float decay = tn->decay ? (float)(1.0 - lr * c->weight_decay) : 1.0f;
    float *p = m->param_mem + tn->offset, *g = m->grad_mem + tn->offset;
    float *mm = o->m + tn->offset, *vv = o->v + tn->offset;
    size_t n = tn->numel;
#pragma omp parallel for simd schedule(static) if (n >= 32768)
    for (size_t i = 0; i < n; i++) {
      float gi = g[i] * clip;
      mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
      vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
      float denom = sqrtf(vv[i]) / bc2s + eps;
      p[i] = p[i] * decay - step_size * mm[i] / denom;
    }
  }
  o->step++;
  return SKL_OK;
}
