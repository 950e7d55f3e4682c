/* skills build helpers: unique anchors, embedded value questions, inserts and
 * depth bookkeeping shared by the six generators. Not a generator itself. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "skills/answer.h"
#include "skills/phrases.h"
#include "skills/skill_internal.h"

int skill_bp_name_clashes(const skill_blueprint *bp, const char *name) {
  for (int i = 0; i < bp->n_anchors; i++) {
    const char *o = bp->anchors[i].name;
    if (strstr(o, name) || strstr(name, o)) return 1;
  }
  return 0;
}

skl_status skill_bp_add_anchor(skill_blueprint *bp, const char *name, skill_anchor_kind kind, int *idx,
                               skl_error *err) {
  if (bp->n_anchors >= bp->cap_anchors)
    return skl_error_set(err, SKL_ERR_INTERNAL, "skill '%s': blueprint full at %d anchors (a sizing bug: report it)",
                         bp->skill ? bp->skill : "?", bp->cap_anchors);
  skill_anchor *a = &bp->anchors[bp->n_anchors];
  memset(a, 0, sizeof *a);
  snprintf(a->name, sizeof a->name, "%s", name);
  a->kind = kind;
  a->value.is_number = 1;
  *idx = bp->n_anchors++;
  return SKL_OK;
}

skl_status skill_bp_new_anchor(skill_blueprint *bp, skill_anchor_kind kind, skl_rng *rng, int *idx,
                               skl_error *err) {
  char name[SKILL_ANCHOR_NAME_MAX];
  for (int tries = 0; tries < 1000; tries++) {
    skill_anchor_make(kind, rng, name, sizeof name);
    if (!skill_bp_name_clashes(bp, name)) return skill_bp_add_anchor(bp, name, kind, idx, err);
  }
  return skl_error_set(err, SKL_ERR_RANGE, "skill '%s': cannot find a unique %s anchor among %d: lower the anchors knob",
                       bp->skill ? bp->skill : "?", skill_anchor_kind_name(kind), bp->n_anchors);
}

skl_status skill_bp_lookalike_anchor(skill_blueprint *bp, int of, skl_rng *rng, int *idx, skl_error *err) {
  char name[SKILL_ANCHOR_NAME_MAX];
  skill_anchor_kind kind = bp->anchors[of].kind;
  for (int tries = 0; tries < 1000; tries++) {
    skill_anchor_lookalike(bp->anchors[of].name, kind, rng, name, sizeof name);
    if (!skill_bp_name_clashes(bp, name)) return skill_bp_add_anchor(bp, name, kind, idx, err);
  }
  return skill_bp_new_anchor(bp, kind, rng, idx, err); /* all look-alikes taken: a plain distractor */
}

static int avoided(double v, const double *avoid, int n) {
  for (int i = 0; i < n; i++) if (avoid[i] == v) return 1;
  return 0;
}

int skill_in_half(const char *q, int half) {
  return half == 0 || (int)(skl_hash_str(q) & 1) == half - 1;
}

void skill_value_spec(skl_rng *rng, int split_half, skill_anchor *a, const double *avoid, int n_avoid) {
  skill_value_spec_forms(rng, split_half, 1, a, avoid, n_avoid);
}

