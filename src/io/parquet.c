/* skl parquet: JSON rows shredded into Parquet columns (Dremel levels), PLAIN
 * pages and a thrift-compact footer. Not a reader; see parquet.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "io/parquet.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "parquet: out of memory")
#define MAX_LEVEL 200 /* levels are stored as bytes */

/* Parquet enums (parquet.thrift). */
enum { PT_BOOLEAN = 0, PT_INT64 = 2, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CONV_UTF8 = 0, CONV_LIST = 3 };
enum { ENC_PLAIN = 0, ENC_RLE = 3 };
enum { CODEC_UNCOMPRESSED = 0, CODEC_ZSTD = 6 };
enum { PAGE_DATA = 0 };
/* thrift compact types */
enum { TC_I32 = 5, TC_I64 = 6, TC_BINARY = 8, TC_LIST = 9, TC_STRUCT = 12 };

/* ---- thrift compact writer ------------------------------------------------ */

typedef struct {
  skl_buf *b;
  int last[32]; /* last field id per struct depth */
  int depth;
  int bad;      /* an append failed (out of memory) */
} tw;

static void tw_byte(tw *t, unsigned char c) { t->bad |= skl_buf_append(t->b, &c, 1) != SKL_OK; }
static void tw_varint(tw *t, uint64_t v) {
  unsigned char c[10];
  int n = 0;
  do {
    c[n] = (unsigned char)(v & 0x7f);
    v >>= 7;
    if (v) c[n] |= 0x80;
    n++;
  } while (v);
  t->bad |= skl_buf_append(t->b, c, (size_t)n) != SKL_OK;
}
static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static void tw_field(tw *t, int id, int type) {
  int delta = id - t->last[t->depth];
  if (delta > 0 && delta <= 15) tw_byte(t, (unsigned char)(delta << 4 | type));
  else {
    tw_byte(t, (unsigned char)type);
    tw_varint(t, zigzag(id));
  }
  t->last[t->depth] = id;
}
static void tw_i32(tw *t, int id, int32_t v) { tw_field(t, id, TC_I32); tw_varint(t, zigzag(v)); }
static void tw_i64(tw *t, int id, int64_t v) { tw_field(t, id, TC_I64); tw_varint(t, zigzag(v)); }
static void tw_bin_raw(tw *t, const char *s, size_t n) {
  tw_varint(t, n);
  t->bad |= skl_buf_append(t->b, s, n) != SKL_OK;
}
static void tw_str(tw *t, int id, const char *s) { tw_field(t, id, TC_BINARY); tw_bin_raw(t, s, strlen(s)); }
static void tw_list(tw *t, int id, int elem, size_t n) {
  tw_field(t, id, TC_LIST);
  if (n < 15) tw_byte(t, (unsigned char)(n << 4 | (size_t)elem));
  else {
    tw_byte(t, (unsigned char)(0xf0 | elem));
    tw_varint(t, n);
  }
}
static void tw_push(tw *t) { t->last[++t->depth] = 0; }  /* a struct's fields begin */
static void tw_pop(tw *t) { tw_byte(t, 0); t->depth--; }  /* stop field */
static void tw_struct(tw *t, int id) { tw_field(t, id, TC_STRUCT); tw_push(t); }

/* ---- schema --------------------------------------------------------------- */

typedef struct inode {
  const skl_parquet_node *n;
  int first_leaf, n_leaves;
  int rep_level; /* LIST: the repetition level of its elements */
  struct inode *kids;
  int n_kids;
} inode;

typedef struct {
  const skl_parquet_node *leaf;
  char **path;     /* [depth] names from the top-level column down */
  int depth;
  int max_def, max_rep;
  skl_buf rep, def;  /* one byte per level entry */
  skl_buf values;    /* PLAIN-encoded non-null values */
  uint64_t n_levels; /* entries (the chunk's num_values) */
  uint64_t n_bools;  /* BOOLEAN: bits used in values' last byte */
  /* footer data, one entry per row group */
  int64_t *offset, *usize, *csize, *nvals;
} column;

