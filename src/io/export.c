/* skl export: dataset records -> trainer rows (JSONL or Parquet), built in a
 * temporary folder and renamed into place. Not a schema check beyond
 * io/record.h's, and not a reward function. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/fs.h"
#include "io/export.h"
#include "io/jsonl.h"
#include "io/manifest.h"
#include "io/record.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "export: out of memory")

static const char *const format_names[SKL_EXPORT_FORMAT_COUNT] = {"jsonl", "parquet"};
static const char *const trainer_names[SKL_EXPORT_TRAINER_COUNT] = {"all", "verl", "openrlhf", "trl"};

const char *skl_export_format_name(skl_export_format f) {
  return (unsigned)f < SKL_EXPORT_FORMAT_COUNT ? format_names[f] : "unknown";
}
const char *skl_export_trainer_name(skl_export_trainer t) {
  return (unsigned)t < SKL_EXPORT_TRAINER_COUNT ? trainer_names[t] : "unknown";
}

skl_status skl_export_format_parse(const char *name, skl_export_format *out, skl_error *err) {
  for (int i = 0; i < SKL_EXPORT_FORMAT_COUNT; i++)
    if (name && !strcmp(name, format_names[i])) { *out = (skl_export_format)i; return SKL_OK; }
  return skl_error_set(err, SKL_ERR_INVALID, "unknown export format '%s': use jsonl or parquet", name ? name : "(null)");
}

skl_status skl_export_trainer_parse(const char *name, skl_export_trainer *out, skl_error *err) {
  for (int i = 0; i < SKL_EXPORT_TRAINER_COUNT; i++)
    if (name && !strcmp(name, trainer_names[i])) { *out = (skl_export_trainer)i; return SKL_OK; }
  return skl_error_set(err, SKL_ERR_INVALID, "unknown trainer '%s': use verl, openrlhf, trl or all", name ? name : "(null)");
}

void skl_export_report_free(skl_export_report *rep) {
  if (!rep) return;
  for (size_t i = 0; i < rep->n_files; i++) {
    free(rep->files[i].path);
    free(rep->files[i].skill);
    free(rep->files[i].split);
  }
  free(rep->files);
  memset(rep, 0, sizeof *rep);
}

/* ---- the rows ------------------------------------------------------------- */

static const skl_parquet_node msg_fields[] = {{"role", SKL_PARQUET_STRING, false, NULL, 0},
                                              {"content", SKL_PARQUET_STRING, false, NULL, 0}};
static const skl_parquet_node msg_elem[] = {{"element", SKL_PARQUET_STRUCT, false, msg_fields, 2}};
static const skl_parquet_node rm_fields[] = {{"style", SKL_PARQUET_STRING, false, NULL, 0},
                                             {"ground_truth", SKL_PARQUET_STRING, false, NULL, 0}};
static const skl_parquet_node info_fields[] = {
    {"index", SKL_PARQUET_INT64, false, NULL, 0},       {"id", SKL_PARQUET_STRING, false, NULL, 0},
    {"skill", SKL_PARQUET_STRING, false, NULL, 0},      {"split", SKL_PARQUET_STRING, false, NULL, 0},
    {"answer_type", SKL_PARQUET_STRING, false, NULL, 0}, {"n_tokens", SKL_PARQUET_INT64, false, NULL, 0},
    {"template", SKL_PARQUET_STRING, false, NULL, 0},
    {"seed", SKL_PARQUET_INT64, false, NULL, 0},        {"difficulty", SKL_PARQUET_STRING, false, NULL, 0},
    {"blueprint", SKL_PARQUET_STRING, false, NULL, 0}};

