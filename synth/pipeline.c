/* synth pipeline: resolves the config, makes checked samples (blueprint ->
 * expression -> render -> oracle) and writes shards and the manifest.
 * Not the record's text layout (synth/record.c) and not the CLI. */
#define _GNU_SOURCE
#include "synth/pipeline.h"

#include <dirent.h>
#include <ftw.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/rng.h"
#include "io/jsonl.h"
#include "io/manifest.h"
#include "skills/answer.h"
#include "skills/registry.h"
#include "synth/expr.h"
#include "synth/genre.h"
#include "synth/oracle.h"
#include "synth/record_internal.h"
#include "synth/render.h"
#include "synth/tokcount.h"
#include "sys/sys.h"

struct synth_ctx {
  const synth_cfg *cfg;
  int n_skills;
  const skill_def *defs[SKILL_MAX_COUNT]; /* in mixture order */
  skill_knobs knobs[SKILL_MAX_COUNT];
  double weight[SKILL_MAX_COUNT];
  int64_t count[2][SKILL_MAX_COUNT];
  synth_genres *genres;
  int *pool; /* built-in genres to draw from */
  int n_pool;
  int corpus_genre; /* -1 when none */
  synth_counter counter;
  char tok_hash[65];
  char cfg_hash[65];
};

void synth_ctx_free(synth_ctx *c) {
  if (!c) return;
  synth_genres_free(c->genres);
  free(c->pool);
  synth_counter_close(&c->counter);
  free(c);
}

static void split_counts(int64_t total, const double *w, int n, int64_t *out) {
  double sum = 0;
  for (int i = 0; i < n; i++) sum += w[i];
  int64_t given = 0;
  double rem[SKILL_MAX_COUNT];
  for (int i = 0; i < n; i++) {
    double exact = (double)total * w[i] / sum;
    out[i] = (int64_t)exact;
    rem[i] = exact - (double)out[i];
    given += out[i];
  }
  while (given < total) { /* largest remainder, ties to the earlier skill */
    int best = -1;
    for (int i = 0; i < n; i++)
      if (w[i] > 0 && (best < 0 || rem[i] > rem[best])) best = i;
    out[best]++;
    rem[best] = -1;
    given++;
  }
}

