/* logic (relational reasoning): database-like multiple-choice queries over entries
 * and documents: the entry that occurs only once, the document with most entries,
 * the once-only entry immediately before the last once-only entry, the entry shared
 * by two documents. Not calc_reason: no arithmetic, the answer is a letter A-D. */
#include <stdio.h>
#include <string.h>

#include "skills/phrases.h"
#include "skills/skill_internal.h"

enum { Q_UNIQUE, Q_MOST, Q_BEFORE_LAST, Q_BOTH, Q_KINDS };
#define MAXA 128
#define MAXD 64

typedef struct {
  int n, D;
  int cnt[MAXA];              /* documents holding anchor a */
  unsigned char in[MAXA][MAXD]; /* in[a][d] */
} layout;

static void random_layout(skl_rng *rng, layout *L) {
  memset(L->cnt, 0, sizeof L->cnt);
  memset(L->in, 0, sizeof L->in);
  int maxc = L->D < 3 ? L->D : 3;
  for (int a = 0; a < L->n; a++) {
    int c = 1 + (int)skl_rng_below(rng, (uint64_t)maxc);
    while (L->cnt[a] < c) {
      int d = (int)skl_rng_below(rng, (uint64_t)L->D);
      if (!L->in[a][d]) { L->in[a][d] = 1; L->cnt[a]++; }
    }
  }
}

static int doc_count(const layout *L, int d) {
  int n = 0;
  for (int a = 0; a < L->n; a++) n += L->in[a][d];
  return n;
}

/* Pick up to `want` distinct items from pool (size n) excluding `not`. @return count */
static int pick(skl_rng *rng, const int *pool, int n, int not, int *out, int want) {
  int tmp[MAXA], k = 0;
  for (int i = 0; i < n; i++) if (pool[i] != not) tmp[k++] = pool[i];
  skl_rng_shuffle(rng, tmp, (size_t)k, sizeof tmp[0]);
  if (k > want) k = want;
  memcpy(out, tmp, (size_t)k * sizeof *out);
  return k;
}

