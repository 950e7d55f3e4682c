/* eval stats: mean/SE, average ranks, Spearman with t-distribution p-values
 * (incomplete beta by Lentz's continued fraction). Not vectorised: the inputs
 * are a handful of models. */
#include "eval/stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

void eval_mean_se(const double *x, size_t n, double *mean, double *se) {
  *mean = *se = NAN;
  if (n == 0) return;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  double m = s / (double)n;
  *mean = m;
  if (n < 2) return;
  double ss = 0;
  for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
  *se = sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

typedef struct {
  double v;
  size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b) {
  const ranked *p = a, *q = b;
  if (p->v != q->v) return p->v < q->v ? -1 : 1;
  return p->i < q->i ? -1 : p->i > q->i;
}

skl_status eval_rankdata(const double *x, size_t n, double *ranks, skl_error *err) {
  ranked *r = malloc((n + 1) * sizeof *r);
  if (!r) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (isnan(x[i])) { free(r); return skl_error_set(err, SKL_ERR_INVALID, "rank of NaN at index %zu", i); }
    r[i].v = x[i];
    r[i].i = i;
  }
  qsort(r, n, sizeof *r, cmp_ranked);
  for (size_t s = 0; s < n;) {
    size_t e = s;
    while (e + 1 < n && r[e + 1].v == r[s].v) e++;
    double avg = (double)(s + e) / 2.0 + 1.0;
    for (size_t k = s; k <= e; k++) ranks[r[k].i] = avg;
    s = e + 1;
  }
  free(r);
  return SKL_OK;
}

skl_status eval_spearman(const double *x, const double *y, size_t n, double *rho, double *p, skl_error *err) {
  *rho = *p = NAN;
  if (n < 3)
    return skl_error_set(err, SKL_ERR_INVALID, "Spearman correlation needs at least 3 pairs, got %zu", n);
  double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
  if (!rx || !ry) { free(rx); free(ry); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  skl_status st = eval_rankdata(x, n, rx, err);
  if (!st) st = eval_rankdata(y, n, ry, err);
  if (st) { free(rx); free(ry); return st; }
  int cx = 1, cy = 1;
  for (size_t i = 1; i < n; i++) { cx &= x[i] == x[0]; cy &= y[i] == y[0]; }
  if (cx || cy) { free(rx); free(ry); return SKL_OK; } /* undefined: NaN, as scipy */
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) { mx += rx[i]; my += ry[i]; }
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  free(rx);
  free(ry);
  double dof = (double)(n - 2), d1 = (double)(n - 1);
  /* np.corrcoef: c_xy / sqrt(c_xx) / sqrt(c_yy), then clipped */
  double r = (sxy / d1) / sqrt(sxx / d1) / sqrt(syy / d1);
  if (r > 1.0) r = 1.0;
  if (r < -1.0) r = -1.0;
  *rho = r;
  double q = dof / ((r + 1.0) * (1.0 - r));
  if (!(q > 0)) q = q < 0 ? 0 : q; /* scipy clips small negatives to 0 */
  double t = r * sqrt(q);
  *p = isinf(t) ? 0.0 : 2.0 * eval_student_t_sf(fabs(t), dof);
  return SKL_OK;
}

/* Continued fraction for I_x(a, b) (modified Lentz). */
static double betacf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-16;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; m++) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < eps) break;
  }
  return h;
}

double eval_betainc(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  double bt = exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return bt * betacf(a, b, x) / a;
  return 1 - bt * betacf(b, a, 1 - x) / b;
}

double eval_student_t_sf(double t, double df) {
  if (isnan(t)) return NAN;
  if (isinf(t)) return t > 0 ? 0.0 : 1.0;
  double x = df / (df + t * t);
  double tail = 0.5 * eval_betainc(df / 2, 0.5, x); /* P(T > |t|) */
  return t > 0 ? tail : 1 - tail;
}
