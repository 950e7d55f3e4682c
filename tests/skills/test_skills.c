/* Tests for skills/: registry and knobs, anchor formats, and every generator checked
 * three ways — the generator's own answer, an independent oracle over the insert and
 * question TEXTS only (below), and synth's expression evaluator. Not a render test. */
#include <ctype.h>
#include <stdlib.h>

#include "core/rng.h"
#include "harness.h"
#include "skills/anchor.h"
#include "skills/answer.h"
#include "skills/registry.h"
#include "skills/skill_internal.h" /* sizing errors of the build helpers */
#include "synth/expr.h"

/* ---- a small oracle that reads only texts ------------------------------- */

typedef struct {
  const skill_blueprint *bp;
  int order[4096]; /* insert indices in reading order (doc, then depth) */
  int n;
} reading;

static const skill_blueprint *g_bp;
static int cmp_reading(const void *x, const void *y) {
  const skill_insert *a = &g_bp->inserts[*(const int *)x], *b = &g_bp->inserts[*(const int *)y];
  if (a->doc != b->doc) return a->doc < b->doc ? -1 : 1;
  if (a->depth != b->depth) return a->depth < b->depth ? -1 : 1;
  return *(const int *)x - *(const int *)y;
}

static void read_order(const skill_blueprint *bp, reading *r) {
  r->bp = bp;
  r->n = bp->n_inserts < 4096 ? bp->n_inserts : 4096;
  for (int i = 0; i < r->n; i++) r->order[i] = i;
  g_bp = bp;
  qsort(r->order, (size_t)r->n, sizeof r->order[0], cmp_reading);
}

/* "Entry NAME: its value is SPEC." -> name and spec (copied). @return 1 if an entry */
static int parse_entry(const char *text, char *name, size_t ncap, char *spec, size_t scap) {
  if (strncmp(text, "Entry ", 6)) return 0;
  const char *m = strstr(text, ": its value is ");
  if (!m) return 0;
  snprintf(name, ncap, "%.*s", (int)(m - text - 6), text + 6);
  const char *s = m + 15;
  size_t n = strlen(s);
  if (n == 0 || s[n - 1] != '.') return 0;
  snprintf(spec, scap, "%.*s", (int)(n - 1), s);
  return 1;
}

/* Entries named `name` in reading order. @return count (first up to max stored) */
static int find_entries(const reading *r, const char *name, int *out, int max) {
  int k = 0;
  char nm[128], sp[512];
  for (int i = 0; i < r->n; i++) {
    const skill_insert *in = &r->bp->inserts[r->order[i]];
    if (parse_entry(in->text, nm, sizeof nm, sp, sizeof sp) && !strcmp(nm, name)) {
      if (k < max) out[k] = r->order[i];
      k++;
    }
  }
  return k;
}

/* Value of a spec; NAN when it cannot be read or a reference is not unique. */
static double eval_spec(const reading *r, const char *spec, int depth) {
  long x, y, z;
  char op, tail[8];
  if (depth > 64) return NAN;
  if (!strncmp(spec, "the value of entry ", 19)) {
    int ids[2];
    if (find_entries(r, spec + 19, ids, 2) != 1) return NAN;
    char nm[128], sp[512];
    parse_entry(r->bp->inserts[ids[0]].text, nm, sizeof nm, sp, sizeof sp);
    return eval_spec(r, sp, depth + 1);
  }
  if (sscanf(spec, "the result of (%ld %c %ld) * %ld%1s", &x, &op, &y, &z, tail) == 4)
    return (double)((op == '+' ? x + y : x - y) * z);
  if (sscanf(spec, "the result of %ld %c %ld%1s", &x, &op, &y, tail) == 3)
    return (double)(op == '+' ? x + y : op == '-' ? x - y : x * y);
  int largest = !strncmp(spec, "the largest of ", 15), smallest = !strncmp(spec, "the smallest of ", 16);
  if (largest || smallest) {
    const char *p = spec + (largest ? 15 : 16);
    double best = NAN;
    while (*p) {
      char *end;
      double v = strtod(p, &end);
      if (end == p) return NAN;
      if (isnan(best) || (largest ? v > best : v < best)) best = v;
      p = end;
      if (*p == ',') p++;
      while (*p == ' ') p++;
    }
    return best;
  }
  char *end;
  double v = strtod(spec, &end);
  return *end || end == spec ? NAN : v;
}

static double entry_value(const reading *r, int insert) {
  char nm[128], sp[512];
  if (!parse_entry(r->bp->inserts[insert].text, nm, sizeof nm, sp, sizeof sp)) return NAN;
  return eval_spec(r, sp, 0);
}

