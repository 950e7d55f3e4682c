/* skill registry: the table of the six skills, knob names, ranges and validation.
 * Not a generator: each skill's build() lives in its own file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "skills/skill_internal.h"

#define ALL_BUT(x) ((1u << SKILL_KNOB_COUNT) - 1 - (x))

static skl_status check_multi_hop(const skill_knobs *k, skl_error *err) {
  if (k->anchors < k->hops + 1)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "skill 'multi_hop': knob 'anchors' = %d cannot hold a chain of %d hops: set anchors >= hops + 1 (%d)",
                         k->anchors, k->hops, k->hops + 1);
  return SKL_OK;
}

static skl_status check_calc_reason(const skill_knobs *k, skl_error *err) {
  if (k->anchors < k->hops + k->reasoning)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "skill 'calc_reason': knob 'anchors' = %d cannot hold %d operands and %d conditions: set "
                         "anchors >= hops + reasoning (%d)",
                         k->anchors, k->hops, k->reasoning, k->hops + k->reasoning);
  return SKL_OK;
}

typedef struct {
  skill_def def;
  skl_status (*check)(const skill_knobs *k, skl_error *err); /* cross-knob rules, may be NULL */
} entry;

/*                              docs anchors sim  depth hops reasoning split_half */
static const entry SKILLS[] = {
    {{"niah", "foundational retrieval",
      "find one entry anywhere in a long text and answer the question attached to it", SKILL_ANSWER_NUMBER,
      {4, 8, 0, -1, 1, 1, 0}, {1, 1, 0, -1, 1, 0, 0}, {64, 200, 1, 1, 1, 1, 0},
      SKILL_KNOB_DOCS | SKILL_KNOB_ANCHORS | SKILL_KNOB_DEPTH | SKILL_KNOB_REASONING, 520, skill_build_niah},
     NULL},
    {{"anti_interference", "robustness to noise",
      "pick the right entry among look-alike names, or the named occurrence among conflicting ones",
      SKILL_ANSWER_NUMBER, {4, 8, 0.7, -1, 1, 1, 0}, {1, 2, 0, -1, 1, 1, 0}, {64, 200, 1, 1, 1, 1, 0},
      SKILL_KNOB_DOCS | SKILL_KNOB_ANCHORS | SKILL_KNOB_SIMILARITY | SKILL_KNOB_DEPTH, 600,
      skill_build_anti_interference},
     NULL},
    {{"multi_source", "global integration",
      "collect the parts of one problem scattered over several documents and solve it", SKILL_ANSWER_NUMBER,
      {5, 2, 0.5, -1, 3, 2, 0}, {1, 1, 0, -1, 2, 1, 0}, {64, 8, 1, 1, 6, 4, 0},
      SKILL_KNOB_DOCS | SKILL_KNOB_ANCHORS | SKILL_KNOB_SIMILARITY | SKILL_KNOB_HOPS | SKILL_KNOB_REASONING, 1100,
      skill_build_multi_source},
     NULL},
    {{"logic", "relational reasoning",
      "answer a database-like question over entries and documents by choosing one of four options",
      SKILL_ANSWER_CHOICE, {6, 12, 0, -1, 1, 1, 0}, {2, 6, 0, -1, 1, 1, 0}, {64, 128, 1, 1, 1, 1, 0},
      SKILL_KNOB_DOCS | SKILL_KNOB_ANCHORS, 1300, skill_build_logic},
     NULL},
    {{"calc_reason", "dynamic state tracking",
      "count, branch on the count, and compute with retrieved values; answer rounded to 2 decimals",
      SKILL_ANSWER_NUMBER, {6, 8, 0, -1, 2, 1, 0}, {2, 3, 0, -1, 2, 1, 0}, {64, 200, 1, 1, 4, 2, 0},
      SKILL_KNOB_DOCS | SKILL_KNOB_ANCHORS | SKILL_KNOB_HOPS | SKILL_KNOB_REASONING, 1000, skill_build_calc_reason},
     check_calc_reason},
    {{"multi_hop", "chained lookup",
      "follow a chain of entries whose values name other entries to the final value", SKILL_ANSWER_NUMBER,
      {4, 10, 0.5, -1, 3, 1, 0}, {1, 2, 0, -1, 1, 1, 0}, {64, 200, 1, 1, 30, 1, 0},
      SKILL_KNOB_DOCS | SKILL_KNOB_ANCHORS | SKILL_KNOB_SIMILARITY | SKILL_KNOB_HOPS, 700, skill_build_multi_hop},
     check_multi_hop},
};
#define N_SKILLS (int)(sizeof SKILLS / sizeof SKILLS[0])
_Static_assert(N_SKILLS <= SKILL_MAX_COUNT, "raise SKILL_MAX_COUNT in skills/registry.h");