struct skl_parquet_writer {
  skl_atomic_file f;
  uint64_t pos;
  skl_parquet_opts o;
  inode root;
  column *cols;
  int n_cols;
  uint64_t rows, group_rows;
  int64_t *group_rows_list, *group_bytes;
  size_t n_groups;
  skl_buf page, zpage, hdr;
};

static void inode_free(inode *in) {
  for (int i = 0; i < in->n_kids; i++) inode_free(&in->kids[i]);
  free(in->kids);
}

/* Count leaves, check the schema, build the index tree. */
static skl_status build(skl_parquet_writer *w, inode *in, const skl_parquet_node *n, int rep, int def, char **path,
                        int depth, skl_error *err) {
  in->n = n;
  in->first_leaf = w->n_cols;
  if (!n->name || !n->name[0]) return skl_error_set(err, SKL_ERR_INVALID, "parquet schema: a node has no name");
  if (depth >= 30 || def + 2 > MAX_LEVEL) return skl_error_set(err, SKL_ERR_INVALID, "parquet schema: '%s' nests too deep", n->name);
  if (n->optional) def++;
  path[depth] = (char *)n->name;
  if (n->kind == SKL_PARQUET_STRUCT || n->kind == SKL_PARQUET_LIST) {
    if (n->n_children < 1 || !n->children || (n->kind == SKL_PARQUET_LIST && n->n_children != 1))
      return skl_error_set(err, SKL_ERR_INVALID, "parquet schema: %s '%s' needs %s", n->kind == SKL_PARQUET_LIST ? "list" : "struct",
                           n->name, n->kind == SKL_PARQUET_LIST ? "exactly one element node" : "at least one field");
    in->kids = calloc((size_t)n->n_children, sizeof *in->kids);
    if (!in->kids) return NOMEM(err);
    in->n_kids = n->n_children;
    int kd = depth + 1;
    if (n->kind == SKL_PARQUET_LIST) {
      path[kd++] = "list"; /* the repeated group */
      rep++;
      def++;
      in->rep_level = rep;
    }
    for (int i = 0; i < n->n_children; i++) {
      skl_status st = build(w, &in->kids[i], &n->children[i], rep, def, path, kd, err);
      if (st) return st;
    }
  } else {
    column *c = realloc(w->cols, (size_t)(w->n_cols + 1) * sizeof *c);
    if (!c) return NOMEM(err);
    w->cols = c;
    c = &w->cols[w->n_cols];
    memset(c, 0, sizeof *c);
    w->n_cols++;
    c->leaf = n;
    c->depth = depth + 1;
    c->max_def = def;
    c->max_rep = rep;
    c->path = calloc((size_t)c->depth, sizeof *c->path);
    if (!c->path) return NOMEM(err);
    for (int i = 0; i < c->depth; i++)
      if (!(c->path[i] = strdup(path[i]))) return NOMEM(err);
  }
  in->n_leaves = w->n_cols - in->first_leaf;
  return SKL_OK;
}

skl_parquet_opts skl_parquet_opts_default(void) {
  return (skl_parquet_opts){.codec = SKL_PARQUET_ZSTD, .zstd_level = 3, .row_group_bytes = 64u << 20};
}

static void writer_free(skl_parquet_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->n_cols; i++) {
    column *c = &w->cols[i];
    if (c->path) for (int k = 0; k < c->depth; k++) free(c->path[k]);
    free(c->path);
    skl_buf_free(&c->rep);
    skl_buf_free(&c->def);
    skl_buf_free(&c->values);
    free(c->offset); free(c->usize); free(c->csize); free(c->nvals);
  }
  free(w->cols);
  inode_free(&w->root);
  free(w->group_rows_list);
  free(w->group_bytes);
  skl_buf_free(&w->page);
  skl_buf_free(&w->zpage);
  skl_buf_free(&w->hdr);
  free(w);
}

