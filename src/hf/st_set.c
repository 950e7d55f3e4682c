/* skl safetensors set: a model directory's weights, one file or shards
 * listed by model.safetensors.index.json, seen as one name space. Not a loader. */
#include "hf/safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

struct skl_st_set {
  skl_st_file **files;
  int n_files;
  const skl_st_tensor **t; /* [n] over all shards, sorted by name */
  unsigned char *read;     /* [n] set by skl_st_set_read_f32 */
  int n;
  char *where; /* the folder or file given to open, for messages */
};

void skl_st_set_close(skl_st_set *s) {
  if (!s) return;
  for (int i = 0; i < s->n_files; i++) skl_st_close(s->files[i]);
  free(s->files);
  free(s->t);
  free(s->read);
  free(s->where);
  free(s);
}

static int cmp_tptr(const void *a, const void *b) {
  return strcmp((*(const skl_st_tensor *const *)a)->name, (*(const skl_st_tensor *const *)b)->name);
}

static skl_status add_file(skl_st_set *s, const char *path, skl_error *err) {
  skl_st_file **nf = realloc(s->files, (size_t)(s->n_files + 1) * sizeof *nf);
  if (!nf) return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  s->files = nf;
  skl_status st = skl_st_open(&s->files[s->n_files], path, err);
  if (st) return st;
  s->n_files++;
  return SKL_OK;
}

/* Merge all files' tensors; a name in two files is an error. */
static skl_status build_index(skl_st_set *s, skl_error *err) {
  size_t n = 0;
  for (int i = 0; i < s->n_files; i++) n += (size_t)skl_st_count(s->files[i]);
  s->t = calloc(n ? n : 1, sizeof *s->t);
  s->read = calloc(n ? n : 1, 1);
  if (!s->t || !s->read) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (int i = 0; i < s->n_files; i++)
    for (int j = 0; j < skl_st_count(s->files[i]); j++) s->t[s->n++] = skl_st_get(s->files[i], j);
  qsort(s->t, (size_t)s->n, sizeof *s->t, cmp_tptr);
  for (int i = 1; i < s->n; i++)
    if (!strcmp(s->t[i]->name, s->t[i - 1]->name))
      return skl_error_set(err, SKL_ERR_PARSE, "tensor '%s' is in two shards: %s and %s; remove one", s->t[i]->name,
                           s->t[i - 1]->path, s->t[i]->path);
  return SKL_OK;
}

/* Shard file names come from a JSON file: keep them inside the folder. */
static int safe_shard_name(const char *f) {
  return *f && f[0] != '/' && !strstr(f, "..") && !strchr(f, '\\');
}

static skl_status open_index(skl_st_set *s, const char *dir, const char *index_path, skl_error *err) {
  json_error_t je;
  json_t *root = json_load_file(index_path, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return skl_error_set(err, SKL_ERR_PARSE, "%s:%d:%d: %s", index_path, je.line, je.column, je.text);
  skl_status st = SKL_OK;
  json_t *wm = json_object_get(root, "weight_map");
  if (!json_is_object(wm)) {
    st = skl_error_set(err, SKL_ERR_PARSE, "%s: no \"weight_map\" object (name -> shard file)", index_path);
    goto done;
  }
  /* Open each distinct shard once, in order of first mention. */
  const char **names = calloc(json_object_size(wm) + 1, sizeof *names);
  if (!names) { st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); goto done; }
  int n_names = 0;
  const char *key;
  json_t *v;
  json_object_foreach(wm, key, v) {
    if (!json_is_string(v) || !safe_shard_name(json_string_value(v))) {
      st = skl_error_set(err, SKL_ERR_PARSE, "%s: weight_map['%s'] must be a shard file name inside the folder",
                         index_path, key);
      break;
    }
    const char *fname = json_string_value(v);
    int seen = 0;
    for (int i = 0; i < n_names && !seen; i++) seen = !strcmp(names[i], fname);
    if (seen) continue;
    names[n_names++] = fname;
    char *p = skl_path_join(dir, fname);
    if (!p) { st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
    st = add_file(s, p, err);
    if (st == SKL_ERR_NOTFOUND) skl_error_prefix(err, "%s names shard '%s'", index_path, fname);
    free(p);
    if (st) break;
  }
  free(names);
  if (!st) st = build_index(s, err);
  /* Every indexed tensor must be where the index says. */
  if (!st) {
    json_object_foreach(wm, key, v) {
      const skl_st_tensor *t = skl_st_set_find(s, key);
      const char *fname = json_string_value(v);
      size_t lp = t ? strlen(t->path) : 0, lf = strlen(fname);
      if (!t || lp < lf || strcmp(t->path + lp - lf, fname)) {
        st = skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s' is indexed in %s but %s", index_path, key, fname,
                           t ? "stored in another shard" : "not stored in any shard");
        break;
      }
    }
  }
done:
  json_decref(root);
  return st;
}

