/* tests for eval/stats.h: hand-computed mean/SE, ranks, t tails, Spearman,
 * then random cases (ties, constants) against scipy.stats.spearmanr (or the
 * same formula in Python where scipy is missing). */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/rng.h"
#include "eval/stats.h"
#include "harness.h"
#include "pyref.h"

static void test_hand(void) {
  double m, se;
  const double x1[] = {1, 2, 3, 4};
  eval_mean_se(x1, 4, &m, &se);
  CHECK_NEAR(m, 2.5, 1e-15);
  CHECK_NEAR(se, sqrt(5.0 / 3.0) / 2.0, 1e-15); /* s^2 = 5/3, n = 4 */
  eval_mean_se(x1, 1, &m, &se);
  CHECK(m == 1.0 && isnan(se));
  eval_mean_se(x1, 0, &m, &se);
  CHECK(isnan(m) && isnan(se));

  double r[4];
  const double x2[] = {10, 20, 20, 5};
  CHECK(eval_rankdata(x2, 4, r, NULL) == SKL_OK);
  CHECK(r[0] == 2 && r[1] == 3.5 && r[2] == 3.5 && r[3] == 1);
  const double x3[] = {1, NAN, 2};
  skl_error err = {0};
  CHECK(eval_rankdata(x3, 3, r, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "NaN");

  CHECK_NEAR(eval_student_t_sf(0, 5), 0.5, 1e-15);
  CHECK_NEAR(eval_student_t_sf(1, 1), 0.25, 1e-14);                       /* Cauchy */
  CHECK_NEAR(eval_student_t_sf(2, 2), 0.5 - 2 / (2 * sqrt(6.0)), 1e-14);  /* closed form, df = 2 */
  CHECK_NEAR(eval_student_t_sf(-2, 2), 0.5 + 2 / (2 * sqrt(6.0)), 1e-14);
  CHECK_NEAR(eval_betainc(3.5, 3.5, 0.5), 0.5, 1e-14);                    /* symmetry */
  CHECK_NEAR(eval_betainc(1, 1, 0.3), 0.3, 1e-14);                        /* uniform */

  double rho, p;
  const double a[] = {1, 2, 3, 4, 5}, b[] = {5, 6, 7, 8, 7};
  CHECK(eval_spearman(a, b, 5, &rho, &p, NULL) == SKL_OK);
  CHECK_NEAR(rho, 0.8207826816681233, 1e-14); /* scipy 1.10 */
  CHECK_NEAR(p, 0.08858700531354381, 1e-12);
  const double c[] = {3, 1, 2, 9};
  const double d[] = {30, 10, 20, 90};
  CHECK(eval_spearman(c, d, 4, &rho, &p, NULL) == SKL_OK && rho == 1.0 && p == 0.0);
  const double e[] = {7, 7, 7, 7};
  CHECK(eval_spearman(c, e, 4, &rho, &p, NULL) == SKL_OK && isnan(rho) && isnan(p));
  CHECK(eval_spearman(c, d, 2, &rho, &p, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "at least 3");
}

static void test_vs_python(void) {
  enum { N = 300, MAXN = 16 };
  skl_rng r;
  skl_rng_seed(&r, 7);
  double x[N][MAXN], y[N][MAXN];
  size_t n[N];
  pyref ref = {0};
  for (int i = 0; i < N; i++) {
    n[i] = 3 + skl_rng_below(&r, MAXN - 2);
    int mode = i % 4;
    json_t *jx = json_array(), *jy = json_array();
    for (size_t k = 0; k < n[i]; k++) {
      if (mode == 0) { x[i][k] = skl_rng_uniform(&r); y[i][k] = x[i][k] + 0.3 * skl_rng_normal(&r); }
      else if (mode == 1) { x[i][k] = (double)skl_rng_below(&r, 4); y[i][k] = (double)skl_rng_below(&r, 3); } /* ties */
      else if (mode == 2) { x[i][k] = 100 * skl_rng_uniform(&r); y[i][k] = -x[i][k] * x[i][k]; }          /* rho -1 */
      else { x[i][k] = (double)skl_rng_below(&r, 50); y[i][k] = i % 8 == 3 ? 5.0 : skl_rng_normal(&r); } /* constants */
      json_array_append_new(jx, json_real(x[i][k]));
      json_array_append_new(jy, json_real(y[i][k]));
    }
    pyref_add(&ref, json_pack("{s:s, s:o, s:o}", "fn", "spearman", "x", jx, "y", jy));
  }
  json_t *ans = pyref_run(&ref);
  CHECK(ans != NULL);
  int bad = 0, n_nan = 0, n_scipy = 0;
  for (int i = 0; ans && i < N; i++) {
    json_t *o = json_array_get(ans, (size_t)i);
    json_t *jr = json_object_get(o, "rho"), *jp = json_object_get(o, "p");
    bool scipy = !strcmp(json_string_value(json_object_get(o, "src")), "scipy");
    n_scipy += scipy;
    double rho, p;
    skl_status st = eval_spearman(x[i], y[i], n[i], &rho, &p, NULL);
    bool ok = st == SKL_OK;
    if (json_is_null(jr)) {
      n_nan++;
      ok = ok && isnan(rho) && isnan(p);
    } else {
      double wr = json_number_value(jr), wp = json_number_value(jp);
      /* scipy's stdtr is accurate to ~1e-15 relative; the fallback formula
       * loses digits for tiny p by cancellation, so it gets a looser bound */
      double ptol = scipy ? 1e-10 * wp + 1e-15 : 1e-5 * wp + 1e-12;
      ok = ok && fabs(rho - wr) <= 1e-12 && fabs(p - wp) <= ptol;
      if (!ok && bad < 5)
        fprintf(stderr, "spearman case %d (n=%zu): C rho %.17g p %.17g; ref rho %.17g p %.17g\n", i, n[i], rho, p,
                wr, wp);
    }
    bad += !ok;
  }
  CHECK_MSG(bad == 0, "%d of %d Spearman cases differ from the reference", bad, N);
  CHECK_MSG(n_nan > 10, "only %d constant-input cases", n_nan);
  if (ans && !n_scipy) fprintf(stderr, "note: scipy not installed; compared with the t-distribution formula\n");
  json_decref(ans);
}

int main(void) {
  test_hand();
  test_vs_python();
  return test_report();
}
