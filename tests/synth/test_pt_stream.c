/* Tests for synth/pt_stream: rows are pure functions of (seed, step, row, T)
 * whatever the thread; a recomputation of which positions each component
 * supervises and probes; the recall answers located by bytes; the error
 * paths of the params. Not the training loop (tests/train/test_pretrain.sh).
 * `test_synth_pt_stream show [N]` prints N rows of each kind as text (PT_T:
 * their length, PT_TOKENIZER: a tokenizer.json to encode with, PT_IDS=1: as
 * JSON ids, targets and probes instead). */
#include <omp.h>
#include <stdlib.h>

#include "harness.h"
#include "synth/pt_stream.h"
#include "tok/train.h"

static synth_genres *g;
static skl_tokenizer *tok;

/* a byte-level BPE of 400 ids trained on genre text */
static void make_tokenizer(void) {
  skl_error e;
  skl_tok_counter *c;
  CHECK(skl_tok_counter_init(&c, false, &e) == SKL_OK);
  skl_rng r;
  skl_rng_seed(&r, 5);
  skl_buf b = {0};
  for (int k = 0; k < synth_genre_count(g); k++)
    for (int u = 0; u < 300; u++) synth_genre_unit(g, k, 0, &r, &b, &e);
  skl_buf_puts(&b, "Entry [ID: A-123]: its value is the result of 12 + 30. Question: What is the value of entry");
  CHECK(skl_tok_counter_add(c, b.data, b.len, &e) == SKL_OK);
  skl_buf json = {0};
  skl_tok_train_opts o = {.vocab_size = 400, .min_frequency = 2};
  skl_tok_train_stats st;
  CHECK_MSG(skl_tok_train(c, &o, &json, &st, &e) == SKL_OK, "%s", e.msg);
  CHECK_MSG(skl_tokenizer_load_buf(json.data, json.len, "test", &tok, &e) == SKL_OK, "%s", e.msg);
  skl_tok_counter_free(c);
  skl_buf_free(&b);
  skl_buf_free(&json);
}

static synth_pt_params defaults(void) {
  return (synth_pt_params){.mixture = {1, 1, 1}, .induction_text = 0.5, .span_min = 4, .span_max = 16,
                           .repeat_share = 0.4, .tokens_per_entry = 64, .tokens_per_query = 192,
                           .recall_random = 0.5};
}

typedef struct {
  int32_t *tok, *tgt;
  uint8_t *probe;
  int label;
} row_buf;

static void row_alloc(row_buf *r, int T) {
  r->tok = malloc(sizeof *r->tok * (size_t)T);
  r->tgt = malloc(sizeof *r->tgt * (size_t)T);
  r->probe = malloc((size_t)T);
}
static void row_free(row_buf *r) { free(r->tok); free(r->tgt); free(r->probe); }

static bool row_same(const row_buf *a, const row_buf *b, int T) {
  return a->label == b->label && !memcmp(a->tok, b->tok, sizeof *a->tok * (size_t)T) &&
         !memcmp(a->tgt, b->tgt, sizeof *a->tgt * (size_t)T) && !memcmp(a->probe, b->probe, (size_t)T);
}

/* Same (seed, step, row, T): same bytes, serially or from any thread, in any
 * order; another seed: another row. */
