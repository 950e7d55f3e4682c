/* skl log: the one global sink (STYLE.md rule 7), used by the CLI and by
 * long-running loops for progress. Not an error path: errors are values. */
#ifndef SKL_LOG_H
#define SKL_LOG_H

typedef enum { SKL_LOG_DEBUG, SKL_LOG_INFO, SKL_LOG_WARN, SKL_LOG_ERROR, SKL_LOG_QUIET } skl_log_level;

/* Messages below `level` are dropped. Default SKL_LOG_INFO. */
void skl_log_set_level(skl_log_level level);
skl_log_level skl_log_get_level(void);

/* printf-style line to stderr with a level tag; adds the newline. */
void skl_log(skl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define skl_debug(...) skl_log(SKL_LOG_DEBUG, __VA_ARGS__)
#define skl_info(...) skl_log(SKL_LOG_INFO, __VA_ARGS__)
#define skl_warn(...) skl_log(SKL_LOG_WARN, __VA_ARGS__)

#endif
