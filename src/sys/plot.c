/* skl plot: gnuplot driver (posix_spawn, output to a log, png fallback).
 * Not a plot style: callers write their own plot commands. */
#include "sys/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.h"

extern char **environ;

/* A gnuplot single-quoted string: ' doubled. */
int skl_plot_quote(skl_buf *b, const char *s) {
  int bad = skl_buf_puts(b, "'");
  for (; *s; s++) bad |= *s == '\'' ? skl_buf_puts(b, "''") : skl_buf_append(b, s, 1);
  return bad | skl_buf_puts(b, "'");
}

static skl_status run_gnuplot(const char *script, const char *log, int *status, skl_error *err) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  char *argv[] = {"gnuplot", (char *)script, NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "cannot run gnuplot: %s (install gnuplot-nox for the heatmap)",
                         strerror(rc));
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR) return skl_error_set(err, SKL_ERR_IO, "waiting for gnuplot: %s", strerror(errno));
  return SKL_OK;
}

skl_status skl_plot_render(const char *out_prefix, const skl_buf *dat, int width, int height, skl_plot_body_fn body,
                            const void *ctx, skl_error *err) {
  skl_buf gp = {0}, path = {0};
  skl_status st = SKL_OK;
  char *f_dat = NULL, *f_gp = NULL, *f_png = NULL, *f_log = NULL;
  int bad = 0;
  if (skl_buf_printf(&path, "%s.dat", out_prefix) || !(f_dat = strdup(path.data))) goto nomem;
  skl_buf_clear(&path);
  if (skl_buf_printf(&path, "%s.gp", out_prefix) || !(f_gp = strdup(path.data))) goto nomem;
  skl_buf_clear(&path);
  if (skl_buf_printf(&path, "%s.png", out_prefix) || !(f_png = strdup(path.data))) goto nomem;
  skl_buf_clear(&path);
  if (skl_buf_printf(&path, "%s.log", out_prefix) || !(f_log = strdup(path.data))) goto nomem;
  st = skl_fs_write_atomic(f_dat, dat->data ? dat->data : "", dat->len, err);
  if (st) goto done;
  for (int attempt = 0; attempt < 2; attempt++) {
    skl_buf_clear(&gp);
    bad = skl_buf_printf(&gp, "set terminal %s noenhanced size %d,%d\nset output ", attempt ? "png" : "pngcairo",
                         width, height);
    bad |= skl_plot_quote(&gp, f_png);
    bad |= skl_buf_puts(&gp, "\n");
    bad |= body(&gp, f_dat, ctx);
    if (bad) goto nomem;
    st = skl_fs_write_atomic(f_gp, gp.data, gp.len, err);
    if (st) goto done;
    int status = 0;
    st = run_gnuplot(f_gp, f_log, &status, err);
    if (st) goto done;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && skl_fs_exists(f_png)) goto done;
    if (attempt == 1) {
      char *logtext = NULL;
      size_t n = 0;
      skl_fs_read_all(f_log, &logtext, &n, NULL);
      const char *tail = logtext && n > 400 ? logtext + n - 400 : (logtext ? logtext : "");
      st = skl_error_set(err, SKL_ERR_UNSUPPORTED, "gnuplot failed on %s (see %s): %s", f_gp, f_log, tail);
      free(logtext);
    }
  }
  goto done;
nomem:
  st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
done:
  skl_buf_free(&gp); skl_buf_free(&path);
  free(f_dat); free(f_gp); free(f_png); free(f_log);
  return st;
}

