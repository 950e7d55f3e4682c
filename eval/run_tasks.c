/* eval run tasks: the "eval" config schema and the prompts of an eval run —
 * skill probes from a dataset's held-out split and benchmark records in
 * their published formats, rendered in the chat format, tokenized, fitted to
 * the window (benchmarks cut in the middle, as LongBench does). Not decoding. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "core/text.h"
#include "eval/jsonl_internal.h"
#include "eval/run_internal.h"
#include "io/manifest.h"
#include "skills/blueprint.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

static const char *const chat_choices[] = {"auto", "chatml", "llama3", "plain", NULL};

static const skl_cfg_field fields[] = {
    {.key = "probes", .type = SKL_CFG_STRING, .offset = offsetof(eval_cfg, probes),
     .help = "skill dataset folder (manifest.json) whose held-out split is probed; null: none"},
    {.key = "split", .type = SKL_CFG_STRING, .offset = offsetof(eval_cfg, split), .def = "test",
     .help = "the probes' held-out split"},
    {.key = "skills", .type = SKL_CFG_STRING, .offset = offsetof(eval_cfg, skills), .def = "",
     .help = "comma-separated skills to probe; empty: all in the dataset"},
    {.key = "max_per_skill", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, max_per_skill), .def = "0",
     .min = 0, .max = 1e9, .help = "probe samples per skill (0: all)"},
    {.key = "benchmarks", .type = SKL_CFG_STR_LIST, .offset = offsetof(eval_cfg, benchmarks), .def = "[]",
     .help = "benchmark files: NAME=PATH or NAME=PATH#METRIC (em, f1, ruler, mrcr, choice, babilong, verify...)"},
    {.key = "max_per_benchmark", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, max_per_benchmark),
     .def = "0", .min = 0, .max = 1e9, .help = "samples per benchmark file (0: all)"},
    {.key = "system", .type = SKL_CFG_STRING, .offset = offsetof(eval_cfg, system),
     .help = "system message before benchmark prompts (probes carry their own)"},
    {.key = "chat_format", .type = SKL_CFG_ENUM, .offset = offsetof(eval_cfg, chat_format), .def = "auto",
     .choices = chat_choices, .help = "prompt format; auto: from the tokenizer's special tokens"},
    {.key = "max_new", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, max_new), .def = "64", .min = 1,
     .max = 1 << 20, .help = "generated tokens per response"},
    {.key = "batch", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, batch), .def = "8", .min = 1, .max = 4096,
     .help = "prompts decoded together"},
    {.key = "max_context", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, max_context), .def = "0", .min = 0,
     .max = 1 << 24, .help = "context window in tokens (0: the model's max_position_embeddings)"},
    {.key = "sample.n", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, samples), .def = "0", .min = 0,
     .max = 1024, .help = "sampled responses per prompt for pass@k (0: greedy pass@1 only)"},
    {.key = "sample.k", .type = SKL_CFG_INT_LIST, .offset = offsetof(eval_cfg, pass_k), .def = "[1]", .min = 1,
     .max = 1024, .help = "k of the reported pass@k (each <= sample.n)"},
    {.key = "sample.temperature", .type = SKL_CFG_FLOAT, .offset = offsetof(eval_cfg, temperature), .def = "0.8",
     .min = 0.01, .max = 10, .help = "sampling temperature"},
    {.key = "sample.top_p", .type = SKL_CFG_FLOAT, .offset = offsetof(eval_cfg, top_p), .def = "1.0",
     .min = 0.01, .max = 1, .help = "nucleus sampling mass"},
    {.key = "seed", .type = SKL_CFG_INT64, .offset = offsetof(eval_cfg, seed), .def = "0",
     .help = "sampling seed (sample i of prompt p: derived from seed and the sample's key)"},
    {.key = "report.length_buckets", .type = SKL_CFG_INT_LIST, .offset = offsetof(eval_cfg, length_buckets),
     .def = "[0, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]", .min = 0, .max = 1e12,
     .help = "lower bounds (tokens) of the length buckets, ascending"},
    {.key = "report.depth_bins", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, depth_bins), .def = "5",
     .min = 1, .max = 100, .help = "needle-depth bins over [0, 1]"},
    {.key = "judge.command", .type = SKL_CFG_STRING, .offset = offsetof(eval_cfg, judge_command),
     .help = "score free-form answers (EM/F1 QA, skill string answers) with this JSON-lines judge command"},
    {.key = "judge.plugin", .type = SKL_CFG_STRING, .offset = offsetof(eval_cfg, judge_plugin),
     .help = "or with this judge plugin .so (src/judge/judge_plugin.h)"},
    {.key = "judge.timeout", .type = SKL_CFG_FLOAT, .offset = offsetof(eval_cfg, judge_timeout), .def = "60",
     .min = 0.1, .max = 1e6, .help = "seconds before a silent judge counts as hung"},
    {.key = "judge.retries", .type = SKL_CFG_INT, .offset = offsetof(eval_cfg, judge_retries), .def = "1",
     .min = 0, .max = 100, .help = "restarts of a failed judge before the evaluation stops"},
};
static const skl_cfg_schema schema = {"eval", fields, (int)(sizeof fields / sizeof fields[0]), sizeof(eval_cfg)};
const skl_cfg_schema *eval_cfg_schema(void) { return &schema; }

int eval_truncate_middle(int32_t *ids, int n, int keep) {
  if (keep >= n) return n;
  if (keep <= 0) return 0;
  int head = keep / 2, tail = keep - head;
  memmove(ids + head, ids + n - tail, (size_t)tail * sizeof *ids);
  return keep;
}

/* ---- prompt text per format ---------------------------------------------- */

