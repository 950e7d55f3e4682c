/* skl log: leveled lines on stderr. The only global state in the library.
 * Not for data output (stdout belongs to commands). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static skl_log_level g_level = SKL_LOG_INFO;

void skl_log_set_level(skl_log_level level) { g_level = level; }
skl_log_level skl_log_get_level(void) { return g_level; }

void skl_log(skl_log_level level, const char *fmt, ...) {
  if (level < g_level) return;
  static const char *const tags[] = {"debug: ", "", "warning: ", "error: ", ""};
  char line[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s%s\n", tags[level], line);
}
