/* skillrl pretrain: joins the stream (synth/pt_stream.h) to the loop
 * (rl/pretrain.h) — genres, corpora and per-thread scratch from the config.
 * Not the argument parsing and signals (cmd_sft.c) nor either side's logic. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_train.h"
#include "core/fs.h"
#include "rl/pretrain.h"
#include "synth/pt_stream.h"

typedef struct {
  synth_pt_stream *stream;
  synth_pt_scratch *scratch; /* [threads] */
  int threads;
} pt_ctx;

static skl_status pt_row(void *ctx, int thread, uint64_t seed, int64_t step, int64_t row, int T, rl_pt_stage stage,
                         int32_t *tokens, int32_t *targets, uint8_t *probe, int *label, skl_error *err) {
  pt_ctx *p = ctx;
  synth_pt_rows rows = stage == RL_PT_INDUCTION ? SYNTH_PT_ROWS_INDUCTION
                       : stage == RL_PT_LOOKUP  ? SYNTH_PT_ROWS_RECALL
                                                : SYNTH_PT_ROWS_MIXTURE;
  return synth_pt_row(p->stream, seed, step, row, T, rows, tokens, targets, probe, label,
                      &p->scratch[thread], err);
}

/* The stream's parameters and genres from the config's pretrain.* keys. */
static skl_status make_stream(const rl_train_cfg *c, synth_genres **g, skl_tokenizer **tok, pt_ctx *p,
                              skl_error *err) {
  if (!c->model)
    return skl_error_set(err, SKL_ERR_INVALID, "config: 'model' is required (the model directory to start from)");
  skl_status st = synth_genres_init(g, err);
  if (st) return st;
  int *genres = NULL, n = 0;
  if ((st = synth_genre_pick(*g, c->pt_genres.v, c->pt_genres.n, "pretrain.genres", 1, &genres, &n, err))) return st;
  if (c->pt_corpus.n > 0) {
    st = synth_genres_add_corpus(*g, "user", (const char *const *)c->pt_corpus.v, c->pt_corpus.n, err);
    if (st) skl_error_prefix(err, "pretrain.corpus");
    else genres[n++] = synth_genre_count(*g) - 1;
  }
  char *tp = st ? NULL : skl_path_join(c->model, "tokenizer.json");
  if (!st && !tp) st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!st && (st = skl_tokenizer_load(tp, tok, err))) skl_error_prefix(err, "model %s needs a tokenizer.json", c->model);
  free(tp);
  synth_pt_params pp = {.induction_text = c->pt_induction_text, .recall_random = c->pt_recall_random, .repeat_share = c->pt_repeat_share,
                        .tokens_per_entry = c->pt_tokens_per_entry, .tokens_per_query = c->pt_tokens_per_query,
                        .genres = genres, .n_genres = n};
  for (int i = 0; i < c->pt_mixture.n; i++)
    for (int k = 0; k < SYNTH_PT_COMPONENT_COUNT; k++)
      if (!strcmp(c->pt_mixture.keys[i], synth_pt_component_name(k))) pp.mixture[k] = c->pt_mixture.vals[i];
  if (!st && c->pt_span.n != 2)
    st = skl_error_set(err, SKL_ERR_INVALID, "pretrain.span: give two numbers [min, max], not %d", c->pt_span.n);
  if (!st) {
    pp.span_min = (int)c->pt_span.v[0];
    pp.span_max = (int)c->pt_span.v[1];
    st = synth_pt_stream_init(&p->stream, &pp, *g, *tok, err);
  }
  free(genres);
  if (st) return st;
  p->threads = omp_get_max_threads();
  p->scratch = calloc((size_t)p->threads, sizeof *p->scratch);
  if (!p->scratch) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  return SKL_OK;
}

skl_status skl_cli_pretrain_run(const rl_session_opts *so, skl_error *err) {
  synth_genres *g = NULL;
  skl_tokenizer *tok = NULL;
  pt_ctx p = {0};
  skl_status st = make_stream(so->cfg, &g, &tok, &p, err);
  if (!st) {
    rl_pt_source src = {.ctx = &p, .n_labels = SYNTH_PT_LABEL_COUNT, .label_name = synth_pt_label_name,
                        .min_len = synth_pt_min_len(p.stream), .row = pt_row,
                        .induction_label = SYNTH_PT_LABEL_INDUCTION_RANDOM, .lookup_label = SYNTH_PT_LABEL_RECALL,
                        .lookup_min_len = SYNTH_PT_RECALL_MIN_LEN, .lookup_labels = 1u << SYNTH_PT_LABEL_RECALL | 1u << SYNTH_PT_LABEL_RECALL_RANDOM};
    st = rl_pretrain_run(so, &src, err);
  }
  for (int i = 0; p.scratch && i < p.threads; i++) synth_pt_scratch_free(&p.scratch[i]);
  free(p.scratch);
  synth_pt_stream_free(p.stream);
  skl_tokenizer_free(tok);
  synth_genres_free(g);
  return st;
}
