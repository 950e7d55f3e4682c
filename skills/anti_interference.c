/* anti_interference (robustness to noise): (a) similarity discrimination: the target
 * entry among look-alike names differing in one character; (b) conflict resolution:
 * one name occurring several times with different values, the question naming the
 * occurrence (the one in Document k, the first, or the last). Not niah: distractors
 * here are built to be confused with the target. */
#include <math.h>
#include <stdio.h>

#include "skills/phrases.h"
#include "skills/skill_internal.h"

static skl_status add_distractors(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, int target, int n,
                                  const double *avoid, int n_avoid, skl_error *err) {
  int n_look = (int)lround(k->similarity * n);
  for (int i = 0; i < n; i++) {
    int idx;
    skl_status st = i < n_look ? skill_bp_lookalike_anchor(bp, target, rng, &idx, err)
                               : skill_bp_new_anchor(bp, bp->anchors[target].kind, rng, &idx, err);
    if (st) return st;
    skill_value_spec(rng, k->split_half, &bp->anchors[idx], avoid, n_avoid);
    if ((st = skill_bp_entry(bp, idx, (int)skl_rng_below(rng, (uint64_t)bp->n_docs),
                             0.02 + 0.96 * skl_rng_uniform(rng), err)))
      return st;
  }
  return SKL_OK;
}

static skl_status build_similarity(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int D = k->docs, A = k->anchors, t;
  skl_status st = skill_bp_new_anchor(bp, skill_pick_kind(rng), rng, &t, err);
  if (st) return st;
  skill_value_spec(rng, k->split_half, &bp->anchors[t], NULL, 0);
  double g = skill_pick_depth(k, rng), p = g * D;
  int doc = (int)floor(p) >= D ? D - 1 : (int)floor(p);
  if ((st = skill_bp_entry(bp, t, doc, fmin(1.0, p - doc), err))) return st;
  if ((st = add_distractors(k, rng, bp, t, A - 1, &bp->anchors[t].value.num, 1, err))) return st;
  /* the target's position among the entries is random, not always first */
  skill_bp_fix_depths(bp);
  snprintf(bp->question, sizeof bp->question, SKILL_PH_ASK_VALUE "%s?", bp->anchors[t].name);
  snprintf(bp->expr, sizeof bp->expr, "solve(Q(a%d))", t);
  snprintf(bp->difficulty, sizeof bp->difficulty, "mode=similarity docs=%d anchors=%d similarity=%.2f depth=%.2f", D,
           A, k->similarity, g);
  return skill_bp_intend_number(bp, bp->anchors[t].value.num, err);
}

typedef enum { ASK_IN_DOC, ASK_FIRST, ASK_LAST } conflict_ask;

static skl_status build_conflict(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int D = k->docs, A = k->anchors;
  /* occurrences: 2-4, in distinct documents when there are enough */
  int m = 2 + (int)skl_rng_below(rng, 3);
  if (m > A) m = A;
  int distinct = D >= m;
  int docs[4] = {0, 0, 0, 0}, perm[64];
  int np = D < 64 ? D : 64;
  for (int i = 0; i < np; i++) perm[i] = i;
  skl_rng_shuffle(rng, perm, (size_t)np, sizeof perm[0]);
  for (int i = 0; i < m; i++) docs[i] = distinct ? perm[i] : (int)skl_rng_below(rng, (uint64_t)D);
  char name[SKILL_ANCHOR_NAME_MAX];
  skill_anchor_kind kind = skill_pick_kind(rng);
  skill_anchor_make(kind, rng, name, sizeof name);
  int occ[4];
  double vals[4];
  skl_status st;
  for (int i = 0; i < m; i++) {
    if ((st = skill_bp_add_anchor(bp, name, kind, &occ[i], err))) return st;
    skill_value_spec(rng, k->split_half, &bp->anchors[occ[i]], vals, i);
    vals[i] = bp->anchors[occ[i]].value.num;
    if ((st = skill_bp_entry(bp, occ[i], docs[i], 0.02 + 0.96 * skl_rng_uniform(rng), err))) return st;
  }
  skill_bp_fix_depths(bp);
  conflict_ask ask = distinct ? (conflict_ask)skl_rng_below(rng, 3) : (conflict_ask)(1 + skl_rng_below(rng, 2));
  /* occurrence i's insert is insert i (added first) */
  int pick = 0;
  for (int i = 1; i < m; i++) {
    int c = skill_bp_insert_cmp(bp, i, pick);
    if ((ask == ASK_FIRST && c < 0) || (ask == ASK_LAST && c > 0)) pick = i;
  }
  if (ask == ASK_IN_DOC) pick = (int)skl_rng_below(rng, (uint64_t)m);
  /* distractors: look-alikes of the conflicting name, values unlike every occurrence */
  if ((st = add_distractors(k, rng, bp, occ[0], A - m, vals, m, err))) return st;
  skill_bp_fix_depths(bp);
  static const char *what[] = {NULL, SKILL_PH_FIRST_OCC " in the text", SKILL_PH_LAST_OCC " in the text"};
  if (ask == ASK_IN_DOC)
    snprintf(bp->question, sizeof bp->question,
             SKILL_PH_CONFLICT "%s" SKILL_PH_SEVERAL " with different values. " SKILL_PH_IN_DOC "%d?", name,
             docs[pick] + 1);
  else
    snprintf(bp->question, sizeof bp->question,
             SKILL_PH_CONFLICT "%s" SKILL_PH_SEVERAL " with different values. What is the value given by %s?", name,
             what[ask]);
  if (ask == ASK_IN_DOC)
    snprintf(bp->expr, sizeof bp->expr, "solve(Q(a%d, in_doc(d%d)))", occ[0], docs[pick]);
  else
    snprintf(bp->expr, sizeof bp->expr, "solve(%s(occurrences(a%d)))", ask == ASK_FIRST ? "first" : "last", occ[0]);
  snprintf(bp->difficulty, sizeof bp->difficulty, "mode=conflict ask=%s occurrences=%d docs=%d anchors=%d",
           ask == ASK_IN_DOC ? "doc" : ask == ASK_FIRST ? "first" : "last", m, D, A);
  return skill_bp_intend_number(bp, vals[pick], err);
}

skl_status skill_build_anti_interference(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  skl_status st = skill_blueprint_init(bp, k->docs, k->anchors, k->anchors, err);
  if (st) return st;
  bp->skill = "anti_interference";
  bp->answer_type = SKILL_ANSWER_NUMBER;
  return skl_rng_below(rng, 2) ? build_conflict(k, rng, bp, err) : build_similarity(k, rng, bp, err);
}
