/* eval seqmatch: Python difflib.SequenceMatcher(None, a, b).ratio() on code
 * points, step for step (autojunk, longest match, recursion). Not the rest of
 * difflib: no opcodes, no isjunk callback (MRCR passes None). */
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
#include "eval/text_internal.h"

typedef struct {
  const uint32_t *a, *b;
  size_t na, nb;
  /* b2j: positions of each distinct element of b, ascending, grouped */
  size_t *pos;      /* [nb] indices of b sorted by (element, index) */
  size_t *gstart;   /* [ngroups] first slot in pos */
  size_t *gcount;   /* [ngroups] slots; 0 for "popular" elements */
  long *agroup;     /* [na] group of a[i] in b2j, or -1 */
  /* j2len / newj2len of find_longest_match as two stamped rows */
  size_t *len[2];   /* [nb + 1] indexed by j + 1 */
  size_t *stamp[2]; /* [nb + 1] row id that wrote the slot */
  size_t row;
} matcher;

typedef struct {
  uint32_t v;
  size_t i;
} keyed;

static int cmp_keyed(const void *x, const void *y) {
  const keyed *p = x, *q = y;
  if (p->v != q->v) return p->v < q->v ? -1 : 1;
  return p->i < q->i ? -1 : p->i > q->i;
}

static long find_group(const uint32_t *gval, size_t ng, uint32_t c) {
  size_t lo = 0, hi = ng;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (gval[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return lo < ng && gval[lo] == c ? (long)lo : -1;
}

static void matcher_free(matcher *m) {
  free(m->pos); free(m->gstart); free(m->gcount); free(m->agroup);
  for (int k = 0; k < 2; k++) { free(m->len[k]); free(m->stamp[k]); }
}

/* __chain_b with autojunk; isjunk is None so there is no junk set. */
static skl_status matcher_init(matcher *m, const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
  memset(m, 0, sizeof *m);
  m->a = a; m->b = b; m->na = na; m->nb = nb;
  m->pos = malloc((nb + 1) * sizeof *m->pos);
  m->gstart = malloc((nb + 1) * sizeof *m->gstart);
  m->gcount = malloc((nb + 1) * sizeof *m->gcount);
  m->agroup = malloc((na + 1) * sizeof *m->agroup);
  uint32_t *gval = malloc((nb + 1) * sizeof *gval);
  keyed *kb = malloc((nb + 1) * sizeof *kb);
  for (int k = 0; k < 2; k++) {
    m->len[k] = calloc(nb + 1, sizeof *m->len[k]);
    m->stamp[k] = calloc(nb + 1, sizeof *m->stamp[k]);
  }
  if (!m->pos || !m->gstart || !m->gcount || !m->agroup || !gval || !m->len[0] || !m->len[1] ||
      !m->stamp[0] || !m->stamp[1] || !kb) {
    free(gval);
    free(kb);
    matcher_free(m);
    return SKL_ERR_NOMEM;
  }
  for (size_t i = 0; i < nb; i++) { kb[i].v = b[i]; kb[i].i = i; }
  qsort(kb, nb, sizeof *kb, cmp_keyed);
  for (size_t i = 0; i < nb; i++) m->pos[i] = kb[i].i;
  free(kb);
  size_t ng = 0;
  for (size_t s = 0; s < nb;) {
    size_t e = s;
    while (e < nb && b[m->pos[e]] == b[m->pos[s]]) e++;
    gval[ng] = b[m->pos[s]];
    m->gstart[ng] = s;
    m->gcount[ng] = e - s;
    ng++;
    s = e;
  }
  if (nb >= 200) { /* autojunk: "popular" elements are dropped from b2j */
    size_t ntest = nb / 100 + 1;
    for (size_t g = 0; g < ng; g++)
      if (m->gcount[g] > ntest) m->gcount[g] = 0;
  }
  for (size_t i = 0; i < na; i++) {
    long g = find_group(gval, ng, a[i]);
    m->agroup[i] = (g >= 0 && m->gcount[g]) ? g : -1;
  }
  free(gval);
  m->row = 1; /* stamps start at 0 = never written */
  return SKL_OK;
}

/* find_longest_match(alo, ahi, blo, bhi): earliest in a, then in b. */
static void longest_match(matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi, size_t *oi, size_t *oj,
                          size_t *ok) {
  size_t besti = alo, bestj = blo, bestsize = 0;
  size_t prev_row = 0; /* j2len starts empty */
  for (size_t i = alo; i < ahi; i++) {
    size_t r = ++m->row;
    size_t *cl = m->len[r & 1], *cs = m->stamp[r & 1];
    const size_t *pl = m->len[(r - 1) & 1], *ps = m->stamp[(r - 1) & 1];
    long g = m->agroup[i];
    if (g >= 0) {
      const size_t *js = m->pos + m->gstart[g];
      size_t cnt = m->gcount[g];
      for (size_t t = 0; t < cnt; t++) {
        size_t j = js[t];
        if (j < blo) continue;
        if (j >= bhi) break;
        /* slot j+1 holds j2len[j]; slot j holds j2len[j-1] */
        size_t k = (prev_row && ps[j] == prev_row ? pl[j] : 0) + 1;
        cl[j + 1] = k;
        cs[j + 1] = r;
        if (k > bestsize) { besti = i - k + 1; bestj = j - k + 1; bestsize = k; }
      }
    }
    prev_row = r;
  }
  const uint32_t *a = m->a, *b = m->b;
  while (besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1]) { besti--; bestj--; bestsize++; }
  while (besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] == b[bestj + bestsize])
    bestsize++;
  *oi = besti; *oj = bestj; *ok = bestsize;
}