skl_status synth_ctx_init(synth_ctx **out, const synth_cfg *cfg, skl_error *err) {
  *out = NULL;
  synth_ctx *c = calloc(1, sizeof *c);
  if (!c) return skl_error_set(err, SKL_ERR_NOMEM, "synth: out of memory");
  c->cfg = cfg;
  c->corpus_genre = -1;
  c->counter = synth_counter_approx();
  skl_status s = SKL_OK;
  double sum = 0;
  if (cfg->mixture.n == 0) {
    s = skl_error_set(err, SKL_ERR_INVALID, "mixture: no skills given: list at least one, e.g. mixture: {niah: 1}");
    goto fail;
  }
  if (cfg->mixture.n > SKILL_MAX_COUNT) {
    s = skl_error_set(err, SKL_ERR_RANGE, "mixture: %d skills, at most %d", cfg->mixture.n, SKILL_MAX_COUNT);
    goto fail;
  }
  for (int i = 0; i < cfg->mixture.n; i++) {
    const skill_def *d;
    if ((s = skill_lookup(cfg->mixture.keys[i], &d, err))) {
      skl_error_prefix(err, "mixture");
      goto fail;
    }
    for (int j = 0; j < c->n_skills; j++)
      if (c->defs[j] == d) {
        s = skl_error_set(err, SKL_ERR_INVALID, "mixture: skill '%s' listed twice", d->id);
        goto fail;
      }
    if (cfg->mixture.vals[i] < 0) {
      s = skl_error_set(err, SKL_ERR_RANGE, "mixture.%s: weight %g is negative", d->id, cfg->mixture.vals[i]);
      goto fail;
    }
    c->defs[c->n_skills] = d;
    c->weight[c->n_skills] = cfg->mixture.vals[i];
    sum += cfg->mixture.vals[i];
    /* knobs: registry defaults, then difficulty.<skill> */
    skill_knobs k = d->defaults;
    int reg = -1;
    for (int r = 0; r < skill_count(); r++)
      if (skill_get(r) == d) reg = r;
    if (reg >= 0 && reg < 6) {
      const skl_cfg_map *m = &cfg->difficulty[reg];
      for (int j = 0; j < m->n; j++)
        if ((s = skill_knob_set(&k, m->keys[j], m->vals[j], err))) {
          skl_error_prefix(err, "difficulty.%s", d->id);
          goto fail;
        }
    }
    if ((s = skill_knobs_validate(d, &k, err))) {
      skl_error_prefix(err, "difficulty.%s", d->id);
      goto fail;
    }
    c->knobs[c->n_skills++] = k;
  }
  if (!(sum > 0)) {
    s = skl_error_set(err, SKL_ERR_INVALID, "mixture: the weights sum to zero: give at least one skill a positive "
                      "weight");
    goto fail;
  }
  split_counts(cfg->train, c->weight, c->n_skills, c->count[0]);
  split_counts(cfg->test, c->weight, c->n_skills, c->count[1]);
  /* lengths */
  if (cfg->length_min > cfg->length_max) {
    s = skl_error_set(err, SKL_ERR_RANGE, "length.min (%d) is greater than length.max (%d)", cfg->length_min,
                      cfg->length_max);
    goto fail;
  }
  int shortest = cfg->length_min;
  for (int i = 0; i < cfg->buckets.n; i++)
    if (i == 0 || cfg->buckets.v[i] < shortest) shortest = (int)cfg->buckets.v[i];
  if (shortest <= cfg->response_budget) {
    s = skl_error_set(err, SKL_ERR_RANGE, "length: the shortest target (%d tokens) leaves no room for a prompt after "
                      "length.response_budget (%d): raise the length or lower the budget", shortest,
                      cfg->response_budget);
    goto fail;
  }
  /* genres and corpus */
  if ((s = synth_genres_init(&c->genres, err))) goto fail;
  if ((s = synth_genre_pick(c->genres, cfg->genres.v, cfg->genres.n, "background.genres", 0, &c->pool, &c->n_pool,
                             err)))
    goto fail;
  if (cfg->corpus.n > 0) {
    if ((s = synth_genres_add_corpus(c->genres, "user", (const char *const *)cfg->corpus.v, cfg->corpus.n, err))) {
      skl_error_prefix(err, "background.corpus");
      goto fail;
    }
    c->corpus_genre = synth_genre_count(c->genres) - 1;
  }
  if ((s = synth_counter_open(cfg->tokenizer, &c->counter, c->tok_hash, err))) goto fail;
  if ((s = skl_cfg_hash(synth_cfg_schema(), cfg, c->cfg_hash))) {
    s = skl_error_set(err, s, "synth: cannot hash the config");
    goto fail;
  }
  *out = c;
  return SKL_OK;
fail:
  synth_ctx_free(c);
  return s;
}

int64_t synth_ctx_count(const synth_ctx *c, const char *skill_id, int split) {
  for (int i = 0; i < c->n_skills; i++)
    if (!strcmp(c->defs[i]->id, skill_id)) return c->count[split ? 1 : 0][i];
  return 0;
}

/* ---------- name sets ---------- */

skl_status synth_nameset_add(synth_nameset *s, uint64_t h) {
  h |= 1;
  if ((s->n + 1) * 2 > s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 1024;
    uint64_t *ns = calloc(nc, sizeof *ns);
    if (!ns) return SKL_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i]) {
        size_t p = (size_t)(s->slot[i] & (nc - 1));
        while (ns[p]) p = (p + 1) & (nc - 1);
        ns[p] = s->slot[i];
      }
    free(s->slot);
    s->slot = ns;
    s->cap = nc;
  }
  size_t p = (size_t)(h & (s->cap - 1));
  while (s->slot[p] && s->slot[p] != h) p = (p + 1) & (s->cap - 1);
  if (!s->slot[p]) { s->slot[p] = h; s->n++; }
  return SKL_OK;
}

int synth_nameset_has(const synth_nameset *s, uint64_t h) {
  if (!s || !s->cap) return 0;
  h |= 1;
  size_t p = (size_t)(h & (s->cap - 1));
  while (s->slot[p]) {
    if (s->slot[p] == h) return 1;
    p = (p + 1) & (s->cap - 1);
  }
  return 0;
}

void synth_nameset_free(synth_nameset *s) {
  if (!s) return;
  free(s->slot);
  memset(s, 0, sizeof *s);
}

/* ---------- one sample ---------- */

void synth_sample_free(synth_sample *s) {
  if (!s) return;
  free(s->line);
  free(s->anchor_hashes);
  memset(s, 0, sizeof *s);
}

static const skill_def *find_def(const synth_ctx *c, const char *id, int *which) {
  for (int i = 0; i < c->n_skills; i++)
    if (!strcmp(c->defs[i]->id, id)) { *which = i; return c->defs[i]; }
  return NULL;
}