/* Every column; which trainers want it (bit per skl_export_trainer). */
#define T_ALL 0xfu
static const struct {
  skl_parquet_node node;
  unsigned trainers;
} columns[] = {
    {{"data_source", SKL_PARQUET_STRING, false, NULL, 0}, T_ALL},
    {{"prompt", SKL_PARQUET_LIST, false, msg_elem, 1}, T_ALL},
    {{"ability", SKL_PARQUET_STRING, false, NULL, 0}, T_ALL},
    {{"reward_model", SKL_PARQUET_STRUCT, false, rm_fields, 2}, T_ALL},
    {{"extra_info", SKL_PARQUET_STRUCT, false, info_fields, 10}, T_ALL},
    {{"answer_type", SKL_PARQUET_STRING, false, NULL, 0}, T_ALL},
    {{"ground_truth", SKL_PARQUET_STRING, false, NULL, 0}, T_ALL},
    {{"datasource", SKL_PARQUET_STRING, false, NULL, 0}, 1u << SKL_EXPORT_ALL | 1u << SKL_EXPORT_OPENRLHF},
    {{"label", SKL_PARQUET_STRING, false, NULL, 0}, 1u << SKL_EXPORT_ALL | 1u << SKL_EXPORT_OPENRLHF},
    {{"solution", SKL_PARQUET_STRING, false, NULL, 0}, 1u << SKL_EXPORT_ALL | 1u << SKL_EXPORT_TRL},
};
#define N_COLUMNS (int)(sizeof columns / sizeof columns[0])

/* JSON text of v (compact, keys in file order). NULL on OOM. */
static json_t *json_text(const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  json_t *t = s ? json_string(s) : NULL;
  free(s);
  return t;
}

/* One record (already validated) -> the trainer row. */
static skl_status make_row(const json_t *rec, uint64_t index, unsigned want, json_t **out, skl_error *err) {
  *out = NULL;
  const json_t *ei = json_object_get(rec, "extra_info");
  const char *ds = json_string_value(json_object_get(rec, "data_source"));
  const char *gold = json_string_value(json_object_get(rec, "answer"));
  const char *atype = json_string_value(json_object_get(rec, "answer_type"));
  const json_t *diff = json_object_get(ei, "difficulty");
  const char *tmpl = json_string_value(json_object_get(ei, "template")); /* synth template.format */
  json_t *prompt = json_array();
  const json_t *msgs = json_object_get(rec, "prompt");
  size_t i;
  const json_t *m;
  json_array_foreach(msgs, i, m) {
    json_array_append_new(prompt, json_pack("{s:O, s:O}", "role", json_object_get(m, "role"), "content",
                                            json_object_get(m, "content")));
  }
  json_t *label = json_pack("{s:s, s:s}", "answer_type", atype, "ground_truth", gold);
  json_t *row = json_pack(
      "{s:s, s:o, s:O, s:{s:O, s:s}, s:{s:I, s:O, s:O, s:O, s:s, s:O, s:s, s:O, s:o, s:o}, s:s, s:s}", "data_source", ds,
      "prompt", prompt, "ability", json_object_get(rec, "ability"), "reward_model", "style",
      json_object_get(json_object_get(rec, "reward_model"), "style"), "ground_truth", gold, "extra_info", "index",
      (json_int_t)index, "id", json_object_get(rec, "id"), "skill", json_object_get(rec, "skill"), "split",
      json_object_get(rec, "split"), "answer_type", atype, "n_tokens", json_object_get(ei, "n_tokens"), "template",
      tmpl ? tmpl : "none", "seed",
      json_object_get(ei, "seed"), "difficulty", json_is_string(diff) ? json_incref((json_t *)diff) : json_text(diff),
      "blueprint", json_text(json_object_get(ei, "blueprint")), "answer_type", atype, "ground_truth", gold);
  if (!row || !label) {
    json_decref(row);
    json_decref(label);
    return NOMEM(err);
  }
  int bad = 0;
  if (want & (1u << 7)) bad |= json_object_set_new(row, "datasource", json_string(ds));
  if (want & (1u << 8)) bad |= json_object_set_new(row, "label", json_text(label));
  if (want & (1u << 9)) bad |= json_object_set_new(row, "solution", json_string(gold));
  json_decref(label);
  if (bad) {
    json_decref(row);
    return NOMEM(err);
  }
  *out = row;
  return SKL_OK;
}

/* ---- folders -------------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f) {
  (void)sb; (void)flag; (void)f;
  return remove(p);
}

static void rm_rf(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void fsync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* The folder holding path (malloc'd). */
static char *parent_of(const char *path) {
  char *p = strdup(path);
  if (!p) return NULL;
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
  char *s = strrchr(p, '/');
  if (!s) strcpy(p, ".");
  else if (s == p) p[1] = '\0';
  else *s = '\0';
  return p;
}

