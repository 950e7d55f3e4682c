/* calc_reason (dynamic state tracking): retrieve, branch, compute: "if the number of
 * documents containing entry X is greater than T, the sum of the values of Y and Z,
 * otherwise their product" (optionally a second, nested condition); the answer is a
 * number rounded to 2 decimals. Not logic: the branch leads to arithmetic. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "skills/phrases.h"
#include "skills/skill_internal.h"

enum { OP_SUM, OP_PRODUCT, OP_AVERAGE, OP_MAX, OP_MIN, OP_COUNT };
static const char *OP_WORDS[] = SKILL_PH_OP_WORDS;

static double apply(int op, const double *v, int n) {
  double r = v[0];
  for (int i = 1; i < n; i++) {
    if (op == OP_SUM || op == OP_AVERAGE) r += v[i];
    else if (op == OP_PRODUCT) r *= v[i];
    else if (op == OP_MAX) r = v[i] > r ? v[i] : r;
    else r = v[i] < r ? v[i] : r;
  }
  return op == OP_AVERAGE ? r / n : r;
}

/* Expression of op over anchors ops[0..n), same evaluation order as apply(). */
static size_t expr_op(char *e, size_t cap, int op, const int *ops, int n) {
  size_t o = 0;
  if (op == OP_MAX || op == OP_MIN) o += (size_t)snprintf(e, cap, "%s(", op == OP_MAX ? "max" : "min");
  else o += (size_t)snprintf(e, cap, "(");
  for (int i = 0; i < n && o < cap; i++) {
    const char *sep = i == 0 ? "" : (op == OP_MAX || op == OP_MIN) ? ", " : op == OP_PRODUCT ? " * " : " + ";
    o += (size_t)snprintf(e + o, cap - o, "%ssolve(Q(a%d))", sep, ops[i]);
  }
  if (o < cap && op == OP_AVERAGE) o += (size_t)snprintf(e + o, cap - o, ") / %d", n);
  else if (o < cap) o += (size_t)snprintf(e + o, cap - o, ")");
  return o;
}

/* Place anchor a in c distinct random documents. */
static skl_status place_in_docs(skill_blueprint *bp, skl_rng *rng, int a, int c, skl_error *err) {
  int perm[64], D = bp->n_docs < 64 ? bp->n_docs : 64;
  for (int i = 0; i < D; i++) perm[i] = i;
  skl_rng_shuffle(rng, perm, (size_t)D, sizeof perm[0]);
  for (int i = 0; i < c; i++) {
    skl_status st = skill_bp_entry(bp, a, perm[i], 0.02 + 0.96 * skl_rng_uniform(rng), err);
    if (st) return st;
  }
  return SKL_OK;
}

