/* eval metrics: the benchmarks' per-sample scoring rules, reproduced from
 * their Python sources (see metrics.h for each). Not aggregation: score.c. */
#include "eval/metrics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/text_internal.h"
#include "skills/answer.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

static bool is_ascii_punct(uint32_t c) {
  return c < 0x80 && c > 0x20 && c != 0x7F && !isalnum((int)c);
}

/* normalize_answer on code points: lower, remove_punc, remove_articles,
 * white_space_fix (in Python's order). */
static skl_status normalize_u32(const char *s, eval_u32 *out) {
  eval_u32 raw, low, np = {0};
  memset(out, 0, sizeof *out);
  if (eval_u32_from_utf8(&raw, s, strlen(s))) return SKL_ERR_NOMEM;
  skl_status st = eval_py_lower(&raw, &low);
  eval_u32_free(&raw);
  if (st) { eval_u32_free(&low); return st; }
  for (size_t i = 0; i < low.n; i++)
    if (!is_ascii_punct(low.cp[i]) && eval_u32_push(&np, low.cp[i])) goto nomem;
  /* \b(a|an|the)\b: whole runs of word characters equal to an article */
  eval_u32 art = {0};
  for (size_t i = 0; i < np.n;) {
    if (!eval_py_isalnum(np.cp[i]) && np.cp[i] != '_') {
      if (eval_u32_push(&art, np.cp[i])) { eval_u32_free(&art); goto nomem; }
      i++;
      continue;
    }
    size_t e = i;
    while (e < np.n && (eval_py_isalnum(np.cp[e]) || np.cp[e] == '_')) e++;
    size_t w = e - i;
    const uint32_t *p = np.cp + i;
    bool article = (w == 1 && p[0] == 'a') || (w == 2 && p[0] == 'a' && p[1] == 'n') ||
                   (w == 3 && p[0] == 't' && p[1] == 'h' && p[2] == 'e');
    if (article) {
      if (eval_u32_push(&art, ' ')) { eval_u32_free(&art); goto nomem; }
    } else {
      for (size_t k = i; k < e; k++)
        if (eval_u32_push(&art, np.cp[k])) { eval_u32_free(&art); goto nomem; }
    }
    i = e;
  }
  eval_u32_free(&np);
  /* " ".join(text.split()) */
  for (size_t i = 0; i < art.n;) {
    while (i < art.n && eval_py_isspace(art.cp[i])) i++;
    if (i == art.n) break;
    if (out->n && eval_u32_push(out, ' ')) { eval_u32_free(&art); eval_u32_free(&low); return SKL_ERR_NOMEM; }
    while (i < art.n && !eval_py_isspace(art.cp[i])) {
      if (eval_u32_push(out, art.cp[i])) { eval_u32_free(&art); eval_u32_free(&low); return SKL_ERR_NOMEM; }
      i++;
    }
  }
  eval_u32_free(&art);
  eval_u32_free(&low);
  if (!out->cp && eval_u32_push(out, 0) == SKL_OK) out->n = 0; /* non-NULL empty string */
  return out->cp ? SKL_OK : SKL_ERR_NOMEM;
nomem:
  eval_u32_free(&np);
  eval_u32_free(&low);
  eval_u32_free(out);
  return SKL_ERR_NOMEM;
}

skl_status eval_normalize_answer(const char *s, char **out, skl_error *err) {
  eval_u32 n;
  *out = NULL;
  if (normalize_u32(s, &n)) return NOMEM(err);
  *out = eval_u32_to_utf8(n.cp, n.n, NULL);
  eval_u32_free(&n);
  return *out ? SKL_OK : NOMEM(err);
}

skl_status eval_exact_match(const char *pred, const char *const *gold, size_t n_gold, double *score,
                            skl_error *err) {
  *score = 0.0;
  char *p;
  if (eval_normalize_answer(pred, &p, err)) return SKL_ERR_NOMEM;
  for (size_t g = 0; g < n_gold && *score < 1.0; g++) {
    char *q;
    if (eval_normalize_answer(gold[g], &q, err)) { free(p); return SKL_ERR_NOMEM; }
    if (!strcmp(p, q)) *score = 1.0;
    free(q);
  }
  free(p);
  return SKL_OK;
}

