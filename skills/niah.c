/* niah (foundational retrieval): one target entry somewhere in the context, at the
 * needle depth, among distractor entries; the question asks for its value.
 * Not anti_interference: distractor names are unrelated to the target's. */
#include <math.h>
#include <stdio.h>

#include "skills/phrases.h"
#include "skills/skill_internal.h"

/* Global depth g in [0,1] over D documents -> (doc, local depth). */
static void place_global(double g, int D, int *doc, double *depth) {
  double p = g * D;
  int d = (int)floor(p);
  if (d >= D) d = D - 1;
  if (d < 0) d = 0;
  *doc = d;
  *depth = p - d;
  if (*depth > 1) *depth = 1;
}

skl_status skill_build_niah(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int D = k->docs, A = k->anchors;
  skl_status st = skill_blueprint_init(bp, D, A, A, err);
  if (st) return st;
  bp->skill = "niah";
  bp->answer_type = SKILL_ANSWER_NUMBER;
  skill_anchor_kind kind = skill_pick_kind(rng);
  int target = (int)skl_rng_below(rng, (uint64_t)A);
  double g = skill_pick_depth(k, rng);
  for (int i = 0; i < A; i++) {
    int idx;
    if ((st = skill_bp_new_anchor(bp, kind, rng, &idx, err))) return st;
  }
  /* reasoning 0: literal values; 1 (default): also arithmetic and min/max */
  skill_value_spec_forms(rng, k->split_half, k->reasoning, &bp->anchors[target], NULL, 0);
  double avoid = bp->anchors[target].value.num;
  for (int i = 0; i < A; i++) {
    if (i != target) skill_value_spec_forms(rng, k->split_half, k->reasoning, &bp->anchors[i], &avoid, 1);
  }
  for (int i = 0; i < A; i++) {
    int doc;
    double depth;
    if (i == target) place_global(g, D, &doc, &depth);
    else {
      doc = (int)skl_rng_below(rng, (uint64_t)D);
      depth = 0.02 + 0.96 * skl_rng_uniform(rng);
    }
    if ((st = skill_bp_entry(bp, i, doc, depth, err))) return st;
  }
  skill_bp_fix_depths(bp);
  const skill_anchor *t = &bp->anchors[target];
  snprintf(bp->question, sizeof bp->question, SKILL_PH_ASK_VALUE "%s?", t->name);
  snprintf(bp->expr, sizeof bp->expr, "solve(Q(a%d))", target);
  snprintf(bp->difficulty, sizeof bp->difficulty, "docs=%d anchors=%d depth=%.2f%s", D, A, g,
           k->reasoning ? "" : " literal");
  return skill_bp_intend_number(bp, t->value.num, err);
}
