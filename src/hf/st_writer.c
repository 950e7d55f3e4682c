/* skl safetensors writer: queue borrowed f32 tensors, then write one file
 * atomically in HF's layout; plus f32<->bf16/f16 conversion. Not a reader. */
#include "hf/safetensors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"

uint16_t skl_f32_to_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0; /* NaN: as torch does */
  u += 0x7fffu + ((u >> 16) & 1u);                     /* round to nearest even */
  return (uint16_t)(u >> 16);
}

float skl_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float x;
  memcpy(&x, &u, 4);
  return x;
}

uint16_t skl_f32_to_f16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00; /* NaN */
  if (a >= 0x477ff000u) return sign | 0x7c00; /* >= 65520 rounds to inf */
  if (a < 0x38800000u) {                      /* below 2^-14: subnormal half */
    if (a <= 0x33000000u) return sign;        /* <= 2^-25 rounds (ties even) to 0 */
    uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e; /* value = m * 2^(e-150) = h * 2^-24 */
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) h++;
    return sign | (uint16_t)h;
  }
  uint32_t h = ((a >> 23) - 112) << 10 | ((a >> 13) & 0x3ffu), rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* carry may bump the exponent: fine */
  return sign | (uint16_t)h;
}

float skl_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
  if (e == 0x1f) u = sign | 0x7f800000u | (m << 13);
  else if (e) u = sign | ((e + 112) << 23) | (m << 13);
  else if (!m) u = sign;
  else { /* subnormal: normalise */
    e = 113;
    while (!(m & 0x400)) { m <<= 1; e--; }
    u = sign | (e << 23) | ((m & 0x3ff) << 13);
  }
  float x;
  memcpy(&x, &u, 4);
  return x;
}

typedef struct {
  char *name;
  skl_dtype dtype;
  int ndim;
  int64_t shape[SKL_ST_MAX_NDIM];
  int64_t numel;
  const float *data; /* borrowed [numel] */
} st_entry;

struct skl_st_writer {
  st_entry *e;
  int n, cap;
};

skl_status skl_st_writer_init(skl_st_writer **w, skl_error *err) {
  *w = calloc(1, sizeof **w);
  return *w ? SKL_OK : skl_error_set(err, SKL_ERR_NOMEM, "safetensors writer: out of memory");
}

void skl_st_writer_free(skl_st_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->n; i++) free(w->e[i].name);
  free(w->e);
  free(w);
}

skl_status skl_st_writer_add(skl_st_writer *w, const char *name, skl_dtype dtype, int ndim,
                             const int64_t *shape, const float *data, skl_error *err) {
  if (!name || !*name || !strcmp(name, "__metadata__"))
    return skl_error_set(err, SKL_ERR_INVALID, "safetensors writer: invalid tensor name '%s'", name ? name : "");
  if (dtype != SKL_DTYPE_F32 && dtype != SKL_DTYPE_BF16 && dtype != SKL_DTYPE_F16)
    return skl_error_set(err, SKL_ERR_UNSUPPORTED, "safetensors writer: tensor '%s': dtype %s (F32, BF16, F16 only)",
                         name, skl_dtype_name(dtype));
  if (ndim < 0 || ndim > SKL_ST_MAX_NDIM)
    return skl_error_set(err, SKL_ERR_INVALID, "safetensors writer: tensor '%s': ndim %d (0..%d)", name, ndim,
                         SKL_ST_MAX_NDIM);
  int64_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0 || (shape[i] && numel > INT64_MAX / 8 / shape[i]))
      return skl_error_set(err, SKL_ERR_INVALID, "safetensors writer: tensor '%s': bad shape[%d] = %lld", name, i,
                           (long long)shape[i]);
    numel *= shape[i];
  }
  if (numel && !data)
    return skl_error_set(err, SKL_ERR_INVALID, "safetensors writer: tensor '%s': no data", name);
  for (int i = 0; i < w->n; i++)
    if (!strcmp(w->e[i].name, name))
      return skl_error_set(err, SKL_ERR_INVALID, "safetensors writer: tensor '%s' added twice", name);
  if (w->n == w->cap) {
    int nc = w->cap ? 2 * w->cap : 64;
    st_entry *ne = realloc(w->e, (size_t)nc * sizeof *ne);
    if (!ne) return skl_error_set(err, SKL_ERR_NOMEM, "safetensors writer: out of memory");
    w->e = ne;
    w->cap = nc;
  }
  st_entry *e = &w->e[w->n];
  memset(e, 0, sizeof *e);
  if (!(e->name = strdup(name))) return skl_error_set(err, SKL_ERR_NOMEM, "safetensors writer: out of memory");
  e->dtype = dtype;
  e->ndim = ndim;
  for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
  e->numel = numel;
  e->data = data;
  w->n++;
  return SKL_OK;
}

