/* multi_hop (chained lookup): entry K0's value is the value of entry K1, whose value
 * is the value of K2, ... until an entry with an embedded question; distractor chains
 * branch off from look-alike names and end at other values.
 * Not multi_source: each step is a lookup, nothing is assembled. */
#include <stdio.h>

#include "skills/phrases.h"
#include "skills/skill_internal.h"

static double rand_depth(skl_rng *rng) { return 0.02 + 0.96 * skl_rng_uniform(rng); }

/* Chain of anchors ids[0..len): link inserts, last one numeric. Values resolved. */
static skl_status place_chain(skill_blueprint *bp, skl_rng *rng, const int *ids, int len, skl_error *err) {
  int D = bp->n_docs;
  skill_anchor *end = &bp->anchors[ids[len - 1]];
  for (int i = 0; i < len - 1; i++) {
    skill_anchor *a = &bp->anchors[ids[i]];
    snprintf(a->question, sizeof a->question, SKILL_PH_VALUE_OF_ENTRY "%s", bp->anchors[ids[i + 1]].name);
    a->value = end->value;
  }
  for (int i = 0; i < len; i++) {
    skl_status st = skill_bp_entry(bp, ids[i], (int)skl_rng_below(rng, (uint64_t)D), rand_depth(rng), err);
    if (st) return st;
  }
  return SKL_OK;
}

skl_status skill_build_multi_hop(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int D = k->docs, H = k->hops, A = k->anchors;
  skl_status st = skill_blueprint_init(bp, D, A, A, err);
  if (st) return st;
  bp->skill = "multi_hop";
  bp->answer_type = SKILL_ANSWER_NUMBER;
  skill_anchor_kind kind = skill_pick_kind(rng);
  int chain[32];
  for (int i = 0; i <= H; i++) {
    if ((st = skill_bp_new_anchor(bp, kind, rng, &chain[i], err))) return st;
  }
  skill_value_spec(rng, k->split_half, &bp->anchors[chain[H]], NULL, 0);
  double target = bp->anchors[chain[H]].value.num;
  if ((st = place_chain(bp, rng, chain, H + 1, err))) return st;
  /* distractor chains of 1..H+1 entries; their first name looks like a real key
   * (with probability `similarity`), so a careless reader branches off */
  int left = A - (H + 1);
  while (left > 0) {
    int len = 1 + (int)skl_rng_below(rng, (uint64_t)(H + 1));
    if (len > left) len = left;
    int ids[32];
    for (int i = 0; i < len; i++) {
      int idx;
      if (i == 0 && skl_rng_uniform(rng) < k->similarity)
        st = skill_bp_lookalike_anchor(bp, chain[skl_rng_below(rng, (uint64_t)(H + 1))], rng, &idx, err);
      else
        st = skill_bp_new_anchor(bp, kind, rng, &idx, err);
      if (st) return st;
      ids[i] = idx;
    }
    skill_value_spec(rng, k->split_half, &bp->anchors[ids[len - 1]], &target, 1);
    if ((st = place_chain(bp, rng, ids, len, err))) return st;
    left -= len;
  }
  skill_bp_fix_depths(bp);
  snprintf(bp->question, sizeof bp->question,
           "An entry's value can be the value of another entry. " SKILL_PH_ASK_VALUE "%s?",
           bp->anchors[chain[0]].name);
  snprintf(bp->expr, sizeof bp->expr, "solve(Q(a%d))", chain[0]);
  snprintf(bp->difficulty, sizeof bp->difficulty, "docs=%d anchors=%d hops=%d similarity=%.2f", D, A, H,
           k->similarity);
  return skill_bp_intend_number(bp, target, err);
}