static void test_determinism(void) {
  synth_pt_params p = defaults();
  synth_pt_stream *s;
  skl_error e;
  CHECK_MSG(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_OK, "%s", e.msg);
  enum { N = 24, T = 256 };
  row_buf a[N], b[N], c;
  row_alloc(&c, T);
  synth_pt_scratch w = {0};
  for (int i = 0; i < N; i++) {
    row_alloc(&a[i], T);
    row_alloc(&b[i], T);
    CHECK_MSG(synth_pt_row(s, 7, 3, i, T, false, a[i].tok, a[i].tgt, a[i].probe, &a[i].label, &w, &e) == SKL_OK, "%s", e.msg);
  }
  int nt = 4;
  synth_pt_scratch ws[4];
  memset(ws, 0, sizeof ws);
  int bad = 0;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) reduction(+ : bad)
  for (int i = N - 1; i >= 0; i--) {
    skl_error e2;
    bad += synth_pt_row(s, 7, 3, i, T, false, b[i].tok, b[i].tgt, b[i].probe, &b[i].label, &ws[omp_get_thread_num()], &e2) != SKL_OK;
  }
  CHECK(bad == 0);
  int labels[SYNTH_PT_LABEL_COUNT] = {0};
  for (int i = 0; i < N; i++) {
    CHECK_MSG(row_same(&a[i], &b[i], T), "row %d differs between a serial and a 4-thread reverse-order pass", i);
    labels[a[i].label]++;
  }
  for (int l = 0; l < SYNTH_PT_LABEL_COUNT; l++) CHECK_MSG(labels[l] > 0, "no %s row in %d", synth_pt_label_name(l), N);
  CHECK(synth_pt_row(s, 8, 3, 0, T, false, c.tok, c.tgt, c.probe, &c.label, &w, &e) == SKL_OK);
  CHECK(!row_same(&a[0], &c, T));
  CHECK(synth_pt_row(s, 7, 4, 0, T, false, c.tok, c.tgt, c.probe, &c.label, &w, &e) == SKL_OK);
  CHECK(!row_same(&a[0], &c, T));
  for (int i = 0; i < N; i++) { row_free(&a[i]); row_free(&b[i]); }
  for (int i = 0; i < nt; i++) synth_pt_scratch_free(&ws[i]);
  row_free(&c);
  synth_pt_scratch_free(&w);
  synth_pt_stream_free(s);
}

/* Decoded text of ids with each token's byte offset (off[n] = length). */
static char *decode_offsets(const int32_t *ids, int n, int *off) {
  skl_buf b = {0};
  skl_error e;
  for (int i = 0; i < n; i++) {
    off[i] = (int)b.len;
    skl_tokenizer_decode(tok, &ids[i], 1, &b, &e);
  }
  off[n] = (int)b.len;
  skl_buf_puts(&b, "");
  return b.data;
}

