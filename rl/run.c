/* rl run: checkpoint folders, trainer state, metrics file.
 * Not the model's file format (model/checkpoint.h). */
#define _GNU_SOURCE
#include "rl/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "model/checkpoint.h"
#include "sys/plot.h"

static skl_status rm_tree(const char *path) {
  DIR *d = opendir(path);
  if (!d) return unlink(path) == 0 || errno == ENOENT ? SKL_OK : SKL_ERR_IO;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *p = skl_path_join(path, e->d_name);
    if (p) { rm_tree(p); free(p); }
  }
  closedir(d);
  return rmdir(path) == 0 ? SKL_OK : SKL_ERR_IO;
}

skl_status rl_state_write(const char *dir, const rl_run_state *st, skl_error *err) {
  json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I}", "phase", st->phase, "step", (json_int_t)st->step,
                        "epoch", (json_int_t)st->epoch, "cursor", (json_int_t)st->cursor, "bad_streak",
                        (json_int_t)st->bad_streak, "bad_total", (json_int_t)st->bad_total, "seed", "",
                        "samples_seen", (json_int_t)st->samples_seen, "stage_step", (json_int_t)st->stage_step,
                        "lookup_step", (json_int_t)st->lookup_step);
  if (!j) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)st->seed); /* u64 as text: JSON ints are signed */
  json_object_set_new(j, "seed", json_string(seed));
  char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(j);
  char *path = skl_path_join(dir, "trainer_state.json");
  skl_status s = txt && path ? skl_fs_write_atomic(path, txt, strlen(txt), err)
                             : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  free(txt);
  free(path);
  return s;
}

skl_status rl_state_read(const char *dir, rl_run_state *st, skl_error *err) {
  memset(st, 0, sizeof *st);
  char *path = skl_path_join(dir, "trainer_state.json");
  if (!path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  skl_status s = SKL_OK;
  if (!j) {
    s = skl_error_set(err, skl_fs_exists(path) ? SKL_ERR_PARSE : SKL_ERR_NOTFOUND, "%s:%d: %s", path, je.line, je.text);
  } else {
    const char *ph = json_string_value(json_object_get(j, "phase"));
    const char *seed = json_string_value(json_object_get(j, "seed"));
    json_t *stp = json_object_get(j, "step"), *ep = json_object_get(j, "epoch"), *cur = json_object_get(j, "cursor");
    if (!ph || !seed || !json_is_integer(stp) || !json_is_integer(ep) || !json_is_integer(cur)) {
      s = skl_error_set(err, SKL_ERR_INVALID, "%s: needs phase, seed, step, epoch and cursor; the checkpoint is "
                        "damaged: resume from an earlier one or start over", path);
    } else {
      snprintf(st->phase, sizeof st->phase, "%s", ph);
      st->seed = strtoull(seed, NULL, 10);
      st->step = json_integer_value(stp);
      st->epoch = json_integer_value(ep);
      st->cursor = json_integer_value(cur);
      st->bad_streak = json_integer_value(json_object_get(j, "bad_streak"));
      st->bad_total = json_integer_value(json_object_get(j, "bad_total"));
      st->samples_seen = json_integer_value(json_object_get(j, "samples_seen"));
      st->stage_step = json_integer_value(json_object_get(j, "stage_step")); /* absent: 0 */
      json_t *ls = json_object_get(j, "lookup_step"); /* absent (older runs): no lookup stage */
      st->lookup_step = json_is_integer(ls) ? json_integer_value(ls) : -1;
      /* counters index the data order and the step schedule: a negative one
       * (a damaged or hand-edited file) would index before the arrays */
      if (st->step < 0 || st->epoch < 0 || st->cursor < 0 || st->bad_streak < 0 || st->bad_total < 0 ||
          st->samples_seen < 0 || st->epoch > INT32_MAX)
        s = skl_error_set(err, SKL_ERR_RANGE,
                          "%s: step, epoch, cursor and the counters must be non-negative (epoch < 2^31); the "
                          "checkpoint is damaged: resume from an earlier one or start over", path);
    }
    json_decref(j);
  }
  free(path);
  return s;
}

/* Files of a checkpoint folder that checksums.json covers (those present). */
static const char *const ckpt_files[] = {"config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors",
                                         "trainer_state.json"};
#define N_CKPT_FILES (int)(sizeof ckpt_files / sizeof ckpt_files[0])

static skl_status sha256_file(const char *path, char hex[65], skl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return skl_error_set(err, errno == ENOENT ? SKL_ERR_NOTFOUND : SKL_ERR_IO, "%s: cannot open: %s", path,
                               strerror(errno));
  enum { CHUNK = 1 << 20 };
  unsigned char *buf = malloc(CHUNK);
  if (!buf) { fclose(f); return skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); }
  skl_sha256 c;
  skl_sha256_init(&c);
  size_t n;
  while ((n = fread(buf, 1, CHUNK, f)) > 0) skl_sha256_update(&c, buf, n);
  int bad = ferror(f);
  fclose(f);
  free(buf);
  if (bad) return skl_error_set(err, SKL_ERR_IO, "%s: read failed", path);
  uint8_t d[32];
  skl_sha256_final(&c, d);
  skl_sha256_hex(d, hex);
  return SKL_OK;
}

