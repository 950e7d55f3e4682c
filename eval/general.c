/* eval general: deterministic RULER-style qa / variable-tracking /
 * common-word-extraction records at a target token length (the held-out
 * general set). Not a skill of the training mixture and not RULER's texts. */
#include "eval/general.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/rng.h"

#define NOMEM(err) skl_error_set(err, SKL_ERR_NOMEM, "out of memory")

static const char *const TASKS[] = {"qa", "vt", "cwe"};

/* A pronounceable made-up word of n syllables. */
static void word(skl_rng *r, int n, char *out) {
  static const char C[] = "bcdfghjklmnprstvz", V[] = "aeiou";
  int k = 0;
  for (int i = 0; i < n; i++) {
    out[k++] = C[skl_rng_below(r, sizeof C - 1)];
    out[k++] = V[skl_rng_below(r, sizeof V - 1)];
  }
  out[k] = '\0';
}

static void upper_name(skl_rng *r, char *out) { /* RULER vt: five capital letters */
  for (int i = 0; i < 5; i++) out[i] = (char)('A' + skl_rng_below(r, 26));
  out[5] = '\0';
}

/* Build record text of the given size (noise units / documents / words).
 * outputs gets the gold strings. Pure function of (seed, size). */
static int build(const char *task, uint64_t seed, int size, skl_buf *in, json_t *outputs) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  int bad = 0;
  json_array_clear(outputs);
  if (!strcmp(task, "qa")) {
    /* documents of facts "The <thing> of <place> is <value>."; one is asked */
    int ask = (int)skl_rng_below(&r, (uint64_t)size);
    char place[16], thing[16], val[16], qs[128] = "";
    bad |= skl_buf_puts(in, "Answer the question based on the given documents. Only give me the answer and do not "
                            "output any other words.\n\nThe following are given documents.\n\n");
    static const char *const things[] = {"founder", "mayor", "river", "mountain", "festival", "harbour"};
    for (int d = 0; d < size; d++) {
      word(&r, 3, place);
      const char *th = things[skl_rng_below(&r, 6)];
      word(&r, 2, val);
      val[0] = (char)(val[0] - 'a' + 'A');
      place[0] = (char)(place[0] - 'a' + 'A');
      bad |= skl_buf_printf(in, "Document %d:\nThe %s of %s is %s. Visitors to %s often mention it.\n\n", d + 1, th,
                            place, val, place);
      if (d == ask) {
        snprintf(qs, sizeof qs, "What is the %s of %s?", th, place);
        snprintf(thing, sizeof thing, "%s", val);
      }
    }
    bad |= skl_buf_printf(in, "Answer the question based on the given documents. Only give me the answer and do not "
                              "output any other words.\n\nQuestion: %s Answer:", qs);
    json_array_append_new(outputs, json_string(thing));
  } else if (!strcmp(task, "vt")) {
    /* one chain of 5 assignments hidden in repeated noise (RULER variable_tracking) */
    static const char *const noise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and "
                                     "back again. ";
    char names[5][6];
    for (int i = 0; i < 5; i++) upper_name(&r, names[i]);
    unsigned value = (unsigned)(10000 + skl_rng_below(&r, 90000));
    int slots[5];
    for (int i = 0; i < 5; i++) slots[i] = (int)skl_rng_below(&r, (uint64_t)size + 1);
    for (int i = 1; i < 5; i++) /* ascending: the chain reads in order */
      for (int j = i; j > 0 && slots[j - 1] > slots[j]; j--) { int t = slots[j]; slots[j] = slots[j - 1]; slots[j - 1] = t; }
    bad |= skl_buf_puts(in, "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n");
    int c = 0;
    for (int u = 0; u <= size; u++) {
      while (c < 5 && slots[c] == u) {
        if (c == 0) bad |= skl_buf_printf(in, "VAR %s = %u ", names[0], value);
        else bad |= skl_buf_printf(in, "VAR %s = VAR %s ", names[c], names[c - 1]);
        c++;
      }
      if (u < size) bad |= skl_buf_puts(in, noise);
    }
    bad |= skl_buf_printf(in, "\nQuestion: Find all variables that are assigned the value %u in the text above. "
                              "Answer: According to the chain(s) of variable assignment in the text above, 5 "
                              "variables are assigned the value %u, they are: ", value, value);
    for (int i = 0; i < 5; i++) json_array_append_new(outputs, json_string(names[i]));
  } else { /* cwe: 10 common words appear 3x as often as the others */
    int n_common = 10, n_rare = size > 1 ? size : 1, common_freq = 3, rare_freq = 1;
    int total = n_common * common_freq + n_rare * rare_freq;
    char (*w)[12] = malloc((size_t)(n_common + n_rare) * sizeof *w);
    int *list = malloc((size_t)total * sizeof *list);
    if (!w || !list) { free(w); free(list); return 1; }
    for (int i = 0; i < n_common + n_rare; i++) {
      bool dup;
      do { /* distinct words */
        word(&r, 2 + (int)skl_rng_below(&r, 2), w[i]);
        dup = false;
        for (int j = 0; j < i && !dup; j++) dup = !strcmp(w[i], w[j]);
      } while (dup);
    }
    int k = 0;
    for (int i = 0; i < n_common; i++)
      for (int f = 0; f < common_freq; f++) list[k++] = i;
    for (int i = 0; i < n_rare; i++)
      for (int f = 0; f < rare_freq; f++) list[k++] = n_common + i;
    skl_rng_shuffle(&r, list, (size_t)total, sizeof *list);
    bad |= skl_buf_puts(in, "Below is a numbered list of words. In these words, some appear more often than others. "
                            "Memorize the ones that appear most often.\n");
    for (int i = 0; i < total; i++) bad |= skl_buf_printf(in, "%d. %s\n", i + 1, w[list[i]]);
    bad |= skl_buf_puts(in, "Question: What are the 10 most common words in the above list? Answer: The top 10 words "
                            "that appear most often in the list are:");
    for (int i = 0; i < n_common; i++) json_array_append_new(outputs, json_string(w[i]));
    free(w);
    free(list);
  }
  return bad;
}