/* What each component supervises and probes, recomputed from the tokens. */
static void test_positions(void) {
  synth_pt_params p = defaults();
  synth_pt_stream *s;
  skl_error e;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_OK);
  enum { T = 512 };
  row_buf r;
  row_alloc(&r, T);
  synth_pt_scratch w = {0};
  int *off = malloc(sizeof *off * (T + 3));
  uint8_t *want = malloc(T);
  int checked[SYNTH_PT_LABEL_COUNT] = {0}, questions = 0, probed_questions = 0;
  for (int i = 0; i < 120; i++) {
    CHECK(synth_pt_row(s, 11, 0, i, T, false, r.tok, r.tgt, r.probe, &r.label, &w, &e) == SKL_OK);
    checked[r.label]++;
    /* targets are the next input wherever there is loss */
    for (int t = 0; t + 1 < T; t++)
      if (r.tgt[t] >= 0 && r.tgt[t] != r.tok[t + 1]) { CHECK_MSG(0, "row %d: target %d is not the next token", i, t); break; }
    if (r.label == SYNTH_PT_LABEL_INDUCTION_RANDOM || r.label == SYNTH_PT_LABEL_INDUCTION_TEXT) {
      int probes = 0, bad = 0;
      for (int t = 0; t + 1 < T; t++) {
        if (r.label == SYNTH_PT_LABEL_INDUCTION_RANDOM) /* loss on the repeats only */
          bad += (r.tgt[t] >= 0) != (r.probe[t] != 0);
        else
          bad += r.tgt[t] < 0;
        if (!r.probe[t]) continue;
        probes++;
        /* a repeat: the bigram (tok[t], tok[t+1]) occurred before */
        bool seen = false;
        for (int j = 0; j < t && !seen; j++) seen = r.tok[j] == r.tok[t] && r.tok[j + 1] == r.tok[t + 1];
        bad += !seen;
      }
      CHECK_MSG(bad == 0, "induction row %d: %d positions break the rules", i, bad);
      CHECK_MSG(probes > T / 8 && probes < T * 3 / 4, "induction row %d: %d repeat positions of %d", i, probes, T);
    } else if (r.label == SYNTH_PT_LABEL_RECALL) {
      /* find every "Question: ...entry NAME?\nEntry NAME: its value is SPEC." in
       * the decoded row; SPEC's tokens are probed iff "Entry NAME: its value is
       * SPEC." occurs before the question (else it was cut off the front) */
      int32_t *ids = malloc(sizeof *ids * (T + 1)); /* the inputs and the last target */
      memcpy(ids, r.tok, sizeof *ids * T);
      ids[T] = r.tgt[T - 1];
      char *text = decode_offsets(ids, T + 1, off);
      free(ids);
      memset(want, 0, T);
      const char *q = text;
      while ((q = strstr(q, "Question: What is the value of entry "))) {
        const char *name = q + strlen("Question: What is the value of entry ");
        const char *qe = strstr(name, "?\nEntry ");
        if (!qe) break;
        const char *v0 = strstr(qe, ": its value is ");
        if (!v0) break;
        v0 += strlen(": its value is ");
        const char *v1 = strstr(v0, ".\n");
        if (!v1) break;
        questions++;
        char line[256];
        snprintf(line, sizeof line, "Entry %.*s: its value is %.*s.", (int)(qe - name), name, (int)(v1 - v0), v0);
        char *hit = strstr(text, line);
        if (hit && hit < q) {
          probed_questions++;
          for (int k = 1; k <= T; k++)
            if (off[k] < v1 - text && off[k + 1] > v0 - text) {
              want[k - 1] = 1;
              break;
            }
        }
        q = v1;
      }
      CHECK_MSG(!memcmp(want, r.probe, T), "recall row %d: probed positions differ from the recomputation", i);
      for (int t = 0; t + 1 < T; t++) CHECK(r.tgt[t] >= 0);
      free(text);
    } else if (r.label == SYNTH_PT_LABEL_RECALL_RANDOM) {
      /* loss on runs (the queries), one probe in each at the same offset; a
       * query is an exact repeat of an earlier entry; the token before the
       * value was followed by two or more tokens earlier (every entry's
       * template), so previous-token induction cannot name the value */
      int runs = 0, len = -1, poff = -1, bad = 0;
      for (int t = 0; t + 1 < T;) {
        if (r.tgt[t] < 0) { bad += r.probe[t] != 0; t++; continue; }
        int a = t, np = 0, po = -1;
        while (t + 1 < T && r.tgt[t] >= 0) { if (r.probe[t]) { np++; po = t - a; } t++; }
        if (t + 1 >= T) break; /* a run the row's end cut: not checked */
        runs++;
        bad += np != 1;
        if (len < 0) { len = t - a; poff = po; }
        bad += t - a != len || po != poff;
        bool entry = false; /* tokens a .. t (the run and its last target) occur before a */
        for (int j = 0; j + (t - a) < a && !entry; j++)
          entry = !memcmp(r.tok + j, r.tok + a, sizeof *r.tok * (size_t)(t - a)) && r.tok[j + t - a] == r.tgt[t - 1];
        bad += !entry;
        int at = a + po, nexts = 0;
        int32_t first = -1;
        for (int j = 0; j < a; j++)
          if (r.tok[j] == r.tok[at] && j + 1 < T && r.tok[j + 1] != first) { if (first < 0) first = r.tok[j + 1]; nexts++; }
        bad += nexts < 2;
      }
      CHECK_MSG(bad == 0 && runs >= 1, "recall_random row %d: %d rule breaks in %d queries", i, bad, runs);
    } else {
      int bad = 0;
      for (int t = 0; t + 1 < T; t++) bad += r.tgt[t] < 0 || !r.probe[t];
      CHECK(bad == 0);
    }
  }
  for (int l = 0; l < SYNTH_PT_LABEL_COUNT; l++) CHECK_MSG(checked[l] > 5, "%s: %d rows", synth_pt_label_name(l), checked[l]);
  printf("recall: %d questions, %d answerable (entry within the row)\n", questions, probed_questions);
  CHECK(questions >= checked[SYNTH_PT_LABEL_RECALL]);
  CHECK(probed_questions >= questions * 9 / 10);
  free(off);
  free(want);
  row_free(&r);
  synth_pt_scratch_free(&w);
  synth_pt_stream_free(s);
}