/* realpath of path, or of its nearest existing ancestor. @return out or NULL */
static char *nearest_real(const char *path, char out[PATH_MAX]) {
  char *p = strdup(path);
  char *r = NULL;
  for (int i = 0; p && i < 64 && !(r = realpath(p, out)); i++) {
    char *up = parent_of(p);
    bool same = !up || !strcmp(up, p);
    free(p);
    p = up;
    if (same) break;
  }
  free(p);
  return r;
}

/* A skill or split name usable as a file name. */
static bool plain_name(const char *s) {
  if (!s || !*s || strlen(s) > 100) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
      return false;
  return true;
}

/* true when a is b or lies inside b (both resolved paths). */
static bool under(const char *a, const char *b) {
  size_t n = strlen(b);
  if (n == 1 && b[0] == '/') return true;
  return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

/* ---- one output file ------------------------------------------------------ */

typedef struct {
  skl_export_format format;
  skl_jsonl_writer *jw;
  skl_parquet_writer *pw;
} sink;

static skl_status sink_open(sink *s, const skl_export_opts *o, const char *path, const skl_parquet_node *cols, int n,
                            skl_error *err) {
  s->format = o->format;
  if (o->format == SKL_EXPORT_JSONL) {
    skl_jsonl_writer_opts wo = skl_jsonl_writer_opts_default();
    wo.zstd_level = 0; /* verl and OpenRLHF read plain .jsonl only */
    return skl_jsonl_writer_open(&s->jw, path, &wo, err);
  }
  skl_parquet_opts po = skl_parquet_opts_default();
  po.codec = o->codec;
  po.zstd_level = o->zstd_level ? o->zstd_level : 3;
  return skl_parquet_writer_open(&s->pw, path, cols, n, &po, err);
}

static skl_status sink_write(sink *s, const json_t *row, skl_error *err) {
  return s->format == SKL_EXPORT_JSONL ? skl_jsonl_write(s->jw, row, err) : skl_parquet_write_row(s->pw, row, err);
}

static skl_status sink_close(sink *s, skl_error *err) {
  skl_status st = s->format == SKL_EXPORT_JSONL ? (s->jw ? skl_jsonl_writer_close(s->jw, NULL, err) : SKL_OK)
                                                : (s->pw ? skl_parquet_writer_close(s->pw, err) : SKL_OK);
  s->jw = NULL;
  s->pw = NULL;
  return st;
}

static void sink_abort(sink *s) {
  skl_jsonl_writer_abort(s->jw);
  skl_parquet_writer_abort(s->pw);
  s->jw = NULL;
  s->pw = NULL;
}

/* Convert the shards idx[0..n) of m (one skill and split, in manifest order)
 * into tmp/<skill>/<split>.EXT. */
static skl_status export_group(const skl_export_opts *o, const skl_manifest *m, const size_t *idx, size_t n,
                               const char *tmp, const skl_parquet_node *cols, int ncols, unsigned want,
                               skl_export_report *rep, skl_error *err) {
  const skl_manifest_shard *first = &m->shards[idx[0]];
  char rel[1024], path[PATH_MAX + 1100];
  snprintf(rel, sizeof rel, "%s/%s.%s", first->skill, first->split, o->format == SKL_EXPORT_JSONL ? "jsonl" : "parquet");
  snprintf(path, sizeof path, "%s/%s", tmp, first->skill);
  skl_status st = skl_fs_mkdirs(path, err);
  if (st) return st;
  snprintf(path, sizeof path, "%s/%s", tmp, rel);
  sink s = {0};
  st = sink_open(&s, o, path, cols, ncols, err);
  uint64_t rows = 0;
  for (size_t j = 0; j < n && !st; j++) {
    char *shard = skl_path_join(o->in_dir, m->shards[idx[j]].path);
    if (!shard) { st = NOMEM(err); break; }
    skl_jsonl_reader *r = NULL;
    st = skl_jsonl_open(&r, shard, err);
    json_t *rec = NULL;
    while (!st && !(st = skl_jsonl_next(r, &rec, err)) && rec) {
      skl_error why = {0};
      st = skl_record_validate(rec, &why);
      if (st)
        skl_error_set(err, st, "%s:%zu: %s; the shard does not hold skillrl records: regenerate the dataset with skillrl synth",
                      shard, skl_jsonl_lineno(r), why.msg);
      json_t *row = NULL;
      if (!st) st = make_row(rec, rows, want, &row, err);
      if (!st) {
        st = sink_write(&s, row, err);
        if (st) skl_error_prefix(err, "%s:%zu", shard, skl_jsonl_lineno(r));
      }
      json_decref(row);
      json_decref(rec);
      rec = NULL;
      rows++;
    }
    skl_jsonl_close(r);
    free(shard);
  }
  if (!st) st = sink_close(&s, err);
  else sink_abort(&s);
  if (st) return st;
  skl_export_file *f = realloc(rep->files, (rep->n_files + 1) * sizeof *f);
  if (!f) return NOMEM(err);
  rep->files = f;
  f = &rep->files[rep->n_files++];
  f->path = strdup(rel);
  f->skill = strdup(first->skill);
  f->split = strdup(first->split);
  f->rows = rows;
  rep->rows += rows;
  if (!f->path || !f->skill || !f->split) return NOMEM(err);
  return SKL_OK;
}

static skl_status write_summary(const skl_export_opts *o, const skl_export_report *rep, const char *tmp,
                                const skl_parquet_node *cols, int ncols, skl_error *err) {
  json_t *files = json_array(), *names = json_array();
  for (size_t i = 0; i < rep->n_files; i++)
    json_array_append_new(files, json_pack("{s:s, s:s, s:s, s:I}", "path", rep->files[i].path, "skill",
                                           rep->files[i].skill, "split", rep->files[i].split, "rows",
                                           (json_int_t)rep->files[i].rows));
  for (int i = 0; i < ncols; i++) json_array_append_new(names, json_string(cols[i].name));
  json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "format", "skillrl-export", "version", 1,
                        "source", o->in_dir, "file_format", skl_export_format_name(o->format), "trainer",
                        skl_export_trainer_name(o->trainer), "parquet_codec",
                        o->format != SKL_EXPORT_PARQUET ? "none" : o->codec == SKL_PARQUET_ZSTD ? "zstd" : "uncompressed",
                        "columns", names, "files", files, "rows", (json_int_t)rep->rows);
  char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  json_decref(j);
  if (!s) return NOMEM(err);
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/export.json", tmp);
  size_t n = strlen(s);
  s[n] = '\0';
  skl_status st = skl_fs_write_atomic(path, s, n, err);
  free(s);
  return st;
}

