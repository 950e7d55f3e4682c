/* eval score: detect the data format, check ids between data and
 * predictions, score each sample with eval/metrics.h, aggregate per group.
 * Not a model runner; not the metric definitions (metrics.c). */
#include "eval/score.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/jsonl_internal.h"
#include "eval/metrics.h"
#include "eval/stats.h"
#include "io/jsonl.h"
#include "skills/answer.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

static const char *const metric_names[EVAL_METRIC_COUNT] = {
    "auto", "em", "f1", "string_match_all", "string_match_part", "mrcr", "choice", "babilong", "verify"};

const char *eval_metric_name(eval_metric m) {
  return (unsigned)m < EVAL_METRIC_COUNT ? metric_names[m] : "unknown";
}

skl_status eval_metric_parse(const char *name, eval_metric *out, bool *ruler_auto, skl_error *err) {
  *ruler_auto = false;
  if (!strcmp(name, "ruler")) {
    *out = EVAL_METRIC_RULER_ALL;
    *ruler_auto = true;
    return SKL_OK;
  }
  for (int i = 0; i < EVAL_METRIC_COUNT; i++)
    if (!strcmp(name, metric_names[i])) { *out = (eval_metric)i; return SKL_OK; }
  return skl_error_set(err, SKL_ERR_INVALID,
                       "unknown metric '%s' (valid: auto, em, f1, ruler, string_match_all, string_match_part, "
                       "mrcr, choice, babilong, verify)",
                       name);
}

typedef enum { F_SKILL, F_MRCR, F_RULER, F_LBV2, F_BABILONG, F_LONGBENCH, F_QA, F_COUNT } data_format;

/* The formats in the order the first record is tested against them: a
 * format matches when the record has field `key` (and `also`, when given);
 * its samples are scored by `metric` unless --metric says otherwise (RULER:
 * string_match_all, or _part for qa tasks). */
static const struct {
  const char *name, *key, *also;
  eval_metric metric;
} formats[F_COUNT] = {
    [F_SKILL] = {"skill", "answer_type", "answer", EVAL_METRIC_VERIFY},
    [F_MRCR] = {"mrcr", "random_string_to_prepend", "answer", EVAL_METRIC_MRCR},
    [F_RULER] = {"ruler", "outputs", NULL, EVAL_METRIC_RULER_ALL},
    [F_LBV2] = {"longbench_v2", "choice_A", "answer", EVAL_METRIC_CHOICE},
    [F_BABILONG] = {"babilong", "target", "question", EVAL_METRIC_BABILONG},
    [F_LONGBENCH] = {"longbench", "answers", NULL, EVAL_METRIC_F1},
    [F_QA] = {"qa", "answer", NULL, EVAL_METRIC_EM},
};

typedef struct {
  char *id;
  size_t line;
  char *group;
  eval_metric metric;
  char **gold; /* [n_gold] */
  size_t n_gold;
  char *question, *prefix;
  const char *const *labels;
  size_t n_labels;
  skill_answer_type atype;
  bool first_line;  /* LongBench: score only the prediction's first line */
  size_t pred_line; /* 0: no prediction yet */
  double score;
  char *extracted;
} item;

typedef struct {
  const eval_score_opts *o;
  data_format fmt;
  bool fmt_known;
  eval_metric metric; /* forced, or AUTO */
  bool ruler_auto;
  const char *id_key; /* NULL: record number */
  char file_task[64]; /* data file name without folders and extensions */
  item *items;
  size_t n, cap;
  size_t *table; /* open addressing: item index + 1, 0 = empty */
  size_t tcap;
} ctx;

static void item_free(item *it) {
  free(it->id);
  free(it->group);
  for (size_t i = 0; i < it->n_gold; i++) free(it->gold[i]);
  free(it->gold);
  free(it->question);
  free(it->prefix);
  free(it->extracted);
}