/* Only the weighted components appear; a zero-weight one never does. */
static void test_mixture(void) {
  synth_pt_params p = defaults();
  p.mixture[SYNTH_PT_INDUCTION] = 0;
  p.mixture[SYNTH_PT_DOCUMENTS] = 0;
  synth_pt_stream *s;
  skl_error e;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_OK);
  row_buf r;
  row_alloc(&r, 256);
  synth_pt_scratch w = {0};
  int other = 0;
  for (int i = 0; i < 30; i++) {
    CHECK(synth_pt_row(s, 1, 0, i, 256, false, r.tok, r.tgt, r.probe, &r.label, &w, &e) == SKL_OK);
    other += r.label != SYNTH_PT_LABEL_RECALL && r.label != SYNTH_PT_LABEL_RECALL_RANDOM;
  }
  CHECK(other == 0);
  /* the induction-first stage's rows: random-token repeats whatever the
   * mixture, and as short as 32 tokens */
  for (int i = 0; i < 10; i++) {
    CHECK(synth_pt_row(s, 1, 0, i, 64, true, r.tok, r.tgt, r.probe, &r.label, &w, &e) == SKL_OK);
    CHECK(r.label == SYNTH_PT_LABEL_INDUCTION_RANDOM);
  }
  /* too short a row for recall */
  CHECK(synth_pt_row(s, 1, 0, 0, 128, false, r.tok, r.tgt, r.probe, &r.label, &w, &e) == SKL_ERR_RANGE);
  CHECK_CONTAINS(e.msg, "too short");
  row_free(&r);
  synth_pt_scratch_free(&w);
  synth_pt_stream_free(s);
}

/* Random-token rows draw from the whole vocabulary, not only the tokens of
 * genre text: a token they never show broke the copying circuit in the
 * skills' text. Every ordinary token appears; no special one does. */
static void test_pool(void) {
  synth_pt_params p = defaults();
  synth_pt_stream *s;
  skl_error e;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_OK);
  int V = (int)skl_tokenizer_vocab_size(tok), ordinary = 0, seen_n = 0, special = 0;
  uint8_t *seen = calloc((size_t)V, 1);
  row_buf r;
  row_alloc(&r, 256);
  synth_pt_scratch w = {0};
  for (int i = 0; i < 60; i++) {
    CHECK(synth_pt_row(s, 5, 0, i, 256, SYNTH_PT_ROWS_INDUCTION, r.tok, r.tgt, r.probe, &r.label, &w, &e) == SKL_OK);
    for (int t = 0; t < 256; t++) {
      special += skl_tokenizer_is_special(tok, r.tok[t]);
      seen[r.tok[t]] = 1;
    }
  }
  skl_buf b = {0};
  for (int id = 0; id < V; id++) {
    skl_buf_clear(&b);
    bool ord = skl_tokenizer_decode(tok, &id, 1, &b, &e) == SKL_OK && b.len > 0 && !skl_tokenizer_is_special(tok, id);
    ordinary += ord;
    seen_n += ord && seen[id];
  }
  skl_buf_free(&b);
  /* 15360 draws over ~400 tokens: every one shows up */
  CHECK_MSG(seen_n == ordinary && special == 0, "random rows showed %d of %d ordinary tokens and %d special", seen_n,
            ordinary, special);
  free(seen);
  row_free(&r);
  synth_pt_scratch_free(&w);
  synth_pt_stream_free(s);
}