skl_status eval_seqmatch_ratio(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, double *ratio,
                               skl_error *err) {
  *ratio = 0.0;
  if (na + nb == 0) { *ratio = 1.0; return SKL_OK; }
  matcher m;
  if (matcher_init(&m, a, na, b, nb)) return skl_error_set(err, SKL_ERR_NOMEM, "sequence matcher: out of memory");
  /* get_matching_blocks: a stack of (alo, ahi, blo, bhi) ranges */
  size_t cap = 64, top = 0, matches = 0;
  size_t(*q)[4] = malloc(cap * sizeof *q);
  if (!q) { matcher_free(&m); return skl_error_set(err, SKL_ERR_NOMEM, "sequence matcher: out of memory"); }
  q[top][0] = 0; q[top][1] = na; q[top][2] = 0; q[top][3] = nb; top++;
  while (top) {
    top--;
    size_t alo = q[top][0], ahi = q[top][1], blo = q[top][2], bhi = q[top][3];
    size_t i, j, k;
    longest_match(&m, alo, ahi, blo, bhi, &i, &j, &k);
    if (!k) continue;
    matches += k;
    if (top + 2 > cap) {
      cap *= 2;
      void *nq = realloc(q, cap * sizeof *q);
      if (!nq) { free(q); matcher_free(&m); return skl_error_set(err, SKL_ERR_NOMEM, "sequence matcher: out of memory"); }
      q = nq;
    }
    if (alo < i && blo < j) { q[top][0] = alo; q[top][1] = i; q[top][2] = blo; q[top][3] = j; top++; }
    if (i + k < ahi && j + k < bhi) { q[top][0] = i + k; q[top][1] = ahi; q[top][2] = j + k; q[top][3] = bhi; top++; }
  }
  free(q);
  matcher_free(&m);
  *ratio = 2.0 * (double)matches / (double)(na + nb);
  return SKL_OK;
}

skl_status eval_seqmatch_ratio_utf8(const char *a, const char *b, double *ratio, skl_error *err) {
  eval_u32 ua, ub;
  if (eval_u32_from_utf8(&ua, a, strlen(a))) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (eval_u32_from_utf8(&ub, b, strlen(b))) {
    eval_u32_free(&ua);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  skl_status st = eval_seqmatch_ratio(ua.cp, ua.n, ub.cp, ub.n, ratio, err);
  eval_u32_free(&ua);
  eval_u32_free(&ub);
  return st;
}
