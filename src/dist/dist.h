/* skl dist: data-parallel communication for training — one process, or
 * N ranks under mpirun — with collectives that time out instead of hanging.
 * Not a scheduler: the trainer decides what each rank works on. */
#ifndef SKL_DIST_H
#define SKL_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct {
  int rank;          /* 0 .. size-1 */
  int size;          /* number of ranks (1 without mpirun) */
  bool mpi;          /* MPI was initialised by us */
  double timeout_s;  /* a collective not finished after this long is an error */
  char library[256]; /* MPI library version string, or "none" */
} skl_dist;

/* Start MPI when launched by mpirun (OMPI_COMM_WORLD_SIZE / PMI_SIZE set)
 * and built with MPI; otherwise a single-rank context. timeout_s <= 0 means
 * 600 s. @return SKL_OK, or SKL_ERR_UNSUPPORTED when launched by mpirun with
 * N>1 ranks but built without MPI (the fix: install libopenmpi-dev, rebuild). */
skl_status skl_dist_init(skl_dist *d, double timeout_s, skl_error *err);

/* In-place element-wise sums over all ranks. Same result on every rank. */
skl_status skl_dist_allreduce_f32(skl_dist *d, float *buf, size_t n, skl_error *err);
skl_status skl_dist_allreduce_f64(skl_dist *d, double *buf, size_t n, skl_error *err);
/* Copy root's n bytes to every rank. */
skl_status skl_dist_bcast(skl_dist *d, void *buf, size_t n, int root, skl_error *err);
skl_status skl_dist_barrier(skl_dist *d, skl_error *err);

/* After a failed collective: end every rank now (MPI_Abort), so no rank is
 * left waiting. No-op without MPI. */
_Noreturn void skl_dist_abort(skl_dist *d, int code);

/* The process is about to end with exit code `code` (the CLI's main calls
 * this with its command's result). Under MPI, a failure (code != 0) ends
 * every rank now with MPI_Abort instead of letting exit() run MPI_Finalize,
 * which would wait forever on a stalled or dead peer (issue 18): the error
 * is already printed, the job must not hang after it. Codes >= 128 are a
 * clean stop on a signal (every rank checkpointed together) and finalize
 * normally. Without MPI, on success or a clean stop, @return code unchanged
 * (MPI_Finalize then runs at exit). */
int skl_dist_exit_code(int code);

/* Release the context. MPI itself is finalised once, at process exit, so a
 * later skl_dist_init in the same process (the next ablation run) works.
 * Accepts a zeroed context. */
void skl_dist_finalize(skl_dist *d);

#endif