/* Distinct documents holding an entry named `name`; docs[] gets a 0/1 map. */
static int docs_of(const reading *r, const char *name, unsigned char *docs) {
  int ids[4096], n = find_entries(r, name, ids, 4096), k = 0;
  memset(docs, 0, (size_t)r->bp->n_docs);
  for (int i = 0; i < n && i < 4096; i++) {
    int d = r->bp->inserts[ids[i]].doc;
    if (!docs[d]) { docs[d] = 1; k++; }
  }
  return k;
}

/* Copy the text between `after` and `before` out of s. @return 1 when both found */
static int between(const char *s, const char *after, const char *before, char *out, size_t cap) {
  const char *a = strstr(s, after);
  if (!a) return 0;
  a += strlen(after);
  const char *b = strstr(a, before);
  if (!b) return 0;
  snprintf(out, cap, "%.*s", (int)(b - a), a);
  return 1;
}

static int option_of(const skill_blueprint *bp, const char *text) {
  int hit = -1;
  char line[300];
  for (int i = 0; i < 4; i++) {
    snprintf(line, sizeof line, "\n%c. ", 'A' + i);
    const char *p = strstr(bp->question, line);
    if (!p) return -1;
    p += strlen(line);
    size_t n = strcspn(p, "\n");
    if (strlen(text) == n && !strncmp(p, text, n)) hit = hit < 0 ? i : -2;
  }
  return hit;
}

static double oracle_number(const skill_blueprint *bp, const reading *r) {
  const char *q = bp->question;
  char name[128];
  int ids[64];
  if (!strncmp(q, "The entry ", 10)) { /* conflict */
    if (!between(q, "The entry ", " appears several times", name, sizeof name)) return NAN;
    int n = find_entries(r, name, ids, 64);
    if (n < 2) return NAN;
    int k;
    if (sscanf(strstr(q, "?") ? q : "", "%*[^?]") , strstr(q, "in Document ")) {
      if (sscanf(strstr(q, "in Document ") + 12, "%d", &k) != 1) return NAN;
      int hit = -1;
      for (int i = 0; i < n; i++) if (bp->inserts[ids[i]].doc == k - 1) { if (hit >= 0) return NAN; hit = ids[i]; }
      return hit < 0 ? NAN : entry_value(r, hit);
    }
    if (strstr(q, "its first occurrence")) return entry_value(r, ids[0]);
    if (strstr(q, "its last occurrence")) return entry_value(r, ids[n - 1]);
    return NAN;
  }
  if (!strncmp(q, "The parts of problem ", 21)) { /* multi_source */
    if (!between(q, "The parts of problem ", " are scattered", name, sizeof name)) return NAN;
    char prefix[160], parts[16][512];
    int seen[16] = {0}, total = -1;
    snprintf(prefix, sizeof prefix, "Problem %s (part ", name);
    for (int i = 0; i < r->n; i++) {
      const char *t = bp->inserts[r->order[i]].text;
      if (strncmp(t, prefix, strlen(prefix))) continue;
      int pi, pn, used;
      if (sscanf(t + strlen(prefix), "%d of %d): %n", &pi, &pn, &used) != 2 || pi < 1 || pi > pn || pn > 16) return NAN;
      if (total >= 0 && total != pn) return NAN;
      total = pn;
      if (seen[pi - 1]++) return NAN;
      snprintf(parts[pi - 1], sizeof parts[0], "%s", t + strlen(prefix) + used);
    }
    if (total < 3) return NAN;
    char vars[16][64];
    double vals[16];
    int nv = 0;
    for (int i = 0; i < total; i++) {
      if (!seen[i]) return NAN;
      char v[64], a[64], b[64], op;
      long x;
      if (sscanf(parts[i], "Given: %63s = %ld.", v, &x) == 2) {
        snprintf(vars[nv], sizeof vars[0], "%s", v);
        vals[nv++] = (double)x;
      } else if (sscanf(parts[i], "Step: %63s = %63s %c %63[^.].", v, a, &op, b) == 4) {
        double va = NAN, vb = NAN;
        for (int j = 0; j < nv; j++) {
          if (!strcmp(vars[j], a)) va = vals[j];
          if (!strcmp(vars[j], b)) vb = vals[j];
        }
        snprintf(vars[nv], sizeof vars[0], "%s", v);
        vals[nv++] = op == '+' ? va + vb : op == '-' ? va - vb : va * vb;
      } else if (sscanf(parts[i], "Question: what is the value of %63[^?]?", v) == 1) {
        for (int j = 0; j < nv; j++) if (!strcmp(vars[j], v)) return vals[j];
        return NAN;
      }
    }
    return NAN;
  }
  if (!strncmp(q, "Let n be the number of documents that contain entry ", 52)) { /* calc_reason */
    char X[128], W[128] = "", list[400], op[3][32];
    int t1, t2 = 0, two = strstr(q, ", and m the number") != NULL;
    unsigned char dm[64];
    if (two) {
      if (!between(q, "contain entry ", ", and m", X, sizeof X)) return NAN;
      if (!between(q, "and m the number of documents that contain entry ", ". If n", W, sizeof W)) return NAN;
    } else if (!between(q, "contain entry ", ". If n", X, sizeof X)) {
      return NAN;
    }
    if (sscanf(strstr(q, "If n is greater than ") + 21, "%d", &t1) != 1) return NAN;
    if (two && sscanf(strstr(q, "if m is greater than ") + 21, "%d", &t2) != 1) return NAN;
    if (!between(q, "of the values of entries ", "; otherwise", list, sizeof list)) return NAN;
    const char *p = strstr(q, ", compute ");
    for (int i = 0; i < 2 + two; i++) {
      if (!p || sscanf(p + 10, "the %31s", op[i]) != 1) return NAN;
      p = strstr(p + 10, ", compute ");
    }
    double v[8];
    int nv = 0;
    for (char *s = list; *s && nv < 8;) {
      char *e1 = strstr(s, ", "), *e2 = strstr(s, " and "), *e = e1 && (!e2 || e1 < e2) ? e1 : e2;
      if (e) *e = '\0';
      int n = find_entries(r, s, ids, 64);
      if (n != 1) return NAN;
      v[nv++] = entry_value(r, ids[0]);
      if (!e) break;
      s = e + (e == e1 ? 2 : 5);
    }
    int n1 = docs_of(r, X, dm), n2 = two ? docs_of(r, W, dm) : 0;
    const char *o = n1 > t1 ? op[0] : (!two || n2 > t2) ? op[1] : op[2];
    double acc = v[0];
    for (int i = 1; i < nv; i++) {
      if (!strcmp(o, "sum") || !strcmp(o, "average")) acc += v[i];
      else if (!strcmp(o, "product")) acc *= v[i];
      else if (!strcmp(o, "largest")) acc = fmax(acc, v[i]);
      else if (!strcmp(o, "smallest")) acc = fmin(acc, v[i]);
      else return NAN;
    }
    return !strcmp(o, "average") ? acc / nv : acc;
  }
  /* niah, similarity, multi_hop: "... What is the value of entry NAME?" */
  const char *p = strstr(q, "What is the value of entry ");
  if (!p) return NAN;
  snprintf(name, sizeof name, "%s", p + 27);
  size_t n = strlen(name);
  if (!n || name[n - 1] != '?') return NAN;
  name[n - 1] = '\0';
  if (find_entries(r, name, ids, 64) != 1) return NAN;
  return entry_value(r, ids[0]);
}

