/* eval jsonl: the for-each adapter over io/jsonl.h's streaming reader that
 * eval's loaders use. Not a reader of its own: src/io does the bytes. */
#include "eval/jsonl_internal.h"

#include "io/jsonl.h"

skl_status eval_jsonl_foreach(const char *path, eval_jsonl_fn fn, void *ctx, skl_error *err) {
  skl_jsonl_reader *r;
  skl_status st = skl_jsonl_open(&r, path, err);
  if (st) return st;
  for (;;) {
    json_t *obj = NULL;
    st = skl_jsonl_next(r, &obj, err);
    if (st || !obj) break;
    st = fn(obj, skl_jsonl_lineno(r), ctx, err);
    json_decref(obj);
    if (st) break;
  }
  skl_jsonl_close(r);
  return st;
}