static size_t *table_slot(ctx *c, const char *id) {
  size_t h = (size_t)skl_hash_str(id) & (c->tcap - 1);
  while (c->table[h] && strcmp(c->items[c->table[h] - 1].id, id)) h = (h + 1) & (c->tcap - 1);
  return &c->table[h];
}

static skl_status table_grow(ctx *c) {
  size_t ncap = c->tcap ? c->tcap * 2 : 1024;
  size_t *nt = calloc(ncap, sizeof *nt);
  if (!nt) return SKL_ERR_NOMEM;
  free(c->table);
  c->table = nt;
  c->tcap = ncap;
  for (size_t i = 0; i < c->n; i++) *table_slot(c, c->items[i].id) = i + 1;
  return SKL_OK;
}

static const char *str_field(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A scalar as text: strings as-is, integers and reals printed. */
static char *scalar_text(json_t *v) {
  char buf[64];
  if (json_is_string(v)) return strdup(json_string_value(v));
  if (json_is_integer(v)) { snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v)); return strdup(buf); }
  if (json_is_real(v)) { snprintf(buf, sizeof buf, "%.15g", json_real_value(v)); return strdup(buf); }
  return NULL;
}

/* An id: string or integer. */
static char *id_text(json_t *v) {
  return json_is_string(v) || json_is_integer(v) ? scalar_text(v) : NULL;
}

static data_format detect(json_t *o, bool *known) {
  *known = true;
  for (int f = 0; f < F_COUNT; f++)
    if (json_object_get(o, formats[f].key) && (!formats[f].also || json_object_get(o, formats[f].also)))
      return (data_format)f;
  *known = false;
  return F_QA;
}

/* Gold strings for em/f1/ruler: answers | outputs | answer | target. */
static skl_status gold_list(ctx *c, json_t *o, size_t line, item *it, skl_error *err) {
  static const char *const keys[] = {"answers", "outputs", "answer", "target"};
  json_t *v = NULL;
  const char *key = NULL;
  for (size_t k = 0; k < 4 && !v; k++)
    if ((v = json_object_get(o, keys[k]))) key = keys[k];
  if (!v)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s:%zu: no gold answer: metric %s needs one of the fields answers, outputs, answer, target",
                         c->o->data_path, line, eval_metric_name(it->metric));
  size_t n = json_is_array(v) ? json_array_size(v) : 1;
  it->gold = calloc(n + 1, sizeof *it->gold);
  if (!it->gold) return NOMEM(err);
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
    char *s = scalar_text(e);
    if (!s)
      return skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: field '%s'%s must hold strings or numbers",
                           c->o->data_path, line, key, json_is_array(v) ? " (an array)" : "");
    it->gold[it->n_gold++] = s;
  }
  return SKL_OK;
}

/* The skill answer as one text: arrays joined by ", ". */
static char *answer_text(json_t *v) {
  if (!json_is_array(v)) return scalar_text(v);
  skl_buf b = {0};
  for (size_t i = 0; i < json_array_size(v); i++) {
    char *s = scalar_text(json_array_get(v, i));
    if (!s || (i && skl_buf_puts(&b, ", ")) || skl_buf_puts(&b, s)) { free(s); skl_buf_free(&b); return NULL; }
    free(s);
  }
  if (!b.data) return strdup("");
  return b.data;
}

static skl_status missing(ctx *c, size_t line, const char *field, const char *what, skl_error *err) {
  return skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: missing or non-string field '%s' (%s)", c->o->data_path, line,
                       field, what);
}

static skl_status set_group(item *it, const char *g) {
  it->group = strdup(g);
  return it->group ? SKL_OK : SKL_ERR_NOMEM;
}

static bool is_babilong_task(const char *t) {
  if (strncmp(t, "qa", 2) || !t[2]) return false;
  for (t += 2; *t; t++)
    if (!isdigit((unsigned char)*t)) return false;
  return true;
}

/* ---- gold answers: what each metric reads from a record ---- */

typedef skl_status (*gold_fn)(ctx *c, json_t *o, size_t line, const char *task, item *it, skl_error *err);