static const char *sfield(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Messages of a chat list (array of {role, content}) into msgs (borrowed). */
static skl_status chat_list(json_t *arr, skl_chat_msg *msgs, int cap, int *n, const char *where, skl_error *err) {
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return skl_error_set(err, SKL_ERR_INVALID, "%s: field 'prompt' must be a non-empty list of {role, content}",
                         where);
  *n = 0;
  size_t i;
  json_t *m;
  json_array_foreach(arr, i, m) {
    if (*n >= cap) return skl_error_set(err, SKL_ERR_RANGE, "%s: more than %d chat messages", where, cap);
    const char *r = sfield(m, "role"), *c = sfield(m, "content");
    if (!r || !c)
      return skl_error_set(err, SKL_ERR_INVALID, "%s: prompt message %zu lacks a string 'role' or 'content'", where,
                           i);
    msgs[(*n)++] = (skl_chat_msg){r, c};
  }
  return SKL_OK;
}

static skl_status need(json_t *o, const char *k, const char *fmt_name, const char *where, const char **out,
                       skl_error *err) {
  *out = sfield(o, k);
  if (!*out)
    return skl_error_set(err, SKL_ERR_INVALID, "%s: missing string field '%s' (needed to build a %s prompt)", where,
                         k, fmt_name);
  return SKL_OK;
}

/* The user text of a non-chat benchmark record, per published format. */
static skl_status bench_text(json_t *o, const char *fmt, const char *where, skl_buf *b, skl_error *err) {
  const char *ctx = NULL, *q = NULL;
  skl_status st;
  if (!strcmp(fmt, "ruler")) { /* RULER's prepared jsonl carries the full prompt as input */
    if ((st = need(o, "input", fmt, where, &q, err))) return st;
    return skl_buf_puts(b, q) ? NOMEM(err) : SKL_OK;
  }
  if (!strcmp(fmt, "longbench_v2")) { /* LongBench v2 0shot template */
    const char *c[4];
    static const char *const ck[4] = {"choice_A", "choice_B", "choice_C", "choice_D"};
    if ((st = need(o, "context", fmt, where, &ctx, err)) || (st = need(o, "question", fmt, where, &q, err)))
      return st;
    for (int i = 0; i < 4; i++)
      if ((st = need(o, ck[i], fmt, where, &c[i], err))) return st;
    return skl_buf_printf(b,
                          "Please read the following text and answer the question below.\n\n<text>\n%s\n</text>\n\n"
                          "What is the correct answer to this question: %s\nChoices:\n(A) %s\n(B) %s\n(C) %s\n(D) %s\n\n"
                          "Format your response as follows: \"The correct answer is (insert answer here)\".",
                          ctx, q, c[0], c[1], c[2], c[3])
               ? NOMEM(err) : SKL_OK;
  }
  if (!strcmp(fmt, "babilong")) { /* BABILong: input is the haystack */
    ctx = sfield(o, "input");
    if (!ctx) ctx = sfield(o, "context");
    if (!ctx) return skl_error_set(err, SKL_ERR_INVALID, "%s: missing string field 'input' (the BABILong context)", where);
    if ((st = need(o, "question", fmt, where, &q, err))) return st;
    return skl_buf_printf(b, "<context>\n%s\n</context>\n\nQuestion: %s\nAnswer with a single word.", ctx, q)
               ? NOMEM(err) : SKL_OK;
  }
  /* LongBench: context + input; generic: context + question */
  ctx = sfield(o, "context");
  q = sfield(o, "question");
  if (!q) q = sfield(o, "input");
  if (!q)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s: missing string field 'question' (or 'input'): a %s record needs {context, question}",
                         where, fmt);
  if (ctx) return skl_buf_printf(b, "%s\n\nQuestion: %s\nAnswer:", ctx, q) ? NOMEM(err) : SKL_OK;
  return skl_buf_printf(b, "Question: %s\nAnswer:", q) ? NOMEM(err) : SKL_OK;
}

