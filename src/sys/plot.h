/* skl plot: PNG plots through gnuplot (pngcairo, else png): a data file, a
 * script whose plot commands the caller writes, the picture, and gnuplot's
 * messages in a log. Not a plotting library: gnuplot draws. */
#ifndef SKL_PLOT_H
#define SKL_PLOT_H

#include "core/buf.h"
#include "core/error.h"

/* Appends the plot commands (after the terminal/output lines) to gp; the data
 * file's path is f_dat. @return non-zero on out-of-memory */
typedef int (*skl_plot_body_fn)(skl_buf *gp, const char *f_dat, const void *ctx);

/* Write PREFIX.dat (dat) and PREFIX.gp, run gnuplot into PREFIX.png of
 * width x height pixels, its messages in PREFIX.log.
 * @return SKL_OK, SKL_ERR_UNSUPPORTED (no gnuplot, or it failed: the message
 *         ends with its log's tail), SKL_ERR_IO, SKL_ERR_NOMEM */
skl_status skl_plot_render(const char *out_prefix, const skl_buf *dat, int width, int height, skl_plot_body_fn body,
                           const void *ctx, skl_error *err);

/* Append s as a gnuplot single-quoted string (' doubled). @return non-zero on OOM */
int skl_plot_quote(skl_buf *b, const char *s);

#endif
