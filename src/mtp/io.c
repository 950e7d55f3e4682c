/* skl mtp files: DIR/mtp.safetensors (the heads, apart from model.safetensors
 * so a loader that knows nothing of MTP still reads the model) and a model
 * directory with heads. Not the main checkpoint code (model/checkpoint.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "hf/hf_config.h"
#include "model/checkpoint.h"
#include "mtp/mtp.h"

skl_status skl_mtp_save(const skl_mtp_heads *h, const char *dir, skl_dtype dtype, skl_error *err) {
  if (dtype != SKL_DTYPE_F32 && dtype != SKL_DTYPE_BF16)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "save mtp heads: dtype %s (use F32 or BF16)",
                         skl_dtype_name(dtype));
  skl_status s = skl_fs_mkdirs(dir, err);
  if (s) return s;
  skl_st_writer *w = NULL;
  if ((s = skl_st_writer_init(&w, err))) return s;
  for (int i = 0; i < h->n_tensors && !s; i++) {
    const skl_tensor_info *t = &h->tensors[i];
    s = skl_st_writer_add(w, t->name, dtype, t->ndim, t->shape, h->param_mem + t->offset, err);
  }
  char *path = NULL, k[16];
  snprintf(k, sizeof k, "%d", h->K);
  if (!s && !(path = skl_path_join(dir, "mtp.safetensors")))
    s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!s) {
    const char *meta[] = {"format", "pt", "producer", "skillrl", "n_mtp_heads", k, NULL};
    s = skl_st_writer_save(w, path, meta, err);
  }
  free(path);
  skl_st_writer_free(w);
  return s;
}

/* Highest head index named in the file (mtp.{k}.*), 0 if none. */
static int max_head_in(const skl_st_file *f) {
  int mx = 0;
  for (int i = 0; i < skl_st_count(f); i++) {
    int k = 0;
    if (sscanf(skl_st_get(f, i)->name, "mtp.%d.", &k) == 1 && k > mx) mx = k;
  }
  return mx;
}

skl_status skl_mtp_load(skl_mtp_heads *h, const char *dir, const skl_model_config *cfg,
                        skl_error *err) {
  memset(h, 0, sizeof *h);
  char *path = skl_path_join(dir, "mtp.safetensors");
  if (!path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  int K = cfg->n_mtp_heads;
  skl_status s = SKL_OK;
  if (K <= 0) {
    s = skl_error_set(err, SKL_ERR_NOTFOUND,
                      "%s: no MTP heads (config.json has no num_nextn_predict_layers%s; train some "
                      "with 'skillrl mtp train')",
                      dir, skl_fs_exists(path) ? ", although mtp.safetensors exists: set the key to "
                                                 "the number of heads it holds" : "");
    free(path);
    return s;
  }
  if (!skl_fs_exists(path)) {
    s = skl_error_set(err, SKL_ERR_NOTFOUND,
                      "%s: config.json says num_nextn_predict_layers = %d but mtp.safetensors is "
                      "missing (copy it along with the model, or set the key to 0)",
                      dir, K);
    free(path);
    return s;
  }
  skl_st_file *f = NULL;
  if ((s = skl_st_open(&f, path, err))) {
    free(path);
    return s;
  }
  if ((s = skl_mtp_init(h, cfg, K, err))) {
    skl_error_prefix(err, "%s/config.json", dir);
    goto done;
  }
  int stored = max_head_in(f);
  if (stored != K) {
    s = skl_error_set(err, SKL_ERR_INVALID,
                      "%s: config.json says num_nextn_predict_layers = %d but mtp.safetensors holds "
                      "heads 1..%d: set the key to %d or restore the matching mtp.safetensors",
                      dir, K, stored, stored);
    goto done;
  }
  for (int i = 0; i < h->n_tensors && !s; i++) {
    const skl_tensor_info *t = &h->tensors[i];
    if (!skl_st_find(f, t->name)) {
      s = skl_error_set(err, SKL_ERR_NOTFOUND,
                        "%s: tensor '%s' is missing (mtp.safetensors does not match config.json: "
                        "heads were made for another model?)",
                        path, t->name);
      break;
    }
    s = skl_st_read_f32(f, t->name, t->shape, t->ndim, h->param_mem + t->offset, err);
  }
  if (!s && skl_st_count(f) != h->n_tensors) {
    for (int i = 0; i < skl_st_count(f); i++)
      if (!skl_mtp_find_tensor(h, skl_st_get(f, i)->name)) {
        s = skl_error_set(err, SKL_ERR_INVALID,
                          "%s: unexpected tensor '%s' (not part of %d %s MTP heads for this "
                          "config.json)",
                          path, skl_st_get(f, i)->name, K, skl_arch_name(cfg->arch));
        break;
      }
  }
done:
  skl_st_close(f);
  free(path);
  if (s) skl_mtp_free(h);
  return s;
}

skl_status skl_mtp_save_model(const skl_model *m, const skl_mtp_heads *h, const char *dir,
                              skl_dtype dtype, const char *tokenizer_json, skl_error *err) {
  if (h->cfg.hidden_size != m->cfg.hidden_size || h->cfg.vocab_size != m->cfg.vocab_size)
    return skl_error_set(err, SKL_ERR_INVALID, "save mtp model: heads do not match the model");
  /* heads first: config.json must never announce heads that are not there */
  skl_status s = skl_mtp_save(h, dir, dtype, err);
  if (s) return s;
  skl_model tmp = *m; /* shallow: only cfg differs */
  tmp.cfg.n_mtp_heads = h->K;
  /* the frozen main model is written losslessly whatever it was read from */
  return skl_ckpt_save_model(&tmp, dir, SKL_DTYPE_F32, tokenizer_json, err);
}

skl_status skl_mtp_save_into(const skl_mtp_heads *h, const char *dir, const skl_model_config *cfg,
                             skl_dtype dtype, skl_error *err) {
  if (h->cfg.hidden_size != cfg->hidden_size || h->cfg.vocab_size != cfg->vocab_size)
    return skl_error_set(err, SKL_ERR_INVALID, "save mtp heads: heads do not match %s/config.json", dir);
  skl_status s = skl_mtp_save(h, dir, dtype, err);
  if (s) return s;
  skl_model_config c = *cfg;
  c.n_mtp_heads = h->K;
  return skl_hf_config_save(&c, dir, err);
}
