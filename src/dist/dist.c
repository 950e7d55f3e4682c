/* skl dist: MPI collectives through non-blocking calls polled against a
 * deadline, so a dead or stalled rank is reported instead of hanging.
 * Not used for anything but data-parallel sums and broadcasts. */
#include "dist/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skl_build_config.h"
#include "sys/sys.h"
#if SKL_HAVE_MPI
#include <mpi.h>
#endif

#if SKL_HAVE_MPI
static void finalize_at_exit(void) {
  int finished = 0;
  MPI_Finalized(&finished);
  if (!finished) MPI_Finalize();
}
#endif

static bool launched_by_mpirun(void) {
  const char *v = getenv("OMPI_COMM_WORLD_SIZE");
  if (!v) v = getenv("PMI_SIZE");
  if (!v) v = getenv("PMIX_RANK") ? "2" : NULL;
  return v && atoi(v) > 1;
}

skl_status skl_dist_init(skl_dist *d, double timeout_s, skl_error *err) {
  memset(d, 0, sizeof *d);
  d->size = 1;
  d->timeout_s = timeout_s > 0 ? timeout_s : 600;
  snprintf(d->library, sizeof d->library, "none");
  if (!launched_by_mpirun()) return SKL_OK;
#if SKL_HAVE_MPI
  /* MPI starts once per process and ends at exit, so one process may run
   * several trainings in turn (skillrl ablate under mpirun). */
  int inited = 0, finished = 0, provided = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&finished);
  if (finished) return skl_error_set(err, SKL_ERR_STATE, "MPI was already finalized in this process");
  if (!inited) {
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      return skl_error_set(err, SKL_ERR_IO, "MPI_Init failed: is this a working MPI launch?");
    atexit(finalize_at_exit);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &d->size);
  int len = 0;
  char lib[MPI_MAX_LIBRARY_VERSION_STRING];
  MPI_Get_library_version(lib, &len);
  char *nl = strchr(lib, '\n');
  if (nl) *nl = '\0';
  snprintf(d->library, sizeof d->library, "%s", lib);
  d->mpi = true;
  return SKL_OK;
#else
  return skl_error_set(err, SKL_ERR_UNSUPPORTED,
                       "launched by mpirun with several ranks, but this skillrl was built without MPI; "
                       "install libopenmpi-dev and rebuild (meson option -Dmpi=enabled)");
#endif
}

#if SKL_HAVE_MPI
/* Poll a request until done or the deadline passes. */
static skl_status wait_req(skl_dist *d, MPI_Request *req, const char *what, skl_error *err) {
  double t0 = skl_time_now();
  struct timespec nap = {0, 50000}; /* 50 us: cheap while waiting, quick to react */
  for (;;) {
    int done = 0;
    int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
      char msg[MPI_MAX_ERROR_STRING];
      int n = 0;
      MPI_Error_string(rc, msg, &n);
      return skl_error_set(err, SKL_ERR_IO, "rank %d/%d: %s failed: %s (another rank probably died)",
                           d->rank, d->size, what, msg);
    }
    if (done) return SKL_OK;
    if (skl_time_now() - t0 > d->timeout_s)
      return skl_error_set(err, SKL_ERR_IO,
                           "rank %d/%d: %s did not complete within %.0f s: another rank died, hangs or "
                           "skipped the collective (see that rank's log); raise dist timeout if steps are "
                           "legitimately this slow", d->rank, d->size, what, d->timeout_s);
    nanosleep(&nap, NULL);
  }
}
#endif

#if SKL_HAVE_MPI
/* In-place sum of n elements of `size` bytes, in chunks that keep MPI's int
 * counts in range. */
static skl_status allreduce(skl_dist *d, void *buf, size_t n, MPI_Datatype type, size_t size, skl_error *err) {
  if (!d->mpi || d->size == 1) return SKL_OK;
  const size_t chunk = (size_t)1 << 30;
  for (size_t off = 0; off < n; off += chunk) {
    int cnt = (int)(n - off < chunk ? n - off : chunk);
    MPI_Request req;
    if (MPI_Iallreduce(MPI_IN_PLACE, (char *)buf + off * size, cnt, type, MPI_SUM, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
      return skl_error_set(err, SKL_ERR_IO, "rank %d: allreduce could not start", d->rank);
    skl_status s = wait_req(d, &req, "allreduce", err);
    if (s) return s;
  }
  return SKL_OK;
}
#endif

skl_status skl_dist_allreduce_f32(skl_dist *d, float *buf, size_t n, skl_error *err) {
#if SKL_HAVE_MPI
  return allreduce(d, buf, n, MPI_FLOAT, sizeof *buf, err);
#else
  (void)d; (void)buf; (void)n; (void)err;
  return SKL_OK;
#endif
}

skl_status skl_dist_allreduce_f64(skl_dist *d, double *buf, size_t n, skl_error *err) {
#if SKL_HAVE_MPI
  return allreduce(d, buf, n, MPI_DOUBLE, sizeof *buf, err);
#else
  (void)d; (void)buf; (void)n; (void)err;
  return SKL_OK;
#endif
}

skl_status skl_dist_bcast(skl_dist *d, void *buf, size_t n, int root, skl_error *err) {
#if SKL_HAVE_MPI
  if (!d->mpi || d->size == 1) return SKL_OK;
  for (size_t off = 0; off < n; off += (size_t)1 << 30) {
    int cnt = (int)((n - off) < ((size_t)1 << 30) ? (n - off) : ((size_t)1 << 30));
    MPI_Request req;
    if (MPI_Ibcast((char *)buf + off, cnt, MPI_BYTE, root, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
      return skl_error_set(err, SKL_ERR_IO, "rank %d: broadcast could not start", d->rank);
    skl_status s = wait_req(d, &req, "broadcast", err);
    if (s) return s;
  }
#else
  (void)d; (void)buf; (void)n; (void)root; (void)err;
#endif
  return SKL_OK;
}

skl_status skl_dist_barrier(skl_dist *d, skl_error *err) {
#if SKL_HAVE_MPI
  if (!d->mpi || d->size == 1) return SKL_OK;
  MPI_Request req;
  if (MPI_Ibarrier(MPI_COMM_WORLD, &req) != MPI_SUCCESS)
    return skl_error_set(err, SKL_ERR_IO, "rank %d: barrier could not start", d->rank);
  return wait_req(d, &req, "barrier", err);
#else
  (void)d; (void)err;
  return SKL_OK;
#endif
}

void skl_dist_abort(skl_dist *d, int code) {
#if SKL_HAVE_MPI
  if (d && d->mpi) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)d;
#endif
  exit(code);
}

int skl_dist_exit_code(int code) {
#if SKL_HAVE_MPI
  int inited = 0, finished = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&finished);
  if (code != 0 && code < 128 && inited && !finished) {
    fflush(NULL); /* the error line reaches the log before the job is torn down */
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#endif
  return code;
}

void skl_dist_finalize(skl_dist *d) {
  if (d) d->mpi = false; /* MPI itself ends at exit (finalize_at_exit) */
}