static void test_errors(void) {
  synth_pt_stream *s = NULL;
  skl_error e;
  synth_pt_params p = defaults();
  p.mixture[0] = p.mixture[1] = p.mixture[2] = 0;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_ERR_INVALID && !s);
  CHECK_CONTAINS(e.msg, "pretrain.mixture");
  p = defaults();
  p.span_min = 9;
  p.span_max = 3;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "pretrain.span");
  p = defaults();
  p.mixture[1] = -1;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "pretrain.mixture.recall");
  p = defaults();
  p.repeat_share = 1.5;
  CHECK(synth_pt_stream_init(&s, &p, g, tok, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "repeat_share");
  /* a tokenizer that is not byte-level (a word-level vocab with [UNK]) cannot
   * locate recall's answers */
  const char *wl = "{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,\"pre_tokenizer\":{\"type\":"
                   "\"Whitespace\"},\"post_processor\":null,\"decoder\":null,\"model\":{\"type\":\"WordLevel\","
                   "\"vocab\":{\"[UNK]\":0,\"the\":1,\"Entry\":2},\"unk_token\":\"[UNK]\"}}";
  skl_tokenizer *t2 = NULL;
  if (skl_tokenizer_load_buf(wl, strlen(wl), "wordlevel", &t2, &e) == SKL_OK) {
    p = defaults();
    CHECK(synth_pt_stream_init(&s, &p, g, t2, &e) == SKL_ERR_INVALID);
    CHECK_CONTAINS(e.msg, "pretrain");
    skl_tokenizer_free(t2);
  } else {
    printf("(a WordLevel tokenizer does not load here: %s; the byte-level check is exercised by the text below)\n", e.msg);
  }
}

static void show(int n) {
  synth_pt_params p = defaults();
  synth_pt_stream *s;
  skl_error e;
  synth_pt_stream_init(&s, &p, g, tok, &e);
  const char *te = getenv("PT_T"); /* row length (default 384) */
  int T = te && atoi(te) >= 192 ? atoi(te) : 384;
  row_buf r;
  row_alloc(&r, T);
  synth_pt_scratch w = {0};
  int shown[SYNTH_PT_LABEL_COUNT] = {0};
  for (int i = 0; i < 200; i++) {
    synth_pt_row(s, 3, 0, i, T, false, r.tok, r.tgt, r.probe, &r.label, &w, &e);
    if (shown[r.label]++ >= n) continue;
    printf("==== row %d: %s\n", i, synth_pt_label_name(r.label));
    if (getenv("PT_IDS")) { /* JSON: the inputs, then the targets (-1: no loss) */
      printf("{\"tokens\": [");
      for (int t = 0; t < T; t++) printf(t ? ",%d" : "%d", r.tok[t]);
      printf("], \"targets\": [");
      for (int t = 0; t < T; t++) printf(t ? ",%d" : "%d", r.tgt[t]);
      printf("], \"probe\": [");
      for (int t = 0; t < T; t++) printf(t ? ",%d" : "%d", r.probe[t]);
      printf("]}\n");
      continue;
    }
    for (int t = 0; t < T; t++) {
      skl_buf b = {0};
      skl_tokenizer_decode(tok, &r.tok[t], 1, &b, &e);
      printf(t > 0 && r.probe[t - 1] ? "\033[1;31m%.*s\033[0m" : "%.*s", (int)b.len, b.data);
      skl_buf_free(&b);
    }
    printf("\n");
  }
  row_free(&r);
  synth_pt_scratch_free(&w);
  synth_pt_stream_free(s);
}

int main(int argc, char **argv) {
  skl_error e;
  CHECK(synth_genres_init(&g, &e) == SKL_OK);
  const char *tp = getenv("PT_TOKENIZER"); /* show: rows in another tokenizer */
  if (tp && argc > 1) CHECK(skl_tokenizer_load(tp, &tok, &e) == SKL_OK);
  else make_tokenizer();
  if (argc > 1 && !strcmp(argv[1], "show")) {
    show(argc > 2 ? atoi(argv[2]) : 1);
  } else {
    test_determinism();
    test_positions();
    test_mixture();
    test_pool();
    test_errors();
  }
  skl_tokenizer_free(tok);
  synth_genres_free(g);
  printf("%d passed, %d failed\n", t_pass, t_fail);
  return t_fail != 0;
}