/* DIR/checksums.json: {"sha256": {file: hex}} for the checkpoint's files,
 * written last, so a damaged file (a flipped byte, a truncation the rename
 * did not cover) is found before resuming from it. */
static skl_status write_checksums(const char *dir, skl_error *err) {
  json_t *sums = json_object(), *j = json_object();
  skl_status s = sums && j ? SKL_OK : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (int i = 0; i < N_CKPT_FILES && !s; i++) {
    char *p = skl_path_join(dir, ckpt_files[i]);
    char hex[65];
    if (!p) { s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
    if (skl_fs_exists(p) && !(s = sha256_file(p, hex, err))) json_object_set_new(sums, ckpt_files[i], json_string(hex));
    free(p);
  }
  char *txt = NULL, *path = NULL;
  if (!s) {
    json_object_set(j, "sha256", sums);
    txt = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    path = skl_path_join(dir, "checksums.json");
    s = txt && path ? skl_fs_write_atomic(path, txt, strlen(txt), err) : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  free(txt);
  free(path);
  json_decref(sums);
  json_decref(j);
  return s;
}

skl_status rl_ckpt_verify(const char *dir, skl_error *err) {
  char *path = skl_path_join(dir, "checksums.json");
  if (!path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  skl_status s = SKL_OK;
  if (!skl_fs_exists(path)) { free(path); return SKL_OK; } /* made before checksums were kept */
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  json_t *sums = json_object_get(j, "sha256");
  if (!json_is_object(sums))
    s = skl_error_set(err, SKL_ERR_INVALID, "%s: unreadable (%s); the checkpoint is damaged", path,
                      j ? "no 'sha256' object" : je.text);
  const char *name;
  json_t *v;
  if (!s) json_object_foreach(sums, name, v) {
    char *fp = strchr(name, '/') ? NULL : skl_path_join(dir, name);
    char hex[65];
    if (!fp || !json_is_string(v)) {
      s = skl_error_set(err, SKL_ERR_INVALID, "%s: entry '%s' is not a file of this folder with a hex digest", path,
                        name);
    } else if ((s = sha256_file(fp, hex, err))) {
      skl_error_prefix(err, "checkpoint %s is damaged", dir);
    } else if (strcmp(hex, json_string_value(v))) {
      s = skl_error_set(err, SKL_ERR_INVALID,
                        "%s: sha256 differs from %s (the file was modified, truncated or corrupted on disk)", fp,
                        path);
    }
    free(fp);
    if (s) break;
  }
  json_decref(j);
  free(path);
  return s;
}

static int fsync_path(const char *p) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

/* step-N folders of a phase, newest first, into names (malloc'd). */
/* Remove temp folders left by a process killed mid-save (any pid but ours). */
static void remove_stale_tmp(const char *ckdir) {
  DIR *d = opendir(ckdir);
  if (!d) return;
  struct dirent *e;
  char mine[32];
  snprintf(mine, sizeof mine, ".tmp.%ld", (long)getpid());
  while ((e = readdir(d))) {
    const char *t = strstr(e->d_name, ".tmp.");
    if (!t || !strcmp(t, mine)) continue;
    char *p = skl_path_join(ckdir, e->d_name);
    if (p) { rm_tree(p); free(p); }
  }
  closedir(d);
}

static int list_ckpts(const char *ckdir, char ***names, int64_t **steps) {
  *names = NULL;
  *steps = NULL;
  DIR *d = opendir(ckdir);
  if (!d) return 0;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *nm = e->d_name;
    if (strncmp(nm, "step-", 5) || strchr(nm, '.')) continue; /* temp folders carry ".tmp" */
    const char *num = nm + 5;
    char *end;
    long long v = strtoll(num, &end, 10);
    if (*end) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      *names = realloc(*names, sizeof **names * (size_t)cap);
      *steps = realloc(*steps, sizeof **steps * (size_t)cap);
    }
    (*names)[n] = strdup(nm);
    (*steps)[n] = v;
    n++;
  }
  closedir(d);
  for (int i = 1; i < n; i++) /* insertion sort, newest first */
    for (int k = i; k > 0 && (*steps)[k] > (*steps)[k - 1]; k--) {
      int64_t ts = (*steps)[k]; (*steps)[k] = (*steps)[k - 1]; (*steps)[k - 1] = ts;
      char *tn = (*names)[k]; (*names)[k] = (*names)[k - 1]; (*names)[k - 1] = tn;
    }
  return n;
}

skl_status rl_ckpt_save(const char *run_dir, const skl_model *m, const skl_adamw *o, const rl_run_state *st,
                        const char *tokenizer_json, bool bf16, int keep, skl_error *err) {
  char *ckdir = skl_path_join(run_dir, "ckpt");
  if (!ckdir) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  skl_status s = skl_fs_mkdirs(ckdir, err);
  char name[96], tmpname[128];
  snprintf(name, sizeof name, "step-%lld", (long long)st->step);
  if (!s) remove_stale_tmp(ckdir);
  snprintf(tmpname, sizeof tmpname, "%s.tmp.%ld", name, (long)getpid());
  char *fin = skl_path_join(ckdir, name), *tmp = skl_path_join(ckdir, tmpname);
  if (!s && (!fin || !tmp)) s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!s) { rm_tree(tmp); s = skl_ckpt_save_model(m, tmp, bf16 ? SKL_DTYPE_BF16 : SKL_DTYPE_F32, tokenizer_json, err); }
  if (!s && o) s = skl_ckpt_save_optim(o, m, tmp, err);
  if (!s) s = rl_state_write(tmp, st, err);
  if (!s) s = write_checksums(tmp, err);
  if (!s) {
    fsync_path(tmp);
    rm_tree(fin); /* a re-save of the same step replaces it */
    if (rename(tmp, fin) != 0) s = skl_error_set(err, SKL_ERR_IO, "%s: rename of checkpoint failed: %s", fin, strerror(errno));
    else fsync_path(ckdir);
  }
  if (s && tmp) rm_tree(tmp);
  if (!s && keep > 0) {
    char **names;
    int64_t *steps;
    int n = list_ckpts(ckdir, &names, &steps);
    for (int i = 0; i < n; i++) {
      if (i >= keep) {
        char *p = skl_path_join(ckdir, names[i]);
        if (p) { rm_tree(p); free(p); }
      }
      free(names[i]);
    }
    free(names);
    free(steps);
  }
  free(fin);
  free(tmp);
  free(ckdir);
  return s;
}

