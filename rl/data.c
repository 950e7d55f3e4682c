/* rl data: manifest -> shards -> items, chat rendering and tokenization.
 * Not a sampler: the trainer walks rl_epoch_order. */
#include "rl/data.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "io/jsonl.h"
#include "io/manifest.h"
#include "skills/answer.h"

static int skill_selected(const char *list, const char *skill) {
  if (!list || !*list) return 1;
  size_t n = strlen(skill);
  for (const char *p = list; *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    if (len == n && !strncmp(p, skill, n)) return 1;
    if (!c) break;
    p = c + 1;
  }
  return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void item_free(rl_item *it) {
  free(it->id); free(it->skill); free(it->question); free(it->answer);
  free(it->prompt); free(it->target);
}

void rl_dataset_free(rl_dataset *ds) {
  if (!ds) return;
  for (int i = 0; i < ds->n; i++) item_free(&ds->items[i]);
  free(ds->items);
  memset(ds, 0, sizeof *ds);
}

static skl_status encode_copy(const skl_tokenizer *tok, const char *text, int32_t **ids, int *n, skl_error *err) {
  skl_tokens t = {0};
  skl_status s = skl_tokenizer_encode(tok, text, strlen(text), &t, err);
  if (s) { skl_tokens_free(&t); return s; }
  *ids = t.data; /* take ownership of the array */
  *n = (int)t.len;
  return SKL_OK;
}

typedef struct {
  long long doc;
  double depth;
  const char *text;
} quote;

static int quote_cmp(const void *a, const void *b) {
  const quote *x = a, *y = b;
  if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
  return (x->depth > y->depth) - (x->depth < y->depth);
}

/* sft.target quote: the inserts of the anchors the answer's expression names
 * (extra_info.blueprint: expr, doc_mapping[] {anchor, doc, depth, text}), one
 * per line in text order, a repeated text once. */
static skl_status append_quotes(json_t *rec, const char *where, skl_buf *out, skl_error *err) {
  json_t *bp = json_object_get(json_object_get(rec, "extra_info"), "blueprint");
  const char *expr = json_string_value(json_object_get(bp, "expr"));
  json_t *map = json_object_get(bp, "doc_mapping");
  if (!expr || !json_is_array(map))
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s: sft.target quote needs extra_info.blueprint.expr and .doc_mapping (as `skillrl "
                         "synth` writes them); regenerate the data or use sft.target answer", where);
  size_t n = json_array_size(map), k = 0;
  quote *q = malloc(sizeof *q * (n ? n : 1));
  if (!q) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    json_t *m = json_array_get(map, i);
    json_t *a = json_object_get(m, "anchor"), *d = json_object_get(m, "doc"), *dp = json_object_get(m, "depth");
    const char *text = json_string_value(json_object_get(m, "text"));
    if (!json_is_integer(a) || !json_is_integer(d) || !json_is_number(dp) || !text) {
      free(q);
      return skl_error_set(err, SKL_ERR_INVALID,
                           "%s: extra_info.blueprint.doc_mapping[%zu] needs integer 'anchor' and 'doc', number "
                           "'depth' and string 'text' for sft.target quote", where, i);
    }
    if (!skill_expr_names_anchor(expr, (long)json_integer_value(a))) continue;
    bool seen = false;
    for (size_t j = 0; j < k && !seen; j++) seen = !strcmp(q[j].text, text);
    if (!seen) q[k++] = (quote){json_integer_value(d), json_number_value(dp), text};
  }
  /* an answer over the documents' structure (logic's "which entry appears in
   * exactly one document") names no single insert: nothing to quote, the
   * response is the answer line alone */
  qsort(q, k, sizeof *q, quote_cmp);
  skl_status s = SKL_OK;
  for (size_t j = 0; j < k && !s; j++) s = skl_buf_printf(out, "%s\n", q[j].text);
  free(q);
  return s ? skl_error_set(err, SKL_ERR_NOMEM, "out of memory") : SKL_OK;
}