skl_status skl_st_set_open(skl_st_set **out, const char *model_dir, skl_error *err) {
  *out = NULL;
  skl_st_set *s = calloc(1, sizeof *s);
  if (!s || !(s->where = strdup(model_dir))) {
    free(s);
    return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  skl_status st;
  if (!skl_fs_is_dir(model_dir)) {
    st = add_file(s, model_dir, err);
    if (!st) st = build_index(s, err);
  } else {
    char *single = skl_path_join(model_dir, "model.safetensors");
    char *index = skl_path_join(model_dir, "model.safetensors.index.json");
    if (!single || !index) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
    else if (skl_fs_exists(single)) {
      st = add_file(s, single, err);
      if (!st) st = build_index(s, err);
    } else if (skl_fs_exists(index)) st = open_index(s, model_dir, index, err);
    else
      st = skl_error_set(err, SKL_ERR_NOTFOUND,
                         "%s: no model.safetensors or model.safetensors.index.json; is this a model folder?",
                         model_dir);
    free(single);
    free(index);
  }
  if (st) { skl_st_set_close(s); return st; }
  *out = s;
  return SKL_OK;
}

int skl_st_set_count(const skl_st_set *s) { return s ? s->n : 0; }

const skl_st_tensor *skl_st_set_get(const skl_st_set *s, int i) {
  return s && i >= 0 && i < s->n ? s->t[i] : NULL;
}

static int set_index(const skl_st_set *s, const char *name) {
  if (!s || !name) return -1;
  int lo = 0, hi = s->n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2, c = strcmp(name, s->t[mid]->name);
    if (!c) return mid;
    if (c < 0) hi = mid - 1;
    else lo = mid + 1;
  }
  return -1;
}

const skl_st_tensor *skl_st_set_find(const skl_st_set *s, const char *name) {
  int i = set_index(s, name);
  return i < 0 ? NULL : s->t[i];
}

const char *skl_st_set_names(const skl_st_set *s, int *iter) {
  if (!s || *iter < 0 || *iter >= s->n) return NULL;
  return s->t[(*iter)++]->name;
}

skl_status skl_st_set_read_f32(skl_st_set *s, const char *name, const int64_t *want_shape, int want_ndim,
                               float *dst, skl_error *err) {
  int i = set_index(s, name);
  if (i < 0)
    return skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no tensor '%s' in the model weights",
                         s ? s->where : "(null)", name);
  skl_status st = skl_st_tensor_read_f32(s->t[i], want_shape, want_ndim, dst, err);
  if (!st) s->read[i] = 1;
  return st;
}

int skl_st_set_unread(const skl_st_set *s, skl_error *err) {
  int n = 0;
  char list[600] = "";
  size_t k = 0;
  for (int i = 0; s && i < s->n; i++) {
    if (s->read[i]) continue;
    if (n < 4 && k < sizeof list)
      k += (size_t)snprintf(list + k, sizeof list - k, "%s'%s'", n ? ", " : "", s->t[i]->name);
    n++;
  }
  if (n && err)
    skl_error_set(err, SKL_ERR_INVALID, "%d unexpected tensor%s in %s: %s%s (wrong architecture in config.json?)",
                  n, n > 1 ? "s" : "", s->where, list, n > 4 ? ", ..." : "");
  return n;
}
