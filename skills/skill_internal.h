/* skills internals: blueprint-building helpers shared by the six generators
 * (unique anchors, "Entry" inserts with embedded questions, depths, answers).
 * Not public: synth/ and rl/ use blueprint.h, registry.h and answer.h only. */
#ifndef SKILL_INTERNAL_H
#define SKILL_INTERNAL_H

#include "core/error.h"
#include "core/rng.h"
#include "skills/anchor.h"
#include "skills/blueprint.h"
#include "skills/registry.h"

/* 1 when name equals an existing anchor's name or one contains the other. */
int skill_bp_name_clashes(const skill_blueprint *bp, const char *name);

/* Append an anchor with this exact name (no uniqueness check: conflict occurrences).
 * @return SKL_OK or SKL_ERR_INTERNAL when the blueprint is full; *idx = its index */
skl_status skill_bp_add_anchor(skill_blueprint *bp, const char *name, skill_anchor_kind kind, int *idx,
                               skl_error *err);

/* Append an anchor with a fresh name unique in bp (retries bounded). */
skl_status skill_bp_new_anchor(skill_blueprint *bp, skill_anchor_kind kind, skl_rng *rng, int *idx,
                               skl_error *err);

/* Append a unique look-alike of anchor `of` (one character differs). */
skl_status skill_bp_lookalike_anchor(skill_blueprint *bp, int of, skl_rng *rng, int *idx, skl_error *err);

/* Give anchor a an embedded question with a known numeric answer:
 * literal "4821", arithmetic "the result of 17 + 25" / "the result of (17 + 25) * 3",
 * or lookup "the largest of 12, 45, 7" / "the smallest of ...". Stores the spec in
 * anchors[a].question and the answer in anchors[a].value. avoid (may be NULL, n_avoid
 * values) lists answers the value must differ from. */
void skill_value_spec(skl_rng *rng, int split_half, skill_anchor *a, const double *avoid, int n_avoid);
/* The same with computed = 0: literal values only (the number itself, never
 * "the result of ..." or "the largest of ..."), for the easiest retrieval. */
void skill_value_spec_forms(skl_rng *rng, int split_half, int computed, skill_anchor *a, const double *avoid,
                            int n_avoid);
/* 1 when question text q lies in split half `half` (0: any half matches). */
int skill_in_half(const char *q, int half);

/* Append an insert with printf-formatted text. */
skl_status skill_bp_insert(skill_blueprint *bp, int doc, double depth, int anchor, skl_error *err,
                           const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Append the standard anchor insert: "Entry NAME: its value is SPEC." */
skl_status skill_bp_entry(skill_blueprint *bp, int anchor, int doc, double depth, skl_error *err);

/* Make depths inside every document distinct (nudging ties apart, in [0,1]). */
void skill_bp_fix_depths(skill_blueprint *bp);

/* Text order of inserts i and j: negative when i comes first (doc, then depth). */
int skill_bp_insert_cmp(const skill_blueprint *bp, int i, int j);

/* Set bp->intended from a number (rendered with skill_answer_render_number). */
skl_status skill_bp_intend_number(skill_blueprint *bp, double v, skl_error *err);

/* Random depth in [0.02, 0.98]; needle depth knob when k->depth >= 0. */
double skill_pick_depth(const skill_knobs *k, skl_rng *rng);

/* Random anchor kind for a sample. */
skill_anchor_kind skill_pick_kind(skl_rng *rng);

/* The six generators (registry.c lists them). */
skl_status skill_build_niah(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);
skl_status skill_build_anti_interference(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);
skl_status skill_build_multi_source(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);
skl_status skill_build_logic(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);
skl_status skill_build_calc_reason(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);
skl_status skill_build_multi_hop(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err);

#endif
