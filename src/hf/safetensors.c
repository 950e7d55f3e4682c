/* skl safetensors reader: mmap one file, validate its header as HF's
 * reference does, then hand out zero-copy tensor views. Not the writer. */
#include "hf/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const dtype_names[SKL_DTYPE_COUNT] = {
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
    "BF16", "I32", "U32", "F32", "F64", "I64", "U64"};
static const unsigned char dtype_sizes[SKL_DTYPE_COUNT] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};

const char *skl_dtype_name(skl_dtype t) {
  return (unsigned)t < SKL_DTYPE_COUNT ? dtype_names[t] : "?";
}

size_t skl_dtype_size(skl_dtype t) { return (unsigned)t < SKL_DTYPE_COUNT ? dtype_sizes[t] : 0; }

skl_status skl_dtype_parse(const char *name, skl_dtype *t) {
  for (int i = 0; i < SKL_DTYPE_COUNT; i++)
    if (!strcmp(name, dtype_names[i])) { *t = (skl_dtype)i; return SKL_OK; }
  return SKL_ERR_NOTFOUND;
}

struct skl_st_file {
  char *path;
  void *map;       /* whole file, read-only */
  size_t size;
  int n;
  skl_st_tensor *t; /* [n] sorted by name */
  char **meta;      /* [2*n_meta] key, value */
  int n_meta;
};

void skl_st_close(skl_st_file *f) {
  if (!f) return;
  if (f->map && f->map != MAP_FAILED) munmap(f->map, f->size);
  for (int i = 0; i < f->n; i++) free((char *)f->t[i].name);
  free(f->t);
  for (int i = 0; i < 2 * f->n_meta; i++) free(f->meta[i]);
  free(f->meta);
  free(f->path);
  free(f);
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const skl_st_tensor *)a)->name, ((const skl_st_tensor *)b)->name);
}

/* Tensor plus its offsets, for the coverage check. */
typedef struct {
  int64_t begin, end;
  int idx;
} st_span;

static int cmp_span(const void *a, const void *b) {
  const st_span *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

/* Read one tensor entry `name: {dtype, shape, data_offsets}` into t and sp. */
static skl_status parse_entry(const char *path, const char *name, json_t *v, skl_st_tensor *t,
                              st_span *sp, skl_error *err) {
  if (!json_is_object(v))
    return skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s': header entry is not an object", path, name);
  const char *key;
  json_t *val;
  json_object_foreach(v, key, val) {
    if (strcmp(key, "dtype") && strcmp(key, "shape") && strcmp(key, "data_offsets"))
      return skl_error_set(err, SKL_ERR_PARSE,
                           "%s: tensor '%s': unknown field '%s' (expected dtype, shape, data_offsets)",
                           path, name, key);
  }
  json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
         *jo = json_object_get(v, "data_offsets");
  if (!jd || !js || !jo)
    return skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s': missing '%s'", path, name,
                         !jd ? "dtype" : !js ? "shape" : "data_offsets");
  if (!json_is_string(jd) || skl_dtype_parse(json_string_value(jd), &t->dtype) != SKL_OK)
    return skl_error_set(err, SKL_ERR_PARSE,
                         "%s: tensor '%s': unknown dtype %s%s%s (expected one of BOOL, U8, I8, "
                         "F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64)",
                         path, name, json_is_string(jd) ? "'" : "",
                         json_is_string(jd) ? json_string_value(jd) : "(not a string)",
                         json_is_string(jd) ? "'" : "");
  if (!json_is_array(js))
    return skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s': shape is not an array", path, name);
  size_t nd = json_array_size(js);
  if (nd > SKL_ST_MAX_NDIM)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "%s: tensor '%s': %zu dimensions (at most %d supported)",
                         path, name, nd, SKL_ST_MAX_NDIM);
  t->ndim = (int)nd;
  uint64_t numel = 1;
  int overflow = 0;
  for (size_t i = 0; i < nd; i++) {
    json_t *d = json_array_get(js, i);
    if (!json_is_integer(d) || json_integer_value(d) < 0)
      return skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s': shape[%zu] is not a non-negative integer",
                           path, name, i);
    uint64_t di = (uint64_t)json_integer_value(d);
    t->shape[i] = (int64_t)di;
    if (di && numel > (uint64_t)INT64_MAX / di) overflow = 1;
    else numel *= di;
  }
  uint64_t esz = skl_dtype_size(t->dtype);
  if (overflow || numel > (uint64_t)INT64_MAX / esz)
    return skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s': shape overflows (element count too large)",
                         path, name);
  t->numel = (int64_t)numel;
  t->nbytes = (size_t)(numel * esz);
  if (!json_is_array(jo) || json_array_size(jo) != 2 || !json_is_integer(json_array_get(jo, 0)) ||
      !json_is_integer(json_array_get(jo, 1)) || json_integer_value(json_array_get(jo, 0)) < 0 ||
      json_integer_value(json_array_get(jo, 1)) < 0)
    return skl_error_set(err, SKL_ERR_PARSE,
                         "%s: tensor '%s': data_offsets must be [begin, end] with non-negative integers",
                         path, name);
  sp->begin = json_integer_value(json_array_get(jo, 0));
  sp->end = json_integer_value(json_array_get(jo, 1));
  if (sp->end < sp->begin)
    return skl_error_set(err, SKL_ERR_PARSE, "%s: tensor '%s': data_offsets [%lld, %lld] end before begin",
                         path, name, (long long)sp->begin, (long long)sp->end);
  if ((uint64_t)(sp->end - sp->begin) != numel * esz)
    return skl_error_set(err, SKL_ERR_PARSE,
                         "%s: tensor '%s': data_offsets [%lld, %lld] hold %lld bytes but shape and dtype %s "
                         "need %llu",
                         path, name, (long long)sp->begin, (long long)sp->end,
                         (long long)(sp->end - sp->begin), skl_dtype_name(t->dtype),
                         (unsigned long long)(numel * esz));
  return SKL_OK;
}