skl_status skl_export_run(const skl_export_opts *opts, skl_export_report *rep, skl_error *err) {
  memset(rep, 0, sizeof *rep);
  if (!opts->in_dir || !opts->out_dir || !opts->out_dir[0])
    return skl_error_set(err, SKL_ERR_INVALID, "export: a dataset folder and an output folder (-o) are required");
  /* "out/" names the folder out: the temporary folder is "out.tmp.PID", beside it */
  char outbuf[PATH_MAX];
  snprintf(outbuf, sizeof outbuf, "%s", opts->out_dir);
  for (size_t n = strlen(outbuf); n > 1 && outbuf[n - 1] == '/';) outbuf[--n] = '\0';
  skl_export_opts oo = *opts;
  oo.out_dir = outbuf;
  const skl_export_opts *o = &oo;
  if ((unsigned)o->format >= SKL_EXPORT_FORMAT_COUNT || (unsigned)o->trainer >= SKL_EXPORT_TRAINER_COUNT)
    return skl_error_set(err, SKL_ERR_INVALID, "export: unknown format or trainer");
  char rin[PATH_MAX], rout[PATH_MAX];
  bool out_exists = skl_fs_exists(o->out_dir);
  if (realpath(o->in_dir, rin) && nearest_real(o->out_dir, rout)) {
    if (out_exists && under(rin, rout))
      return skl_error_set(err, SKL_ERR_STATE, "%s: the output folder holds the dataset %s itself; choose another -o",
                           o->out_dir, o->in_dir);
    if (under(rout, rin))
      return skl_error_set(err, SKL_ERR_STATE,
                           "%s is inside the dataset folder %s, whose manifest check would then find the exported "
                           ".jsonl files as extra shards; choose -o outside it",
                           o->out_dir, o->in_dir);
  }
  if (out_exists && !o->overwrite)
    return skl_error_set(err, SKL_ERR_STATE, "%s already exists: pass --overwrite to replace it, or choose another -o",
                         o->out_dir);
  /* the dataset: manifest present and every shard's sha256 as recorded */
  skl_status st = skl_manifest_verify(o->in_dir, err);
  if (st == SKL_ERR_NOTFOUND && !skl_fs_exists(o->in_dir))
    return skl_error_set(err, st, "%s: no such folder; pass the folder skillrl synth -o wrote", o->in_dir);
  if (st) return st;
  skl_manifest m;
  st = skl_manifest_read(&m, o->in_dir, err);
  if (st) { skl_manifest_free(&m); return st; }
  if (!m.n_shards) {
    skl_manifest_free(&m);
    return skl_error_set(err, SKL_ERR_INVALID, "%s/manifest.json lists no shards: nothing to export", o->in_dir);
  }

  skl_parquet_node cols[N_COLUMNS];
  int ncols = 0;
  unsigned want = 0;
  for (int i = 0; i < N_COLUMNS; i++)
    if (columns[i].trainers & (1u << o->trainer)) { cols[ncols++] = columns[i].node; want |= 1u << i; }

  char tmp[PATH_MAX + 32], old[PATH_MAX + 32];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o->out_dir, (long)getpid());
  snprintf(old, sizeof old, "%s.old.%ld", o->out_dir, (long)getpid());
  rm_rf(tmp);
  st = skl_fs_mkdirs(tmp, err);
  /* one output file per (skill, split), its shards in manifest order; the
   * names become file names, so they must be plain */
  size_t *idx = calloc(m.n_shards, sizeof *idx);
  bool *done = calloc(m.n_shards, sizeof *done);
  if (!st && (!idx || !done)) st = NOMEM(err);
  for (size_t a = 0; a < m.n_shards && !st; a++) {
    const skl_manifest_shard *sa = &m.shards[a];
    if (!plain_name(sa->skill) || !plain_name(sa->split)) {
      st = skl_error_set(err, SKL_ERR_INVALID,
                         "%s/manifest.json: shard %s: skill '%s' / split '%s' must be plain names (letters, digits, _ "
                         "and -): fix the manifest or regenerate the dataset",
                         o->in_dir, sa->path, sa->skill, sa->split);
      break;
    }
    if (done[a]) continue;
    size_t n = 0;
    for (size_t b = a; b < m.n_shards; b++)
      if (!done[b] && !strcmp(m.shards[b].skill, sa->skill) && !strcmp(m.shards[b].split, sa->split)) {
        done[b] = true;
        idx[n++] = b;
      }
    st = export_group(o, &m, idx, n, tmp, cols, ncols, want, rep, err);
  }
  free(idx);
  free(done);
  if (!st) st = write_summary(o, rep, tmp, cols, ncols, err);
  skl_manifest_free(&m);
  if (!st && out_exists && rename(o->out_dir, old))
    st = skl_error_set(err, SKL_ERR_IO, "%s: cannot move the old export aside: %s", o->out_dir, strerror(errno));
  if (!st && rename(tmp, o->out_dir)) {
    st = skl_error_set(err, SKL_ERR_IO, "%s: cannot rename %s into place: %s", o->out_dir, tmp, strerror(errno));
    if (out_exists && rename(old, o->out_dir)) { /* the old export stays under old */ }
  }
  if (st) {
    rm_rf(tmp);
    skl_export_report_free(rep);
    return st;
  }
  if (out_exists) rm_rf(old);
  char *parent = parent_of(o->out_dir);
  if (parent) fsync_dir(parent);
  free(parent);
  return SKL_OK;
}