/* Needle depth of a synth record: the mean depth of the anchors its
 * expression reads (extra_info.blueprint.doc_mapping, expr "a<k>"). */
static double needle_depth(json_t *o) {
  json_t *bp = json_object_get(json_object_get(o, "extra_info"), "blueprint");
  json_t *map = json_object_get(bp, "doc_mapping");
  const char *expr = sfield(bp, "expr");
  if (!json_is_array(map) || !expr) return -1;
  double sum = 0;
  int n = 0;
  long k;
  for (const char *p = skill_expr_next_anchor(expr, expr, &k); p; p = skill_expr_next_anchor(expr, p, &k)) {
    size_t i;
    json_t *e;
    json_array_foreach(map, i, e) {
      if (json_integer_value(json_object_get(e, "anchor")) == k && json_is_number(json_object_get(e, "depth"))) {
        sum += json_number_value(json_object_get(e, "depth"));
        n++;
        break;
      }
    }
  }
  return n ? sum / n : -1;
}

/* ---- building ------------------------------------------------------------- */

typedef struct {
  const eval_task_ctx *c;
  eval_tasks *ts;
  eval_scorer *sc;
  const char *set, *path;
  bool probe;
  int limit;       /* records to take from this file (0: all) */
  int *taken;      /* shared per skill */
  size_t rec;      /* record index in sc */
} file_ctx;

static skl_status push_task(eval_tasks *ts, eval_task *t, skl_error *err) {
  if (ts->n == ts->cap) {
    size_t nc = ts->cap ? 2 * ts->cap : 64;
    eval_task *nt = realloc(ts->t, nc * sizeof *nt);
    if (!nt) return NOMEM(err);
    ts->t = nt;
    ts->cap = nc;
  }
  ts->t[ts->n++] = *t;
  return SKL_OK;
}

static skl_status on_record(json_t *o, size_t line, void *vc, skl_error *err) {
  file_ctx *f = vc;
  const eval_task_ctx *c = f->c;
  size_t rec = f->rec++;
  if (f->limit && *f->taken >= f->limit) return SKL_OK;
  char where[1100];
  snprintf(where, sizeof where, "%s:%zu", f->path, line);
  skl_chat_msg msgs[64];
  int n = 0;
  skl_buf user = {0}, text = {0};
  skl_status st = SKL_OK;
  const char *fmt = eval_scorer_format(f->sc);
  json_t *pr = json_object_get(o, "prompt");
  json_t *parsed = NULL;
  if (json_is_string(pr) && !strcmp(fmt, "mrcr")) { /* OpenAI MRCR: prompt is a JSON-encoded chat list */
    parsed = json_loads(json_string_value(pr), 0, NULL);
    pr = parsed;
  }
  if (!strcmp(fmt, "skill") || !strcmp(fmt, "mrcr")) {
    st = chat_list(pr, msgs, 64, &n, where, err);
  } else {
    st = bench_text(o, fmt, where, &user, err);
    if (!st) {
      if (c->cfg->system) msgs[n++] = (skl_chat_msg){"system", c->cfg->system};
      msgs[n++] = (skl_chat_msg){"user", user.data};
    }
  }
  if (!st) st = skl_chat_render(c->fmt, msgs, n, 1, &text, err);
  skl_tokens ids = {0};
  if (!st) st = skl_tokenizer_encode(c->tok, text.data, text.len, &ids, err);
  if (st && st != SKL_ERR_INVALID) skl_error_prefix(err, "%s", where); /* INVALID ones already name it */
  json_decref(parsed);
  skl_buf_free(&user);
  skl_buf_free(&text);
  if (st) { skl_tokens_free(&ids); return st; }
  eval_task t = {.set = f->set, .sc = f->sc, .idx = rec, .n_tokens = (int)ids.len, .depth = -1};
  if (f->probe) {
    t.depth = needle_depth(o);
    if ((int)ids.len > c->budget) { /* a probe cut in the middle loses its needles: skip it */
      f->ts->n_too_long++;
      skl_tokens_free(&ids);
      return SKL_OK;
    }
  } else if ((int)ids.len > c->budget) {
    ids.len = (size_t)eval_truncate_middle(ids.data, (int)ids.len, c->budget);
    t.truncated = true;
    f->ts->n_truncated++;
  }
  t.ids = ids.data;
  t.n_ids = (int)ids.len;
  const char *g = eval_scorer_group(f->sc, rec), *id = eval_scorer_id(f->sc, rec);
  size_t kl = strlen(f->set) + strlen(g) + strlen(id) + 3;
  if (!(t.key = malloc(kl))) { free(t.ids); return NOMEM(err); }
  snprintf(t.key, kl, "%s/%s/%s", f->set, g, id);
  if ((st = push_task(f->ts, &t, err))) { free(t.key); free(t.ids); return st; }
  (*f->taken)++;
  return SKL_OK;
}