skl_status rl_run_claim(const char *run_dir, bool resume, bool overwrite, int *lock_fd, skl_error *err) {
  *lock_fd = -1;
  char *ckdir = skl_path_join(run_dir, "ckpt"), *fin = skl_path_join(run_dir, "final"),
       *lpath = skl_path_join(run_dir, ".lock");
  skl_status s = ckdir && fin && lpath ? SKL_OK : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  char any[4096];
  bool has_ckpt = !s && rl_ckpt_find(run_dir, NULL, false, any, sizeof any, NULL, 0, NULL) == SKL_OK;
  bool has_final = !s && skl_fs_exists(fin);
  if (!s && !resume && !overwrite && (has_ckpt || has_final))
    s = skl_error_set(err, SKL_ERR_STATE,
                      "%s already holds a run (%s); continue it with --resume, replace it with --overwrite "
                      "(removes its ckpt/ and final/), or choose another out folder",
                      run_dir, has_final ? "a final model in final/" : "checkpoints in ckpt/");
  if (!s) s = skl_fs_mkdirs(run_dir, err);
  int fd = -1;
  if (!s && (fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
    s = skl_error_set(err, SKL_ERR_IO, "%s: cannot open: %s", lpath, strerror(errno));
  if (!s && flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    s = e == EWOULDBLOCK
            ? skl_error_set(err, SKL_ERR_STATE,
                            "%s is being written by another skillrl process (pid %s, holding %s); wait for it to "
                            "end or choose another out folder",
                            run_dir, *pid ? pid : "?", lpath)
            : skl_error_set(err, SKL_ERR_IO, "%s: cannot lock: %s", lpath, strerror(e));
  }
  if (!s) {
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
      s = skl_error_set(err, SKL_ERR_IO, "%s: cannot write: %s", lpath, strerror(errno));
  }
  /* --overwrite: the old run's checkpoints and final model go, under the lock
   * (metrics.jsonl loses this phase's lines in rl_metrics_open) */
  if (!s && !resume && overwrite && ((has_ckpt && rm_tree(ckdir)) || (has_final && rm_tree(fin))))
    s = skl_error_set(err, SKL_ERR_IO, "%s: --overwrite could not remove the old %s: %s", run_dir,
                      skl_fs_exists(fin) ? "final/" : "ckpt/", strerror(errno));
  if (s && fd >= 0) close(fd);
  else *lock_fd = fd;
  free(ckdir);
  free(fin);
  free(lpath);
  return s;
}

void rl_run_release(int lock_fd) {
  if (lock_fd >= 0) close(lock_fd);
}

skl_status rl_ckpt_find(const char *run_dir, const char *phase, bool verify, char *path, size_t cap, char *skipped,
                        size_t skipped_cap, skl_error *err) {
  if (skipped && skipped_cap) skipped[0] = '\0';
  char *ckdir = skl_path_join(run_dir, "ckpt");
  if (!ckdir) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  char **names;
  int64_t *steps;
  int n = list_ckpts(ckdir, &names, &steps);
  skl_status s = SKL_OK;
  int found = -1;
  for (int i = 0; i < n && found < 0; i++) {
    char *p = skl_path_join(ckdir, names[i]);
    rl_run_state st;
    skl_error why = {0};
    if (p && rl_state_read(p, &st, &why) == SKL_OK && (!phase || !strcmp(st.phase, phase))) {
      if (!verify || rl_ckpt_verify(p, &why) == SKL_OK) {
        found = i;
        snprintf(path, cap, "%s", p);
      } else if (skipped && skipped_cap && !skipped[0]) {
        snprintf(skipped, skipped_cap, "%s", why.msg); /* the newest damaged one */
      }
    } else if (p && skipped && skipped_cap && !skipped[0] && why.code != SKL_OK && why.code != SKL_ERR_NOTFOUND) {
      snprintf(skipped, skipped_cap, "%s", why.msg);
    }
    free(p);
  }
  if (found < 0)
    s = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no complete %s checkpoint to resume from%s%s", ckdir,
                      phase ? phase : "", skipped && skipped[0] ? "; skipped a damaged one: " : "",
                      skipped && skipped[0] ? skipped : "");
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  free(steps);
  free(ckdir);
  return s;
}

skl_status rl_ckpt_latest(const char *run_dir, const char *phase, char *path, size_t cap, skl_error *err) {
  return rl_ckpt_find(run_dir, phase, true, path, cap, NULL, 0, err);
}

skl_status rl_metrics_open(const char *run_dir, const char *phase, int64_t keep_upto, FILE **f, skl_error *err) {
  *f = NULL;
  char *path = skl_path_join(run_dir, "metrics.jsonl");
  if (!path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  skl_status s = SKL_OK;
  if (keep_upto >= 0 && skl_fs_exists(path)) {
    char *data;
    size_t n;
    s = skl_fs_read_all(path, &data, &n, err);
    if (!s) {
      skl_buf keep = {0};
      char *line = data, *nl;
      while (line < data + n && (nl = memchr(line, '\n', (size_t)(data + n - line)))) {
        *nl = '\0';
        json_t *j = json_loads(line, 0, NULL);
        const char *ph = j ? json_string_value(json_object_get(j, "phase")) : NULL;
        json_int_t st = j ? json_integer_value(json_object_get(j, "step")) : 0;
        int drop = j && ph && !strcmp(ph, phase) && st > keep_upto;
        if (!drop) { skl_buf_puts(&keep, line); skl_buf_puts(&keep, "\n"); }
        json_decref(j);
        line = nl + 1;
      }
      s = skl_fs_write_atomic(path, keep.data ? keep.data : "", keep.len, err);
      skl_buf_free(&keep);
      free(data);
    }
  }
  if (!s) {
    *f = fopen(path, "a");
    if (!*f) s = skl_error_set(err, SKL_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
  }
  free(path);
  return s;
}

/* pretrain's columns after step and loss: the argmax accuracy of each row kind */
static const char *const pt_acc[] = {"acc_induction_random", "acc_induction_text", "acc_recall", "acc_recall_random",
                                     "acc_documents"};
enum { PT_ACC = sizeof pt_acc / sizeof pt_acc[0] };

typedef enum { CURVES_SFT, CURVES_GRPO, CURVES_PRETRAIN } curves_kind;

static int curves_body(skl_buf *gp, const char *f_dat, const void *ctx) {
  curves_kind k = *(const curves_kind *)ctx;
  bool grpo = k == CURVES_GRPO;
  int bad = skl_buf_printf(gp, "set title '%s'\nset xlabel 'step'\nset grid\nset key outside bottom center horizontal\n",
                           grpo ? "GRPO: reward and accuracy per step"
                           : k == CURVES_SFT ? "SFT: loss per step"
                                             : "pretrain: loss (right axis) and argmax accuracy per row kind");
  if (k == CURVES_PRETRAIN) {
    bad |= skl_buf_puts(gp, "set ylabel 'accuracy'\nset yrange [0:1]\nset y2label 'loss'\nset y2tics\nplot ");
    for (int i = 0; i < PT_ACC; i++) {
      bad |= skl_plot_quote(gp, f_dat);
      bad |= skl_buf_printf(gp, " using 1:%d with lines title '%s', ", i + 3, pt_acc[i] + 4);
    }
    bad |= skl_plot_quote(gp, f_dat);
    bad |= skl_buf_puts(gp, " using 1:2 axes x1y2 with lines dashtype 2 title 'loss'\n");
    return bad;
  }
  bad |= skl_buf_puts(gp, "plot ");
  bad |= skl_plot_quote(gp, f_dat);
  if (grpo) {
    bad |= skl_buf_puts(gp, " using 1:2 with linespoints title 'reward', ");
    bad |= skl_plot_quote(gp, f_dat);
    bad |= skl_buf_puts(gp, " using 1:3 with linespoints title 'accuracy'\n");
  } else {
    bad |= skl_buf_puts(gp, " using 1:2 with lines title 'loss'\n");
  }
  return bad;
}

skl_status rl_plot_curves(const char *run_dir, const char *phase, skl_error *err) {
  char *path = skl_path_join(run_dir, "metrics.jsonl"), *prefix = skl_path_join(run_dir, "curves");
  char *data = NULL;
  size_t n = 0;
  skl_status st = path && prefix ? skl_fs_read_all(path, &data, &n, err) : skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  bool grpo = !strcmp(phase, "grpo");
  curves_kind kind = grpo ? CURVES_GRPO : !strcmp(phase, "pretrain") ? CURVES_PRETRAIN : CURVES_SFT;
  skl_buf dat = {0};
  int rows = 0;
  for (char *line = data, *nl; !st && line && (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    json_t *j = json_loads(line, 0, NULL);
    const char *ph = j ? json_string_value(json_object_get(j, "phase")) : NULL;
    if (ph && !strcmp(ph, phase)) {
      json_int_t step = json_integer_value(json_object_get(j, "step"));
      double a = json_number_value(json_object_get(j, grpo ? "reward" : "loss"));
      double b = grpo ? json_number_value(json_object_get(j, "accuracy")) : 0;
      int bad = kind == CURVES_PRETRAIN ? skl_buf_printf(&dat, "%lld %.9g", (long long)step, a)
                                        : skl_buf_printf(&dat, "%lld %.9g %.9g", (long long)step, a, b);
      if (kind == CURVES_PRETRAIN) { /* NaN: gnuplot leaves a gap where a kind had no rows */
        for (int i = 0; i < PT_ACC; i++) {
          json_t *v = json_object_get(j, pt_acc[i]);
          bad |= json_is_number(v) ? skl_buf_printf(&dat, " %.9g", json_number_value(v)) : skl_buf_puts(&dat, " NaN");
        }
      }
      if (bad || skl_buf_puts(&dat, "\n")) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
      rows++;
    }
    json_decref(j);
  }
  if (!st && rows == 0) st = skl_error_set(err, SKL_ERR_NOTFOUND, "%s: no %s metrics to plot", path, phase);
  if (!st) st = skl_plot_render(prefix, &dat, 900, 480, curves_body, &kind, err);
  skl_buf_free(&dat);
  free(data);
  free(path);
  free(prefix);
  return st;
}
