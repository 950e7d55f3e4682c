/* skl checkpoint: save/load a Hugging Face model directory and the AdamW
 * state. Not the safetensors format itself (hf/safetensors.h). */
#include "model/checkpoint.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "hf/hf_config.h"

static skl_status join_or_nomem(char **out, const char *a, const char *b, skl_error *err) {
  *out = skl_path_join(a, b);
  return *out ? SKL_OK : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
}

skl_status skl_ckpt_check_tokenizer(const char *path, int vocab_size, skl_error *err) {
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root)
    return skl_error_set(err, skl_fs_exists(path) ? SKL_ERR_PARSE : SKL_ERR_NOTFOUND,
                         "%s:%d:%d: %s", path, je.line, je.column, je.text);
  long long max_id = -1, n = 0;
  const char *where = "";
  json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
  const char *key;
  json_t *val;
  if (json_is_object(vocab)) {
    json_object_foreach(vocab, key, val) {
      if (json_is_integer(val) && json_integer_value(val) > max_id) {
        max_id = json_integer_value(val);
        where = "model.vocab";
      }
      n++;
    }
  }
  size_t i;
  json_array_foreach(json_object_get(root, "added_tokens"), i, val) {
    json_t *id = json_object_get(val, "id");
    if (json_is_integer(id) && json_integer_value(id) > max_id) {
      max_id = json_integer_value(id);
      where = "added_tokens";
    }
  }
  json_decref(root);
  if (max_id < 0)
    return skl_error_set(err, SKL_ERR_INVALID, "%s: no model.vocab or added_tokens ids found", path);
  if (max_id >= vocab_size)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "%s: token id %lld (%s; %lld vocab entries) does not fit the embedding of "
                         "vocab_size %d: use the tokenizer the model was made for, or set "
                         "vocab_size >= %lld",
                         path, max_id, where, n, vocab_size, max_id + 1);
  return SKL_OK;
}

skl_status skl_ckpt_save_model(const skl_model *m, const char *dir, skl_dtype dtype,
                               const char *tokenizer_json, skl_error *err) {
  if (dtype != SKL_DTYPE_F32 && dtype != SKL_DTYPE_BF16)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "save model: dtype %s (use F32 or BF16)",
                         skl_dtype_name(dtype));
  skl_status s;
  if (tokenizer_json && (s = skl_ckpt_check_tokenizer(tokenizer_json, m->cfg.vocab_size, err)))
    return s;
  if ((s = skl_fs_mkdirs(dir, err))) return s;
  skl_model_config cfg = m->cfg;
  snprintf(cfg.torch_dtype, sizeof cfg.torch_dtype, "%s", dtype == SKL_DTYPE_BF16 ? "bfloat16" : "float32");
  if ((s = skl_hf_config_save(&cfg, dir, err))) return s;
  skl_st_writer *w = NULL;
  char *path = NULL, *tok = NULL;
  char *text = NULL;
  if ((s = skl_st_writer_init(&w, err))) return s;
  for (int i = 0; i < m->n_tensors && !s; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    s = skl_st_writer_add(w, t->name, dtype, t->ndim, t->shape, m->param_mem + t->offset, err);
  }
  if (!s) s = join_or_nomem(&path, dir, "model.safetensors", err);
  if (!s) {
    const char *meta[] = {"format", "pt", "producer", "skillrl", NULL};
    s = skl_st_writer_save(w, path, meta, err);
  }
  if (!s && tokenizer_json) {
    size_t len;
    s = skl_fs_read_all(tokenizer_json, &text, &len, err);
    if (!s) s = join_or_nomem(&tok, dir, "tokenizer.json", err);
    if (!s) s = skl_fs_write_atomic(tok, text, len, err);
  }
  free(text);
  free(tok);
  free(path);
  skl_st_writer_free(w);
  return s;
}

