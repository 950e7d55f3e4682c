/* skl optim: AdamW with decoupled weight decay over the model's flat
 * parameter array, global-norm gradient clipping, and the warmup + cosine
 * learning-rate schedule. Not a trainer loop (rl/) and not checkpoints. */
#ifndef SKL_MODEL_OPTIM_H
#define SKL_MODEL_OPTIM_H

#include <stdint.h>

#include "core/error.h"
#include "model/model.h"

typedef struct {
  double lr;            /* peak learning rate */
  double beta1, beta2;  /* 0.9, 0.95 typical */
  double eps;           /* 1e-8 */
  double weight_decay;  /* decoupled, applied to tensors with decay = true */
  double grad_clip;     /* global-norm clip; <= 0: off */
  int64_t warmup_steps; /* linear warmup from 0 over this many steps */
  int64_t total_steps;  /* cosine decay ends here; <= 0: constant after warmup */
  double min_lr_ratio;  /* floor of the cosine, as a fraction of lr */
} skl_adamw_config;

/* The optimizer: first and second moments as ONE allocation [2, n_params],
 * sliced like the parameters (the model's tensor table indexes them). */
typedef struct {
  skl_adamw_config cfg;
  size_t n;      /* n_params */
  float *mem;    /* [2, n] */
  float *m;      /* [n] exp_avg */
  float *v;      /* [n] exp_avg_sq */
  int64_t step;  /* updates applied so far (bias correction uses step + 1) */
} skl_adamw;

/* @return SKL_OK, SKL_ERR_RANGE (bad hyper-parameter, naming it), NOMEM */
skl_status skl_adamw_init(skl_adamw *o, const skl_model *m, const skl_adamw_config *cfg,
                          skl_error *err);
void skl_adamw_free(skl_adamw *o); /* NULL ok */

/* Learning rate at `step` (0-based): lr * (step+1)/warmup during warmup, then
 * cosine from lr to lr*min_lr_ratio at total_steps, flat after. */
double skl_lr_at(const skl_adamw_config *cfg, int64_t step);

/* sqrt(sum g^2) in double, in a fixed block order (same for any thread count). */
double skl_grad_norm(const float *g, size_t n);

/* One update of m's parameters from m's gradients at learning rate lr:
 * clip to cfg.grad_clip by global norm, then for every tensor
 *   p -= lr * wd * p (decay tensors only); m = b1 m + (1-b1) g;
 *   v = b2 v + (1-b2) g^2; p -= lr * m_hat / (sqrt(v_hat) + eps)
 * exactly as torch.optim.AdamW. *grad_norm (may be NULL) gets the norm before
 * clipping. A non-finite norm changes nothing and returns SKL_ERR_NUMERIC.
 * @return SKL_OK, SKL_ERR_NUMERIC, SKL_ERR_STATE (no gradients) */
skl_status skl_adamw_step(skl_adamw *o, skl_model *m, double lr, double *grad_norm,
                          skl_error *err);

#endif