/* @return the option letter the logic question asks for, or 0 */
static int oracle_choice(const skill_blueprint *bp, const reading *r) {
  const char *q = bp->question;
  char names[256][128];
  int nn = 0, ids[4];
  unsigned char dm[256][64];
  int cnt[256];
  char nm[128], sp[512];
  /* every distinct entry name, in reading order of first appearance */
  for (int i = 0; i < r->n; i++) {
    if (!parse_entry(bp->inserts[r->order[i]].text, nm, sizeof nm, sp, sizeof sp)) continue;
    int seen = 0;
    for (int j = 0; j < nn && !seen; j++) seen = !strcmp(names[j], nm);
    if (!seen && nn < 256) snprintf(names[nn++], sizeof names[0], "%s", nm);
  }
  for (int j = 0; j < nn; j++) cnt[j] = docs_of(r, names[j], dm[j]);
  int hit = -1;
  if (!strncmp(q, "Which of these entries appears in exactly one document?", 55)) {
    for (int j = 0; j < nn; j++) {
      int o = option_of(bp, names[j]);
      if (o >= 0 && cnt[j] == 1) { if (hit >= 0) return 0; hit = o; }
    }
  } else if (!strncmp(q, "Which document contains the most entries?", 41)) {
    int best = -1, bc = -1, ties = 0;
    for (int d = 0; d < bp->n_docs; d++) {
      int c = 0;
      for (int j = 0; j < nn; j++) c += dm[j][d];
      if (c > bc) { bc = c; best = d; ties = 0; }
      else if (c == bc) ties++;
    }
    if (ties) return 0;
    char t[32];
    snprintf(t, sizeof t, "Document %d", best + 1);
    hit = option_of(bp, t);
  } else if (!strncmp(q, "Consider the entries that appear in exactly one document", 56)) {
    int u[256], nu = 0;
    for (int i = 0; i < r->n; i++) { /* once-only entries, in reading order */
      if (!parse_entry(bp->inserts[r->order[i]].text, nm, sizeof nm, sp, sizeof sp)) continue;
      for (int j = 0; j < nn; j++) if (!strcmp(names[j], nm) && cnt[j] == 1 && find_entries(r, nm, ids, 4) == 1) u[nu++] = j;
    }
    if (nu < 2) return 0;
    hit = option_of(bp, names[u[nu - 2]]);
  } else {
    int di, dj;
    if (sscanf(q, "Which entry appears in both Document %d and Document %d?", &di, &dj) != 2) return 0;
    for (int j = 0; j < nn; j++) {
      if (dm[j][di - 1] && dm[j][dj - 1]) { if (hit >= 0) return 0; hit = option_of(bp, names[j]); if (hit < 0) return 0; }
    }
  }
  return hit >= 0 ? 'A' + hit : 0;
}