void skl_parquet_writer_abort(skl_parquet_writer *w) {
  if (!w) return;
  skl_atomic_abort(&w->f);
  writer_free(w);
}

static skl_status put(skl_parquet_writer *w, const void *p, size_t n, skl_error *err) {
  if (n && fwrite(p, 1, n, w->f.f) != n) return skl_error_set(err, SKL_ERR_IO, "%s: write failed (disk full?)", w->f.path);
  w->pos += n;
  return SKL_OK;
}

skl_status skl_parquet_writer_open(skl_parquet_writer **out, const char *path, const skl_parquet_node *cols, int n,
                                   const skl_parquet_opts *opts, skl_error *err) {
  *out = NULL;
  skl_parquet_writer *w = calloc(1, sizeof *w);
  if (!w) return NOMEM(err);
  w->o = opts ? *opts : skl_parquet_opts_default();
  if (w->o.codec == SKL_PARQUET_ZSTD && (w->o.zstd_level < 1 || w->o.zstd_level > ZSTD_maxCLevel())) {
    int lv = w->o.zstd_level;
    free(w);
    return skl_error_set(err, SKL_ERR_RANGE, "parquet: zstd level %d out of range 1..%d", lv, ZSTD_maxCLevel());
  }
  if (!w->o.row_group_bytes) w->o.row_group_bytes = 64u << 20;
  /* the root is a struct whose fields are the columns; it adds no level */
  skl_parquet_node root = {"schema", SKL_PARQUET_STRUCT, false, cols, n};
  w->root.n = NULL;
  w->root.first_leaf = 0;
  w->root.kids = calloc((size_t)(n > 0 ? n : 1), sizeof *w->root.kids);
  if (!w->root.kids) { free(w); return NOMEM(err); }
  w->root.n_kids = n;
  char *p[32];
  skl_status st = n < 1 ? skl_error_set(err, SKL_ERR_INVALID, "parquet schema: no columns") : SKL_OK;
  for (int i = 0; i < n && !st; i++) st = build(w, &w->root.kids[i], &root.children[i], 0, 0, p, 0, err);
  w->root.n_leaves = w->n_cols;
  if (!st) st = skl_atomic_open(&w->f, path, err);
  if (!st) st = put(w, "PAR1", 4, err);
  if (st) {
    skl_parquet_writer_abort(w);
    return st;
  }
  *out = w;
  return SKL_OK;
}

uint64_t skl_parquet_rows(const skl_parquet_writer *w) { return w->rows; }

/* ---- shredding ------------------------------------------------------------ */

static skl_status level(column *c, int r, int d) {
  unsigned char rr = (unsigned char)r, dd = (unsigned char)d;
  if (skl_buf_append(&c->rep, &rr, 1) || skl_buf_append(&c->def, &dd, 1)) return SKL_ERR_NOMEM;
  c->n_levels++;
  return SKL_OK;
}

static skl_status emit_null(skl_parquet_writer *w, const inode *in, int r, int d, skl_error *err) {
  for (int i = in->first_leaf; i < in->first_leaf + in->n_leaves; i++)
    if (level(&w->cols[i], r, d)) return NOMEM(err);
  return SKL_OK;
}

static const char *json_kind(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "object";
  case JSON_ARRAY: return "array";
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "integer";
  case JSON_REAL: return "number";
  case JSON_TRUE: case JSON_FALSE: return "boolean";
  default: return "null";
  }
}

