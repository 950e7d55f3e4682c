/* eval run: the probe runner's loop — load the model, resume from
 * OUT/results.jsonl, decode pending prompts in batches (greedy, then n
 * samples for pass@k), score, append, and summarise. Not the prompt
 * building (run_tasks.c) and not the report tables (run_report.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/rng.h"
#include "judge/judge.h"
#include "core/sha256.h"
#include "decode/decode.h"
#include "eval/run_internal.h"
#include "eval/run_report_internal.h"
#include "model/checkpoint.h"
#include "sys/sys.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

double eval_pass_at_k(int n, int c, int k) {
  if (k < 1 || k > n || c < 0 || c > n) return NAN;
  if (n - c < k) return 1.0;
  double prod = 1.0; /* C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i) */
  for (int i = n - c + 1; i <= n; i++) prod *= 1.0 - (double)k / i;
  return 1.0 - prod;
}

/* ---- state and resume ------------------------------------------------------ */

/* What decides a response besides the model and the data: results made with
 * other settings must not be mixed into one summary. */
static void generation_hash(const eval_cfg *c, char hex[65]) {
  skl_buf b = {0};
  skl_buf_printf(&b, "max_new=%d chat=%d system=%s window=%d samples=%d T=%.17g top_p=%.17g seed=%lld", c->max_new,
                 c->chat_format, c->system ? c->system : "", c->max_context, c->samples, c->temperature, c->top_p,
                 (long long)c->seed);
  skl_sha256_buf_hex(b.data ? b.data : "", b.len, hex);
  skl_buf_free(&b);
}

/* The model as it answers: its weights (as loaded, f32) and the config that
 * shapes and positions them. Two model folders with the same tokenizer but
 * other weights must not share one results folder (issue 18). */
static void model_hash(const skl_model *m, char hex[65]) {
  const skl_model_config *c = &m->cfg;
  char head[512];
  int n = snprintf(head, sizeof head,
                   "arch=%d V=%d C=%d L=%d NH=%d NKV=%d HD=%d FF=%d pos=%d eps=%.9g theta=%.9g rope=%d f=%.9g "
                   "lo=%.9g hi=%.9g orig=%d af=%.9g tie=%d params=%zu;",
                   (int)c->arch, c->vocab_size, c->hidden_size, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim,
                   c->intermediate_size, c->max_position, (double)c->rms_eps, (double)c->rope_theta,
                   (int)c->rope_type, (double)c->rope_factor, (double)c->rope_low_freq_factor,
                   (double)c->rope_high_freq_factor, c->rope_orig_max_position, (double)c->rope_attn_factor,
                   (int)c->tie_embeddings, m->n_params);
  skl_sha256 h;
  uint8_t d[32];
  skl_sha256_init(&h);
  skl_sha256_update(&h, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);
  skl_sha256_update(&h, m->param_mem, m->n_params * sizeof(float));
  skl_sha256_final(&h, d);
  skl_sha256_hex(d, hex);
}