/* ---- checks on one blueprint -------------------------------------------- */

static int check_blueprint(const skill_def *d, const skill_blueprint *bp, int verbose) {
  int bad = 0;
#define EXPECT(c, ...) do { if (!(c)) { bad++; if (verbose) { fprintf(stderr, "%s: ", d->id); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } } while (0)
  EXPECT(bp->skill && !strcmp(bp->skill, d->id), "skill id");
  EXPECT(bp->answer_type == d->answer_type, "answer type");
  EXPECT(bp->intended[0] && bp->expr[0] && bp->question[0], "empty intended/expr/question");
  for (int i = 0; i < bp->n_inserts; i++) {
    const skill_insert *a = &bp->inserts[i];
    EXPECT(a->doc >= 0 && a->doc < bp->n_docs, "insert %d doc %d", i, a->doc);
    EXPECT(a->depth >= 0 && a->depth <= 1, "insert %d depth %g", i, a->depth);
    EXPECT(a->anchor >= -1 && a->anchor < bp->n_anchors, "insert %d anchor", i);
    if (a->anchor >= 0) EXPECT(strstr(a->text, bp->anchors[a->anchor].name) != NULL, "insert %d lacks its anchor name", i);
    for (int j = i + 1; j < bp->n_inserts; j++)
      EXPECT(bp->inserts[j].doc != a->doc || bp->inserts[j].depth != a->depth, "inserts %d and %d tie", i, j);
  }
  /* names: equal only for conflict occurrences (same value never), never substrings */
  for (int i = 0; i < bp->n_anchors; i++) {
    for (int j = i + 1; j < bp->n_anchors; j++) {
      const char *a = bp->anchors[i].name, *b = bp->anchors[j].name;
      if (!strcmp(a, b)) EXPECT(!strcmp(d->id, "anti_interference") && bp->anchors[i].value.num != bp->anchors[j].value.num,
                               "duplicate name %s", a);
      else EXPECT(!strstr(a, b) && !strstr(b, a), "name %s inside %s", a, b);
    }
  }
  /* 1: the generator's answer equals the evaluation of its expression */
  skill_blueprint copy = *bp;
  skl_error err = {0};
  skl_status st = synth_expr_answer(&copy, &err);
  EXPECT(st == SKL_OK, "expr '%s' failed: %s", bp->expr, err.msg);
  if (st == SKL_OK) EXPECT(!strcmp(copy.answer, bp->intended), "expr '%.300s' = '%s', intended '%s'", bp->expr, copy.answer, bp->intended);
  /* 2: the oracle reading only texts agrees */
  reading r;
  read_order(bp, &r);
  char oracle[64] = "";
  if (bp->answer_type == SKILL_ANSWER_CHOICE) {
    int l = oracle_choice(bp, &r);
    if (l) snprintf(oracle, sizeof oracle, "%c", l);
    EXPECT(bp->n_choices == 4, "choices");
  } else {
    double v = oracle_number(bp, &r);
    if (!isnan(v)) skill_answer_render_number(v, oracle, sizeof oracle, NULL);
  }
  EXPECT(!strcmp(oracle, bp->intended), "oracle '%s' != intended '%s' for question: %.200s", oracle, bp->intended, bp->question);
  /* 3: the verifier accepts the gold in a response */
  char resp[400];
  snprintf(resp, sizeof resp, "Let me look.\nAnswer: %s", bp->intended);
  skill_verdict v;
  EXPECT(skill_verify(bp->answer_type, bp->intended, resp, &v, NULL) == SKL_OK && v.correct, "verify gold");
#undef EXPECT
  return bad;
}

static int g_wide; /* slow suite: knobs over their whole ranges */