/* em, f1 and RULER: a list of references (gold_list); RULER divides by its length. */
static skl_status gold_refs(ctx *c, json_t *o, size_t line, const char *task, item *it, skl_error *err) {
  skl_status st = gold_list(c, o, line, it, err);
  if (!st && (it->metric == EVAL_METRIC_RULER_ALL || it->metric == EVAL_METRIC_RULER_PART) && !it->n_gold)
    st = skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: empty reference list (RULER divides by its length)",
                       c->o->data_path, line);
  return st;
}

/* A single gold string, copied. */
static skl_status gold_one(item *it, const char *g, skl_error *err) {
  it->gold = calloc(1, sizeof *it->gold);
  if (!it->gold || !(it->gold[0] = strdup(g))) return NOMEM(err);
  it->n_gold = 1;
  return SKL_OK;
}

/* MRCR: the answer and the random string it must start with. */
static skl_status gold_mrcr(ctx *c, json_t *o, size_t line, const char *task, item *it, skl_error *err) {
  const char *a = str_field(o, "answer"), *p = str_field(o, "random_string_to_prepend");
  if (!a) return missing(c, line, "answer", "metric mrcr", err);
  if (!p) return missing(c, line, "random_string_to_prepend", "metric mrcr", err);
  skl_status st = gold_one(it, a, err);
  if (!st && !(it->prefix = strdup(p))) st = NOMEM(err);
  return st;
}

/* LongBench v2: one letter A-D. */
static skl_status gold_choice(ctx *c, json_t *o, size_t line, const char *task, item *it, skl_error *err) {
  const char *a = str_field(o, "answer");
  if (!a || strlen(a) != 1 || a[0] < 'A' || a[0] > 'D')
    return skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: field 'answer' must be one letter A-D for metric choice",
                         c->o->data_path, line);
  return gold_one(it, a, err);
}

/* BABILong: the target, the question and the task's label set. */
static skl_status gold_babilong(ctx *c, json_t *o, size_t line, const char *task, item *it, skl_error *err) {
  const char *t = str_field(o, "target"), *q = str_field(o, "question");
  if (!t) return missing(c, line, "target", "metric babilong", err);
  if (!q) return missing(c, line, "question", "metric babilong", err);
  if (!task)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s:%zu: BABILong task unknown: add a 'task' field (qa1..qa10), pass --task, or name "
                         "the file after the task (qa1.jsonl)",
                         c->o->data_path, line);
  skl_status st = eval_babilong_labels(task, &it->labels, &it->n_labels, err);
  if (st) { skl_error_prefix(err, "%s:%zu", c->o->data_path, line); return st; }
  st = gold_one(it, t, err);
  if (!st && !(it->question = strdup(q))) st = NOMEM(err);
  return st;
}

/* Skill shards: the answer type and the answer as one text. */
static skl_status gold_verify(ctx *c, json_t *o, size_t line, const char *task, item *it, skl_error *err) {
  const char *ty = str_field(o, "answer_type");
  json_t *a = json_object_get(o, "answer");
  if (!ty) return missing(c, line, "answer_type", "metric verify", err);
  skl_status st = skill_answer_type_parse(ty, &it->atype, err);
  if (st) { skl_error_prefix(err, "%s:%zu", c->o->data_path, line); return st; }
  it->gold = calloc(1, sizeof *it->gold);
  if (!it->gold) return NOMEM(err);
  if (!a || !(it->gold[0] = answer_text(a)))
    return skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: field 'answer' missing or not a string/number/array",
                         c->o->data_path, line);
  it->n_gold = 1;
  return SKL_OK;
}

/* By metric; auto has none (it is resolved from the format first). */
static const gold_fn gold_readers[EVAL_METRIC_COUNT] = {
    [EVAL_METRIC_EM] = gold_refs,           [EVAL_METRIC_F1] = gold_refs,
    [EVAL_METRIC_RULER_ALL] = gold_refs,    [EVAL_METRIC_RULER_PART] = gold_refs,
    [EVAL_METRIC_MRCR] = gold_mrcr,         [EVAL_METRIC_CHOICE] = gold_choice,
    [EVAL_METRIC_BABILONG] = gold_babilong, [EVAL_METRIC_VERIFY] = gold_verify,
};

