/* multi_source (global integration): one small word problem split into numbered
 * parts (setup, given values, steps, question) scattered over the documents under
 * one problem name; look-alike distractor problems use other numbers.
 * Not multi_hop: the parts are assembled, not followed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills/phrases.h"
#include "skills/skill_internal.h"

typedef struct {
  const char *setup;
  const char *vars[6];  /* given quantities */
  const char *steps[4]; /* names of step results, in order */
} theme;

static const theme THEMES[] = {
    {"A warehouse tracks its stock of crates.",
     {"crates", "units_per_crate", "damaged", "returned", "shipped", "reserved"},
     {"stock", "adjusted", "available", "final_stock"}},
    {"A school plans a field trip.",
     {"classes", "students_per_class", "teachers", "absent", "buses", "seats_per_bus"},
     {"group", "travellers", "places", "remaining"}},
    {"A bakery prepares an order for a festival.",
     {"trays", "loaves_per_tray", "burnt", "extra", "boxes", "loaves_per_box"},
     {"baked", "good", "packed", "leftover"}},
    {"A farm records its harvest.",
     {"fields", "bags_per_field", "spoiled", "bought", "sold", "kept"},
     {"harvest", "usable", "stored", "balance"}},
    {"A library counts its books after a donation.",
     {"shelves", "books_per_shelf", "lent", "donated", "damaged", "new"},
     {"shelved", "present", "total", "catalogued"}},
};
#define N_THEMES (int)(sizeof THEMES / sizeof THEMES[0])

typedef struct {
  int n_given, n_steps;
  long given[6];
  int lhs[4], rhs[4]; /* operand refs: 0..5 given, 10+j step j */
  char op[4];
  long result[4];
} problem;

static long ref_value(const problem *p, int r) { return r >= 10 ? p->result[r - 10] : p->given[r]; }

static const char *ref_name(const theme *t, int r) { return r >= 10 ? t->steps[r - 10] : t->vars[r]; }

/* Random givens and a chain of steps; each step uses the previous result (or a given
 * for the first) and a not-yet-used given when one is left. */
static void make_problem(skl_rng *rng, int n_given, int n_steps, problem *p) {
  memset(p, 0, sizeof *p);
  p->n_given = n_given;
  p->n_steps = n_steps;
  for (int i = 0; i < n_given; i++) p->given[i] = skl_rng_range(rng, 2, 60);
  int next_unused = 0;
  for (int s = 0; s < n_steps; s++) {
    int a = s == 0 ? next_unused++ : 10 + s - 1;
    int b = next_unused < n_given ? next_unused++ : (int)skl_rng_below(rng, (uint64_t)n_given);
    long x = ref_value(p, a), y = ref_value(p, b);
    int o = (int)skl_rng_below(rng, 3);
    if (o == 2 && (labs(x) > 999 || labs(y) > 999)) o = 0; /* keep numbers readable */
    if (o == 1 && x < y) { /* larger minus smaller: counts stay non-negative */
      int t = a; a = b; b = t;
      long u = x; x = y; y = u;
    }
    p->lhs[s] = a;
    p->rhs[s] = b;
    p->op[s] = "+-*"[o];
    p->result[s] = o == 0 ? x + y : o == 1 ? x - y : x * y;
  }
}

/* Add all parts of one problem (anchor idx) at random places. */
static skl_status place_parts(skill_blueprint *bp, skl_rng *rng, int idx, const theme *t, const problem *p,
                              skl_error *err) {
  const char *name = bp->anchors[idx].name;
  int n = 2 + p->n_given + p->n_steps, part = 0, D = bp->n_docs;
  int perm[64];
  int np = D < 64 ? D : 64;
  for (int i = 0; i < np; i++) perm[i] = i;
  skl_rng_shuffle(rng, perm, (size_t)np, sizeof perm[0]);
  int order[12];
  for (int i = 0; i < n; i++) order[i] = i;
  skl_rng_shuffle(rng, order, (size_t)n, sizeof order[0]);
  skl_status st;
#define DOC_OF(i) perm[order[(i)] % np]
#define DEPTH() (0.02 + 0.96 * skl_rng_uniform(rng))
  part = 0;
  if ((st = skill_bp_insert(bp, DOC_OF(part), DEPTH(), idx, err, SKILL_PH_PROBLEM "%s" SKILL_PH_PART "%d" SKILL_PH_PART_OF "%d" SKILL_PH_PART_END " " SKILL_PH_SETUP "%s", name, part + 1,
                            n, t->setup)))
    return st;
  for (int i = 0; i < p->n_given; i++) {
    part++;
    if ((st = skill_bp_insert(bp, DOC_OF(part), DEPTH(), idx, err, SKILL_PH_PROBLEM "%s" SKILL_PH_PART "%d" SKILL_PH_PART_OF "%d" SKILL_PH_PART_END " " SKILL_PH_GIVEN "%s = %ld.", name,
                              part + 1, n, t->vars[i], p->given[i])))
      return st;
  }
  for (int s = 0; s < p->n_steps; s++) {
    part++;
    if ((st = skill_bp_insert(bp, DOC_OF(part), DEPTH(), idx, err, SKILL_PH_PROBLEM "%s" SKILL_PH_PART "%d" SKILL_PH_PART_OF "%d" SKILL_PH_PART_END " " SKILL_PH_STEP "%s = %s %c %s.",
                              name, part + 1, n, t->steps[s], ref_name(t, p->lhs[s]), p->op[s],
                              ref_name(t, p->rhs[s]))))
      return st;
  }
  part++;
  st = skill_bp_insert(bp, DOC_OF(part), DEPTH(), idx, err, SKILL_PH_PROBLEM "%s" SKILL_PH_PART "%d" SKILL_PH_PART_OF "%d" SKILL_PH_PART_END " " SKILL_PH_ASK_PART "%s?",
                       name, part + 1, n, t->steps[p->n_steps - 1]);
#undef DOC_OF
#undef DEPTH
  return st;
}