skl_status skill_build_logic(const skill_knobs *k, skl_rng *rng, skill_blueprint *bp, skl_error *err) {
  int D = k->docs, N = k->anchors;
  if (D > MAXD || N > MAXA)
    return skl_error_set(err, SKL_ERR_RANGE, "skill 'logic': docs %d / anchors %d exceed %d / %d", D, N, MAXD, MAXA);
  skl_status st = skill_blueprint_init(bp, D, N, N * 3, err);
  if (st) return st;
  bp->skill = "logic";
  bp->answer_type = SKILL_ANSWER_CHOICE;
  skill_anchor_kind kind = skill_pick_kind(rng);
  for (int a = 0; a < N; a++) {
    int idx;
    if ((st = skill_bp_new_anchor(bp, kind, rng, &idx, err))) return st;
    skill_value_spec(rng, k->split_half, &bp->anchors[idx], NULL, 0);
  }
  int kind_q = (int)skl_rng_below(rng, Q_KINDS);
  if (kind_q == Q_MOST && D < 4) kind_q = Q_UNIQUE;
  layout L;
  L.n = N;
  L.D = D;
  int opts[4] = {0}, correct = -1, di = 0, dj = 0;
  int uniq[MAXA], nu = 0, multi[MAXA], nm = 0;
  int ok = 0;
  for (int attempt = 0; attempt < 500 && !ok; attempt++) {
    random_layout(rng, &L);
    nu = nm = 0;
    for (int a = 0; a < N; a++) {
      if (L.cnt[a] == 1) uniq[nu++] = a;
      else multi[nm++] = a;
    }
    if (kind_q == Q_UNIQUE) {
      if (nu < 1 || nm < 3) continue;
      correct = uniq[skl_rng_below(rng, (uint64_t)nu)];
      opts[0] = correct;
      pick(rng, multi, nm, -1, opts + 1, 3);
      ok = 1;
    } else if (kind_q == Q_MOST) {
      int best = -1, bestc = -1, ties = 0, docs[MAXD];
      for (int d = 0; d < D; d++) {
        int c = doc_count(&L, d);
        if (c > bestc) { best = d; bestc = c; ties = 0; }
        else if (c == bestc) ties++;
        docs[d] = d;
      }
      if (ties) {
        /* repair: every other tied document loses one entry that also lives elsewhere */
        for (int d = 0; d < D; d++) {
          if (d == best || doc_count(&L, d) != bestc) continue;
          for (int a = 0; a < N; a++) {
            if (L.in[a][d] && L.cnt[a] > 1) { L.in[a][d] = 0; L.cnt[a]--; break; }
          }
        }
        int still = 0;
        for (int d = 0; d < D; d++) still += d != best && doc_count(&L, d) >= bestc;
        if (still) continue;
      }
      correct = best;
      opts[0] = best;
      pick(rng, docs, D, best, opts + 1, 3);
      ok = 1;
    } else if (kind_q == Q_BEFORE_LAST) {
      if (nu < 3 || nm < 1) continue;
      ok = 1;
    } else {
      /* a random document pair; one entry is made the only one they share */
      di = (int)skl_rng_below(rng, (uint64_t)D);
      do dj = (int)skl_rng_below(rng, (uint64_t)D); while (dj == di);
      if (di > dj) { int t = di; di = dj; dj = t; }
      correct = (int)skl_rng_below(rng, (uint64_t)N);
      if (!L.in[correct][di]) { L.in[correct][di] = 1; L.cnt[correct]++; }
      if (!L.in[correct][dj]) { L.in[correct][dj] = 1; L.cnt[correct]++; }
      for (int x = 0; x < N; x++) {
        if (x != correct && L.in[x][di] && L.in[x][dj]) { L.in[x][skl_rng_below(rng, 2) ? di : dj] = 0; L.cnt[x]--; }
      }
      int others[MAXA], no = 0;
      for (int x = 0; x < N; x++) if (x != correct && (L.in[x][di] || L.in[x][dj])) others[no++] = x;
      for (int x = 0; x < N && no < 3; x++) if (x != correct && !L.in[x][di] && !L.in[x][dj]) others[no++] = x;
      if (no < 3) continue;
      opts[0] = correct;
      pick(rng, others, no, -1, opts + 1, 3);
      ok = 1;
    }
  }
  if (!ok)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "skill 'logic': no unambiguous layout of %d anchors in %d documents: raise the anchors knob", N, D);
  /* inserts: one entry per (anchor, document) */
  for (int a = 0; a < N; a++) {
    for (int d = 0; d < D; d++) {
      if (L.in[a][d] && (st = skill_bp_entry(bp, a, d, 0.02 + 0.96 * skl_rng_uniform(rng), err))) return st;
    }
  }
  skill_bp_fix_depths(bp);
  if (kind_q == Q_BEFORE_LAST) {
    /* once-only entries in text order: their single insert decides */
    int ins[MAXA];
    for (int i = 0; i < nu; i++) {
      for (int j = 0; j < bp->n_inserts; j++) if (bp->inserts[j].anchor == uniq[i]) ins[i] = j;
    }
    for (int i = 1; i < nu; i++) { /* insertion sort by text order */
      for (int j = i; j > 0 && skill_bp_insert_cmp(bp, ins[j], ins[j - 1]) < 0; j--) {
        int t = ins[j]; ins[j] = ins[j - 1]; ins[j - 1] = t;
        t = uniq[j]; uniq[j] = uniq[j - 1]; uniq[j - 1] = t;
      }
    }
    correct = uniq[nu - 2];
    opts[0] = correct;
    opts[1] = uniq[nu - 1];                                   /* the last one itself */
    opts[2] = uniq[nu - 3];                                   /* two before the last */
    opts[3] = multi[skl_rng_below(rng, (uint64_t)nm)];        /* not once-only */
  }
  /* shuffle options, remember the correct letter */
  skl_rng_shuffle(rng, opts, 4, sizeof opts[0]);
  int letter = 0;
  for (int i = 0; i < 4; i++) if (opts[i] == correct) letter = i;
  bp->n_choices = 4;
  for (int i = 0; i < 4; i++) {
    if (kind_q == Q_MOST) snprintf(bp->choices[i], sizeof bp->choices[i], SKILL_PH_DOCUMENT "%d", opts[i] + 1);
    else snprintf(bp->choices[i], sizeof bp->choices[i], "%s", bp->anchors[opts[i]].name);
  }
  const char *q = kind_q == Q_UNIQUE ? SKILL_PH_LOGIC_UNIQUE
                  : kind_q == Q_MOST ? SKILL_PH_LOGIC_MOST
                  : kind_q == Q_BEFORE_LAST
                      ? "Consider the entries that appear in exactly one document, in their order of appearance in "
                        "the text. " SKILL_PH_LOGIC_BEFORE_LAST
                      : NULL;
  char qbuf[256];
  if (!q) {
    snprintf(qbuf, sizeof qbuf, SKILL_PH_LOGIC_BOTH "%d and " SKILL_PH_DOCUMENT "%d?", di + 1, dj + 1);
    q = qbuf;
  }
  size_t o = (size_t)snprintf(bp->question, sizeof bp->question, "%s", q);
  for (int i = 0; i < 4 && o < sizeof bp->question; i++)
    o += (size_t)snprintf(bp->question + o, sizeof bp->question - o, "\n%c. %s", 'A' + i, bp->choices[i]);
  /* answer expression (synth/expr.h): the option letter of the computed entry/doc */
  size_t cap = sizeof bp->expr;
  if (kind_q == Q_UNIQUE)
    o = (size_t)snprintf(bp->expr, cap, "letter(first([a for a in [a%d, a%d, a%d, a%d] if count(docs(a)) == 1]))",
                         opts[0], opts[1], opts[2], opts[3]);
  else if (kind_q == Q_MOST) {
    /* choices read "Document k" like the headers; compare documents, not texts */
    const char *am = "argmax(count(anchors_in(d)) for d in all_docs())";
    o = 0;
    for (int i = 0; i < 4 && o < cap; i++)
      o += (size_t)snprintf(bp->expr + o, cap - o, "\"%c\" if %s == d%d else ", 'A' + i, am, opts[i]);
    if (o < cap) o += (size_t)snprintf(bp->expr + o, cap - o, "\"none\"");
  }
  else if (kind_q == Q_BEFORE_LAST)
    o = (size_t)snprintf(bp->expr, cap, "letter([a for a in sequence() if count(docs(a)) == 1][-2])");
  else
    o = (size_t)snprintf(bp->expr, cap, "letter(first(anchors_in(d%d) & anchors_in(d%d)))", di, dj);
  (void)o;
  static const char *names[] = {"unique", "most", "before_last", "both"};
  snprintf(bp->difficulty, sizeof bp->difficulty, "query=%s docs=%d anchors=%d", names[kind_q], D, N);
  snprintf(bp->intended, sizeof bp->intended, "%c", 'A' + letter);
  return SKL_OK;
}