static skl_status on_data(json_t *o, size_t line, void *vc, skl_error *err) {
  ctx *c = vc;
  if (c->n == 0) { /* the first record decides the format and the id key */
    c->fmt = detect(o, &c->fmt_known);
    if (!c->fmt_known && c->metric == EVAL_METRIC_AUTO)
      return skl_error_set(err, SKL_ERR_INVALID,
                           "%s:%zu: cannot tell the benchmark format: no answer_type, random_string_to_prepend, "
                           "outputs, choice_A, target, answers or answer field; pass --metric and a gold field",
                           c->o->data_path, line);
    static const char *const id_keys[] = {"id", "_id", "index"};
    for (size_t k = 0; k < 3 && !c->id_key; k++)
      if (json_object_get(o, id_keys[k])) c->id_key = id_keys[k];
  }
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 256;
    item *ni = realloc(c->items, ncap * sizeof *ni);
    if (!ni) return NOMEM(err);
    c->items = ni;
    c->cap = ncap;
  }
  if (2 * (c->n + 1) > c->tcap && table_grow(c)) return NOMEM(err);
  item *it = &c->items[c->n];
  memset(it, 0, sizeof *it);
  it->line = line;
  skl_status st = SKL_OK;
  /* id */
  if (c->id_key) {
    it->id = id_text(json_object_get(o, c->id_key));
    if (!it->id) {
      item_free(it);
      return skl_error_set(err, SKL_ERR_INVALID,
                           "%s:%zu: missing id: field '%s' (string or integer) is in the first record but not here",
                           c->o->data_path, line, c->id_key);
    }
  } else {
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", c->n);
    it->id = strdup(buf);
    if (!it->id) return NOMEM(err);
  }
  size_t *slot = table_slot(c, it->id);
  if (*slot) {
    st = skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: duplicate id '%s' (first at line %zu); ids must be unique",
                       c->o->data_path, line, it->id, c->items[*slot - 1].line);
    item_free(it);
    return st;
  }
  /* metric and its fields */
  bool ruler_auto = c->ruler_auto;
  it->metric = c->metric;
  if (it->metric == EVAL_METRIC_AUTO) {
    it->metric = formats[c->fmt].metric;
    ruler_auto = c->fmt == F_RULER;
  }
  const char *task = str_field(o, "task");
  if (!task) task = c->o->task;
  bool babi = it->metric == EVAL_METRIC_BABILONG;
  /* RULER and BABILong name files after tasks (niah_single_1.jsonl, qa1.jsonl) */
  if (!task && (c->fmt == F_RULER || ruler_auto || babi) && c->file_task[0] &&
      (!babi || is_babilong_task(c->file_task)))
    task = c->file_task;
  if (ruler_auto) it->metric = task && !strncmp(task, "qa", 2) ? EVAL_METRIC_RULER_PART : EVAL_METRIC_RULER_ALL;
  if (c->fmt == F_LONGBENCH && c->metric == EVAL_METRIC_AUTO) {
    /* LongBench scores these datasets by qa_f1_score; the others use rouge,
     * classification, retrieval, count or code similarity */
    static const char *const qa_f1[] = {"narrativeqa", "qasper", "multifieldqa_en", "hotpotqa",
                                        "2wikimqa", "musique", "triviaqa"};
    const char *ds = str_field(o, "dataset");
    bool known = !ds;
    for (size_t k = 0; ds && k < sizeof qa_f1 / sizeof qa_f1[0] && !known; k++) known = !strcmp(ds, qa_f1[k]);
    if (!known) {
      item_free(it);
      return skl_error_set(err, SKL_ERR_UNSUPPORTED,
                           "%s:%zu: LongBench dataset '%s' is not scored by qa_f1 in LongBench; skillrl reproduces "
                           "only the qa_f1 datasets (narrativeqa, qasper, multifieldqa_en, hotpotqa, 2wikimqa, "
                           "musique, triviaqa); pass --metric f1 or em to score it anyway",
                           c->o->data_path, line, ds);
    }
    it->first_line = ds && !strcmp(ds, "triviaqa"); /* LongBench: first line only */
  }
  gold_fn read = (unsigned)it->metric < EVAL_METRIC_COUNT ? gold_readers[it->metric] : NULL;
  st = read ? read(c, o, line, task, it, err)
            : skl_error_set(err, SKL_ERR_INTERNAL, "metric %d not handled", (int)it->metric);
  if (!st) { /* group: skill | task | dataset | mrcr needles | format */
    const char *g = str_field(o, "skill");
    char buf[64];
    if (!g) g = task;
    if (!g) g = str_field(o, "dataset");
    if (!g && c->fmt == F_MRCR && json_is_integer(json_object_get(o, "n_needles"))) {
      snprintf(buf, sizeof buf, "mrcr-%lldneedle", (long long)json_integer_value(json_object_get(o, "n_needles")));
      g = buf;
    }
    if (!g) g = formats[c->fmt].name;
    if (set_group(it, g)) st = NOMEM(err);
  }
  if (st) { item_free(it); return st; }
  *slot = c->n + 1;
  c->n++;
  return SKL_OK;
}