/* The anchor's embedded question is the assembled problem; its value the answer. */
static void describe(skill_anchor *a, const theme *t, const problem *p) {
  size_t o = 0, cap = sizeof a->question;
  for (int i = 0; i < p->n_given && o < cap; i++) o += (size_t)snprintf(a->question + o, cap - o, "%s = %ld; ", t->vars[i], p->given[i]);
  for (int s = 0; s < p->n_steps && o < cap; s++)
    o += (size_t)snprintf(a->question + o, cap - o, "%s = %s %c %s; ", t->steps[s], ref_name(t, p->lhs[s]), p->op[s],
                          ref_name(t, p->rhs[s]));
  if (o < cap) snprintf(a->question + o, cap - o, "what is %s?", t->steps[p->n_steps - 1]);
  a->value.is_number = 1;
  a->value.num = (double)p->result[p->n_steps - 1];
  snprintf(a->value.str, sizeof a->value.str, "%ld", p->result[p->n_steps - 1]);
}

skl_status skill_build_multi_source(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int n_prob = k->anchors, n_given = k->hops, n_steps = k->reasoning;
  int parts = 2 + n_given + n_steps;
  skl_status st = skill_blueprint_init(bp, k->docs, n_prob, n_prob * parts, err);
  if (st) return st;
  bp->skill = "multi_source";
  bp->answer_type = SKILL_ANSWER_NUMBER;
  const theme *t = &THEMES[skl_rng_below(rng, N_THEMES)];
  int target;
  if ((st = skill_bp_new_anchor(bp, skill_pick_kind(rng), rng, &target, err))) return st;
  problem p;
  int tries = 0;
  do { /* the assembled problem is the embedded question: keep it in the split's half */
    make_problem(rng, n_given, n_steps, &p);
    describe(&bp->anchors[target], t, &p);
  } while (!skill_in_half(bp->anchors[target].question, k->split_half) && ++tries < 200);
  if ((st = place_parts(bp, rng, target, t, &p, err))) return st;
  int n_look = (int)(k->similarity * (n_prob - 1) + 0.5);
  for (int i = 1; i < n_prob; i++) {
    int idx;
    st = i <= n_look ? skill_bp_lookalike_anchor(bp, target, rng, &idx, err)
                     : skill_bp_new_anchor(bp, bp->anchors[target].kind, rng, &idx, err);
    if (st) return st;
    problem q;
    tries = 0;
    do {
      make_problem(rng, n_given, n_steps, &q);
      describe(&bp->anchors[idx], t, &q);
    } while (q.result[n_steps - 1] == p.result[n_steps - 1] ||
             (!skill_in_half(bp->anchors[idx].question, k->split_half) && ++tries < 200));
    if ((st = place_parts(bp, rng, idx, t, &q, err))) return st;
  }
  skill_bp_fix_depths(bp);
  snprintf(bp->question, sizeof bp->question,
           SKILL_PH_PARTS "%s" SKILL_PH_SCATTERED " across the documents. Collect all of its parts and answer its "
           "question.",
           bp->anchors[target].name);
  snprintf(bp->expr, sizeof bp->expr, "solve(Q(a%d))", target);
  snprintf(bp->difficulty, sizeof bp->difficulty, "docs=%d problems=%d operands=%d steps=%d similarity=%.2f", k->docs,
           n_prob, n_given, n_steps, k->similarity);
  return skill_bp_intend_number(bp, p.result[n_steps - 1], err);
}
