/* rl filter: generate k samples per item, verify, keep by pass rate.
 * Not a sampler of new data: items are only kept or dropped. */
#include "rl/filter.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "decode/decode.h"
#include "io/jsonl.h"
#include "io/manifest.h"
#include "model/checkpoint.h"
#include "rl/data.h"
#include "rl/reward.h"

/* Pass rate of one item: k samples from one shared prompt. */
static skl_status pass_rate(skl_decoder *dec, const skl_tokenizer *tok, const rl_dataset *ds, const rl_item *it,
                            const rl_train_cfg *c, uint64_t seed, double *rate, skl_error *err) {
  const int32_t *prompts[1] = {it->prompt};
  int plen[1] = {it->n_prompt};
  skl_gen_request rq = {.n_prompts = 1, .prompts = prompts, .prompt_lens = plen, .group = c->filter_k,
                        .shared_prefix = true, .max_new = c->max_response, .stop = ds->stop_ids, .n_stop = ds->n_stop,
                        .sample = {.temperature = (float)c->temperature, .top_k = c->top_k, .top_p = (float)c->top_p},
                        .seed = seed};
  skl_gen_output out;
  skl_status st = skl_generate(dec, &rq, &out, err);
  if (st) return st;
  rl_reward_opts ro;
  rl_reward_opts_default(&ro);
  skl_buf text = {0};
  int ok = 0;
  size_t vs = skl_tokenizer_vocab_size(tok);
  for (int g = 0; g < c->filter_k && !st; g++) {
    int n = out.len[g] - (out.stopped[g] ? 1 : 0);
    int32_t *ids = out.tokens + (size_t)g * out.max_new;
    int m = 0;
    for (int j = 0; j < n; j++) /* in place: drop ids the tokenizer lacks */
      if ((size_t)ids[j] < vs && skl_tokenizer_id_token(tok, ids[j])) ids[m++] = ids[j];
    skl_buf_clear(&text);
    st = skl_tokenizer_decode_ex(tok, ids, (size_t)m, SKL_TOK_DECODE_SKIP_SPECIAL | SKL_TOK_DECODE_REPLACE, &text, err);
    rl_reward_result r;
    if (!st) st = rl_reward_score(&ro, it->type, it->answer, text.data ? text.data : "", out.len[g], !out.stopped[g], &r, err);
    if (!st) ok += r.accuracy > 0;
  }
  skl_buf_free(&text);
  skl_gen_output_free(&out);
  *rate = (double)ok / c->filter_k;
  return st;
}

