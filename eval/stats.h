/* eval stats: the few statistics the reports need: mean with standard error,
 * average ranks, Spearman's rho with scipy.stats.spearmanr's two-sided
 * p-value. Not a statistics library: no distributions beyond Student's t. */
#ifndef EVAL_STATS_H
#define EVAL_STATS_H

#include <stddef.h>

#include "core/error.h"

/* Mean of x[n] and its standard error s/sqrt(n), s the sample standard
 * deviation (ddof = 1). n == 0: both NaN; n == 1: se NaN. */
void eval_mean_se(const double *x, size_t n, double *mean, double *se);

/* Ranks 1..n of x[n], ties get the average of their ranks (scipy's
 * rankdata(method="average")). ranks[n] is written. NaN inputs: INVALID.
 * @return SKL_OK, SKL_ERR_INVALID or SKL_ERR_NOMEM */
skl_status eval_rankdata(const double *x, size_t n, double *ranks, skl_error *err);

/* Spearman rank correlation of x[n], y[n] as scipy.stats.spearmanr (1.10):
 * Pearson correlation of average ranks (cov / sd_x / sd_y, clipped to
 * [-1, 1]); p two-sided from Student's t with n-2 degrees of freedom,
 * t = rho * sqrt((n-2) / ((1+rho)(1-rho))), p = 0 when |rho| = 1.
 * A constant input gives rho = p = NaN (scipy warns and returns NaN).
 * @return SKL_OK, SKL_ERR_INVALID (n < 3, NaN input) or SKL_ERR_NOMEM */
skl_status eval_spearman(const double *x, const double *y, size_t n, double *rho, double *p, skl_error *err);

/* Student's t survival function P(T > t) for df > 0 degrees of freedom. */
double eval_student_t_sf(double t, double df);

/* Regularised incomplete beta I_x(a, b), a, b > 0, x in [0, 1]. */
double eval_betainc(double a, double b, double x);

#endif