skl_status synth_sample_make(const synth_ctx *c, const char *skill_id, int split, int64_t index,
                             const synth_nameset *exclude, int64_t target_tokens, synth_sample *out, skl_error *err) {
  memset(out, 0, sizeof *out);
  int which;
  const skill_def *d = find_def(c, skill_id, &which);
  if (!d) return skl_error_set(err, SKL_ERR_NOTFOUND, "synth: skill '%s' is not in the mixture", skill_id);
  const synth_cfg *cfg = c->cfg;
  static const char *const split_name[] = {"train", "test"};
  /* disjoint streams: the split's name and the skill's id are mixed into the seed */
  uint64_t base = skl_rng_derive((uint64_t)cfg->seed, skl_hash_str(split_name[split ? 1 : 0]), skl_hash_str(d->id),
                                 (uint64_t)index);
  synth_render_opts ro = {
      .genres = c->genres, .genre_pool = c->pool, .n_genre_pool = c->n_pool, .split_part = split ? 1 : 0,
      .corpus_genre = c->corpus_genre, .corpus_share = cfg->corpus_share,
      .tmpl = {cfg->template_kind ? SYNTH_TEMPLATE_CHAT : SYNTH_TEMPLATE_PLAIN, cfg->system, cfg->preamble,
               (synth_count_format)cfg->template_format},
      .counter = c->counter};
  synth_prompt pr = {0};
  skill_blueprint bp = {0};
  skl_status s = SKL_OK;
  char last[600] = "";
  for (int attempt = 0; attempt < cfg->max_attempts; attempt++) {
    uint64_t seed = (attempt == 0 ? base : skl_rng_derive(base, (uint64_t)attempt, 0x5eed, 0)) >> 1;
    skl_rng rng;
    skl_rng_seed(&rng, seed);
    double t0 = skl_time_now();
    skill_blueprint_free(&bp);
    skill_knobs kn = c->knobs[which];
    kn.split_half = split ? 2 : 1; /* train and test draw embedded questions from disjoint halves */
    if ((s = skill_build(d, &kn, &rng, &bp, err))) {
      skl_error_prefix(err, "skill %s", d->id);
      goto done;
    }
    out->attempts = attempt + 1;
    /* 1. the gold answer is the expression's value; the generator's intent must agree */
    skl_error e2;
    skl_status xs = synth_expr_answer(&bp, &e2);
    double t1 = skl_time_now();
    out->seconds[SYNTH_PHASE_BLUEPRINT] += t1 - t0;
    if (xs) {
      out->expr_rejects++;
      snprintf(last, sizeof last, "expression: %.500s", e2.msg);
      continue;
    }
    if (bp.intended[0] && skill_answer_match(bp.answer_type, bp.answer, bp.intended) != 1) {
      out->expr_rejects++;
      snprintf(last, sizeof last, "expression '%.200s' gives '%.100s', the generator intended '%.100s'", bp.expr,
               bp.answer, bp.intended);
      continue;
    }
    /* 2. test samples reuse no train anchor name */
    int clash = 0;
    for (int a = 0; a < bp.n_anchors && exclude && !clash; a++) clash = synth_nameset_has(exclude, skl_hash_str(bp.anchors[a].name));
    if (clash) {
      out->overlap_rejects++;
      snprintf(last, sizeof last, "every attempt reused an anchor name of the train split");
      continue;
    }
    /* 3. length: target drawn per sample, prompt fitted below target - response budget */
    int64_t target = target_tokens;
    if (target <= 0)
      target = cfg->buckets.n ? cfg->buckets.v[skl_rng_below(&rng, (uint64_t)cfg->buckets.n)]
                              : skl_rng_range(&rng, cfg->length_min, cfg->length_max);
    ro.budget = (size_t)(target - cfg->response_budget);
    t1 = skl_time_now();
    if ((s = synth_render(&bp, &ro, &rng, &pr, err))) goto done;
    double t2 = skl_time_now();
    out->seconds[SYNTH_PHASE_RENDER] += t2 - t1;
    /* 4. the oracle reads only the text and must agree */
    char oracle[SKILL_ANSWER_MAX];
    skl_status os = synth_oracle_solve(d->id, pr.user.data, pr.user.len, oracle, sizeof oracle, &e2);
    out->seconds[SYNTH_PHASE_ORACLE] += skl_time_now() - t2;
    if (os) {
      out->oracle_rejects++;
      snprintf(last, sizeof last, "oracle: %.500s", e2.msg);
      continue;
    }
    if (skill_answer_match(bp.answer_type, bp.answer, oracle) != 1) {
      out->oracle_rejects++;
      snprintf(last, sizeof last, "oracle answered '%.100s', the expression '%.200s' gives '%.100s'", oracle, bp.expr,
               bp.answer);
      continue;
    }
    /* passed: the record */
    synth_record_meta meta = {.id_index = index, .split = split_name[split ? 1 : 0], .seed = seed,
                              .target_tokens = target, .attempts = out->attempts, .genres = c->genres};
    double t3 = skl_time_now();
    if ((s = synth_record_build(&bp, &pr, &meta, &out->line, &out->len, err))) goto done;
    out->seconds[SYNTH_PHASE_RECORD] += skl_time_now() - t3;
    out->n_tokens = (int64_t)pr.n_tokens;
    out->anchor_hashes = malloc(sizeof *out->anchor_hashes * (size_t)(bp.n_anchors + 1));
    if (!out->anchor_hashes) { s = skl_error_set(err, SKL_ERR_NOMEM, "synth: out of memory"); goto done; }
    for (int a = 0; a < bp.n_anchors; a++) out->anchor_hashes[a] = skl_hash_str(bp.anchors[a].name);
    out->n_anchor_hashes = bp.n_anchors;
    goto done;
  }
  s = skl_error_set(err, SKL_ERR_INTERNAL, "skill %s, %s sample %lld: all %d attempts failed a check; last: %s", d->id,
                    split_name[split ? 1 : 0], (long long)index, cfg->max_attempts, last);
done:
  if (s) {
    free(out->line);
    out->line = NULL;
  }
  skill_blueprint_free(&bp);
  synth_prompt_free(&pr);
  return s;
}