static skl_status check_state(const char *out, const eval_cfg *cfg, const eval_tasks *ts, const char *tok_hash,
                              const char *mh, skl_error *err) {
  char gh[65];
  generation_hash(cfg, gh);
  char *path = skl_path_join(out, "eval_state.json");
  if (!path) return NOMEM(err);
  skl_status st = SKL_OK;
  if (skl_fs_exists(path)) {
    json_error_t je;
    json_t *o = json_load_file(path, 0, &je);
    const char *dh = json_string_value(json_object_get(o, "dataset_hash"));
    const char *th = json_string_value(json_object_get(o, "tokenizer_hash"));
    const char *gs = json_string_value(json_object_get(o, "generation_hash"));
    const char *ms = json_string_value(json_object_get(o, "model_hash"));
    if (o && dh && th && gs && !ms)
      st = skl_error_set(err, SKL_ERR_INVALID,
                         "%s: results folder records no model_hash (made by an older skillrl), so its results "
                         "cannot be matched to this model; use another -o folder, or delete this one to start over",
                         out);
    else if (!o || !dh || !th || !gs)
      st = skl_error_set(err, SKL_ERR_PARSE, "%s: unreadable eval state (%s); delete the folder to start over", path,
                         o ? "missing hashes" : je.text);
    else if (strcmp(dh, ts->dataset_hash))
      st = skl_error_set(err, SKL_ERR_INVALID,
                         "%s: results folder is from a different dataset (dataset_hash %.12s..., this run's is "
                         "%.12s...); use another -o folder, or delete this one to start over",
                         out, dh, ts->dataset_hash);
    else if (strcmp(th, tok_hash))
      st = skl_error_set(err, SKL_ERR_INVALID,
                         "%s: results folder is from a different tokenizer (tokenizer_hash %.12s..., this model's is "
                         "%.12s...); use another -o folder, or delete this one to start over",
                         out, th, tok_hash);
    else if (strcmp(ms, mh))
      st = skl_error_set(err, SKL_ERR_INVALID,
                         "%s: results folder is from other model weights (model_hash %.12s..., this model's is "
                         "%.12s...); use another -o folder, or delete this one to start over",
                         out, ms, mh);
    else if (strcmp(gs, gh))
      st = skl_error_set(err, SKL_ERR_INVALID,
                         "%s: results folder was made with other generation settings (max_new, chat_format, system, "
                         "max_context, sample.*, seed); use another -o folder, or delete this one to start over",
                         out);
    json_decref(o);
  } else {
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "format", "skillrl.eval.state", "version", 1,
                          "dataset_hash", ts->dataset_hash, "tokenizer_hash", tok_hash, "model_hash", mh,
                          "generation_hash", gh);
    char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    st = s ? skl_fs_write_atomic(path, s, strlen(s), err) : NOMEM(err);
    free(s);
    json_decref(o);
  }
  free(path);
  return st;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Read OUT/results.jsonl into res (json objects), dropping a last line cut
 * by an interruption (no newline) from the file itself. */
static skl_status load_results(const char *path, json_t *res, skl_error *err) {
  if (!skl_fs_exists(path)) return SKL_OK;
  char *data = NULL;
  size_t len = 0;
  skl_status st = skl_fs_read_all(path, &data, &len, err);
  if (st) return st;
  size_t keep = len;
  while (keep > 0 && data[keep - 1] != '\n') keep--;
  if (keep < len && truncate(path, (off_t)keep) != 0) {
    free(data);
    return skl_error_set(err, SKL_ERR_IO, "%s: cannot drop the interrupted last line", path);
  }
  size_t line = 0;
  for (size_t p = 0; p < keep && !st;) {
    size_t e = p;
    while (data[e] != '\n') e++;
    line++;
    if (e > p) {
      json_error_t je;
      json_t *o = json_loadb(data + p, e - p, 0, &je);
      if (!o || !json_is_string(json_object_get(o, "key")) || !json_is_number(json_object_get(o, "score")))
        st = skl_error_set(err, SKL_ERR_PARSE, "%s:%zu: not a result line (%s); delete the folder to start over",
                           path, line, o ? "no key or score" : je.text);
      else json_array_append(res, o);
      json_decref(o);
    }
    p = e + 1;
  }
  free(data);
  return st;
}

static const char *bucket_name(const eval_cfg *cfg, int n, char *buf, size_t cap) {
  const skl_cfg_ints *b = &cfg->length_buckets;
  int k = -1;
  for (int i = 0; i < b->n; i++)
    if (n >= b->v[i]) k = i;
  if (k < 0) { snprintf(buf, cap, "<%lld", (long long)(b->n ? b->v[0] : 0)); return buf; }
  if (k + 1 < b->n) snprintf(buf, cap, "%lld-%lld", (long long)b->v[k], (long long)b->v[k + 1]);
  else snprintf(buf, cap, ">=%lld", (long long)b->v[k]);
  return buf;
}

/* ---- the loop ----------------------------------------------------------------- */

typedef struct {
  const eval_run_opts *o;
  skl_model m;
  skl_tokenizer *tok;
  skl_decoder *dec;
  eval_task_ctx tc;
  eval_tasks ts;
  int32_t stop[12];
  int n_stop;
  FILE *out;
  json_t *results;
  skl_judge *judge;   /* free-form answers are scored by it when configured */
} runner;