skl_status skl_ckpt_load_model(skl_model *m, const char *dir, bool allow_unexpected,
                               skl_error *err) {
  memset(m, 0, sizeof *m);
  skl_model_config cfg;
  skl_status s = skl_hf_config_load(dir, &cfg, err);
  if (s) return s;
  if ((s = skl_model_init(m, &cfg, err))) return skl_error_prefix(err, "%s/config.json", dir);
  skl_st_set *set = NULL;
  if ((s = skl_st_set_open(&set, dir, err))) {
    skl_model_free(m);
    return s;
  }
  for (int i = 0; i < m->n_tensors && !s; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    if (!skl_st_set_find(set, t->name)) {
      s = skl_error_set(err, SKL_ERR_NOTFOUND,
                        "%s: tensor '%s' [%lld%s%.0lld] is missing (the checkpoint does not match "
                        "config.json)",
                        dir, t->name, (long long)t->shape[0], t->ndim > 1 ? ", " : "",
                        (long long)(t->ndim > 1 ? t->shape[1] : 0));
      break;
    }
    s = skl_st_set_read_f32(set, t->name, t->shape, t->ndim, m->param_mem + t->offset, err);
  }
  /* NaN/Inf weights loaded silently and training "succeeded" on them (issue 18) */
  for (int i = 0; i < m->n_tensors && !s; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    const float *w = m->param_mem + t->offset;
    for (size_t j = 0; j < t->numel; j++)
      if (!isfinite(w[j])) {
        s = skl_error_set(err, SKL_ERR_NUMERIC,
                          "%s: tensor '%s' holds a non-finite value (%g at element %zu); the weights are corrupt: "
                          "use an earlier checkpoint or the original model",
                          dir, t->name, (double)w[j], j);
        break;
      }
  }
  if (!s) {
    int it = 0;
    const char *name;
    while ((name = skl_st_set_names(set, &it))) {
      if (skl_model_find_tensor(m, name)) continue;
      if (cfg.tie_embeddings && !strcmp(name, "lm_head.weight")) continue;
      if (allow_unexpected) continue;
      s = skl_error_set(err, SKL_ERR_INVALID,
                        "%s: unexpected tensor '%s' (not part of a %s model with this config.json; "
                        "remove it from model.safetensors: training would not carry it into its checkpoints)",
                        dir, name, skl_arch_name(cfg.arch));
      break;
    }
  }
  skl_st_set_close(set);
  if (!s) {
    char *tok = skl_path_join(dir, "tokenizer.json");
    if (!tok) s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    else if (skl_fs_exists(tok)) s = skl_ckpt_check_tokenizer(tok, cfg.vocab_size, err);
    free(tok);
  }
  if (s) skl_model_free(m);
  return s;
}

skl_status skl_ckpt_save_optim(const skl_adamw *o, const skl_model *m, const char *dir,
                               skl_error *err) {
  skl_status s = skl_fs_mkdirs(dir, err);
  if (s) return s;
  skl_st_writer *w = NULL;
  if ((s = skl_st_writer_init(&w, err))) return s;
  char name[160];
  for (int i = 0; i < m->n_tensors && !s; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    snprintf(name, sizeof name, "exp_avg.%s", t->name);
    s = skl_st_writer_add(w, name, SKL_DTYPE_F32, t->ndim, t->shape, o->m + t->offset, err);
    snprintf(name, sizeof name, "exp_avg_sq.%s", t->name);
    if (!s) s = skl_st_writer_add(w, name, SKL_DTYPE_F32, t->ndim, t->shape, o->v + t->offset, err);
  }
  char step[32], lr[32], b1[32], b2[32], eps[32], wd[32];
  snprintf(step, sizeof step, "%lld", (long long)o->step);
  snprintf(lr, sizeof lr, "%.9g", o->cfg.lr);
  snprintf(b1, sizeof b1, "%.9g", o->cfg.beta1);
  snprintf(b2, sizeof b2, "%.9g", o->cfg.beta2);
  snprintf(eps, sizeof eps, "%.9g", o->cfg.eps);
  snprintf(wd, sizeof wd, "%.9g", o->cfg.weight_decay);
  const char *meta[] = {"format", "pt", "optimizer", "adamw", "step", step, "lr", lr, "beta1", b1,
                        "beta2", b2, "eps", eps, "weight_decay", wd, NULL};
  char *path = NULL;
  if (!s) s = join_or_nomem(&path, dir, "optimizer.safetensors", err);
  if (!s) s = skl_st_writer_save(w, path, meta, err);
  free(path);
  skl_st_writer_free(w);
  return s;
}

skl_status skl_ckpt_load_optim(skl_adamw *o, const skl_model *m, const char *dir,
                               skl_error *err) {
  if (o->n != m->n_params)
    return skl_error_set(err, SKL_ERR_STATE, "load optimizer: optimizer not initialised for this model");
  char *path = NULL;
  skl_status s = join_or_nomem(&path, dir, "optimizer.safetensors", err);
  if (s) return s;
  skl_st_file *f = NULL;
  if ((s = skl_st_open(&f, path, err))) {
    free(path);
    return s;
  }
  const char *step = skl_st_metadata(f, "step");
  char *end = NULL;
  long long st = step ? strtoll(step, &end, 10) : -1;
  if (!step || *end || st < 0)
    s = skl_error_set(err, SKL_ERR_INVALID, "%s: metadata 'step' missing or not a count", path);
  char name[160];
  for (int i = 0; i < m->n_tensors && !s; i++) {
    const skl_tensor_info *t = &m->tensors[i];
    for (int k = 0; k < 2 && !s; k++) {
      snprintf(name, sizeof name, "%s.%s", k ? "exp_avg_sq" : "exp_avg", t->name);
      s = skl_st_read_f32(f, name, t->shape, t->ndim, (k ? o->v : o->m) + t->offset, err);
    }
  }
  if (!s && skl_st_count(f) != 2 * m->n_tensors)
    s = skl_error_set(err, SKL_ERR_INVALID, "%s: %d tensors, expected %d (2 per parameter): wrong model?",
                      path, skl_st_count(f), 2 * m->n_tensors);
  if (!s) o->step = st;
  skl_st_close(f);
  free(path);
  return s;
}