static skl_status shred(skl_parquet_writer *w, const inode *in, const json_t *v, int r, int d, skl_buf *where,
                        skl_error *err) {
  const skl_parquet_node *n = in->n;
  size_t mark = where->len;
  skl_status st = SKL_OK;
  if (!v || json_is_null(v)) {
    if (!n->optional)
      return skl_error_set(err, SKL_ERR_INVALID, "%s: required field missing or null", where->data ? where->data : n->name);
    return emit_null(w, in, r, d, err);
  }
  if (n->optional) d++;
  const char *want = NULL;
  switch (n->kind) {
  case SKL_PARQUET_STRING:
  case SKL_PARQUET_INT64:
  case SKL_PARQUET_DOUBLE:
  case SKL_PARQUET_BOOL: {
    column *c = &w->cols[in->first_leaf];
    unsigned char b8[8];
    if (n->kind == SKL_PARQUET_STRING) {
      if (!json_is_string(v)) { want = "a string"; break; }
      size_t len = json_string_length(v);
      if (len > 0x7fffffffu) return skl_error_set(err, SKL_ERR_RANGE, "%s: string of %zu bytes is too long", where->data, len);
      uint32_t l = (uint32_t)len;
      for (int k = 0; k < 4; k++) b8[k] = (unsigned char)(l >> (8 * k));
      if (skl_buf_append(&c->values, b8, 4) || skl_buf_append(&c->values, json_string_value(v), len)) return NOMEM(err);
    } else if (n->kind == SKL_PARQUET_INT64 || n->kind == SKL_PARQUET_DOUBLE) {
      uint64_t bits;
      if (n->kind == SKL_PARQUET_INT64) {
        if (!json_is_integer(v)) { want = "an integer"; break; }
        bits = (uint64_t)json_integer_value(v);
      } else {
        if (!json_is_number(v)) { want = "a number"; break; }
        double x = json_number_value(v);
        memcpy(&bits, &x, 8);
      }
      for (int k = 0; k < 8; k++) b8[k] = (unsigned char)(bits >> (8 * k));
      if (skl_buf_append(&c->values, b8, 8)) return NOMEM(err);
    } else {
      if (!json_is_boolean(v)) { want = "a boolean"; break; }
      if (c->n_bools % 8 == 0 && skl_buf_append(&c->values, "\0", 1)) return NOMEM(err);
      if (json_is_true(v)) c->values.data[c->values.len - 1] |= (char)(1u << (c->n_bools % 8));
      c->n_bools++;
    }
    if (level(c, r, d)) return NOMEM(err);
    return SKL_OK;
  }
  case SKL_PARQUET_STRUCT:
    if (!json_is_object(v)) { want = "an object"; break; }
    for (int i = 0; i < in->n_kids && !st; i++) {
      const char *name = in->kids[i].n->name;
      st = skl_buf_printf(where, "%s%s", where->len ? "." : "", name) ? NOMEM(err)
                                                                   : shred(w, &in->kids[i], json_object_get(v, name), r, d, where, err);
      where->len = mark;
      if (where->data) where->data[mark] = '\0';
    }
    return st;
  case SKL_PARQUET_LIST: {
    if (!json_is_array(v)) { want = "an array"; break; }
    size_t k = json_array_size(v);
    if (k == 0) return emit_null(w, &in->kids[0], r, d, err);
    for (size_t i = 0; i < k && !st; i++) {
      st = skl_buf_printf(where, "[%zu]", i) ? NOMEM(err)
                                             : shred(w, &in->kids[0], json_array_get(v, i), i ? in->rep_level : r, d + 1, where, err);
      where->len = mark;
      if (where->data) where->data[mark] = '\0';
    }
    return st;
  }
  }
  return skl_error_set(err, SKL_ERR_INVALID, "%s: expected %s, got %s", where->data ? where->data : n->name,
                       want ? want : "a value", json_kind(v));
}

/* ---- pages and row groups ------------------------------------------------- */