/* The metric's score, or the judge's for a free-form answer when one is set. */
static skl_status score_one(runner *r, const eval_task *t, const char *pred, double *score, skl_error *err) {
  if (!r->judge || !eval_scorer_free_form(t->sc, t->idx)) return eval_scorer_score(t->sc, t->idx, pred, score, err);
  skillrl_judge_item ji = {eval_scorer_id(t->sc, t->idx), eval_scorer_question(t->sc, t->idx), pred,
                           eval_scorer_gold(t->sc, t->idx)};
  return skl_judge_score(r->judge, &ji, 1, score, err);
}

static skl_status decode_text(runner *r, const skl_gen_output *g, int i, skl_buf *b, skl_error *err) {
  int n = g->len[i] - (g->stopped[i] ? 1 : 0);
  skl_buf_clear(b);
  return skl_tokenizer_decode_ex(r->tok, g->tokens + (size_t)i * (size_t)g->max_new, (size_t)(n < 0 ? 0 : n),
                                 SKL_TOK_DECODE_SKIP_SPECIAL | SKL_TOK_DECODE_REPLACE, b, err);
}

static skl_status run_batch(runner *r, eval_task **bt, int nb, eval_run_stats *s, skl_error *err) {
  const eval_cfg *cfg = r->o->cfg;
  const int32_t *prompts[4096];
  int lens[4096];
  for (int i = 0; i < nb; i++) { prompts[i] = bt[i]->ids; lens[i] = bt[i]->n_ids; }
  skl_gen_request rq = {.n_prompts = nb, .prompts = prompts, .prompt_lens = lens, .group = 1, .max_new = cfg->max_new,
                        .stop = r->stop, .n_stop = r->n_stop, .sample = skl_sample_defaults()};
  rq.sample.temperature = 0;
  skl_gen_output g = {0}, gs[4096];
  memset(gs, 0, (size_t)nb * sizeof *gs);
  double t0 = skl_time_now();
  skl_status st = skl_generate(r->dec, &rq, &g, err);
  /* sampled responses: one prompt at a time (its G samples batched over a
   * shared prefix), seeded by the sample's key, so a resumed run or another
   * batch size draws the same samples */
  for (int i = 0; !st && cfg->samples > 0 && i < nb; i++) {
    skl_gen_request sq = rq;
    sq.n_prompts = 1;
    sq.prompts = &prompts[i];
    sq.prompt_lens = &lens[i];
    sq.group = cfg->samples;
    sq.shared_prefix = true;
    sq.sample.temperature = (float)cfg->temperature;
    sq.sample.top_p = (float)cfg->top_p;
    sq.seed = skl_rng_derive((uint64_t)cfg->seed, skl_hash_str(bt[i]->key), 0, 0);
    st = skl_generate(r->dec, &sq, &gs[i], err);
  }
  double dt = skl_time_now() - t0;
  skl_buf text = {0};
  char bname[64];
  for (int i = 0; !st && i < nb; i++) {
    eval_task *t = bt[i];
    double score = 0;
    st = decode_text(r, &g, i, &text, err);
    if (!st) st = score_one(r, t, text.data ? text.data : "", &score, err);
    if (st) break;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:s, s:b, s:f}", "key", t->key, "set", t->set,
                          "group", eval_scorer_group(t->sc, t->idx), "id", eval_scorer_id(t->sc, t->idx), "prediction",
                          text.data ? text.data : "", "score", score, "tokens", g.len[i], "prompt_tokens", t->n_ids,
                          "n_tokens", t->n_tokens, "length_bucket", bucket_name(cfg, t->n_tokens, bname, sizeof bname),
                          "truncated", t->truncated, "latency_s", dt / nb);
    if (!o) { st = NOMEM(err); break; }
    if (t->depth >= 0) json_object_set_new(o, "depth", json_real(t->depth));
    if (cfg->samples > 0) {
      int c = 0;
      json_t *preds = json_array();
      for (int k = 0; !st && k < cfg->samples; k++) {
        double sc = 0;
        st = decode_text(r, &gs[i], k, &text, err);
        if (!st) st = score_one(r, t, text.data ? text.data : "", &sc, err);
        c += sc >= 1.0;
        json_array_append_new(preds, json_string(text.data ? text.data : ""));
      }
      json_object_set_new(o, "sample_predictions", preds);
      json_object_set_new(o, "samples", json_integer(cfg->samples));
      json_object_set_new(o, "samples_correct", json_integer(c));
    }
    char *line = json_dumps(o, JSON_COMPACT);
    if (!line) { json_decref(o); st = NOMEM(err); break; }
    if (fprintf(r->out, "%s\n", line) < 0) st = skl_error_set(err, SKL_ERR_IO, "results.jsonl: write failed");
    free(line);
    json_array_append_new(r->results, o);
  }
  if (!st && fflush(r->out) != 0) st = skl_error_set(err, SKL_ERR_IO, "results.jsonl: write failed");
  skl_buf_free(&text);
  s->prefill_s += g.prefill_s;
  s->decode_s += g.decode_s;
  s->prefill_tokens += g.prefill_tokens;
  s->decode_tokens += g.decode_tokens;
  for (int i = 0; i < nb; i++) {
    s->prefill_s += gs[i].prefill_s;
    s->decode_s += gs[i].decode_s;
    s->prefill_tokens += gs[i].prefill_tokens;
    s->decode_tokens += gs[i].decode_tokens;
    skl_gen_output_free(&gs[i]);
  }
  s->seconds += dt;
  if (!st) s->n_new += (size_t)nb;
  skl_gen_output_free(&g);
  return st;
}