static void random_knobs(const skill_def *d, skl_rng *r, skill_knobs *k) {
  *k = d->defaults;
  int maxd = g_wide ? d->hi.docs : 12, maxa = g_wide ? d->hi.anchors : 24;
  if (d->reads & SKILL_KNOB_DOCS) k->docs = (int)skl_rng_range(r, d->lo.docs, d->hi.docs < maxd ? d->hi.docs : maxd);
  if (d->reads & SKILL_KNOB_ANCHORS) k->anchors = (int)skl_rng_range(r, d->lo.anchors, d->hi.anchors < maxa ? d->hi.anchors : maxa);
  if (d->reads & SKILL_KNOB_SIMILARITY) k->similarity = skl_rng_uniform(r);
  if (d->reads & SKILL_KNOB_DEPTH) k->depth = skl_rng_below(r, 3) ? skl_rng_uniform(r) : -1;
  if (d->reads & SKILL_KNOB_HOPS) k->hops = (int)skl_rng_range(r, d->lo.hops, g_wide || d->hi.hops < 8 ? d->hi.hops : 8);
  if (d->reads & SKILL_KNOB_REASONING) k->reasoning = (int)skl_rng_range(r, d->lo.reasoning, d->hi.reasoning);
  if (!strcmp(d->id, "multi_hop") && k->anchors < k->hops + 1) k->anchors = k->hops + 1 + (int)skl_rng_below(r, 6);
  if (!strcmp(d->id, "calc_reason") && k->anchors < k->hops + k->reasoning) k->anchors = k->hops + k->reasoning;
}

static void test_generators(int samples) {
  for (int s = 0; s < skill_count(); s++) {
    const skill_def *d = skill_get(s);
    int bad = 0, failed_builds = 0, shown = 0;
    char seen_variants[8][64];
    int nvar = 0;
    skl_rng kr;
    skl_rng_seed(&kr, 1000 + (uint64_t)s);
    for (int i = 0; i < samples; i++) {
      skill_knobs k;
      random_knobs(d, &kr, &k);
      if (i == 0) k = d->defaults;
      skl_rng r;
      skl_rng_seed(&r, skl_rng_derive(7, (uint64_t)s, (uint64_t)i, 0));
      skill_blueprint bp;
      skl_error err = {0};
      if (skill_build(d, &k, &r, &bp, &err)) {
        if (failed_builds++ < 3) fprintf(stderr, "%s build failed: %s\n", d->id, err.msg);
        continue;
      }
      int b = check_blueprint(d, &bp, shown < 3);
      if (b) shown++;
      bad += b;
      /* variety: the first word of the difficulty summary (mode/query) */
      char v[64];
      snprintf(v, sizeof v, "%.*s", (int)strcspn(bp.difficulty, " "), bp.difficulty);
      int known = 0;
      for (int j = 0; j < nvar; j++) known |= !strcmp(seen_variants[j], v);
      if (!known && nvar < 8) snprintf(seen_variants[nvar++], sizeof seen_variants[0], "%s", v);
      skill_blueprint_free(&bp);
    }
    CHECK_MSG(failed_builds == 0, "%s: %d builds failed", d->id, failed_builds);
    CHECK_MSG(bad == 0, "%s: %d problems over %d samples", d->id, bad, samples);
    if (!strcmp(d->id, "anti_interference")) CHECK_MSG(nvar == 2, "anti_interference: both modes appear (%d)", nvar);
    if (!strcmp(d->id, "logic")) CHECK_MSG(nvar == 4, "logic: all four queries appear (%d)", nvar);
    printf("%-18s %d samples checked (expr, oracle, verifier)\n", d->id, samples);
  }
}

static void test_determinism(void) {
  for (int s = 0; s < skill_count(); s++) {
    const skill_def *d = skill_get(s);
    skill_blueprint a, b;
    skl_rng r1, r2;
    skl_rng_seed(&r1, 42);
    skl_rng_seed(&r2, 42);
    CHECK(skill_build(d, &d->defaults, &r1, &a, NULL) == SKL_OK);
    CHECK(skill_build(d, &d->defaults, &r2, &b, NULL) == SKL_OK);
    int same = a.n_anchors == b.n_anchors && a.n_inserts == b.n_inserts && !strcmp(a.question, b.question) &&
               !strcmp(a.expr, b.expr) && !strcmp(a.intended, b.intended) &&
               !memcmp(a.anchors, b.anchors, sizeof *a.anchors * (size_t)a.n_anchors) &&
               !memcmp(a.inserts, b.inserts, sizeof *a.inserts * (size_t)a.n_inserts);
    CHECK_MSG(same, "%s: same seed, different blueprint", d->id);
    skill_blueprint_free(&b);
    skl_rng_seed(&r2, 43);
    CHECK(skill_build(d, &d->defaults, &r2, &b, NULL) == SKL_OK);
    CHECK_MSG(strcmp(a.question, b.question) || strcmp(a.expr, b.expr) || a.n_inserts != b.n_inserts ||
                  memcmp(a.inserts, b.inserts, sizeof *a.inserts * (size_t)a.n_inserts),
              "%s: seeds 42 and 43 give the same blueprint", d->id);
    /* content size: the registry's min_chars is about the default content */
    size_t c = skill_blueprint_content_chars(&a);
    CHECK_MSG(c > 0 && c <= 4 * d->min_chars && d->min_chars <= 4 * c, "%s: content %zu chars vs min_chars %zu", d->id, c,
              d->min_chars);
    skill_blueprint_free(&a);
    skill_blueprint_free(&b);
  }
}