skl_status skill_build_calc_reason(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int D = k->docs, n_ops = k->hops, n_cond = k->reasoning, A = k->anchors;
  int Dc = D < 64 ? D : 64;
  skl_status st = skill_blueprint_init(bp, D, A, A * Dc, err);
  if (st) return st;
  bp->skill = "calc_reason";
  bp->answer_type = SKILL_ANSWER_NUMBER;
  skill_anchor_kind kind = skill_pick_kind(rng);
  for (int i = 0; i < A; i++) {
    int idx;
    if ((st = skill_bp_new_anchor(bp, kind, rng, &idx, err))) return st;
    skill_value_spec(rng, k->split_half, &bp->anchors[idx], NULL, 0);
  }
  /* roles: conditions c0 (c1), operands after them, the rest distractors */
  int cond[2] = {0, 1}, ops[4], cnt[2], thr[2];
  for (int i = 0; i < n_ops; i++) ops[i] = n_cond + i;
  for (int c = 0; c < n_cond; c++) {
    cnt[c] = 1 + (int)skl_rng_below(rng, (uint64_t)Dc);
    /* threshold near the count so both branches are common */
    thr[c] = cnt[c] - 1 + (int)skl_rng_below(rng, 3);
    if (thr[c] < 1) thr[c] = 1;
    if ((st = place_in_docs(bp, rng, cond[c], cnt[c], err))) return st;
  }
  for (int i = 0; i < n_ops; i++) {
    if ((st = place_in_docs(bp, rng, ops[i], 1, err))) return st;
  }
  for (int i = n_cond + n_ops; i < A; i++) {
    int c = 1 + (int)skl_rng_below(rng, (uint64_t)(Dc < 3 ? Dc : 3));
    if ((st = place_in_docs(bp, rng, i, c, err))) return st;
  }
  skill_bp_fix_depths(bp);
  /* n_cond + 1 branches, distinct operations */
  int br[3], all[OP_COUNT] = {OP_SUM, OP_PRODUCT, OP_AVERAGE, OP_MAX, OP_MIN};
  skl_rng_shuffle(rng, all, OP_COUNT, sizeof all[0]);
  for (int i = 0; i <= n_cond; i++) br[i] = all[i];
  double vals[4] = {0, 0, 0, 0};
  for (int i = 0; i < n_ops; i++) vals[i] = bp->anchors[ops[i]].value.num;
  int taken = cnt[0] > thr[0] ? 0 : (n_cond == 1 || cnt[1] > thr[1]) ? 1 : 2;
  double result = apply(br[taken], vals, n_ops);
  /* question text */
  char list[256];
  size_t o = 0;
  for (int i = 0; i < n_ops; i++)
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i == 0 ? "" : i == n_ops - 1 ? " and " : ", ",
                          bp->anchors[ops[i]].name);
  const char *X = bp->anchors[cond[0]].name;
  if (n_cond == 1)
    snprintf(bp->question, sizeof bp->question,
             "Let n be the " SKILL_PH_COUNT "%s. " SKILL_PH_IF_N "%d, " SKILL_PH_COMPUTE "%s" SKILL_PH_OPERANDS
             "%s" SKILL_PH_OTHERWISE ", " SKILL_PH_COMPUTE "%s of those values. Give the result rounded to 2 decimals.",
             X, thr[0], OP_WORDS[br[0]], list, OP_WORDS[br[1]]);
  else
    snprintf(bp->question, sizeof bp->question,
             "Let n be the " SKILL_PH_COUNT "%s" SKILL_PH_AND_M "%s. " SKILL_PH_IF_N "%d, " SKILL_PH_COMPUTE
             "%s" SKILL_PH_OPERANDS "%s" SKILL_PH_OTHERWISE ", " SKILL_PH_IF_M "%d, " SKILL_PH_COMPUTE
             "%s of those values" SKILL_PH_OTHERWISE ", " SKILL_PH_COMPUTE "%s of those values. Give the result "
             "rounded to 2 decimals.",
             X, bp->anchors[cond[1]].name, thr[0], OP_WORDS[br[0]], list, thr[1], OP_WORDS[br[1]], OP_WORDS[br[2]]);
  /* expression */
  char e[3][512];
  for (int i = 0; i <= n_cond; i++) expr_op(e[i], sizeof e[i], br[i], ops, n_ops);
  if (n_cond == 1)
    snprintf(bp->expr, sizeof bp->expr, "round(%s if count(docs(a%d)) > %d else %s, 2)", e[0], cond[0], thr[0], e[1]);
  else
    snprintf(bp->expr, sizeof bp->expr, "round(%s if count(docs(a%d)) > %d else (%s if count(docs(a%d)) > %d else %s), 2)",
             e[0], cond[0], thr[0], e[1], cond[1], thr[1], e[2]);
  snprintf(bp->difficulty, sizeof bp->difficulty, "docs=%d anchors=%d operands=%d conditions=%d branch=%d", D, A,
           n_ops, n_cond, taken);
  return skill_bp_intend_number(bp, result, err);
}