/* One record -> one item. where = "SHARD:LINE" for messages. */
static skl_status make_item(const rl_data_opts *o, const skl_tokenizer *tok, const rl_dataset *ds, json_t *rec,
                            const char *where, rl_item *it, skl_error *err) {
  memset(it, 0, sizeof *it);
  const char *id = json_string_value(json_object_get(rec, "id"));
  const char *skill = json_string_value(json_object_get(rec, "skill"));
  const char *answer = json_string_value(json_object_get(rec, "answer"));
  const char *atype = json_string_value(json_object_get(rec, "answer_type"));
  json_t *prompt = json_object_get(rec, "prompt");
  const char *missing = !id ? "id" : !skill ? "skill" : !answer ? "answer" : !atype ? "answer_type"
                        : !json_is_array(prompt) || !json_array_size(prompt) ? "prompt" : NULL;
  if (missing)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s: record lacks '%s' (a string%s), which training needs to build the prompt and "
                         "score rollouts; regenerate the data with `skillrl synth`", where, missing,
                         !strcmp(missing, "prompt") ? " list of {role, content}" : "");
  if (skill_answer_type_parse(atype, &it->type, err)) return skl_error_prefix(err, "%s: answer_type", where);
  size_t nm = json_array_size(prompt);
  const char *q = NULL; /* last user message, borrowed from rec */
  skl_chat_msg *msgs = calloc(nm, sizeof *msgs);
  if (!msgs) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < nm; i++) {
    json_t *m = json_array_get(prompt, i);
    msgs[i].role = json_string_value(json_object_get(m, "role"));
    msgs[i].content = json_string_value(json_object_get(m, "content"));
    if (!msgs[i].role || !msgs[i].content) {
      free(msgs);
      return skl_error_set(err, SKL_ERR_INVALID, "%s: prompt[%zu] needs string 'role' and 'content'", where, i);
    }
    if (!strcmp(msgs[i].role, "user")) q = msgs[i].content;
  }
  skl_buf text = {0};
  skl_status s = skl_chat_render(ds->format, msgs, (int)nm, 1, &text, err);
  free(msgs);
  if (s) { skl_buf_free(&text); return skl_error_prefix(err, "%s", where); }
  it->id = strdup(id);
  it->skill = strdup(skill);
  it->answer = strdup(answer);
  it->question = dup_or_null(q);
  json_t *extra = json_object_get(rec, "extra_info");
  json_t *nt = extra ? json_object_get(extra, "n_tokens") : NULL;
  it->n_tokens_meta = json_is_integer(nt) ? (int)json_integer_value(nt) : -1;
  /* A prompt far too long for the window is refused before tokenizing it:
   * a 50 MiB record took hours to encode. No tokenizer averages 256 bytes
   * a token, so this never refuses a prompt that would fit. */
  if (o->max_prompt > 0 && text.len / 256 > (size_t)o->max_prompt) {
    s = skl_error_set(err, SKL_ERR_RANGE,
                      "%s: prompt of sample %s has %zu bytes, far more than the %d tokens the model's window "
                      "leaves after the response budget; use data synthesized at a shorter length",
                      where, id, text.len, o->max_prompt);
    skl_buf_free(&text);
    return s;
  }
  s = encode_copy(tok, text.data, &it->prompt, &it->n_prompt, err);
  skl_buf_free(&text);
  if (s) return skl_error_prefix(err, "%s: prompt", where);
  if (o->max_prompt > 0 && it->n_prompt > o->max_prompt)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "%s: prompt of sample %s has %d tokens, more than the %d the model's window leaves "
                         "after the response budget; use a model with a longer window, a smaller response "
                         "budget, or data synthesized at a shorter length", where, id, it->n_prompt, o->max_prompt);
  skl_buf resp = {0};
  if (o->quote_evidence && (s = append_quotes(rec, where, &resp, err))) { skl_buf_free(&resp); return s; }
  if (skl_buf_printf(&resp, "Answer: %s", answer)) { skl_buf_free(&resp); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  s = encode_copy(tok, resp.data, &it->target, &it->n_target, err);
  skl_buf_free(&resp);
  if (s) return s;
  if (ds->n_stop > 0) {
    int32_t *t = realloc(it->target, sizeof *t * (size_t)(it->n_target + 1));
    if (!t) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    it->target = t;
    it->target[it->n_target++] = ds->stop_ids[0];
  }
  return SKL_OK;
}

static skl_status resolve_format(const rl_data_opts *o, const skl_tokenizer *tok, rl_dataset *ds, skl_error *err) {
  ds->format = o->format;
  if (ds->format == SKL_CHAT_AUTO)
    ds->format = skl_chat_detect(skl_tokenizer_token_id(tok, "<|im_start|>") >= 0,
                                 skl_tokenizer_token_id(tok, "<|start_header_id|>") >= 0);
  const char *const *stops = skl_chat_stop_tokens(ds->format);
  for (int i = 0; stops[i] && ds->n_stop < 4; i++) {
    int32_t id = skl_tokenizer_token_id(tok, stops[i]);
    if (id >= 0) ds->stop_ids[ds->n_stop++] = id;
  }
  if (ds->format != SKL_CHAT_PLAIN && ds->n_stop == 0)
    return skl_error_set(err, SKL_ERR_INVALID, "chat format %s needs the stop token %s, which the tokenizer lacks; "
                         "use chat format plain or a tokenizer with it", skl_chat_format_name(ds->format), stops[0]);
  return SKL_OK;
}

static int cmp_item_id(const void *a, const void *b) {
  return strcmp((*(rl_item *const *)a)->id, (*(rl_item *const *)b)->id);
}