/* Parse and validate the header json (n bytes at hdr); the data section is
 * dsize bytes starting at data. */
static skl_status parse_header(skl_st_file *f, const char *hdr, size_t n, const unsigned char *data,
                               size_t dsize, skl_error *err) {
  const char *path = f->path;
  if (n == 0 || hdr[0] != '{')
    return skl_error_set(err, SKL_ERR_PARSE,
                         "%s: not a safetensors file (header does not start with '{'); is it the right file?",
                         path);
  json_error_t je;
  json_t *root = json_loadb(hdr, n, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return skl_error_set(err, SKL_ERR_PARSE, "%s: header is not valid JSON (column %d): %s", path,
                         je.column, je.text);
  skl_status s = SKL_OK;
  st_span *spans = NULL;
  if (!json_is_object(root)) {
    s = skl_error_set(err, SKL_ERR_PARSE, "%s: header is not a JSON object", path);
    goto done;
  }
  size_t cap = json_object_size(root);
  f->t = calloc(cap ? cap : 1, sizeof *f->t);
  spans = calloc(cap ? cap : 1, sizeof *spans);
  if (!f->t || !spans) { s = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); goto done; }
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    if (!strcmp(key, "__metadata__")) {
      if (!json_is_object(v)) {
        s = skl_error_set(err, SKL_ERR_PARSE, "%s: __metadata__ is not an object of strings", path);
        goto done;
      }
      f->meta = calloc(2 * json_object_size(v) + 1, sizeof *f->meta);
      if (!f->meta) { s = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); goto done; }
      const char *mk;
      json_t *mv;
      json_object_foreach(v, mk, mv) {
        if (!json_is_string(mv)) {
          s = skl_error_set(err, SKL_ERR_PARSE, "%s: __metadata__['%s'] is not a string", path, mk);
          goto done;
        }
        f->meta[2 * f->n_meta] = strdup(mk);
        f->meta[2 * f->n_meta + 1] = strdup(json_string_value(mv));
        f->n_meta++;
        if (!f->meta[2 * f->n_meta - 2] || !f->meta[2 * f->n_meta - 1]) {
          s = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
          goto done;
        }
      }
      continue;
    }
    skl_st_tensor *t = &f->t[f->n];
    if (!(t->name = strdup(key))) { s = skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); goto done; }
    spans[f->n].idx = f->n;
    f->n++;
    t->path = f->path;
    if ((s = parse_entry(path, key, v, t, &spans[f->n - 1], err))) goto done;
  }
  /* HF: sorted by offsets, the tensors must tile the data section exactly. */
  qsort(spans, (size_t)f->n, sizeof *spans, cmp_span);
  int64_t pos = 0;
  for (int i = 0; i < f->n; i++) {
    const st_span *sp = &spans[i];
    if (sp->begin != pos) {
      s = sp->begin < pos
              ? skl_error_set(err, SKL_ERR_PARSE,
                              "%s: tensor '%s': data_offsets [%lld, %lld] overlap tensor '%s' (which ends at %lld)",
                              path, f->t[sp->idx].name, (long long)sp->begin, (long long)sp->end,
                              f->t[spans[i - 1].idx].name, (long long)pos)
              : skl_error_set(err, SKL_ERR_PARSE,
                              "%s: tensor '%s': data_offsets [%lld, %lld] leave a gap after byte %lld (tensors "
                              "must cover the data section contiguously)",
                              path, f->t[sp->idx].name, (long long)sp->begin, (long long)sp->end, (long long)pos);
      goto done;
    }
    if ((uint64_t)sp->end > dsize) {
      s = skl_error_set(err, SKL_ERR_PARSE,
                        "%s: tensor '%s': data_offsets [%lld, %lld] run past the end of the data section (%zu "
                        "bytes); the file is truncated or corrupt",
                        path, f->t[sp->idx].name, (long long)sp->begin, (long long)sp->end, dsize);
      goto done;
    }
    f->t[sp->idx].data = data + sp->begin;
    pos = sp->end;
  }
  if ((uint64_t)pos != dsize) {
    s = skl_error_set(err, SKL_ERR_PARSE,
                      "%s: %zu bytes of data after the last tensor (tensors cover %lld of %zu bytes); the file is "
                      "corrupt",
                      path, dsize - (size_t)pos, (long long)pos, dsize);
    goto done;
  }
  /* Sort by name for lookup; names are unique (JSON_REJECT_DUPLICATES). */
  qsort(f->t, (size_t)f->n, sizeof *f->t, cmp_name);
