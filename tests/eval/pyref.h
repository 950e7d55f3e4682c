/* tests/eval pyref: run tests/eval/reference.py under $PYTHON on a batch of
 * JSON queries and read one JSON answer per query. Test-only helper. */
#ifndef EVAL_TEST_PYREF_H
#define EVAL_TEST_PYREF_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  json_t *queries; /* array of query objects */
} pyref;

static inline void pyref_add(pyref *r, json_t *q) {
  if (!r->queries) r->queries = json_array();
  /* a NULL query (invalid UTF-8 given to json_pack) would shift every answer */
  if (!q) { fprintf(stderr, "pyref: could not build a query (invalid UTF-8?)\n"); abort(); }
  json_array_append_new(r->queries, q);
}

/* Runs the batch; returns an array of answers (same order) or NULL with a
 * message on stderr. Consumes the queries. */
static inline json_t *pyref_run(pyref *r) {
  const char *py = getenv("PYTHON"), *src = getenv("SKL_SOURCE_ROOT");
  if (!py || !src) { fprintf(stderr, "pyref: PYTHON and SKL_SOURCE_ROOT must be set (meson test sets them)\n"); return NULL; }
  char qpath[] = "/tmp/skl_eval_pyq_XXXXXX";
  int fd = mkstemp(qpath);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "w");
  size_t n = json_array_size(r->queries);
  for (size_t i = 0; i < n; i++) {
    char *s = json_dumps(json_array_get(r->queries, i), JSON_COMPACT | JSON_ENSURE_ASCII);
    fprintf(f, "%s\n", s);
    free(s);
  }
  fclose(f);
  json_decref(r->queries);
  r->queries = NULL;
  char apath[sizeof qpath + 4];
  snprintf(apath, sizeof apath, "%s.out", qpath);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' '%s/tests/eval/reference.py' < '%s' > '%s'", py, src, qpath, apath);
  int rc = system(cmd);
  if (!getenv("SKL_EVAL_KEEP_PYREF")) unlink(qpath);
  if (rc) { fprintf(stderr, "pyref: '%s' failed (%d)\n", cmd, rc); unlink(apath); return NULL; }
  FILE *a = fopen(apath, "r");
  json_t *out = json_array();
  char *line = NULL;
  size_t cap = 0;
  while (a && getline(&line, &cap, a) > 0) {
    json_error_t je;
    json_t *v = json_loads(line, JSON_DECODE_ANY, &je);
    json_array_append_new(out, v ? v : json_null());
  }
  free(line);
  if (a) fclose(a);
  if (!getenv("SKL_EVAL_KEEP_PYREF")) unlink(apath);
  if (json_array_size(out) != n) {
    fprintf(stderr, "pyref: %zu answers for %zu queries\n", json_array_size(out), n);
    json_decref(out);
    return NULL;
  }
  return out;
}

#endif