static skl_status score_item(item *it, const char *pred, skl_error *err);

/* LongBench's prediction.lstrip('\n').split('\n')[0] for few-shot datasets. */
static skl_status score_first_line(item *it, const char *pred, skl_error *err) {
  while (*pred == '\n') pred++;
  const char *nl = strchr(pred, '\n');
  size_t n = nl ? (size_t)(nl - pred) : strlen(pred);
  char *line = strndup(pred, n);
  if (!line) return NOMEM(err);
  it->first_line = false;
  skl_status st = score_item(it, line, err);
  it->first_line = true;
  free(line);
  return st;
}

static skl_status score_item(item *it, const char *pred, skl_error *err) {
  if (it->first_line) return score_first_line(it, pred, err);
  switch (it->metric) {
    case EVAL_METRIC_EM:
      return eval_exact_match(pred, (const char *const *)it->gold, it->n_gold, &it->score, err);
    case EVAL_METRIC_F1:
      return eval_token_f1(pred, (const char *const *)it->gold, it->n_gold, &it->score, err);
    case EVAL_METRIC_RULER_ALL:
    case EVAL_METRIC_RULER_PART:
      return eval_ruler_match(pred, (const char *const *)it->gold, it->n_gold, it->metric == EVAL_METRIC_RULER_ALL,
                              &it->score, err);
    case EVAL_METRIC_MRCR: return eval_mrcr_grade(pred, it->gold[0], it->prefix, &it->score, err);
    case EVAL_METRIC_CHOICE: {
      char l[2] = {eval_longbench_v2_extract(pred), 0};
      it->score = l[0] && l[0] == it->gold[0][0];
      return (it->extracted = strdup(l)) ? SKL_OK : NOMEM(err);
    }
    case EVAL_METRIC_BABILONG:
      it->score = eval_babilong_compare(it->gold[0], pred, it->question, it->labels, it->n_labels);
      return SKL_OK;
    case EVAL_METRIC_VERIFY: {
      bool ok;
      char ex[SKILL_ANSWER_MAX];
      skl_status st = eval_verify(it->atype, it->gold[0], pred, &ok, ex, sizeof ex, err);
      it->score = ok;
      if (!st && !(it->extracted = strdup(ex))) st = NOMEM(err);
      return st;
    }
    default: return skl_error_set(err, SKL_ERR_INTERNAL, "metric %d not handled", (int)it->metric);
  }
}