done:
  free(spans);
  json_decref(root);
  return s;
}

skl_status skl_st_open(skl_st_file **out, const char *path, skl_error *err) {
  *out = NULL;
  skl_st_file *f = calloc(1, sizeof *f);
  if (!f || !(f->path = strdup(path))) {
    free(f);
    return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path);
  }
  skl_status s = SKL_OK;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    s = skl_error_set(err, e == ENOENT ? SKL_ERR_NOTFOUND : SKL_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    goto fail;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    s = skl_error_set(err, SKL_ERR_IO, "%s: not a regular file", path);
    goto fail;
  }
  f->size = (size_t)st.st_size;
  if (f->size < 8) {
    close(fd);
    s = skl_error_set(err, SKL_ERR_PARSE, "%s: %zu bytes, too small for a safetensors file (8-byte header length)",
                      path, f->size);
    goto fail;
  }
  f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (f->map == MAP_FAILED) {
    f->map = NULL;
    s = skl_error_set(err, SKL_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    goto fail;
  }
  const unsigned char *b = f->map;
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | b[i];
  if (n > SKL_ST_MAX_HEADER) {
    s = skl_error_set(err, SKL_ERR_PARSE, "%s: header length %llu is absurd (limit %d bytes); not a safetensors file?",
                      path, (unsigned long long)n, SKL_ST_MAX_HEADER);
    goto fail;
  }
  if (8 + n > f->size) {
    s = skl_error_set(err, SKL_ERR_PARSE, "%s: header length %llu runs past the end of the file (%zu bytes); truncated?",
                      path, (unsigned long long)n, f->size);
    goto fail;
  }
  if ((s = parse_header(f, (const char *)b + 8, (size_t)n, b + 8 + n, f->size - 8 - (size_t)n, err))) goto fail;
  *out = f;
  return SKL_OK;
fail:
  skl_st_close(f);
  return s;
}

int skl_st_count(const skl_st_file *f) { return f ? f->n : 0; }

const skl_st_tensor *skl_st_get(const skl_st_file *f, int i) {
  return f && i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const skl_st_tensor *skl_st_find(const skl_st_file *f, const char *name) {
  if (!f || !name) return NULL;
  skl_st_tensor key = {.name = name};
  return bsearch(&key, f->t, (size_t)f->n, sizeof *f->t, cmp_name);
}

const char *skl_st_metadata(const skl_st_file *f, const char *key) {
  if (!f) return NULL;
  for (int i = 0; i < f->n_meta; i++)
    if (!strcmp(f->meta[2 * i], key)) return f->meta[2 * i + 1];
  return NULL;
}

static void format_shape(char *out, size_t cap, const int64_t *shape, int ndim) {
  size_t k = (size_t)snprintf(out, cap, "[");
  for (int i = 0; i < ndim && k < cap; i++)
    k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (k < cap) snprintf(out + k, cap - k, "]");
}

skl_status skl_st_tensor_read_f32(const skl_st_tensor *t, const int64_t *want_shape, int want_ndim,
                                  float *dst, skl_error *err) {
  if (want_shape) {
    int same = t->ndim == want_ndim;
    for (int i = 0; same && i < want_ndim; i++) same = t->shape[i] == want_shape[i];
    if (!same) {
      char got[160], want[160];
      format_shape(got, sizeof got, t->shape, t->ndim);
      format_shape(want, sizeof want, want_shape, want_ndim > SKL_ST_MAX_NDIM ? SKL_ST_MAX_NDIM : want_ndim);
      return skl_error_set(err, SKL_ERR_INVALID, "%s: tensor '%s': shape %s expected %s", t->path, t->name, got,
                           want);
    }
  }
  const unsigned char *src = t->data;
  int64_t n = t->numel;
  switch (t->dtype) {
  case SKL_DTYPE_F32:
    if (n) memcpy(dst, src, (size_t)n * 4);
    break;
  case SKL_DTYPE_BF16:
#pragma omp parallel for if (n > (1 << 20)) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = skl_bf16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    break;
  case SKL_DTYPE_F16:
#pragma omp parallel for if (n > (1 << 20)) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = skl_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    break;
  default:
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s cannot be read as float (F32, F16, "
                         "BF16 only); convert the checkpoint", t->path, t->name, skl_dtype_name(t->dtype));
  }
  return SKL_OK;
}

skl_status skl_st_read_f32(const skl_st_file *f, const char *name, const int64_t *want_shape, int want_ndim,
                           float *dst, skl_error *err) {
  const skl_st_tensor *t = skl_st_find(f, name);
  if (!t) return skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no tensor '%s'", f ? f->path : "(null)", name);
  return skl_st_tensor_read_f32(t, want_shape, want_ndim, dst, err);
}