/* Whitespace tokens of a normalised string, sorted (for multiset overlap). */
typedef struct {
  char *text;   /* normalised UTF-8, tokens NUL-separated in place */
  char **tok;   /* [n] */
  size_t n;
} tokens;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static skl_status tokenize(const char *s, tokens *t) {
  memset(t, 0, sizeof *t);
  eval_u32 n;
  if (normalize_u32(s, &n)) return SKL_ERR_NOMEM;
  t->text = eval_u32_to_utf8(n.cp, n.n, NULL);
  eval_u32_free(&n);
  if (!t->text) return SKL_ERR_NOMEM;
  size_t cap = 1;
  for (const char *c = t->text; *c; c++) cap += *c == ' ';
  t->tok = malloc(cap * sizeof *t->tok);
  if (!t->tok) { free(t->text); return SKL_ERR_NOMEM; }
  for (char *c = t->text; *c;) { /* normalised: single spaces, no edges */
    t->tok[t->n++] = c;
    char *sp = strchr(c, ' ');
    if (!sp) break;
    *sp = '\0';
    c = sp + 1;
  }
  qsort(t->tok, t->n, sizeof *t->tok, cmp_str);
  return SKL_OK;
}

static void tokens_free(tokens *t) { free(t->text); free(t->tok); }

skl_status eval_token_f1(const char *pred, const char *const *gold, size_t n_gold, double *score,
                         skl_error *err) {
  *score = 0.0;
  tokens p;
  if (tokenize(pred, &p)) return NOMEM(err);
  for (size_t g = 0; g < n_gold; g++) {
    tokens q;
    if (tokenize(gold[g], &q)) { tokens_free(&p); return NOMEM(err); }
    size_t same = 0, i = 0, j = 0;
    while (i < p.n && j < q.n) { /* sorted merge = Counter & Counter */
      int c = strcmp(p.tok[i], q.tok[j]);
      if (c == 0) { same++; i++; j++; }
      else if (c < 0) i++;
      else j++;
    }
    if (same) {
      double prec = 1.0 * (double)same / (double)p.n, rec = 1.0 * (double)same / (double)q.n;
      double f1 = (2 * prec * rec) / (prec + rec);
      if (f1 > *score) *score = f1;
    }
    tokens_free(&q);
  }
  tokens_free(&p);
  return SKL_OK;
}

/* Python str.strip() on code points, in place. */
static void py_strip(eval_u32 *s) {
  size_t b = 0, e = s->n;
  while (b < e && eval_py_isspace(s->cp[b])) b++;
  while (e > b && eval_py_isspace(s->cp[e - 1])) e--;
  memmove(s->cp, s->cp + b, (e - b) * sizeof *s->cp);
  s->n = e - b;
}

static bool u32_contains(const eval_u32 *hay, const eval_u32 *needle) {
  if (needle->n == 0) return true;
  if (needle->n > hay->n) return false;
  for (size_t i = 0; i + needle->n <= hay->n; i++)
    if (hay->cp[i] == needle->cp[0] && !memcmp(hay->cp + i, needle->cp, needle->n * sizeof *needle->cp))
      return true;
  return false;
}

skl_status eval_ruler_match(const char *pred, const char *const *refs, size_t n_refs, bool all,
                            double *score, skl_error *err) {
  *score = 0.0;
  if (n_refs == 0)
    return skl_error_set(err, SKL_ERR_INVALID, "RULER sample has no reference strings (outputs is empty)");
  eval_u32 p, pl;
  if (eval_u32_from_utf8(&p, pred, strlen(pred))) return NOMEM(err);
  py_strip(&p);
  for (size_t i = 0; i < p.n; i++)
    if (p.cp[i] < 0x20) p.cp[i] = '\n';
  py_strip(&p);
  skl_status st = eval_py_lower(&p, &pl);
  eval_u32_free(&p);
  if (st) { eval_u32_free(&pl); return NOMEM(err); }
  size_t found = 0;
  for (size_t r = 0; r < n_refs; r++) {
    eval_u32 raw, low;
    if (eval_u32_from_utf8(&raw, refs[r], strlen(refs[r]))) { eval_u32_free(&pl); return NOMEM(err); }
    st = eval_py_lower(&raw, &low);
    eval_u32_free(&raw);
    if (st) { eval_u32_free(&low); eval_u32_free(&pl); return NOMEM(err); }
    found += u32_contains(&pl, &low);
    eval_u32_free(&low);
  }
  eval_u32_free(&pl);
  *score = all ? (double)found / (double)n_refs : (found ? 1.0 : 0.0);
  return SKL_OK;
}