static skl_status on_pred(json_t *o, size_t line, void *vc, skl_error *err) {
  ctx *c = vc;
  const char *pp = c->o->pred_path;
  json_t *idv = json_object_get(o, "id");
  if (!idv && c->id_key) idv = json_object_get(o, c->id_key);
  char *id = id_text(idv);
  if (!id)
    return skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: missing field 'id' (string or integer)%s", pp, line,
                         idv ? ": wrong type" : "");
  json_t *pv = json_object_get(o, "prediction");
  if (!pv) pv = json_object_get(o, "pred");
  if (!json_is_string(pv)) {
    skl_status st = skl_error_set(err, SKL_ERR_INVALID,
                                  "%s:%zu: id '%s': field 'prediction' %s (write \"\" for an empty answer)", pp, line,
                                  id, pv ? "must be a string" : "is missing");
    free(id);
    return st;
  }
  size_t k = c->tcap ? *table_slot(c, id) : 0;
  if (!k) {
    skl_status st = skl_error_set(err, SKL_ERR_NOTFOUND,
                                  "%s:%zu: id '%s' is not in %s (predictions must use the data's ids%s)", pp, line,
                                  id, c->o->data_path, c->id_key ? "" : ": 0-based record numbers, as the data has no id field");
    free(id);
    return st;
  }
  item *it = &c->items[k - 1];
  if (it->pred_line) {
    skl_status st = skl_error_set(err, SKL_ERR_INVALID, "%s:%zu: duplicate prediction for id '%s' (first at line %zu)",
                                  pp, line, id, it->pred_line);
    free(id);
    return st;
  }
  free(id);
  it->pred_line = line;
  skl_status st = score_item(it, json_string_value(pv), err);
  if (st) skl_error_prefix(err, "%s:%zu", pp, line);
  return st;
}

static void file_task_of(const char *path, char *out, size_t cap) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  snprintf(out, cap, "%s", b);
  static const char *const exts[] = {".zst", ".jsonl", ".json"};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(out), e = strlen(exts[i]);
    if (n > e && !strcmp(out + n - e, exts[i])) out[n - e] = '\0';
  }
}

void eval_score_result_free(eval_score_result *res) {
  if (!res) return;
  for (size_t i = 0; i < res->n; i++) {
    free(res->samples[i].id);
    free(res->samples[i].group);
    free(res->samples[i].extracted);
  }
  for (size_t i = 0; i < res->n_groups; i++) free(res->groups[i].group);
  free(res->samples);
  free(res->groups);
  memset(res, 0, sizeof *res);
}

static skl_status aggregate(eval_score_result *res, skl_error *err) {
  size_t cap = 2 * res->n + 2 * EVAL_METRIC_COUNT;
  res->groups = calloc(cap, sizeof *res->groups);
  double *buf = malloc((res->n + 1) * sizeof *buf);
  if (!res->groups || !buf) { free(buf); return NOMEM(err); }
  for (int pass = 0; pass < 2; pass++) { /* pass 0: groups; pass 1: "all" per metric */
    for (size_t i = 0; i < res->n; i++) {
      const eval_sample *s = &res->samples[i];
      const char *g = pass ? "all" : s->group;
      bool seen = false;
      for (size_t k = 0; k < res->n_groups && !seen; k++)
        seen = res->groups[k].metric == s->metric && !strcmp(res->groups[k].group, g);
      if (seen) continue;
      size_t n = 0;
      for (size_t j = i; j < res->n; j++)
        if (res->samples[j].metric == s->metric && (pass || !strcmp(res->samples[j].group, g)))
          buf[n++] = res->samples[j].score;
      eval_group *G = &res->groups[res->n_groups];
      if (!(G->group = strdup(g))) { free(buf); return NOMEM(err); }
      G->metric = s->metric;
      G->n = n;
      eval_mean_se(buf, n, &G->mean, &G->se);
      res->n_groups++;
    }
  }
  free(buf);
  return SKL_OK;
}