void skill_value_spec_forms(skl_rng *rng, int split_half, int computed, skill_anchor *a, const double *avoid,
                            int n_avoid) {
  for (int tries = 0;; tries++) {
    double v;
    int form = (int)skl_rng_below(rng, 4);
    if (!computed) form = 0; /* same draws either way: only the form changes */
    if (form == 0) {
      v = (double)skl_rng_range(rng, 10, 9999);
      snprintf(a->question, sizeof a->question, "%d", (int)v);
    } else if (form == 1) {
      int x = (int)skl_rng_range(rng, 2, 99), y = (int)skl_rng_range(rng, 2, 99);
      int op = (int)skl_rng_below(rng, 3);
      v = op == 0 ? x + y : op == 1 ? x - y : x * y;
      snprintf(a->question, sizeof a->question, SKILL_PH_RESULT_OF "%d %c %d", x, "+-*"[op], y);
    } else if (form == 2) {
      int x = (int)skl_rng_range(rng, 2, 40), y = (int)skl_rng_range(rng, 2, 40), z = (int)skl_rng_range(rng, 2, 9);
      int op = (int)skl_rng_below(rng, 2);
      v = (op == 0 ? x + y : x - y) * z;
      snprintf(a->question, sizeof a->question, SKILL_PH_RESULT_OF "(%d %c %d) * %d", x, "+-"[op], y, z);
    } else {
      int n = (int)skl_rng_range(rng, 3, 5), xs[5] = {0}, largest = (int)skl_rng_below(rng, 2);
      char list[128];
      size_t o = 0;
      for (int i = 0; i < n; i++) {
        int dup;
        do {
          xs[i] = (int)skl_rng_range(rng, 1, 999);
          dup = 0;
          for (int j = 0; j < i; j++) dup |= xs[j] == xs[i];
        } while (dup);
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", i ? ", " : "", xs[i]);
      }
      int best = xs[0];
      for (int i = 1; i < n; i++) best = largest ? (xs[i] > best ? xs[i] : best) : (xs[i] < best ? xs[i] : best);
      v = best;
      snprintf(a->question, sizeof a->question, "%s%s", largest ? SKILL_PH_LARGEST_OF : SKILL_PH_SMALLEST_OF, list);
    }
    /* a question of the other split's half is drawn again (1 in 2): splits never share one */
    if ((!avoided(v, avoid, n_avoid) && skill_in_half(a->question, split_half)) || tries > 200) {
      a->value.is_number = 1;
      a->value.num = v;
      snprintf(a->value.str, sizeof a->value.str, "%d", (int)v);
      return;
    }
  }
}

skl_status skill_bp_insert(skill_blueprint *bp, int doc, double depth, int anchor, skl_error *err,
                           const char *fmt, ...) {
  if (bp->n_inserts >= bp->cap_inserts)
    return skl_error_set(err, SKL_ERR_INTERNAL, "skill '%s': blueprint full at %d inserts (a sizing bug: report it)",
                         bp->skill ? bp->skill : "?", bp->cap_inserts);
  skill_insert *in = &bp->inserts[bp->n_inserts++];
  in->doc = doc;
  in->depth = depth;
  in->anchor = anchor;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(in->text, sizeof in->text, fmt, ap);
  va_end(ap);
  return SKL_OK;
}

skl_status skill_bp_entry(skill_blueprint *bp, int anchor, int doc, double depth, skl_error *err) {
  const skill_anchor *a = &bp->anchors[anchor];
  return skill_bp_insert(bp, doc, depth, anchor, err, SKILL_PH_ENTRY "%s" SKILL_PH_ENTRY_IS "%s.", a->name, a->question);
}

void skill_bp_fix_depths(skill_blueprint *bp) {
  /* separation well below any sentence spacing, so only exact ties move */
  const double eps = 1e-6;
  for (int changed = 1, pass = 0; changed && pass < 1000; pass++) {
    changed = 0;
    for (int i = 0; i < bp->n_inserts; i++) {
      skill_insert *a = &bp->inserts[i];
      if (a->depth < 0) a->depth = 0;
      if (a->depth > 1) a->depth = 1;
      for (int j = i + 1; j < bp->n_inserts; j++) {
        skill_insert *b = &bp->inserts[j];
        if (b->doc != a->doc || fabs(b->depth - a->depth) >= eps) continue;
        /* the later insert moves after (or before, at the end of the document) */
        b->depth = a->depth + eps <= 1.0 ? a->depth + eps : a->depth - eps;
        changed = 1;
      }
    }
  }
}

int skill_bp_insert_cmp(const skill_blueprint *bp, int i, int j) {
  const skill_insert *a = &bp->inserts[i], *b = &bp->inserts[j];
  if (a->doc != b->doc) return a->doc < b->doc ? -1 : 1;
  if (a->depth != b->depth) return a->depth < b->depth ? -1 : 1;
  return i < j ? -1 : i > j;
}

skl_status skill_bp_intend_number(skill_blueprint *bp, double v, skl_error *err) {
  return skill_answer_render_number(v, bp->intended, sizeof bp->intended, err);
}

double skill_pick_depth(const skill_knobs *k, skl_rng *rng) {
  if (k && k->depth >= 0) return k->depth;
  return 0.02 + 0.96 * skl_rng_uniform(rng);
}

skill_anchor_kind skill_pick_kind(skl_rng *rng) {
  return (skill_anchor_kind)skl_rng_below(rng, SKILL_ANCHOR_KIND_COUNT);
}