static void test_registry(void) {
  CHECK(skill_count() == 6);
  const char *ids[] = {"niah", "anti_interference", "multi_source", "logic", "calc_reason", "multi_hop"};
  for (int i = 0; i < 6; i++) {
    CHECK(skill_get(i) && !strcmp(skill_get(i)->id, ids[i]));
    CHECK(skill_find(ids[i]) == skill_get(i));
    CHECK(skill_knobs_validate(skill_get(i), &skill_get(i)->defaults, NULL) == SKL_OK);
    CHECK(skill_get(i)->name && skill_get(i)->description && skill_get(i)->build && skill_get(i)->min_chars > 0);
  }
  CHECK(skill_get(6) == NULL && skill_get(-1) == NULL);
  CHECK(skill_find("nope") == NULL && skill_find(NULL) == NULL);
  const skill_def *d;
  skl_error err = {0};
  CHECK(skill_lookup("nia", &d, &err) == SKL_ERR_NOTFOUND && d == NULL);
  CHECK_CONTAINS(err.msg, "unknown skill 'nia': did you mean 'niah'?");
  CHECK(skill_lookup("xyzzy-totally-else", &d, &err) == SKL_ERR_NOTFOUND);
  CHECK(strstr(err.msg, "did you mean") == NULL);
  CHECK_CONTAINS(err.msg, "known skills: niah, anti_interference");
  CHECK(skill_lookup("multi_hop", &d, &err) == SKL_OK && d == skill_get(5));

  /* knob names and setting */
  skill_knobs k = skill_find("niah")->defaults;
  CHECK_STR(skill_knob_name(SKILL_KNOB_HOPS), "hops");
  CHECK(skill_knob_name(3) == NULL);
  CHECK(skill_knob_set(&k, "docs", 9, &err) == SKL_OK && k.docs == 9);
  CHECK(skill_knob_set(&k, "similarity", 0.25, &err) == SKL_OK && k.similarity == 0.25);
  CHECK(skill_knob_set(&k, "docs", 2.5, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "knob 'docs' = 2.5 must be a whole number");
  CHECK(skill_knob_set(&k, "dcos", 2, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "unknown knob 'dcos': use one of docs, anchors");
  CHECK(skill_knob_set(&k, "depth", NAN, &err) == SKL_ERR_NUMERIC);
  CHECK_CONTAINS(err.msg, "knob 'depth' must be a finite number");

  /* every knob a skill reads: one below and one above its range, named in the error */
  for (int i = 0; i < skill_count(); i++) {
    d = skill_get(i);
    for (unsigned bit = 1; bit < (1u << SKILL_KNOB_COUNT); bit <<= 1) {
      if (!(d->reads & bit)) continue;
      for (int side = 0; side < 2; side++) {
        skill_knobs kk = d->defaults;
        const char *name = skill_knob_name(bit);
        double lo = bit == SKILL_KNOB_DOCS ? d->lo.docs : bit == SKILL_KNOB_ANCHORS ? d->lo.anchors
                  : bit == SKILL_KNOB_SIMILARITY ? d->lo.similarity : bit == SKILL_KNOB_DEPTH ? d->lo.depth
                  : bit == SKILL_KNOB_HOPS ? d->lo.hops : d->lo.reasoning;
        double hi = bit == SKILL_KNOB_DOCS ? d->hi.docs : bit == SKILL_KNOB_ANCHORS ? d->hi.anchors
                  : bit == SKILL_KNOB_SIMILARITY ? d->hi.similarity : bit == SKILL_KNOB_DEPTH ? d->hi.depth
                  : bit == SKILL_KNOB_HOPS ? d->hi.hops : d->hi.reasoning;
        double v = side ? hi + 1 : lo - 1;
        int is_int = bit != SKILL_KNOB_SIMILARITY && bit != SKILL_KNOB_DEPTH;
        if (!is_int) v = side ? hi + 0.5 : lo - 0.5;
        CHECK(skill_knob_set(&kk, name, v, NULL) == SKL_OK);
        skill_blueprint bp;
        skl_rng r;
        skl_rng_seed(&r, 1);
        CHECK_MSG(skill_build(d, &kk, &r, &bp, &err) == SKL_ERR_RANGE, "%s knob %s = %g accepted", d->id, name, v);
        char want[96];
        snprintf(want, sizeof want, "skill '%s': knob '%s' = ", d->id, name);
        CHECK_CONTAINS(err.msg, want);
        CHECK(bp.anchors == NULL && bp.inserts == NULL);
      }
    }
  }
  /* depth: -1 (random) is fine, -0.5 is not */
  d = skill_find("niah");
  k = d->defaults;
  k.depth = -1;
  CHECK(skill_knobs_validate(d, &k, &err) == SKL_OK);
  k.depth = -0.5;
  CHECK(skill_knobs_validate(d, &k, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "or -1 for a random depth");
  /* knobs a skill does not read are ignored */
  k = d->defaults;
  k.hops = 9999;
  CHECK(skill_knobs_validate(d, &k, &err) == SKL_OK);
  /* cross-knob rules */
  d = skill_find("multi_hop");
  k = d->defaults;
  k.hops = 8;
  k.anchors = 5;
  CHECK(skill_knobs_validate(d, &k, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "skill 'multi_hop': knob 'anchors' = 5 cannot hold a chain of 8 hops");
  d = skill_find("calc_reason");
  k = d->defaults;
  k.hops = 4;
  k.reasoning = 2;
  k.anchors = 5;
  CHECK(skill_knobs_validate(d, &k, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "skill 'calc_reason': knob 'anchors' = 5 cannot hold 4 operands and 2 conditions");
}

static void test_anchors_and_blueprint(void) {
  skl_rng r;
  skl_rng_seed(&r, 5);
  char a[SKILL_ANCHOR_NAME_MAX], b[SKILL_ANCHOR_NAME_MAX];
  for (int kind = 0; kind < SKILL_ANCHOR_KIND_COUNT; kind++) {
    for (int i = 0; i < 200; i++) {
      skill_anchor_make((skill_anchor_kind)kind, &r, a, sizeof a);
      size_t n = strlen(a);
      int ok = 0;
      if (kind == SKILL_ANCHOR_BRACKET_ID) ok = n == 11 && !strncmp(a, "[ID: ", 5) && isupper((unsigned char)a[5]) && a[6] == '-' && a[7] != '0' && a[10] == ']';
      if (kind == SKILL_ANCHOR_TIMESTAMP) ok = n == 18 && !strncmp(a, "17", 2) && a[13] == '-' && strspn(a, "0123456789") == 13;
      if (kind == SKILL_ANCHOR_UPPER_WORD) ok = n == 10 && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 10;
      if (kind == SKILL_ANCHOR_UUID) ok = n == 36 && a[8] == '-' && a[13] == '-' && a[14] == '4' && strchr("89ab", a[19]) && strspn(a, "0123456789abcdef-") == 36;
      CHECK_MSG(ok, "%s anchor '%s' malformed", skill_anchor_kind_name((skill_anchor_kind)kind), a);
      skill_anchor_lookalike(a, (skill_anchor_kind)kind, &r, b, sizeof b);
      int diff = 0;
      for (size_t j = 0; j < n; j++) diff += a[j] != b[j];
      CHECK_MSG(strlen(b) == n && diff == 1, "look-alike '%s' of '%s'", b, a);
      if (kind == SKILL_ANCHOR_UUID) CHECK(b[14] == '4' && strchr("89ab", b[19]));
      if (kind == SKILL_ANCHOR_BRACKET_ID) CHECK(b[7] != '0' && b[6] == '-');
    }
  }
  CHECK_STR(skill_anchor_kind_name(SKILL_ANCHOR_UUID), "uuid");
  CHECK_STR(skill_anchor_kind_name((skill_anchor_kind)9), "unknown");
  skill_blueprint bp;
  skl_error err = {0};
  CHECK(skill_blueprint_init(&bp, 0, 1, 1, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "docs=0");
  skill_blueprint_free(&bp);
  skill_blueprint_free(NULL);
  /* build helpers refuse to overflow the allocation, naming the skill */
  CHECK(skill_blueprint_init(&bp, 2, 1, 1, &err) == SKL_OK);
  bp.skill = "niah";
  int idx;
  CHECK(skill_bp_new_anchor(&bp, SKILL_ANCHOR_UPPER_WORD, &r, &idx, &err) == SKL_OK && idx == 0);
  CHECK(skill_bp_lookalike_anchor(&bp, 0, &r, &idx, &err) == SKL_ERR_INTERNAL);
  CHECK_CONTAINS(err.msg, "skill 'niah': blueprint full at 1 anchors");
  CHECK(skill_bp_entry(&bp, 0, 1, 0.5, &err) == SKL_OK);
  CHECK(!strncmp(bp.inserts[0].text, "Entry ", 6) && strstr(bp.inserts[0].text, ": its value is "));
  CHECK(skill_bp_entry(&bp, 0, 0, 0.5, &err) == SKL_ERR_INTERNAL);
  CHECK_CONTAINS(err.msg, "blueprint full at 1 inserts");
  skill_blueprint_free(&bp);
  /* names exhausted: an empty name clashes with every candidate (substring rule) */
  CHECK(skill_blueprint_init(&bp, 1, 2, 0, &err) == SKL_OK);
  bp.skill = "logic";
  CHECK(skill_bp_add_anchor(&bp, "", SKILL_ANCHOR_BRACKET_ID, &idx, &err) == SKL_OK);
  CHECK(skill_bp_new_anchor(&bp, SKILL_ANCHOR_BRACKET_ID, &r, &idx, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "skill 'logic': cannot find a unique bracket_id anchor among 1: lower the anchors knob");
  skill_blueprint_free(&bp);
  CHECK(skill_blueprint_init(&bp, 3, 0, 0, &err) == SKL_OK && bp.cap_anchors == 0);
  CHECK(skill_blueprint_content_chars(&bp) == 0);
  skill_blueprint_free(&bp);
  CHECK(bp.anchors == NULL);
}

/* niah's reasoning knob: 0 states every value literally (the question is the
 * number itself), 1 (default) also uses arithmetic and min/max statements. */
/* Anchor references of an expression: words "a<k>", whole numbers, in order. */
static void test_expr_anchors(void) {
  const char *e = "round(max(solve(Q(a1)), solve(Q(a12))) if count(docs(a0)) > 3 else data1 + ka2, 2)";
  long k[8];
  int n = 0;
  for (const char *p = skill_expr_next_anchor(e, e, &k[n]); p && n < 7; p = skill_expr_next_anchor(e, p, &k[n])) n++;
  CHECK(n == 3);
  CHECK(n == 3 && k[0] == 1 && k[1] == 12 && k[2] == 0);
  CHECK(skill_expr_names_anchor(e, 12) && skill_expr_names_anchor(e, 0) && skill_expr_names_anchor(e, 1));
  CHECK(!skill_expr_names_anchor(e, 2));  /* "ka2": part of a name */
  CHECK(!skill_expr_names_anchor("a", 0) && !skill_expr_names_anchor("", 0));
  CHECK(skill_expr_names_anchor("a7", 7) && !skill_expr_names_anchor("a7", 70));
}

static void test_niah_literal(void) {
  const skill_def *d = skill_find("niah");
  int computed[2] = {0, 0};
  for (int lit = 0; lit < 2; lit++)
    for (int seed = 1; seed <= 60; seed++) {
      skill_knobs k = d->defaults;
      k.anchors = 3;
      k.reasoning = lit ? 0 : 1;
      skl_rng r;
      skl_rng_seed(&r, (uint64_t)seed);
      skill_blueprint bp;
      skl_error err = {0};
      CHECK_MSG(skill_build(d, &k, &r, &bp, &err) == SKL_OK, "%s", err.msg);
      for (int i = 0; i < bp.n_anchors; i++)
        computed[lit] += strcmp(bp.anchors[i].question, bp.anchors[i].value.str) != 0;
      CHECK(!lit || strstr(bp.difficulty, "literal"));
      skill_blueprint_free(&bp);
    }
  CHECK_MSG(computed[0] > 60, "default niah: %d computed values in 180", computed[0]);
  CHECK_MSG(computed[1] == 0, "niah reasoning 0: %d computed values", computed[1]);
}

int main(int argc, char **argv) {
  /* unit: 400 samples per skill at moderate knobs; slow (argument "wide"): the
   * whole knob ranges, 1000 samples per skill with SKL_SLOW_SIZE=small, else 20000 */
  int samples = 400;
  if (argc > 1 && !strcmp(argv[1], "wide")) {
    const char *size = getenv("SKL_SLOW_SIZE");
    g_wide = 1;
    samples = size && !strcmp(size, "small") ? 1000 : 20000;
    printf("wide knob ranges, %d samples per skill (SKL_SLOW_SIZE=%s)\n", samples, size ? size : "unset");
  }
  test_registry();
  test_anchors_and_blueprint();
  test_determinism();
  test_niah_literal();
  test_expr_anchors();
  test_generators(samples);
  return test_report();
}