/* RLE runs only (a valid RLE/bit-packed hybrid), prefixed by its 4-byte length. */
static skl_status put_levels(skl_buf *page, const skl_buf *lv, int max_level) {
  int width = 0;
  while ((1 << width) <= max_level) width++;
  int vbytes = (width + 7) / 8;
  size_t at = page->len;
  if (skl_buf_append(page, "\0\0\0\0", 4)) return SKL_ERR_NOMEM;
  const unsigned char *l = (const unsigned char *)lv->data;
  for (size_t i = 0; i < lv->len;) {
    size_t j = i;
    while (j < lv->len && l[j] == l[i]) j++;
    unsigned char c[16];
    int n = 0;
    uint64_t h = (uint64_t)(j - i) << 1;
    do {
      c[n] = (unsigned char)(h & 0x7f);
      h >>= 7;
      if (h) c[n] |= 0x80;
      n++;
    } while (h);
    c[n++] = l[i]; /* levels fit one byte: vbytes == 1 */
    (void)vbytes;
    if (skl_buf_append(page, c, (size_t)n)) return SKL_ERR_NOMEM;
    i = j;
  }
  uint32_t len = (uint32_t)(page->len - at - 4);
  for (int k = 0; k < 4; k++) page->data[at + k] = (char)(len >> (8 * k));
  return SKL_OK;
}

static skl_status grow(int64_t **a, size_t n) {
  int64_t *p = realloc(*a, (n + 1) * sizeof *p);
  if (!p) return SKL_ERR_NOMEM;
  *a = p;
  return SKL_OK;
}

static skl_status flush_group(skl_parquet_writer *w, skl_error *err) {
  if (!w->group_rows) return SKL_OK;
  size_t g = w->n_groups;
  if (grow(&w->group_rows_list, g) || grow(&w->group_bytes, g)) return NOMEM(err);
  int64_t total = 0;
  for (int i = 0; i < w->n_cols; i++) {
    column *c = &w->cols[i];
    if (grow(&c->offset, g) || grow(&c->usize, g) || grow(&c->csize, g) || grow(&c->nvals, g)) return NOMEM(err);
    skl_buf_clear(&w->page);
    if ((c->max_rep && put_levels(&w->page, &c->rep, c->max_rep)) || (c->max_def && put_levels(&w->page, &c->def, c->max_def)) ||
        skl_buf_append(&w->page, c->values.data, c->values.len))
      return NOMEM(err);
    if (w->page.len > 0x7fffffffu) return skl_error_set(err, SKL_ERR_RANGE, "%s: a page of column %s exceeds 2 GiB; lower row_group_bytes", w->f.path, c->leaf->name);
    const char *body = w->page.data ? w->page.data : "";
    size_t blen = w->page.len;
    if (w->o.codec == SKL_PARQUET_ZSTD) {
      size_t bound = ZSTD_compressBound(w->page.len);
      skl_buf_clear(&w->zpage);
      if (skl_buf_reserve(&w->zpage, bound)) return NOMEM(err);
      size_t z = ZSTD_compress(w->zpage.data, bound, body, blen, w->o.zstd_level);
      if (ZSTD_isError(z)) return skl_error_set(err, SKL_ERR_INTERNAL, "parquet: zstd: %s", ZSTD_getErrorName(z));
      body = w->zpage.data;
      blen = z;
    }
    skl_buf_clear(&w->hdr);
    tw t = {.b = &w->hdr};
    tw_i32(&t, 1, PAGE_DATA);
    tw_i32(&t, 2, (int32_t)w->page.len);
    tw_i32(&t, 3, (int32_t)blen);
    tw_struct(&t, 5);
    tw_i32(&t, 1, (int32_t)c->n_levels);
    tw_i32(&t, 2, ENC_PLAIN);
    tw_i32(&t, 3, ENC_RLE);
    tw_i32(&t, 4, ENC_RLE);
    tw_pop(&t);
    tw_byte(&t, 0);
    if (t.bad) return NOMEM(err);
    c->offset[g] = (int64_t)w->pos;
    c->usize[g] = (int64_t)(w->hdr.len + w->page.len);
    c->csize[g] = (int64_t)(w->hdr.len + blen);
    c->nvals[g] = (int64_t)c->n_levels;
    total += c->usize[g];
    skl_status st = put(w, w->hdr.data, w->hdr.len, err);
    if (!st) st = put(w, body, blen, err);
    if (st) return st;
    skl_buf_clear(&c->rep);
    skl_buf_clear(&c->def);
    skl_buf_clear(&c->values);
    c->n_levels = c->n_bools = 0;
  }
  w->group_rows_list[g] = (int64_t)w->group_rows;
  w->group_bytes[g] = total;
  w->n_groups++;
  w->group_rows = 0;
  return SKL_OK;
}