/* ---------- the dataset ---------- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}
static void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static int dir_nonempty(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n > 0;
}

typedef struct {
  const synth_ctx *c;
  const char *tmp;
  int threads;
  const synth_progress *progress;
  synth_stats *st;
  skl_manifest *m;
  int64_t done, total;
} gen_state;

static skl_status write_split(gen_state *g, int split, synth_nameset *train_names, skl_error *err) {
  const synth_ctx *c = g->c;
  const synth_cfg *cfg = c->cfg;
  static const char *const split_name[] = {"train", "test"};
  enum { CHUNK = 256 };
  synth_sample *samples = calloc(CHUNK, sizeof *samples);
  skl_error *errs = calloc(CHUNK, sizeof *errs);
  skl_status *sts = calloc(CHUNK, sizeof *sts);
  skl_status s = SKL_OK;
  if (!samples || !errs || !sts) { s = skl_error_set(err, SKL_ERR_NOMEM, "synth: out of memory"); goto out; }
  for (int k = 0; k < c->n_skills && !s; k++) {
    const char *id = c->defs[k]->id;
    int64_t n = c->count[split][k];
    for (int64_t start = 0, shard = 0; start < n && !s; start += cfg->shard_size, shard++) {
      int64_t end = start + cfg->shard_size < n ? start + cfg->shard_size : n;
      char rel[256], path[4096], sub[4096];
      snprintf(rel, sizeof rel, "%s/%s-%05lld.jsonl.zst", id, split_name[split], (long long)shard);
      snprintf(sub, sizeof sub, "%s/%s", g->tmp, id);
      snprintf(path, sizeof path, "%s/%s", g->tmp, rel);
      if ((s = skl_fs_mkdirs(sub, err))) break;
      skl_jsonl_writer_opts wo = skl_jsonl_writer_opts_default();
      wo.zstd_level = cfg->zstd_level;
      skl_jsonl_writer *w;
      if ((s = skl_jsonl_writer_open(&w, path, &wo, err))) break;
      for (int64_t i0 = start; i0 < end && !s; i0 += CHUNK) {
        int m = (int)(end - i0 < CHUNK ? end - i0 : CHUNK);
#pragma omp parallel for schedule(dynamic, 1) num_threads(g->threads)
        for (int i = 0; i < m; i++)
          sts[i] = synth_sample_make(c, id, split, i0 + i, split ? train_names : NULL, 0, &samples[i], &errs[i]);
        for (int i = 0; i < m; i++) {
          if (!s && sts[i]) {
            s = sts[i];
            *err = errs[i];
          }
          if (!s) s = skl_jsonl_write_line(w, samples[i].line, samples[i].len, err);
          if (!s) s = skl_manifest_add_length(g->m, id, samples[i].n_tokens, err);
          if (!s && split == SYNTH_SPLIT_TRAIN)
            for (int a = 0; a < samples[i].n_anchor_hashes && !s; a++)
              if (synth_nameset_add(train_names, samples[i].anchor_hashes[a]))
                s = skl_error_set(err, SKL_ERR_NOMEM, "synth: out of memory");
          if (!s) {
            g->st->samples++;
            g->st->oracle_rejects += samples[i].oracle_rejects;
            g->st->expr_rejects += samples[i].expr_rejects;
            g->st->overlap_rejects += samples[i].overlap_rejects;
            g->st->bytes += samples[i].len + 1;
            g->st->tokens += samples[i].n_tokens;
          }
          synth_sample_free(&samples[i]);
        }
        g->done += m;
        if (!s && g->progress && g->progress->fn) g->progress->fn(g->progress->ud, split_name[split], g->done, g->total, g->st->bytes);
      }
      if (s) {
        skl_jsonl_writer_abort(w);
        break;
      }
      skl_shard_info info;
      if ((s = skl_jsonl_writer_close(w, &info, err))) break;
      g->st->file_bytes += info.file_bytes;
      s = skl_manifest_add_shard(g->m, id, split_name[split], rel, &info, err);
    }
  }
out:
  free(samples);
  free(errs);
  free(sts);
  return s;
}

skl_status synth_generate(const synth_ctx *c, const char *dir, bool overwrite, int threads,
                          const synth_progress *progress, synth_stats *stats, skl_error *err) {
  memset(stats, 0, sizeof *stats);
  if (skl_fs_exists(dir) && !skl_fs_is_dir(dir))
    return skl_error_set(err, SKL_ERR_STATE, "output %s exists and is not a folder: choose another -o", dir);
  int existing = skl_fs_is_dir(dir) && dir_nonempty(dir);
  if (existing && !overwrite) {
    char *mf = skl_path_join(dir, "manifest.json");
    int has = mf && skl_fs_exists(mf);
    free(mf);
    return skl_error_set(err, SKL_ERR_STATE, "output folder %s already holds %s: pass --overwrite to replace it, or "
                         "choose another -o", dir, has ? "a dataset (manifest.json)" : "files");
  }
  char tmp[4096], old[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dir, (long)getpid());
  snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid());
  rm_rf(tmp);
  skl_status s = skl_fs_mkdirs(tmp, err);
  if (s) return s;
  skl_manifest m;
  synth_nameset train_names = {0};
  if ((s = skl_manifest_init(&m, err))) goto fail;
  gen_state g = {c, tmp, threads > 0 ? threads : omp_get_max_threads(), progress, stats, &m, 0, 0};
  for (int k = 0; k < c->n_skills; k++) g.total += c->count[0][k] + c->count[1][k];
  if ((s = write_split(&g, SYNTH_SPLIT_TRAIN, &train_names, err))) goto fail;
  if ((s = write_split(&g, SYNTH_SPLIT_TEST, &train_names, err))) goto fail;
  if ((s = skl_manifest_set_seed(&m, "run", (uint64_t)c->cfg->seed, err))) goto fail;
  if ((s = skl_manifest_set_config_hash(&m, c->cfg_hash, err))) goto fail;
  if (c->tok_hash[0] && (s = skl_manifest_set_tokenizer_hash(&m, c->tok_hash, err))) goto fail;
  if ((s = skl_manifest_write(&m, tmp, err))) goto fail;
  if ((s = skl_cfg_write_resolved(synth_cfg_schema(), c->cfg, tmp, err))) goto fail;
  /* move into place: the old dataset (if any) aside, the new one in, the old one gone */
  if (skl_fs_is_dir(dir)) {
    if (rename(dir, old)) {
      s = skl_error_set(err, SKL_ERR_IO, "cannot move %s aside to replace it: %m", dir);
      goto fail;
    }
  } else {
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
      char parent[4096];
      snprintf(parent, sizeof parent, "%.*s", (int)(slash - dir), dir);
      if ((s = skl_fs_mkdirs(parent, err))) goto fail;
    }
  }
  if (rename(tmp, dir)) {
    s = skl_error_set(err, SKL_ERR_IO, "cannot move the new dataset to %s: %m", dir);
    if (skl_fs_is_dir(old)) rename(old, dir);
    goto fail;
  }
  rm_rf(old);
  skl_manifest_free(&m);
  synth_nameset_free(&train_names);
  return SKL_OK;
fail:
  skl_manifest_free(&m);
  synth_nameset_free(&train_names);
  rm_rf(tmp);
  return s;
}