int skill_count(void) { return N_SKILLS; }

const skill_def *skill_get(int i) { return i >= 0 && i < N_SKILLS ? &SKILLS[i].def : NULL; }

const skill_def *skill_find(const char *id) {
  for (int i = 0; id && i < N_SKILLS; i++) if (!strcmp(SKILLS[i].def.id, id)) return &SKILLS[i].def;
  return NULL;
}

skl_status skill_lookup(const char *id, const skill_def **out, skl_error *err) {
  *out = skill_find(id);
  if (*out) return SKL_OK;
  const char *best = NULL;
  int bd = 4;
  for (int i = 0; id && i < N_SKILLS; i++) {
    int d = skl_edit_distance(id, SKILLS[i].def.id);
    if (d < bd) { bd = d; best = SKILLS[i].def.id; }
  }
  char hint[64] = "";
  if (best) snprintf(hint, sizeof hint, "did you mean '%s'? ", best);
  return skl_error_set(err, SKL_ERR_NOTFOUND,
                       "unknown skill '%s': %sknown skills: niah, anti_interference, multi_source, logic, "
                       "calc_reason, multi_hop",
                       id ? id : "(null)", hint);
}

static const char *KNOB_NAMES[SKILL_KNOB_COUNT] = {"docs", "anchors", "similarity", "depth", "hops", "reasoning"};

const char *skill_knob_name(unsigned bit) {
  for (int i = 0; i < SKILL_KNOB_COUNT; i++) if (bit == 1u << i) return KNOB_NAMES[i];
  return NULL;
}

skl_status skill_knob_set(skill_knobs *k, const char *name, double value, skl_error *err) {
  int is_int = name && strcmp(name, "similarity") && strcmp(name, "depth");
  if (!isfinite(value)) return skl_error_set(err, SKL_ERR_NUMERIC, "knob '%s' must be a finite number", name ? name : "?");
  if (is_int && (value != floor(value) || fabs(value) > 1e6))
    return skl_error_set(err, SKL_ERR_INVALID, "knob '%s' = %g must be a whole number", name, value);
  if (!name) name = "(null)";
  if (!strcmp(name, "docs")) k->docs = (int)value;
  else if (!strcmp(name, "anchors")) k->anchors = (int)value;
  else if (!strcmp(name, "similarity")) k->similarity = value;
  else if (!strcmp(name, "depth")) k->depth = value;
  else if (!strcmp(name, "hops")) k->hops = (int)value;
  else if (!strcmp(name, "reasoning")) k->reasoning = (int)value;
  else
    return skl_error_set(err, SKL_ERR_INVALID,
                         "unknown knob '%s': use one of docs, anchors, similarity, depth, hops, reasoning", name);
  return SKL_OK;
}

static const entry *entry_of(const skill_def *d) {
  for (int i = 0; i < N_SKILLS; i++) if (&SKILLS[i].def == d) return &SKILLS[i];
  return NULL;
}

skl_status skill_knobs_validate(const skill_def *d, const skill_knobs *k, skl_error *err) {
  double v[SKILL_KNOB_COUNT] = {k->docs, k->anchors, k->similarity, k->depth, k->hops, k->reasoning};
  double lo[SKILL_KNOB_COUNT] = {d->lo.docs, d->lo.anchors, d->lo.similarity, d->lo.depth, d->lo.hops, d->lo.reasoning};
  double hi[SKILL_KNOB_COUNT] = {d->hi.docs, d->hi.anchors, d->hi.similarity, d->hi.depth, d->hi.hops, d->hi.reasoning};
  for (int i = 0; i < SKILL_KNOB_COUNT; i++) {
    if (!(d->reads & (1u << i))) continue;
    int bad = !(v[i] >= lo[i] && v[i] <= hi[i]);
    /* depth: -1 means random, otherwise [0,1] */
    if (i == 3 && !bad && v[i] < 0 && v[i] != -1) bad = 1;
    if (bad) {
      if (i == 3)
        return skl_error_set(err, SKL_ERR_RANGE, "skill '%s': knob 'depth' = %g is out of range: use a value in [0, 1], "
                             "or -1 for a random depth", d->id, v[i]);
      return skl_error_set(err, SKL_ERR_RANGE, "skill '%s': knob '%s' = %g is out of range [%g, %g]", d->id,
                           KNOB_NAMES[i], v[i], lo[i], hi[i]);
    }
  }
  const entry *e = entry_of(d);
  if (e && e->check) return e->check(k, err);
  return SKL_OK;
}

skl_status skill_build(const skill_def *d, const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  memset(bp, 0, sizeof *bp);
  skl_status st = skill_knobs_validate(d, k, err);
  if (st) return st;
  st = d->build(k, rng, bp, err);
  if (st) skill_blueprint_free(bp);
  return st;
}