skl_status skl_parquet_write_row(skl_parquet_writer *w, const json_t *row, skl_error *err) {
  if (!json_is_object(row))
    return skl_error_set(err, SKL_ERR_INVALID, "parquet row: expected an object, got %s", row ? json_kind(row) : "nothing");
  typedef struct { size_t rep, def, values; uint64_t n_levels, n_bools; unsigned char last; } mark;
  mark *m = malloc((size_t)w->n_cols * sizeof *m);
  if (!m) return NOMEM(err);
  for (int i = 0; i < w->n_cols; i++) {
    column *c = &w->cols[i];
    m[i] = (mark){c->rep.len, c->def.len, c->values.len, c->n_levels, c->n_bools,
                  c->values.len ? (unsigned char)c->values.data[c->values.len - 1] : 0};
  }
  skl_buf where = {0};
  skl_status st = SKL_OK;
  for (int i = 0; i < w->root.n_kids && !st; i++) {
    skl_buf_clear(&where);
    st = skl_buf_puts(&where, w->root.kids[i].n->name) ? NOMEM(err)
                                                       : shred(w, &w->root.kids[i], json_object_get(row, w->root.kids[i].n->name), 0, 0, &where, err);
  }
  skl_buf_free(&where);
  uint64_t buffered = 0;
  for (int i = 0; i < w->n_cols; i++) {
    column *c = &w->cols[i];
    if (st) { /* undo the half-shredded row */
      c->rep.len = m[i].rep;
      c->def.len = m[i].def;
      c->values.len = m[i].values;
      if (c->values.len) c->values.data[c->values.len - 1] = (char)m[i].last;
      c->n_levels = m[i].n_levels;
      c->n_bools = m[i].n_bools;
    }
    buffered += c->rep.len + c->def.len + c->values.len;
  }
  free(m);
  if (st) return st;
  w->rows++;
  w->group_rows++;
  return buffered >= w->o.row_group_bytes ? flush_group(w, err) : SKL_OK;
}

/* ---- footer --------------------------------------------------------------- */

static void schema_elems(tw *t, const inode *in) {
  const skl_parquet_node *n = in->n;
  static const int ptype[] = {PT_BYTE_ARRAY, PT_INT64, PT_DOUBLE, PT_BOOLEAN};
  tw_push(t);
  if (n->kind <= SKL_PARQUET_BOOL) tw_i32(t, 1, ptype[n->kind]);
  tw_i32(t, 3, n->optional ? REP_OPTIONAL : REP_REQUIRED);
  tw_str(t, 4, n->name);
  if (n->kind == SKL_PARQUET_STRUCT) tw_i32(t, 5, in->n_kids);
  if (n->kind == SKL_PARQUET_LIST) tw_i32(t, 5, 1);
  if (n->kind == SKL_PARQUET_STRING || n->kind == SKL_PARQUET_LIST) tw_i32(t, 6, n->kind == SKL_PARQUET_STRING ? CONV_UTF8 : CONV_LIST);
  if (n->kind == SKL_PARQUET_STRING || n->kind == SKL_PARQUET_LIST) {
    tw_struct(t, 10);                               /* LogicalType union */
    tw_struct(t, n->kind == SKL_PARQUET_STRING ? 1 : 3); /* STRING: StringType{} / LIST: ListType{} */
    tw_pop(t);
    tw_pop(t);
  }
  tw_pop(t);
  if (n->kind == SKL_PARQUET_LIST) { /* repeated group list { element } */
    tw_push(t);
    tw_i32(t, 3, REP_REPEATED);
    tw_str(t, 4, "list");
    tw_i32(t, 5, 1);
    tw_pop(t);
  }
  for (int i = 0; i < in->n_kids; i++) schema_elems(t, &in->kids[i]);
}