static skl_status add_file(const eval_task_ctx *c, eval_tasks *ts, const char *set, const char *path,
                           const char *metric, bool probe, int limit, int *taken, skl_error *err) {
  eval_score_opts so = {.data_path = path, .metric = metric};
  eval_scorer *sc = NULL;
  skl_status st = eval_scorer_load(&so, &sc, err);
  if (st) return st;
  eval_scorer **ns = realloc(ts->sc, (ts->n_sc + 1) * sizeof *ns);
  if (!ns) { eval_scorer_free(sc); return NOMEM(err); }
  ts->sc = ns;
  ts->sc[ts->n_sc++] = sc;
  if (probe && strcmp(eval_scorer_format(sc), "skill"))
    return skl_error_set(err, SKL_ERR_INVALID, "%s: not a skill shard (detected format %s)", path,
                         eval_scorer_format(sc));
  file_ctx f = {.c = c, .ts = ts, .sc = sc, .set = set, .path = path, .probe = probe, .limit = limit, .taken = taken};
  return eval_jsonl_foreach(path, on_record, &f, err);
}

static skl_status hash_file(skl_sha256 *h, const char *path, char hex[65], skl_error *err) {
  char *data = NULL;
  size_t len = 0;
  skl_status st = skl_fs_read_all(path, &data, &len, err);
  if (st) return st;
  skl_sha256_update(h, path, 0);
  skl_sha256_update(h, data, len);
  if (hex) skl_sha256_buf_hex(data, len, hex);
  free(data);
  return SKL_OK;
}

static skl_status add_probes(const eval_task_ctx *c, eval_tasks *ts, skl_sha256 *h, skl_error *err) {
  const eval_cfg *cfg = c->cfg;
  char *mpath = skl_path_join(cfg->probes, "manifest.json");
  if (!mpath) return NOMEM(err);
  skl_status st = hash_file(h, mpath, ts->manifest_hash, err);
  /* the manifest's own reader: shard paths stay inside the dataset (no
   * "../"), and each shard is checked against its sha256 before use */
  skl_manifest man;
  memset(&man, 0, sizeof man);
  if (!st) st = skl_manifest_read(&man, cfg->probes, err);
  /* per-skill counters, in manifest order */
  const char *skill_names[64];
  int taken[64] = {0}, n_sk = 0;
  size_t found = 0;
  for (size_t i = 0; !st && i < man.n_shards; i++) {
    const skl_manifest_shard *sh = &man.shards[i];
    const char *sk = sh->skill;
    if (strcmp(sh->split, cfg->split) || (cfg->skills && *cfg->skills && !skl_name_in_list(cfg->skills, sk))) continue;
    int k = 0;
    while (k < n_sk && strcmp(skill_names[k], sk)) k++;
    if (k == n_sk) {
      if (n_sk == 64) { st = skl_error_set(err, SKL_ERR_RANGE, "%s: more than 64 skills", mpath); break; }
      skill_names[n_sk++] = sk;
    }
    if ((st = skl_manifest_check_shard(cfg->probes, sh, err))) break;
    char *sp_path = skl_path_join(cfg->probes, sh->path);
    if (!sp_path) { st = NOMEM(err); break; }
    st = add_file(c, ts, "probe", sp_path, "verify", true, cfg->max_per_skill, &taken[k], err);
    free(sp_path);
    if (st) break;
    found++;
  }
  if (!st && !found)
    st = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no '%s' shards%s%s%s", mpath, cfg->split,
                       cfg->skills && *cfg->skills ? " for skills '" : "", cfg->skills ? cfg->skills : "",
                       cfg->skills && *cfg->skills ? "'" : "");
  skl_manifest_free(&man);
  free(mpath);
  return st;
}