skl_status eval_score_files(const eval_score_opts *opts, eval_score_result *res, skl_error *err) {
  memset(res, 0, sizeof *res);
  ctx c;
  memset(&c, 0, sizeof c);
  c.o = opts;
  file_task_of(opts->data_path, c.file_task, sizeof c.file_task);
  skl_status st = SKL_OK;
  if (opts->metric && strcmp(opts->metric, "auto")) {
    st = eval_metric_parse(opts->metric, &c.metric, &c.ruler_auto, err);
    if (st) return st;
  }
  st = eval_jsonl_foreach(opts->data_path, on_data, &c, err);
  if (!st && c.n == 0)
    st = skl_error_set(err, SKL_ERR_INVALID, "%s: no samples (empty file)", opts->data_path);
  if (!st) st = eval_jsonl_foreach(opts->pred_path, on_pred, &c, err);
  if (!st) {
    size_t miss = 0, first = 0;
    for (size_t i = 0; i < c.n; i++)
      if (!c.items[i].pred_line && !miss++) first = i;
    if (miss)
      st = skl_error_set(err, SKL_ERR_NOTFOUND,
                         "%s: %zu of %zu data ids have no prediction (first: id '%s' at %s:%zu); predict every "
                         "sample or score a data file cut to the predicted ones",
                         opts->pred_path, miss, c.n, c.items[first].id, opts->data_path, c.items[first].line);
  }
  if (!st) {
    res->format = formats[c.fmt].name;
    res->samples = calloc(c.n + 1, sizeof *res->samples);
    if (!res->samples) st = NOMEM(err);
    for (size_t i = 0; !st && i < c.n; i++) {
      eval_sample *s = &res->samples[i];
      item *it = &c.items[i];
      s->id = it->id;
      s->group = it->group;
      s->extracted = it->extracted;
      it->id = it->group = it->extracted = NULL; /* moved */
      s->line = it->line;
      s->metric = it->metric;
      s->score = it->score;
      res->n++;
    }
    if (!st) st = aggregate(res, err);
  }
  for (size_t i = 0; i < c.n; i++) item_free(&c.items[i]);
  free(c.items);
  free(c.table);
  if (st) eval_score_result_free(res);
  return st;
}

skl_status eval_score_markdown(const eval_score_result *res, skl_buf *out, skl_error *err) {
  if (skl_buf_printf(out, "| group | metric | n | score | stderr |\n|---|---|---:|---:|---:|\n")) return NOMEM(err);
  for (size_t i = 0; i < res->n_groups; i++) {
    const eval_group *g = &res->groups[i];
    char se[32];
    if (isnan(g->se)) snprintf(se, sizeof se, "-");
    else snprintf(se, sizeof se, "%.2f", 100 * g->se);
    bool all = !strcmp(g->group, "all");
    int bad = skl_buf_puts(out, all ? "| **" : "| ");
    for (const char *p = g->group; *p; p++) /* a '|' in a name would split the cell */
      bad |= *p == '|' ? skl_buf_puts(out, "\\|") : skl_buf_append(out, p, 1);
    bad |= skl_buf_printf(out, "%s | %s | %zu | %.2f | %s |\n", all ? "**" : "", eval_metric_name(g->metric), g->n,
                          100 * g->mean, se);
    if (bad) return NOMEM(err);
  }
  return SKL_OK;
}

skl_status eval_score_write_samples(const eval_score_result *res, const char *path, skl_error *err) {
  skl_jsonl_writer_opts wo = skl_jsonl_writer_opts_default();
  size_t n = strlen(path);
  if (n < 4 || strcmp(path + n - 4, ".zst")) wo.zstd_level = 0;
  skl_jsonl_writer *w;
  skl_status st = skl_jsonl_writer_open(&w, path, &wo, err);
  if (st) return st;
  for (size_t i = 0; i < res->n && !st; i++) {
    const eval_sample *s = &res->samples[i];
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:f}", "id", s->id, "line", (json_int_t)s->line, "group", s->group,
                          "metric", eval_metric_name(s->metric), "score", s->score);
    if (o && s->extracted && json_object_set_new(o, "extracted", json_string(s->extracted))) {
      json_decref(o);
      o = NULL;
    }
    st = o ? skl_jsonl_write(w, o, err) : NOMEM(err);
    json_decref(o);
  }
  if (st) {
    skl_jsonl_writer_abort(w);
    return st;
  }
  return skl_jsonl_writer_close(w, NULL, err);
}