static int count_elems(const inode *in) {
  int k = 1 + (in->n->kind == SKL_PARQUET_LIST);
  for (int i = 0; i < in->n_kids; i++) k += count_elems(&in->kids[i]);
  return k;
}

skl_status skl_parquet_writer_close(skl_parquet_writer *w, skl_error *err) {
  skl_status st = flush_group(w, err);
  skl_buf meta = {0};
  tw t = {.b = &meta};
  if (!st) {
    static const int ptype[] = {PT_BYTE_ARRAY, PT_INT64, PT_DOUBLE, PT_BOOLEAN};
    tw_i32(&t, 1, 1); /* version */
    int n_elems = 1;
    for (int i = 0; i < w->root.n_kids; i++) n_elems += count_elems(&w->root.kids[i]);
    tw_list(&t, 2, TC_STRUCT, (size_t)n_elems);
    tw_push(&t);
    tw_str(&t, 4, "schema");
    tw_i32(&t, 5, w->root.n_kids);
    tw_pop(&t);
    for (int i = 0; i < w->root.n_kids; i++) schema_elems(&t, &w->root.kids[i]);
    tw_i64(&t, 3, (int64_t)w->rows);
    tw_list(&t, 4, TC_STRUCT, w->n_groups);
    for (size_t g = 0; g < w->n_groups; g++) {
      tw_push(&t);
      tw_list(&t, 1, TC_STRUCT, (size_t)w->n_cols);
      for (int i = 0; i < w->n_cols; i++) {
        const column *c = &w->cols[i];
        tw_push(&t);
        tw_i64(&t, 2, c->offset[g]); /* file_offset */
        tw_struct(&t, 3);            /* ColumnMetaData */
        tw_i32(&t, 1, ptype[c->leaf->kind]);
        tw_list(&t, 2, TC_I32, 2);
        tw_varint(&t, zigzag(ENC_PLAIN));
        tw_varint(&t, zigzag(ENC_RLE));
        tw_list(&t, 3, TC_BINARY, (size_t)c->depth);
        for (int k = 0; k < c->depth; k++) tw_bin_raw(&t, c->path[k], strlen(c->path[k]));
        tw_i32(&t, 4, w->o.codec == SKL_PARQUET_ZSTD ? CODEC_ZSTD : CODEC_UNCOMPRESSED);
        tw_i64(&t, 5, c->nvals[g]);
        tw_i64(&t, 6, c->usize[g]);
        tw_i64(&t, 7, c->csize[g]);
        tw_i64(&t, 9, c->offset[g]);
        tw_pop(&t);
        tw_pop(&t);
      }
      tw_i64(&t, 2, w->group_bytes[g]);
      tw_i64(&t, 3, w->group_rows_list[g]);
      tw_pop(&t);
    }
    tw_str(&t, 6, "skillrl parquet writer");
    tw_byte(&t, 0);
    if (t.bad) st = NOMEM(err);
  }
  if (!st) st = put(w, meta.data, meta.len, err);
  if (!st) {
    unsigned char tail[8];
    uint32_t n = (uint32_t)meta.len;
    for (int k = 0; k < 4; k++) tail[k] = (unsigned char)(n >> (8 * k));
    memcpy(tail + 4, "PAR1", 4);
    st = put(w, tail, 8, err);
  }
  skl_buf_free(&meta);
  if (!st) st = skl_atomic_commit(&w->f, err);
  if (st) skl_atomic_abort(&w->f);
  writer_free(w);
  return st;
}