static skl_status setup(runner *r, skl_error *err) {
  const eval_run_opts *o = r->o;
  const eval_cfg *cfg = o->cfg;
  for (int i = 0; i < cfg->pass_k.n; i++)
    if (cfg->samples > 0 && cfg->pass_k.v[i] > cfg->samples)
      return skl_error_set(err, SKL_ERR_INVALID, "sample.k %lld exceeds sample.n %d: pass@k needs n >= k samples",
                           (long long)cfg->pass_k.v[i], cfg->samples);
  skl_status st = skl_ckpt_load_model(&r->m, o->model_dir, true, err);
  if (st) return skl_error_prefix(err, "model %s", o->model_dir), st;
  char *tp = skl_path_join(o->model_dir, "tokenizer.json");
  if (!tp) return NOMEM(err);
  st = skl_tokenizer_load(tp, &r->tok, err);
  free(tp);
  if (st) return st;
  skl_chat_format fmt = (skl_chat_format)cfg->chat_format;
  if (fmt == SKL_CHAT_AUTO)
    fmt = skl_chat_detect(skl_tokenizer_token_id(r->tok, "<|im_start|>") >= 0,
                          skl_tokenizer_token_id(r->tok, "<|start_header_id|>") >= 0);
  const char *const *stops = skl_chat_stop_tokens(fmt);
  for (int i = 0; stops[i] && r->n_stop < 8; i++) {
    int32_t id = skl_tokenizer_token_id(r->tok, stops[i]);
    if (id >= 0) r->stop[r->n_stop++] = id;
  }
  for (int i = 0; i < r->m.cfg.n_eos && r->n_stop < 12; i++) r->stop[r->n_stop++] = r->m.cfg.eos_token_ids[i];
  int window = r->m.cfg.max_position;
  if (cfg->max_context > 0 && cfg->max_context < window) window = cfg->max_context;
  if (window - cfg->max_new < 1)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "the model's window (%d tokens) leaves no room for a prompt with max_new %d; lower max_new",
                         window, cfg->max_new);
  r->tc = (eval_task_ctx){.cfg = cfg, .tok = r->tok, .fmt = fmt, .budget = window - cfg->max_new, .window = window};
  return eval_tasks_build(&r->tc, &r->ts, err);
}