skl_status eval_mrcr_grade(const char *response, const char *answer, const char *prefix, double *score,
                           skl_error *err) {
  *score = 0.0;
  size_t np = strlen(prefix);
  if (strncmp(response, prefix, np)) return SKL_OK;
  const char *a = answer;
  if (!strncmp(answer, prefix, np)) a += np;
  return eval_seqmatch_ratio_utf8(response + np, a, score, err);
}

char eval_longbench_v2_extract(const char *response) {
  static const char pat[] = "The correct answer is ";
  size_t n = strlen(response), k = 0, lp = sizeof pat - 1;
  char *s = malloc(n + 1);
  if (!s) return 0;
  for (size_t i = 0; i < n; i++)
    if (response[i] != '*') s[k++] = response[i];
  s[k] = '\0';
  char found = 0;
  for (const char *p = strstr(s, pat); p && !found; p = strstr(p + 1, pat)) /* "...is (X)" */
    if (p[lp] == '(' && p[lp + 1] >= 'A' && p[lp + 1] <= 'D' && p[lp + 2] == ')') found = p[lp + 1];
  for (const char *p = strstr(s, pat); p && !found; p = strstr(p + 1, pat)) /* "...is X" */
    if (p[lp] >= 'A' && p[lp] <= 'D') found = p[lp];
  free(s);
  return found;
}

static const char *const babi_rooms[] = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"};
static const char *const babi_qa5[] = {"Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"};
static const char *const babi_yesno[] = {"no", "yes"};
static const char *const babi_qa7[] = {"two", "one", "none"};
static const char *const babi_qa10[] = {"maybe", "no", "yes"};

skl_status eval_babilong_labels(const char *task, const char *const **labels, size_t *n, skl_error *err) {
  static const struct {
    const char *task;
    const char *const *labels;
    size_t n;
  } table[] = {
      {"qa1", babi_rooms, 6}, {"qa2", babi_rooms, 6}, {"qa3", babi_rooms, 6}, {"qa4", babi_rooms, 6},
      {"qa5", babi_qa5, 7},   {"qa6", babi_yesno, 2}, {"qa7", babi_qa7, 3},   {"qa9", babi_yesno, 2},
      {"qa10", babi_qa10, 3},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (!strcmp(task, table[i].task)) {
      *labels = table[i].labels;
      *n = table[i].n;
      return SKL_OK;
    }
  *labels = NULL;
  *n = 0;
  return skl_error_set(err, SKL_ERR_UNSUPPORTED,
                       "BABILong task '%s' has no closed label set; BABILong's compare_answers defines "
                       "labels for qa1-qa7, qa9 and qa10 only (use --metric em or f1 for others)",
                       task);
}

static char *lower_dup(const char *s) {
  char *o;
  size_t n;
  return eval_py_lower_utf8(s, strlen(s), &o, &n) ? NULL : o;
}

static void cut_at(char *s, const char *sep) {
  char *p = strstr(s, sep);
  if (p) *p = '\0';
}

bool eval_babilong_compare(const char *target, const char *output, const char *question,
                           const char *const *labels, size_t n_labels) {
  char *out = lower_dup(output), *tgt = lower_dup(target), *q = lower_dup(question);
  bool ok = false;
  if (!out || !tgt || !q) goto done;
  cut_at(out, ".");
  cut_at(out, "<context>");
  cut_at(out, "<example>");
  cut_at(out, "Question"); /* kept as in babilong: a no-op after lower() */
  size_t n_out = 0;
  bool target_in = false;
  for (size_t i = 0; i < n_labels; i++) {
    char *l = lower_dup(labels[i]);
    if (!l) goto done;
    bool dup = false; /* the labels form a set after lower() */
    for (size_t k = 0; k < i && !dup; k++) {
      char *lk = lower_dup(labels[k]);
      dup = lk && !strcmp(lk, l);
      free(lk);
    }
    if (!dup && strstr(out, l) && !strstr(q, l)) {
      n_out++;
      if (!strcmp(l, tgt)) target_in = true;
    }
    free(l);
  }
  ok = target_in && n_out == 1;
done:
  free(out); free(tgt); free(q);
  return ok;
}

skl_status eval_verify(skill_answer_type type, const char *gold, const char *response, bool *correct,
                       char *extracted, size_t cap, skl_error *err) {
  skill_verdict v;
  skl_status st = skill_verify(type, gold, response, &v, err);
  *correct = !st && v.correct;
  if (extracted && cap) snprintf(extracted, cap, "%s", st ? "" : v.extracted);
  return st;
}