/* Ids key resume, filter and eval: two items with one id are refused. */
static skl_status check_unique_ids(const rl_data_opts *o, const rl_dataset *ds, skl_error *err) {
  rl_item **by = malloc(sizeof *by * (size_t)(ds->n ? ds->n : 1));
  if (!by) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (int i = 0; i < ds->n; i++) by[i] = &ds->items[i];
  qsort(by, (size_t)ds->n, sizeof *by, cmp_item_id);
  skl_status s = SKL_OK;
  for (int i = 1; i < ds->n && !s; i++)
    if (!strcmp(by[i - 1]->id, by[i]->id))
      s = skl_error_set(err, SKL_ERR_INVALID,
                        "%s: sample id '%s' appears twice in the '%s' split (skills %s and %s); ids must be unique "
                        "(resume, filter and eval key on them): regenerate the dataset",
                        o->dir, by[i]->id, o->split, by[i - 1]->skill, by[i]->skill);
  free(by);
  return s;
}

skl_status rl_dataset_load(const rl_data_opts *o, const skl_tokenizer *tok, rl_dataset *ds, skl_error *err) {
  memset(ds, 0, sizeof *ds);
  skl_manifest man;
  skl_status s = skl_manifest_read(&man, o->dir, err);
  if (s) { skl_manifest_free(&man); return s; }
  if (o->check_tokenizer && man.tokenizer_hash && strcmp(man.tokenizer_hash, skl_tokenizer_hash(tok))) {
    s = skl_error_set(err, SKL_ERR_INVALID,
                      "%s: the dataset was synthesized with tokenizer %.12s but the model's tokenizer is %.12s; "
                      "re-synthesize with the model's tokenizer.json (synth: tokenizer=...) so lengths and "
                      "prompts match", o->dir, man.tokenizer_hash, skl_tokenizer_hash(tok));
    skl_manifest_free(&man);
    return s;
  }
  if ((s = resolve_format(o, tok, ds, err))) { skl_manifest_free(&man); return s; }
  int cap = 0;
  for (size_t k = 0; k < man.n_shards && !s; k++) {
    const skl_manifest_shard *sh = &man.shards[k];
    if (strcmp(sh->split, o->split) || !skill_selected(o->skills, sh->skill)) continue;
    int have = 0;
    for (int i = 0; i < ds->n; i++) have += !strcmp(ds->items[i].skill, sh->skill);
    if (o->max_items > 0 && have >= o->max_items) continue;
    char *path = skl_path_join(o->dir, sh->path);
    skl_jsonl_reader *r = NULL;
    if (!path) { s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
    /* the manifest vouches for the shard: its sha256, then its records' skill and count */
    s = skl_manifest_check_shard(o->dir, sh, err);
    if (!s) s = skl_jsonl_open(&r, path, err);
    json_t *rec = NULL;
    uint64_t n_rec = 0;
    bool cut = false;
    while (!s && !(s = skl_jsonl_next(r, &rec, err)) && rec) {
      if (o->max_items > 0 && have >= o->max_items) { json_decref(rec); cut = true; break; }
      n_rec++;
      if (ds->n == cap) {
        cap = cap ? cap * 2 : 256;
        rl_item *ni = realloc(ds->items, sizeof *ni * (size_t)cap);
        if (!ni) { json_decref(rec); s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
        ds->items = ni;
      }
      char where[1200];
      snprintf(where, sizeof where, "%s:%zu", path, skl_jsonl_lineno(r));
      s = make_item(o, tok, ds, rec, where, &ds->items[ds->n], err);
      json_decref(rec);
      if (!s && strcmp(ds->items[ds->n].skill, sh->skill))
        s = skl_error_set(err, SKL_ERR_INVALID,
                          "%s: record of skill '%s' in a shard the manifest lists as '%s'; the shard was swapped or "
                          "edited: regenerate the dataset", where, ds->items[ds->n].skill, sh->skill);
      if (s) { item_free(&ds->items[ds->n]); break; }
      ds->n++;
      have++;
    }
    if (!s && !cut && n_rec != sh->records)
      s = skl_error_set(err, SKL_ERR_INVALID,
                        "%s: %llu records but the manifest lists %llu; the shard was truncated or edited: "
                        "regenerate the dataset", path, (unsigned long long)n_rec, (unsigned long long)sh->records);
    skl_jsonl_close(r);
    free(path);
  }
  if (!s) s = check_unique_ids(o, ds, err);
  if (!s && ds->n == 0)
    s = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no '%s' records%s%s in the manifest's shards", o->dir, o->split,
                      o->skills && *o->skills ? " for skills " : "", o->skills && *o->skills ? o->skills : "");
  skl_manifest_free(&man);
  if (s) rl_dataset_free(ds);
  return s;
}

void rl_epoch_order(uint64_t seed, int epoch, int n, int *order) {
  for (int i = 0; i < n; i++) order[i] = i;
  skl_rng r;
  skl_rng_seed(&r, skl_rng_derive(seed, 0x0e90c4, (uint64_t)epoch, 0));
  skl_rng_shuffle(&r, order, (size_t)n, sizeof *order);
}