skl_status eval_run(const eval_run_opts *o, eval_run_stats *s, skl_error *err) {
  memset(s, 0, sizeof *s);
  runner r;
  memset(&r, 0, sizeof r);
  r.o = o;
  const eval_cfg *cfg = o->cfg;
  char *rpath = skl_path_join(o->out_dir, "results.jsonl");
  r.results = json_array();
  char **done = NULL;
  eval_task **pend = NULL;
  skl_status st = rpath && r.results ? SKL_OK : NOMEM(err);
  if (!st) st = setup(&r, err);
  if (!st) st = skl_fs_mkdirs(o->out_dir, err);
  char mh[65] = "";
  if (!st) model_hash(&r.m, mh);
  if (!st) st = check_state(o->out_dir, cfg, &r.ts, skl_tokenizer_hash(r.tok), mh, err);
  if (!st) st = load_results(rpath, r.results, err);
  size_t n_done = st ? 0 : json_array_size(r.results);
  if (!st && !(done = calloc(n_done + 1, sizeof *done))) st = NOMEM(err);
  for (size_t i = 0; !st && i < n_done; i++)
    done[i] = (char *)json_string_value(json_object_get(json_array_get(r.results, i), "key"));
  if (!st) qsort(done, n_done, sizeof *done, cmp_str);
  size_t n_pend = 0;
  if (!st && !(pend = calloc(r.ts.n + 1, sizeof *pend))) st = NOMEM(err);
  for (size_t i = 0; !st && i < r.ts.n; i++) {
    char *k = r.ts.t[i].key;
    if (n_done && bsearch(&k, done, n_done, sizeof *done, cmp_str)) s->n_resumed++;
    else pend[n_pend++] = &r.ts.t[i];
  }
  s->n_total = r.ts.n;
  s->n_truncated = r.ts.n_truncated;
  s->n_too_long = r.ts.n_too_long;
  if (!st && n_pend) {
    int maxlen = 1;
    for (size_t i = 0; i < n_pend; i++)
      if (pend[i]->n_ids > maxlen) maxlen = pend[i]->n_ids;
    int B = cfg->batch, G = cfg->samples, T = maxlen + cfg->max_new;
    st = skl_decoder_init(&r.dec, &r.m, B > G ? B : G, T, 1, T, err);
    if (!st && (cfg->judge_command || cfg->judge_plugin)) {
      skl_judge_opts jo = {.kind = cfg->judge_plugin ? SKL_JUDGE_PLUGIN : SKL_JUDGE_COMMAND,
                           .target = cfg->judge_plugin ? cfg->judge_plugin : cfg->judge_command,
                           .timeout_s = cfg->judge_timeout, .retries = cfg->judge_retries};
      st = skl_judge_open(&r.judge, &jo, err);
    }
    if (!st && !(r.out = fopen(rpath, "a"))) st = skl_error_set(err, SKL_ERR_IO, "%s: cannot open for append", rpath);
  }
  for (size_t i = 0; !st && i < n_pend;) {
    if (o->stop && *o->stop) break;
    int nb = (int)(n_pend - i < (size_t)cfg->batch ? n_pend - i : (size_t)cfg->batch);
    if (o->limit > 0) {
      int64_t left = o->limit - (int64_t)s->n_new;
      if (left <= 0) break;
      if (nb > left) nb = (int)left;
    }
    st = run_batch(&r, pend + i, nb, s, err);
    i += (size_t)nb;
    if (!st && o->on_progress) {
      char line[256];
      snprintf(line, sizeof line, "eval: %zu/%zu samples (%zu resumed), %.2f samples/s", s->n_resumed + s->n_new,
               s->n_total, s->n_resumed, s->seconds > 0 ? (double)s->n_new / s->seconds : 0.0);
      o->on_progress(line, o->user);
    }
  }
  if (r.out && fclose(r.out) != 0 && !st) st = skl_error_set(err, SKL_ERR_IO, "%s: close failed", rpath);
  s->complete = !st && s->n_resumed + s->n_new == s->n_total;
  if (!st) {
    eval_report_in in = {.cfg = cfg, .model_dir = o->model_dir, .out_dir = o->out_dir, .results = r.results,
                         .stats = s, .set_names = (const char *const *)r.ts.names, .n_sets = r.ts.n_names,
                         .has_probes = cfg->probes != NULL, .manifest_hash = r.ts.manifest_hash,
                         .tokenizer_hash = skl_tokenizer_hash(r.tok)};
    st = eval_report_write(&in, err);
  }
  free(done);
  free(pend);
  free(rpath);
  json_decref(r.results);
  skl_decoder_free(r.dec);
  skl_judge_close(r.judge);
  eval_tasks_free(&r.ts);
  skl_tokenizer_free(r.tok);
  skl_model_free(&r.m);
  return st;
}
