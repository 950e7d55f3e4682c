/* skl fs: file helpers with errors that name the path and errno text.
 * Not buffered streaming (io/ does that). */
#include "core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

skl_status skl_fs_read_all(const char *path, char **out, size_t *len, skl_error *err) {
  return skl_fs_read_max(path, SIZE_MAX - 1, out, len, err);
}

skl_status skl_fs_read_max(const char *path, size_t max, char **out, size_t *len, skl_error *err) {
  *out = NULL;
  if (len) *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return skl_error_set(err, errno == ENOENT ? SKL_ERR_NOTFOUND : SKL_ERR_IO, "%s: cannot open: %s",
                         path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) { fclose(f); return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); }
  for (;;) {
    if (n == cap) {
      cap *= 2;
      char *nb = realloc(buf, cap + 1);
      if (!nb) { free(buf); fclose(f); return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); }
      buf = nb;
    }
    size_t want = cap - n < max - n + 1 ? cap - n : max - n + 1; /* n <= max here */
    size_t got = fread(buf + n, 1, want, f);
    n += got;
    if (got == 0) break;
    if (n > max) {
      free(buf);
      fclose(f);
      return skl_error_set(err, SKL_ERR_RANGE, "%s: larger than the limit of %zu bytes for this input", path, max);
    }
  }
  if (ferror(f)) {
    int e = errno;
    free(buf); fclose(f);
    return skl_error_set(err, SKL_ERR_IO, "%s: read failed: %s", path, strerror(e));
  }
  fclose(f);
  buf[n] = '\0';
  *out = buf;
  if (len) *len = n;
  return SKL_OK;
}

skl_status skl_atomic_open(skl_atomic_file *a, const char *path, skl_error *err) {
  memset(a, 0, sizeof *a);
  a->path = strdup(path);
  size_t n = strlen(path) + 32;
  a->tmp = malloc(n);
  if (!a->path || !a->tmp) { skl_atomic_abort(a); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
  a->f = fopen(a->tmp, "wb");
  if (!a->f) {
    int e = errno;
    skl_atomic_abort(a);
    return skl_error_set(err, SKL_ERR_IO, "%s: cannot create: %s", path, strerror(e));
  }
  return SKL_OK;
}

static void fsync_dir_of(const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) { fsync(fd); close(fd); }
  free(copy);
}

skl_status skl_atomic_commit(skl_atomic_file *a, skl_error *err) {
  if (!a->f) return skl_error_set(err, SKL_ERR_STATE, "atomic writer not open");
  int bad = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
  int e = errno;
  if (fclose(a->f) != 0 && !bad) { bad = 1; e = errno; }
  a->f = NULL;
  if (bad) {
    skl_error_set(err, SKL_ERR_IO, "%s: write failed: %s", a->path, strerror(e));
    skl_atomic_abort(a);
    return SKL_ERR_IO;
  }
  if (rename(a->tmp, a->path) != 0) {
    e = errno;
    skl_error_set(err, SKL_ERR_IO, "%s: rename from temp failed: %s", a->path, strerror(e));
    skl_atomic_abort(a);
    return SKL_ERR_IO;
  }
  fsync_dir_of(a->path);
  free(a->tmp); a->tmp = NULL;
  free(a->path); a->path = NULL;
  return SKL_OK;
}

void skl_atomic_abort(skl_atomic_file *a) {
  if (!a) return;
  if (a->f) { fclose(a->f); a->f = NULL; }
  if (a->tmp) { unlink(a->tmp); free(a->tmp); a->tmp = NULL; }
  free(a->path);
  a->path = NULL;
}

skl_status skl_fs_write_atomic(const char *path, const void *data, size_t n, skl_error *err) {
  skl_atomic_file a;
  skl_status s = skl_atomic_open(&a, path, err);
  if (s) return s;
  if (n && fwrite(data, 1, n, a.f) != n) {
    int e = errno;
    skl_atomic_abort(&a);
    return skl_error_set(err, SKL_ERR_IO, "%s: write failed: %s", path, strerror(e));
  }
  return skl_atomic_commit(&a, err);
}

skl_status skl_fs_mkdirs(const char *path, skl_error *err) {
  char *p = strdup(path);
  if (!p) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (char *q = p + 1;; q++) {
    if (*q == '/' || *q == '\0') {
      char c = *q;
      *q = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        skl_error_set(err, SKL_ERR_IO, "%s: cannot create folder: %s", p, strerror(e));
        free(p);
        return SKL_ERR_IO;
      }
      *q = c;
      if (c == '\0') break;
    }
  }
  free(p);
  if (!skl_fs_is_dir(path)) return skl_error_set(err, SKL_ERR_IO, "%s: exists and is not a folder", path);
  return SKL_OK;
}

bool skl_fs_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

bool skl_fs_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *skl_path_join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *r = malloc(la + lb + 2);
  if (!r) return NULL;
  memcpy(r, a, la);
  size_t k = la;
  if (la && a[la - 1] != '/') r[k++] = '/';
  memcpy(r + k, b, lb + 1);
  return r;
}
