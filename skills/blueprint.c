/* skill blueprint: allocation, release and size of a sample plan.
 * Not a builder (the generators fill it) and not a renderer. */
#include <stdlib.h>
#include <string.h>

#include "skills/blueprint.h"

skl_status skill_blueprint_init(skill_blueprint *bp, int n_docs, int max_anchors, int max_inserts,
                                skl_error *err) {
  memset(bp, 0, sizeof *bp);
  if (n_docs < 1 || max_anchors < 0 || max_inserts < 0)
    return skl_error_set(err, SKL_ERR_RANGE, "blueprint sizes out of range: docs=%d anchors=%d inserts=%d (docs >= 1)",
                         n_docs, max_anchors, max_inserts);
  bp->n_docs = n_docs;
  bp->doc_genres = calloc((size_t)n_docs, sizeof *bp->doc_genres);
  bp->anchors = calloc(max_anchors ? (size_t)max_anchors : 1, sizeof *bp->anchors);
  bp->inserts = calloc(max_inserts ? (size_t)max_inserts : 1, sizeof *bp->inserts);
  if (!bp->doc_genres || !bp->anchors || !bp->inserts) {
    skill_blueprint_free(bp);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory for a blueprint of %d anchors and %d inserts",
                         max_anchors, max_inserts);
  }
  bp->cap_anchors = max_anchors;
  bp->cap_inserts = max_inserts;
  return SKL_OK;
}

void skill_blueprint_free(skill_blueprint *bp) {
  if (!bp) return;
  if (bp->doc_genres) {
    for (int i = 0; i < bp->n_docs; i++) free(bp->doc_genres[i]);
    free(bp->doc_genres);
  }
  free(bp->anchors);
  free(bp->inserts);
  memset(bp, 0, sizeof *bp);
}

size_t skill_blueprint_content_chars(const skill_blueprint *bp) {
  size_t n = strlen(bp->question);
  for (int i = 0; i < bp->n_inserts; i++) n += strlen(bp->inserts[i].text) + 1;
  return n;
}

const char *skill_expr_next_anchor(const char *expr, const char *p, long *k) {
  for (; *p; p++) {
    if (*p != 'a' || p[1] < '0' || p[1] > '9') continue;
    char b = p > expr ? p[-1] : ' ';
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_') continue;
    char *end;
    *k = strtol(p + 1, &end, 10);
    return end;
  }
  return NULL;
}

bool skill_expr_names_anchor(const char *expr, long k) {
  long a;
  for (const char *p = skill_expr_next_anchor(expr, expr, &a); p; p = skill_expr_next_anchor(expr, p, &a))
    if (a == k) return true;
  return false;
}
