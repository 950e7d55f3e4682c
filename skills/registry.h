/* skill registry: the six atomic skills by id, their knobs (with ranges and
 * validation) and their blueprint builders (DESIGN.md §1.1-1.2).
 * Not the renderer: a built blueprint becomes text in synth/.
 *
 * Usage:
 *   const skill_def *d = skill_find("niah");
 *   skill_knobs k = d->defaults;  k.docs = 6;
 *   if (skill_knobs_validate(d, &k, err)) ...;
 *   skill_blueprint bp = {0};  skl_rng r;  skl_rng_seed(&r, seed);
 *   if (d->build(&k, &r, &bp, err)) ...;      // bp allocated by build
 *   ... skill_blueprint_free(&bp);
 * Same (knobs, rng state) -> same blueprint, byte for byte. */
#ifndef SKILL_REGISTRY_H
#define SKILL_REGISTRY_H

#include <stddef.h>

#include "core/error.h"
#include "core/rng.h"
#include "skills/blueprint.h"

/* Difficulty knobs. Each skill reads some of them (skill_def.reads). */
typedef struct {
  int docs;          /* D, number of documents */
  int anchors;       /* anchors per sample: targets + distractors (density) */
  double similarity; /* distractor similarity in [0,1]: share of look-alike distractors */
  double depth;      /* needle depth in [0,1] over the whole context; -1 = random */
  int hops;          /* hops (multi_hop) or operands (multi_source, calc_reason) */
  int reasoning;     /* reasoning depth: steps (multi_source), conditions (calc_reason); niah: 0 = literal values only */
  int split_half;    /* not a difficulty knob: 0 any; 1 or 2 draws every embedded question from
                        that half of the question space (synth: train 1, test 2), so the splits
                        share no embedded question */
} skill_knobs;

/* Bits of skill_def.reads, one per knob. */
typedef enum {
  SKILL_KNOB_DOCS = 1 << 0,
  SKILL_KNOB_ANCHORS = 1 << 1,
  SKILL_KNOB_SIMILARITY = 1 << 2,
  SKILL_KNOB_DEPTH = 1 << 3,
  SKILL_KNOB_HOPS = 1 << 4,
  SKILL_KNOB_REASONING = 1 << 5,
  SKILL_KNOB_COUNT = 6
} skill_knob_bit;

typedef skl_status (*skill_build_fn)(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);

typedef struct {
  const char *id;          /* "niah", "anti_interference", "multi_source", "logic", "calc_reason", "multi_hop" */
  const char *name;        /* e.g. "foundational retrieval" */
  const char *description; /* one sentence */
  skill_answer_type answer_type;
  skill_knobs defaults;
  skill_knobs lo, hi;      /* inclusive range of every knob in `reads` (depth: lo -1 = random allowed) */
  unsigned reads;          /* SKILL_KNOB_* bits */
  size_t min_chars;        /* content characters at the default knobs (bp question + inserts);
                              a target length must hold at least this, plus background */
  skill_build_fn build;    /* fills a zeroed blueprint (allocates it); free with skill_blueprint_free */
} skill_def;

/* Most skills one mixture, or one table of per-skill results, may hold;
 * the registry has fewer (skill_count()). */
#define SKILL_MAX_COUNT 16

/* @return the skill with this id, or NULL */
const skill_def *skill_find(const char *id);
/* @return the number of skills (6) */
int skill_count(void);
/* @return skill i in registry order (niah, anti_interference, multi_source, logic,
 *   calc_reason, multi_hop), or NULL when out of range */
const skill_def *skill_get(int i);

/* Look up a skill with a helpful error ("unknown skill 'nia': did you mean 'niah'? ...").
 * @return SKL_OK or SKL_ERR_NOTFOUND */
skl_status skill_lookup(const char *id, const skill_def **out, skl_error *err);

/* @return knob name of one SKILL_KNOB_* bit ("docs", "anchors", "similarity",
 *   "depth", "hops", "reasoning"), or NULL */
const char *skill_knob_name(unsigned bit);

/* Set a knob by name (for config overrides). Integer knobs refuse fractions.
 * @return SKL_OK, or SKL_ERR_INVALID naming the knob and the accepted names */
skl_status skill_knob_set(skill_knobs *k, const char *name, double value, skl_error *err);

/* Check every knob the skill reads against its range; the error names the skill,
 * the knob, the value and the range. Knobs the skill does not read are ignored.
 * @return SKL_OK or SKL_ERR_RANGE */
skl_status skill_knobs_validate(const skill_def *d, const skill_knobs *k, skl_error *err);

/* @return the skill's build() result, after validating knobs and zeroing bp. */
skl_status skill_build(const skill_def *d, const skill_knobs *k, skl_rng *rng, skill_blueprint *bp,
                       skl_error *err);

#endif