skl_status rl_filter_run(const rl_train_cfg *c, bool overwrite, rl_filter_stats *stats, skl_error *err) {
  memset(stats, 0, sizeof *stats);
  if (!c->model || !c->data || !c->filter_out)
    return skl_error_set(err, SKL_ERR_INVALID, "filter needs 'model', 'data' and 'filter.out' in the config");
  if (c->filter_low > c->filter_high)
    return skl_error_set(err, SKL_ERR_RANGE, "filter.low (%g) is above filter.high (%g)", c->filter_low, c->filter_high);
  char *man_path = skl_path_join(c->filter_out, "manifest.json");
  if (!man_path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  bool exists = skl_fs_exists(man_path);
  free(man_path);
  if (exists && !overwrite)
    return skl_error_set(err, SKL_ERR_STATE, "%s already holds a dataset; pass --overwrite to replace it", c->filter_out);
  skl_model m;
  memset(&m, 0, sizeof m);
  skl_status st = skl_ckpt_load_model(&m, c->model, true, err);
  char *tokp = skl_path_join(c->model, "tokenizer.json");
  skl_tokenizer *tok = NULL;
  if (!st) st = skl_tokenizer_load(tokp, &tok, err);
  skl_manifest in, outm;
  memset(&in, 0, sizeof in);
  memset(&outm, 0, sizeof outm);
  if (!st) st = skl_manifest_read(&in, c->data, err);
  if (!st) st = skl_manifest_init(&outm, err);
  if (!st && in.tokenizer_hash) st = skl_manifest_set_tokenizer_hash(&outm, in.tokenizer_hash, err);
  if (!st && in.config_hash) st = skl_manifest_set_config_hash(&outm, in.config_hash, err);
  skl_decoder *dec = NULL;
  double rate_sum = 0;
  const char *splits[2] = {"train", "test"};
  for (int sp = 0; sp < 2 && !st; sp++) {
    bool any = false;
    for (size_t k = 0; k < in.n_shards; k++) any |= !strcmp(in.shards[k].split, splits[sp]);
    if (!any) continue;
    /* the window check train makes: an item filter keeps must be trainable */
    rl_data_opts dopt = {.dir = c->data, .split = splits[sp], .skills = c->skills, .format = (skl_chat_format)c->chat_format,
                         .check_tokenizer = 1, .max_prompt = m.cfg.max_position - c->max_response};
    if (dopt.max_prompt < 1) {
      st = skl_error_set(err, SKL_ERR_RANGE,
                         "rollout.max_response %d leaves no room for a prompt in the model's window of %d tokens",
                         c->max_response, m.cfg.max_position);
      break;
    }
    rl_dataset ds;
    if ((st = rl_dataset_load(&dopt, tok, &ds, err))) break;
    int maxp = 0;
    for (int i = 0; i < ds.n; i++) if (ds.items[i].n_prompt > maxp) maxp = ds.items[i].n_prompt;
    skl_decoder_free(dec);
    dec = NULL;
    st = skl_decoder_init(&dec, &m, c->filter_k, c->max_response + 1, 1, maxp, err);
    /* walk the raw records in the order rl_dataset_load read them */
    int idx = 0;
    for (size_t k = 0; k < in.n_shards && !st; k++) {
      const skl_manifest_shard *sh = &in.shards[k];
      if (strcmp(sh->split, splits[sp])) continue;
      bool sel = !c->skills || !*c->skills;
      for (const char *p = c->skills; p && *p && !sel;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        sel = strlen(sh->skill) == len && !strncmp(p, sh->skill, len);
        p = e ? e + 1 : p + len;
      }
      if (!sel) continue;
      char *src = skl_path_join(c->data, sh->path), *dst = skl_path_join(c->filter_out, sh->path);
      char *dstdir = skl_path_join(c->filter_out, sh->skill);
      skl_jsonl_reader *r = NULL;
      skl_jsonl_writer *w = NULL;
      if (!src || !dst || !dstdir) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
      if (!st) st = skl_fs_mkdirs(dstdir, err);
      if (!st) st = skl_jsonl_open(&r, src, err);
      if (!st) st = skl_jsonl_writer_open(&w, dst, NULL, err);
      json_t *rec;
      while (!st && !(st = skl_jsonl_next(r, &rec, err)) && rec) {
        const rl_item *it = idx < ds.n ? &ds.items[idx] : NULL;
        const char *id = json_string_value(json_object_get(rec, "id"));
        if (!it || !id || strcmp(id, it->id)) {
          st = skl_error_set(err, SKL_ERR_INTERNAL, "%s: record order changed while filtering", src);
        } else {
          double rate = 0;
          uint64_t seed = skl_rng_derive((uint64_t)c->seed, 0xf117e5, skl_hash_str(it->id), 0);
          st = pass_rate(dec, tok, &ds, it, c, seed, &rate, err);
          rate_sum += rate;
          stats->seen++;
          if (!st && rate >= c->filter_low - 1e-12 && rate <= c->filter_high + 1e-12) {
            json_t *extra = json_object_get(rec, "extra_info");
            if (json_is_object(extra)) json_object_set_new(extra, "pass_rate", json_real(rate));
            st = skl_jsonl_write(w, rec, err);
            if (!st) st = skl_manifest_add_length(&outm, it->skill, it->n_tokens_meta > 0 ? it->n_tokens_meta : 0, err);
            stats->kept++;
          }
        }
        json_decref(rec);
        idx++;
      }
      skl_jsonl_close(r);
      if (!st) {
        skl_shard_info info;
        st = skl_jsonl_writer_close(w, &info, err);
        w = NULL;
        if (!st) st = skl_manifest_add_shard(&outm, sh->skill, sh->split, sh->path, &info, err);
      }
      skl_jsonl_writer_abort(w);
      free(src); free(dst); free(dstdir);
    }
    rl_dataset_free(&ds);
  }
  if (!st) st = skl_manifest_set_seed(&outm, "filter", (uint64_t)c->seed, err);
  if (!st) st = skl_manifest_write(&outm, c->filter_out, err);
  stats->mean_pass_rate = stats->seen ? rate_sum / stats->seen : 0;
  skl_decoder_free(dec);
  skl_manifest_free(&in);
  skl_manifest_free(&outm);
  skl_tokenizer_free(tok);
  free(tokp);
  skl_model_free(&m);
  return st;
}