static skl_status count(const eval_general_opts *o, const skl_buf *in, int *n, skl_error *err) {
  if (!o->tok) { *n = (int)(in->len / 4); return SKL_OK; }
  size_t c = 0;
  skl_status st = skl_tokenizer_count(o->tok, in->data, in->len, &c, err);
  *n = (int)c;
  return st;
}

static bool wanted(const char *csv, const char *t) {
  if (!csv || !*csv) return true;
  size_t n = strlen(t);
  for (const char *p = strstr(csv, t); p; p = strstr(p + 1, t))
    if ((p == csv || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
  return false;
}

skl_status eval_general_write(const eval_general_opts *o, size_t *n_written, skl_error *err) {
  *n_written = 0;
  if (o->count < 1) return skl_error_set(err, SKL_ERR_RANGE, "general set: --count must be >= 1, got %d", o->count);
  if (o->length < 64)
    return skl_error_set(err, SKL_ERR_RANGE, "general set: --length must be >= 64 tokens, got %d", o->length);
  if (o->tasks && *o->tasks)
    for (const char *p = o->tasks; *p;) {
      const char *e = strchr(p, ',');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      bool ok = false;
      for (int t = 0; t < 3; t++) ok |= strlen(TASKS[t]) == n && !strncmp(p, TASKS[t], n);
      if (!ok)
        return skl_error_set(err, SKL_ERR_INVALID, "general set: unknown task '%.*s' (tasks: qa, vt, cwe)", (int)n, p);
      p += n + (e ? 1 : 0);
    }
  skl_buf file = {0}, in = {0};
  json_t *outputs = json_array();
  skl_status st = outputs ? SKL_OK : NOMEM(err);
  for (int t = 0; !st && t < 3; t++) {
    if (!wanted(o->tasks, TASKS[t])) continue;
    for (int i = 0; !st && i < o->count; i++) {
      uint64_t seed = skl_rng_derive(o->seed, (uint64_t)t, (uint64_t)i, 0);
      /* the largest size whose prompt fits the target length: double, then bisect */
      int lo = 1, hi = 1, n = 0;
      for (;;) {
        skl_buf_clear(&in);
        if (build(TASKS[t], seed, hi, &in, outputs)) { st = NOMEM(err); break; }
        if ((st = count(o, &in, &n, err))) break;
        if (n > o->length || hi >= (1 << 22)) break;
        lo = hi;
        hi *= 2;
      }
      while (!st && hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        skl_buf_clear(&in);
        if (build(TASKS[t], seed, mid, &in, outputs)) { st = NOMEM(err); break; }
        if ((st = count(o, &in, &n, err))) break;
        if (n > o->length) hi = mid;
        else lo = mid;
      }
      if (st) break;
      if (lo == 1 && hi == 1) { /* even the smallest prompt is too long */
        st = skl_error_set(err, SKL_ERR_RANGE, "general set: task %s needs at least %d tokens, --length is %d",
                           TASKS[t], n, o->length);
        break;
      }
      skl_buf_clear(&in);
      if (build(TASKS[t], seed, lo, &in, outputs) || (st = count(o, &in, &n, err))) {
        if (!st) st = NOMEM(err);
        break;
      }
      char id[48];
      snprintf(id, sizeof id, "general-%s-%06d", TASKS[t], i);
      json_t *rec = json_pack("{s:s, s:s, s:s, s:O, s:i, s:{s:i, s:s}}", "id", id, "task", TASKS[t], "input", in.data,
                              "outputs", outputs, "length", o->length, "extra_info", "n_tokens", n, "source",
                              "skillrl/general");
      char *line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
      if (!line || skl_buf_puts(&file, line) || skl_buf_puts(&file, "\n")) st = NOMEM(err);
      free(line);
      json_decref(rec);
      if (!st) (*n_written)++;
    }
  }
  if (!st) st = skl_fs_write_atomic(o->out_path, file.data, file.len, err);
  json_decref(outputs);
  skl_buf_free(&file);
  skl_buf_free(&in);
  return st;
}