/* ---- one prediction at a time (the probe runner) ------------------------- */

struct eval_scorer {
  eval_score_opts o; /* its strings point at the copies below: callers may free theirs */
  char *data_path, *metric;
  ctx c;
};

skl_status eval_scorer_load(const eval_score_opts *opts, eval_scorer **out, skl_error *err) {
  *out = NULL;
  eval_scorer *sc = calloc(1, sizeof *sc);
  if (!sc) return NOMEM(err);
  sc->o = *opts;
  sc->o.pred_path = NULL;
  sc->data_path = strdup(opts->data_path ? opts->data_path : "");
  sc->metric = opts->metric ? strdup(opts->metric) : NULL;
  if (!sc->data_path || (opts->metric && !sc->metric)) { eval_scorer_free(sc); return NOMEM(err); }
  sc->o.data_path = sc->data_path;
  sc->o.metric = sc->metric;
  sc->c.o = &sc->o;
  file_task_of(opts->data_path, sc->c.file_task, sizeof sc->c.file_task);
  skl_status st = SKL_OK;
  if (opts->metric && strcmp(opts->metric, "auto")) st = eval_metric_parse(opts->metric, &sc->c.metric, &sc->c.ruler_auto, err);
  if (!st) st = eval_jsonl_foreach(opts->data_path, on_data, &sc->c, err);
  if (!st && sc->c.n == 0) st = skl_error_set(err, SKL_ERR_INVALID, "%s: no samples (empty file)", opts->data_path);
  if (st) { eval_scorer_free(sc); return st; }
  *out = sc;
  return SKL_OK;
}

const char *eval_scorer_gold(const eval_scorer *sc, size_t i) {
  const item *it = &sc->c.items[i];
  return it->n_gold ? it->gold[0] : "";
}

const char *eval_scorer_question(const eval_scorer *sc, size_t i) {
  const char *q = sc->c.items[i].question;
  return q ? q : "";
}

bool eval_scorer_free_form(const eval_scorer *sc, size_t i) {
  const item *it = &sc->c.items[i];
  return it->metric == EVAL_METRIC_EM || it->metric == EVAL_METRIC_F1 ||
         (it->metric == EVAL_METRIC_VERIFY && it->atype == SKILL_ANSWER_STRING);
}

void eval_scorer_free(eval_scorer *sc) {
  if (!sc) return;
  for (size_t i = 0; i < sc->c.n; i++) item_free(&sc->c.items[i]);
  free(sc->c.items);
  free(sc->c.table);
  free(sc->data_path);
  free(sc->metric);
  free(sc);
}

size_t eval_scorer_count(const eval_scorer *sc) { return sc->c.n; }
const char *eval_scorer_format(const eval_scorer *sc) { return formats[sc->c.fmt].name; }
const char *eval_scorer_id(const eval_scorer *sc, size_t i) { return sc->c.items[i].id; }
const char *eval_scorer_group(const eval_scorer *sc, size_t i) { return sc->c.items[i].group; }
eval_metric eval_scorer_metric(const eval_scorer *sc, size_t i) { return sc->c.items[i].metric; }

skl_status eval_scorer_score(eval_scorer *sc, size_t i, const char *pred, double *score, skl_error *err) {
  if (i >= sc->c.n) return skl_error_set(err, SKL_ERR_RANGE, "record %zu of %zu", i, sc->c.n);
  item *it = &sc->c.items[i];
  free(it->extracted);
  it->extracted = NULL;
  skl_status st = score_item(it, pred, err);
  if (st) skl_error_prefix(err, "%s:%zu", sc->o.data_path, it->line);
  *score = it->score;
  return st;
}
