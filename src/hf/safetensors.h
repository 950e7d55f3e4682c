/* skl safetensors: validated mmap reader (single file or sharded model dir)
 * and an atomic writer compatible with HF's `safetensors`. Not a model loader. */
#ifndef SKL_SAFETENSORS_H
#define SKL_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Element types of the format. Order = HF's Dtype enum order, which the
 * writer uses (descending) to sort tensors by alignment. Only F32, F16 and
 * BF16 convert to f32; the others are recognised so files load and errors
 * can name them. */
typedef enum {
  SKL_DTYPE_BOOL,
  SKL_DTYPE_U8,
  SKL_DTYPE_I8,
  SKL_DTYPE_F8_E5M2,
  SKL_DTYPE_F8_E4M3,
  SKL_DTYPE_I16,
  SKL_DTYPE_U16,
  SKL_DTYPE_F16,
  SKL_DTYPE_BF16,
  SKL_DTYPE_I32,
  SKL_DTYPE_U32,
  SKL_DTYPE_F32,
  SKL_DTYPE_F64,
  SKL_DTYPE_I64,
  SKL_DTYPE_U64,
  SKL_DTYPE_COUNT
} skl_dtype;

#define SKL_ST_MAX_NDIM 8
#define SKL_ST_MAX_HEADER 100000000 /* bytes, as HF's MAX_HEADER_SIZE */

/* @return the format's name ("F32", "BF16", ...) */
const char *skl_dtype_name(skl_dtype t);
/* @return bytes per element (1 for BOOL and the F8 types) */
size_t skl_dtype_size(skl_dtype t);
/* @return SKL_OK and *t, or SKL_ERR_NOTFOUND for an unknown name */
skl_status skl_dtype_parse(const char *name, skl_dtype *t);

/* One tensor of an open file. Pointers live until the file is closed;
 * data points into the mapping and may be unaligned (use memcpy or
 * skl_st_read_f32). */
typedef struct {
  const char *name;
  skl_dtype dtype;
  int ndim;                        /* 0 (scalar) .. SKL_ST_MAX_NDIM */
  int64_t shape[SKL_ST_MAX_NDIM];
  int64_t numel;                   /* product of shape (1 for a scalar) */
  const void *data;
  size_t nbytes;                   /* numel * skl_dtype_size(dtype) */
  const char *path;                /* the file holding it (for messages) */
} skl_st_tensor;

/* ---- one file ---------------------------------------------------------- */

typedef struct skl_st_file skl_st_file;

/* Map PATH and validate it before any use, as HF's reference does: 8-byte
 * little-endian header length N with 8+N <= file size and N <= 100 MB; the
 * header is a UTF-8 JSON object starting with '{'; "__metadata__" (optional) is
 * a string->string map; every other key is a tensor {dtype, shape,
 * data_offsets}; known dtype; shape entries >= 0 with no overflow;
 * end-begin == numel*size; the tensors, sorted by offset, tile the data
 * section exactly (no gap, no overlap, nothing after the last one).
 * @return SKL_OK, or SKL_ERR_IO/NOTFOUND (open/mmap), SKL_ERR_PARSE (bad
 *         header: message names the file, the tensor and the rule broken). */
skl_status skl_st_open(skl_st_file **f, const char *path, skl_error *err);
void skl_st_close(skl_st_file *f); /* NULL ok */

int skl_st_count(const skl_st_file *f);
/* Tensors sorted by name, 0 <= i < count. */
const skl_st_tensor *skl_st_get(const skl_st_file *f, int i);
/* @return the tensor or NULL */
const skl_st_tensor *skl_st_find(const skl_st_file *f, const char *name);
/* __metadata__ value for KEY, or NULL */
const char *skl_st_metadata(const skl_st_file *f, const char *key);

/* Convert tensor NAME (F32, F16 or BF16) to f32 into dst[numel]. If
 * want_shape is non-NULL the tensor's shape must equal it, else error
 * "model.safetensors: tensor 'x': shape [688, 256] expected [256, 688]".
 * @return SKL_OK, SKL_ERR_NOTFOUND (no such tensor), SKL_ERR_INVALID (shape),
 *         SKL_ERR_UNSUPPORTED (dtype not convertible). */
skl_status skl_st_read_f32(const skl_st_file *f, const char *name, const int64_t *want_shape,
                           int want_ndim, float *dst, skl_error *err);
/* Same for a tensor already found (any source). */
skl_status skl_st_tensor_read_f32(const skl_st_tensor *t, const int64_t *want_shape, int want_ndim,
                                  float *dst, skl_error *err);

/* ---- a model directory (one file or shards) ----------------------------- */

typedef struct skl_st_set skl_st_set;

/* Open MODEL_DIR/model.safetensors, or else follow
 * MODEL_DIR/model.safetensors.index.json ("weight_map": name -> shard file):
 * every shard is opened and validated, every indexed tensor must be in its
 * shard, and a name in two shards is an error. MODEL_DIR may also be a
 * .safetensors file path. */
skl_status skl_st_set_open(skl_st_set **s, const char *model_dir, skl_error *err);
void skl_st_set_close(skl_st_set *s); /* NULL ok */

int skl_st_set_count(const skl_st_set *s);
/* All tensors over all shards, sorted by name, 0 <= i < count. */
const skl_st_tensor *skl_st_set_get(const skl_st_set *s, int i);
const skl_st_tensor *skl_st_set_find(const skl_st_set *s, const char *name);
/* Iterate names: `int it = 0; const char *n; while ((n = skl_st_set_names(s, &it))) ...` */
const char *skl_st_set_names(const skl_st_set *s, int *iter);
/* skl_st_read_f32 over the set; also marks the tensor as read. */
skl_status skl_st_set_read_f32(skl_st_set *s, const char *name, const int64_t *want_shape,
                               int want_ndim, float *dst, skl_error *err);
/* @return number of tensors never read by skl_st_set_read_f32; if err is
 *         non-NULL and some are left, it names the first few (INVALID). */
int skl_st_set_unread(const skl_st_set *s, skl_error *err);

/* ---- writer ------------------------------------------------------------ */

typedef struct skl_st_writer skl_st_writer;

skl_status skl_st_writer_init(skl_st_writer **w, skl_error *err);
void skl_st_writer_free(skl_st_writer *w); /* NULL ok */

/* Queue tensor NAME of shape[ndim] from data[numel] (f32), stored as DTYPE
 * (F32, F16 or BF16; BF16/F16 rounded to nearest even). data is BORROWED:
 * it must stay valid until skl_st_writer_save returns. Names are copied;
 * a duplicate name is an error. */
skl_status skl_st_writer_add(skl_st_writer *w, const char *name, skl_dtype dtype, int ndim,
                             const int64_t *shape, const float *data, skl_error *err);

/* Write PATH atomically (temp, fsync, rename). metadata: NULL or a
 * NULL-terminated array of key, value strings; {"format": "pt"} is added
 * unless given (transformers refuses files without it). Layout as HF's
 * serializer: tensors sorted by dtype alignment (descending) then name,
 * compact JSON header with "__metadata__" first, padded with spaces to a
 * multiple of 8 bytes. */
skl_status skl_st_writer_save(skl_st_writer *w, const char *path, const char *const *metadata,
                              skl_error *err);

/* f32 <-> bf16/f16 (round to nearest even; NaN stays NaN). */
uint16_t skl_f32_to_bf16(float x);
float skl_bf16_to_f32(uint16_t h);
uint16_t skl_f32_to_f16(float x);
float skl_f16_to_f32(uint16_t h);

#endif
