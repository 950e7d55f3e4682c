/* skl fs: whole-file reads, atomic writes (temp name, fsync, rename) and
 * path helpers. Not a stream reader: see io/ for JSONL and zstd streams. */
#ifndef SKL_FS_H
#define SKL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/error.h"

/* Read a whole file into a NUL-terminated malloc'd buffer.
 * @return SKL_OK, or SKL_ERR_IO/NOTFOUND/NOMEM with the path in err. */
skl_status skl_fs_read_all(const char *path, char **out, size_t *len, skl_error *err);
/* skl_fs_read_all that stops at max bytes: a longer file (or an endless
 * one: /dev/zero, a pipe) is refused with SKL_ERR_RANGE naming the path and
 * the limit, after reading at most max + 1 bytes. */
skl_status skl_fs_read_max(const char *path, size_t max, char **out, size_t *len, skl_error *err);

/* Atomic file writer: bytes go to "PATH.tmp.PID", and only commit makes
 * them visible under PATH (fflush, fsync, rename, fsync of the folder).
 * abort (or a crash) leaves PATH untouched. */
typedef struct {
  FILE *f;
  char *path;
  char *tmp;
} skl_atomic_file;

skl_status skl_atomic_open(skl_atomic_file *a, const char *path, skl_error *err);
skl_status skl_atomic_commit(skl_atomic_file *a, skl_error *err);
/* Remove the temp file. Accepts a never-opened or already-committed writer. */
void skl_atomic_abort(skl_atomic_file *a);

/* One-shot atomic write of a buffer. */
skl_status skl_fs_write_atomic(const char *path, const void *data, size_t n, skl_error *err);

/* mkdir -p. */
skl_status skl_fs_mkdirs(const char *path, skl_error *err);
bool skl_fs_exists(const char *path);
bool skl_fs_is_dir(const char *path);
/* Join "a/b" into a malloc'd string (NULL on OOM). */
char *skl_path_join(const char *a, const char *b);

#endif