skl_status eval_tasks_build(const eval_task_ctx *c, eval_tasks *ts, skl_error *err) {
  memset(ts, 0, sizeof *ts);
  const eval_cfg *cfg = c->cfg;
  skl_sha256 h;
  skl_sha256_init(&h);
  skl_status st = SKL_OK;
  if (!cfg->probes && cfg->benchmarks.n == 0)
    return skl_error_set(err, SKL_ERR_INVALID, "nothing to evaluate: set probes (a dataset folder) or benchmarks");
  if (cfg->probes) st = add_probes(c, ts, &h, err);
  for (int b = 0; !st && b < cfg->benchmarks.n; b++) {
    const char *spec = cfg->benchmarks.v[b];
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
      st = skl_error_set(err, SKL_ERR_INVALID, "benchmarks[%d] '%s': expected NAME=PATH or NAME=PATH#METRIC", b, spec);
      break;
    }
    char *name = strndup(spec, (size_t)(eq - spec)), *path = strdup(eq + 1);
    char **nn = realloc(ts->names, (ts->n_names + 1) * sizeof *nn);
    if (!name || !path || !nn) { free(name); free(path); if (nn) ts->names = nn; st = NOMEM(err); break; }
    ts->names = nn;
    ts->names[ts->n_names++] = name;
    if (!strcmp(name, "probe")) {
      free(path);
      st = skl_error_set(err, SKL_ERR_INVALID, "benchmarks[%d]: the name 'probe' is reserved for the skill probes", b);
      break;
    }
    for (size_t k = 0; k + 1 < ts->n_names && !st; k++)
      if (!strcmp(ts->names[k], name))
        st = skl_error_set(err, SKL_ERR_INVALID, "benchmarks[%d]: duplicate benchmark name '%s'", b, name);
    char *hash = strchr(path, '#');
    if (hash) *hash = '\0';
    int taken = 0;
    if (!st) st = hash_file(&h, path, NULL, err);
    if (!st) {
      skl_sha256_update(&h, name, strlen(name) + 1);
      if (hash) skl_sha256_update(&h, hash + 1, strlen(hash + 1) + 1);
    }
    if (!st) st = add_file(c, ts, name, path, hash ? hash + 1 : NULL, false, cfg->max_per_benchmark, &taken, err);
    free(path);
  }
  if (!st && ts->n == 0 && ts->n_too_long)
    st = skl_error_set(err, SKL_ERR_RANGE,
                       "every probe sample (%zu) is longer than the model's window of %d tokens minus max_new %d; "
                       "use a model with a longer window, a larger max_context, or a dataset of shorter samples",
                       ts->n_too_long, c->window, cfg->max_new);
  if (!st && ts->n == 0) st = skl_error_set(err, SKL_ERR_INVALID, "no samples to evaluate");
  if (st) { eval_tasks_free(ts); return st; }
  uint8_t d[32];
  skl_sha256_final(&h, d);
  skl_sha256_hex(d, ts->dataset_hash);
  return SKL_OK;
}

void eval_tasks_free(eval_tasks *ts) {
  if (!ts) return;
  for (size_t i = 0; i < ts->n; i++) { free(ts->t[i].key); free(ts->t[i].ids); }
  free(ts->t);
  for (size_t i = 0; i < ts->n_sc; i++) eval_scorer_free(ts->sc[i]);
  free(ts->sc);
  for (size_t i = 0; i < ts->n_names; i++) free(ts->names[i]);
  free(ts->names);
  memset(ts, 0, sizeof *ts);
}