/* HF's order: descending dtype (alignment), then name (byte order). */
static int cmp_entry(const void *a, const void *b) {
  const st_entry *x = a, *y = b;
  if (x->dtype != y->dtype) return x->dtype > y->dtype ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* JSON string as serde_json writes it: escapes " \ and control bytes only. */
static skl_status json_str(skl_buf *b, const char *s) {
  skl_status st = skl_buf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; !st && *p; p++) {
    switch (*p) {
    case '"': st = skl_buf_puts(b, "\\\""); break;
    case '\\': st = skl_buf_puts(b, "\\\\"); break;
    case '\n': st = skl_buf_puts(b, "\\n"); break;
    case '\r': st = skl_buf_puts(b, "\\r"); break;
    case '\t': st = skl_buf_puts(b, "\\t"); break;
    case '\b': st = skl_buf_puts(b, "\\b"); break;
    case '\f': st = skl_buf_puts(b, "\\f"); break;
    default:
      st = *p < 0x20 ? skl_buf_printf(b, "\\u%04x", *p) : skl_buf_append(b, p, 1);
    }
  }
  return st ? st : skl_buf_puts(b, "\"");
}

static skl_status build_header(skl_st_writer *w, const char *const *meta, skl_buf *b) {
  skl_status s = skl_buf_puts(b, "{");
  int has_format = 0;
  if (meta)
    for (int i = 0; meta[i] && meta[i + 1]; i += 2) has_format |= !strcmp(meta[i], "format");
  if (!s) s = skl_buf_puts(b, "\"__metadata__\":{");
  int first = 1;
  if (!s && !has_format) { s = skl_buf_puts(b, "\"format\":\"pt\""); first = 0; }
  if (meta)
    for (int i = 0; !s && meta[i] && meta[i + 1]; i += 2) {
      if (!first) s = skl_buf_puts(b, ",");
      first = 0;
      if (!s) s = json_str(b, meta[i]);
      if (!s) s = skl_buf_puts(b, ":");
      if (!s) s = json_str(b, meta[i + 1]);
    }
  if (!s) s = skl_buf_puts(b, "}");
  uint64_t off = 0;
  for (int i = 0; !s && i < w->n; i++) {
    const st_entry *e = &w->e[i];
    uint64_t nb = (uint64_t)e->numel * skl_dtype_size(e->dtype);
    s = skl_buf_puts(b, ",");
    if (!s) s = json_str(b, e->name);
    if (!s) s = skl_buf_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", skl_dtype_name(e->dtype));
    for (int d = 0; !s && d < e->ndim; d++) s = skl_buf_printf(b, "%s%lld", d ? "," : "", (long long)e->shape[d]);
    if (!s)
      s = skl_buf_printf(b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                         (unsigned long long)(off + nb));
    off += nb;
  }
  if (!s) s = skl_buf_puts(b, "}");
  while (!s && b->len % 8) s = skl_buf_puts(b, " "); /* HF pads with spaces to 8 bytes */
  return s;
}

/* Convert and write one tensor in chunks (no full-size temporary). */
static int write_tensor(FILE *f, const st_entry *e, unsigned char *chunk, size_t chunk_elems) {
  if (e->dtype == SKL_DTYPE_F32)
    return e->numel == 0 || fwrite(e->data, 4, (size_t)e->numel, f) == (size_t)e->numel;
  for (int64_t i = 0; i < e->numel; i += (int64_t)chunk_elems) {
    size_t m = (size_t)(e->numel - i) < chunk_elems ? (size_t)(e->numel - i) : chunk_elems;
    for (size_t j = 0; j < m; j++) {
      uint16_t h = e->dtype == SKL_DTYPE_BF16 ? skl_f32_to_bf16(e->data[i + (int64_t)j])
                                              : skl_f32_to_f16(e->data[i + (int64_t)j]);
      chunk[2 * j] = (unsigned char)(h & 0xff);
      chunk[2 * j + 1] = (unsigned char)(h >> 8);
    }
    if (fwrite(chunk, 2, m, f) != m) return 0;
  }
  return 1;
}

skl_status skl_st_writer_save(skl_st_writer *w, const char *path, const char *const *metadata, skl_error *err) {
  qsort(w->e, (size_t)w->n, sizeof *w->e, cmp_entry);
  skl_buf hdr = {0};
  if (build_header(w, metadata, &hdr)) {
    skl_buf_free(&hdr);
    return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory building the header", path);
  }
  if (hdr.len > SKL_ST_MAX_HEADER) {
    skl_buf_free(&hdr);
    return skl_error_set(err, SKL_ERR_RANGE, "%s: header would be %zu bytes (limit %d); too many tensors", path,
                         hdr.len, SKL_ST_MAX_HEADER);
  }
  const size_t chunk_elems = 1 << 16;
  unsigned char *chunk = malloc(2 * chunk_elems);
  if (!chunk) { skl_buf_free(&hdr); return skl_error_set(err, SKL_ERR_NOMEM, "%s: out of memory", path); }
  skl_atomic_file af;
  skl_status s = skl_atomic_open(&af, path, err);
  if (!s) {
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hdr.len >> (8 * i));
    int ok = fwrite(len8, 1, 8, af.f) == 8 && fwrite(hdr.data, 1, hdr.len, af.f) == hdr.len;
    for (int i = 0; ok && i < w->n; i++) ok = write_tensor(af.f, &w->e[i], chunk, chunk_elems);
    if (!ok) {
      int e = errno;
      skl_atomic_abort(&af);
      s = skl_error_set(err, SKL_ERR_IO, "%s: write failed: %s", path, strerror(e));
    } else {
      s = skl_atomic_commit(&af, err);
    }
  }
  free(chunk);
  skl_buf_free(&hdr);
  return s;
}
