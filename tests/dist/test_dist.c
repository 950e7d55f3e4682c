/* Tests for src/dist: single-process identity; under mpirun (suite mpi) sums,
 * broadcast, and a stalled collective that must end in an error naming the
 * rank rather than a hang. Not a performance test. */
#include <stdlib.h>
#include <unistd.h>

#include "dist/dist.h"
#include "harness.h"

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "basic";
  skl_dist d;
  skl_error e;
  CHECK(skl_dist_init(&d, !strcmp(mode, "stall") ? 2.0 : 60.0, &e) == SKL_OK);
  float v[5];
  for (int i = 0; i < 5; i++) v[i] = (float)(d.rank + 1) * (float)(i + 1);
  CHECK(skl_dist_allreduce_f32(&d, v, 5, &e) == SKL_OK);
  float tri = (float)(d.size * (d.size + 1) / 2);
  for (int i = 0; i < 5; i++) CHECK_NEAR(v[i], tri * (i + 1), 1e-4);
  double w[2] = {0.5, d.rank};
  CHECK(skl_dist_allreduce_f64(&d, w, 2, &e) == SKL_OK);
  CHECK_NEAR(w[0], 0.5 * d.size, 1e-12);
  char msg[16] = {0};
  if (d.rank == 0) snprintf(msg, sizeof msg, "hello");
  CHECK(skl_dist_bcast(&d, msg, sizeof msg, 0, &e) == SKL_OK);
  CHECK_STR(msg, "hello");
  CHECK(skl_dist_barrier(&d, &e) == SKL_OK);
  if (!strcmp(mode, "stall") && d.size > 1) {
    /* rank 1 skips the collective: rank 0 must get a timeout error */
    if (d.rank == 0) {
      float x = 1;
      skl_status s = skl_dist_allreduce_f32(&d, &x, 1, &e);
      CHECK(s == SKL_ERR_IO);
      CHECK_CONTAINS(e.msg, "rank 0/2: allreduce did not complete within 2 s");
      int rc = test_report();
      fflush(stdout);
      /* the expected ending: abort every rank with our exit code */
      skl_dist_abort(&d, rc ? 1 : 42);
    }
    sleep(30); /* rank 1 would hang here forever without the abort */
    return 1;
  }
  if (d.size == 1) CHECK(!d.mpi);
  else CHECK(d.mpi && d.library[0]);
  skl_dist_finalize(&d);
  return test_report();
}
