/* skl sample: greedy / temperature / top-k / top-p token choice.
 * Not the decoder: one row of logits in, one id out. */
#include "decode/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

skl_sample_params skl_sample_defaults(void) {
  skl_sample_params p = {1.0f, 0, 1.0f};
  return p;
}

skl_status skl_sample_check(const skl_sample_params *sp, skl_error *err) {
  if (!(sp->temperature >= 0) || !isfinite(sp->temperature))
    return skl_error_set(err, SKL_ERR_RANGE, "--temperature %g must be >= 0 (0 = greedy)", (double)sp->temperature);
  if (sp->top_k < 0) return skl_error_set(err, SKL_ERR_RANGE, "--top-k %d must be >= 0 (0 = off)", sp->top_k);
  if (!(sp->top_p > 0 && sp->top_p <= 1))
    return skl_error_set(err, SKL_ERR_RANGE, "--top-p %g must be in (0, 1] (1 = off)", (double)sp->top_p);
  return SKL_OK;
}

skl_status skl_sampler_init(skl_sampler *s, int V, skl_error *err) {
  memset(s, 0, sizeof *s);
  s->V = V;
  s->prob = malloc(sizeof(float) * (size_t)V);
  s->idx = malloc(sizeof(int32_t) * (size_t)V);
  if (V <= 0 || !s->prob || !s->idx) {
    skl_sampler_free(s);
    return skl_error_set(err, V <= 0 ? SKL_ERR_RANGE : SKL_ERR_NOMEM, "sampler for vocabulary %d: %s", V,
                         V <= 0 ? "vocabulary must be positive" : "out of memory");
  }
  return SKL_OK;
}

void skl_sampler_free(skl_sampler *s) {
  if (!s) return;
  free(s->prob);
  free(s->idx);
  s->prob = NULL;
  s->idx = NULL;
}

/* Min-heap on (prob, -id) of the k best, then sorted descending. */
static void heap_sift(int32_t *h, int n, int i, const float *p) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
#define WORSE(a, b) (p[a] < p[b] || (p[a] == p[b] && (a) > (b)))
    if (l < n && WORSE(h[l], h[m])) m = l;
    if (r < n && WORSE(h[r], h[m])) m = r;
    if (m == i) return;
    int32_t t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

/* Descending by prob, ties by lower id (a total order, so the result does
 * not depend on the algorithm): heapsort with the min-heap above, so no
 * comparator context (qsort has none) and no recursion. */
static void sort_desc(int32_t *idx, int n, const float *p) {
  for (int i = n / 2 - 1; i >= 0; i--) heap_sift(idx, n, i, p);
  for (int i = n - 1; i > 0; i--) {
    int32_t t = idx[0];
    idx[0] = idx[i];
    idx[i] = t;
    heap_sift(idx, i, 0, p);
  }
}

/* The k most likely ids into idx[0..k), sorted descending. */
static int top_k_ids(int32_t *idx, const float *p, int V, int k) {
  if (k >= V) {
    for (int i = 0; i < V; i++) idx[i] = i;
    sort_desc(idx, V, p);
    return V;
  }
  for (int i = 0; i < k; i++) idx[i] = i;
  for (int i = k / 2 - 1; i >= 0; i--) heap_sift(idx, k, i, p);
  for (int i = k; i < V; i++)
    if (WORSE(idx[0], i)) {
      idx[0] = i;
      heap_sift(idx, k, 0, p);
    }
  sort_desc(idx, k, p);
  return k;
}
#undef WORSE

/* The kept candidates after top-k / top-p of s->prob[V] (unnormalised
 * temperature probabilities summing to sum): @return n, with s->idx[0..n)
 * the kept ids in descending order, or 0 when nothing is filtered (all V
 * ids kept, s->idx untouched). */
static int keep_set(skl_sampler *s, const skl_sample_params *sp, double sum) {
  int V = s->V;
  int k = sp->top_k > 0 && sp->top_k < V ? sp->top_k : 0;
  if (!k && !(sp->top_p < 1.0f)) return 0;
  /* Candidates in descending order. For top-p alone, try the best 256
   * first; most distributions reach the mass there, else sort all. */
  int want = k ? k : (V < 256 ? V : 256);
  int n = top_k_ids(s->idx, s->prob, V, want);
  if (sp->top_p < 1.0f) {
    double mass = 0, total = 0, target;
    if (k)
      for (int i = 0; i < n; i++) total += s->prob[s->idx[i]];
    else
      total = sum;
    target = sp->top_p * total;
    int keep = 0;
    for (; keep < n; keep++) {
      mass += s->prob[s->idx[keep]];
      if (mass >= target) { keep++; break; }
    }
    if (keep == n && mass < target && !k && n < V) { /* the best 256 were not enough */
      n = top_k_ids(s->idx, s->prob, V, V);
      mass = 0;
      for (keep = 0; keep < n; keep++) {
        mass += s->prob[s->idx[keep]];
        if (mass >= target) { keep++; break; }
      }
    }
    n = keep < 1 ? 1 : keep > n ? n : keep;
  }
  return n;
}

/* s->prob[i] = exp((logits[i] - max) / T); @return their sum, *arg the argmax */
static double temper(skl_sampler *s, const float *logits, float temperature, int32_t *arg) {
  int V = s->V;
  float mx = logits[0];
  *arg = 0;
  for (int i = 1; i < V; i++)
    if (logits[i] > mx) { mx = logits[i]; *arg = i; }
  float inv_t = 1.0f / temperature;
  double sum = 0;
  for (int i = 0; i < V; i++) {
    float e = expf((logits[i] - mx) * inv_t);
    s->prob[i] = e;
    sum += e;
  }
  return sum;
}

int32_t skl_sample_token(skl_sampler *s, const float *logits, const skl_sample_params *sp, skl_rng *rng,
                         float *logp) {
  int V = s->V;
  float mx = logits[0];
  int32_t arg = 0;
  for (int i = 1; i < V; i++)
    if (logits[i] > mx) { mx = logits[i]; arg = i; }
  int32_t tok = arg;
  if (sp->temperature > 0) {
    double sum = temper(s, logits, sp->temperature, &arg);
    int n = keep_set(s, sp, sum);
    if (n) {
      double tot = 0;
      for (int i = 0; i < n; i++) tot += s->prob[s->idx[i]];
      double u = skl_rng_uniform(rng) * tot, acc = 0;
      tok = s->idx[n - 1];
      for (int i = 0; i < n; i++) {
        acc += s->prob[s->idx[i]];
        if (u < acc) { tok = s->idx[i]; break; }
      }
    } else {
      double u = skl_rng_uniform(rng) * sum, acc = 0;
      tok = V - 1;
      for (int i = 0; i < V; i++) {
        acc += s->prob[i];
        if (u < acc) { tok = i; break; }
      }
      /* never land on a zero-probability id through rounding at the end */
      while (tok > 0 && s->prob[tok] == 0.0f) tok--;
    }
  }
  if (logp) *logp = skl_sample_logp(logits, V, tok);
  return tok;
}

float skl_sample_logp(const float *logits, int V, int32_t tok) {
  float mx = logits[0];
  for (int i = 1; i < V; i++)
    if (logits[i] > mx) mx = logits[i];
  double z = 0;
  for (int i = 0; i < V; i++) z += exp((double)(logits[i] - mx));
  return (float)((double)(logits[tok] - mx) - log(z));
}

int32_t skl_sample_dist(skl_sampler *s, const float *logits, const skl_sample_params *sp, float *prob) {
  int V = s->V;
  int32_t arg = 0;
  if (!(sp->temperature > 0)) {
    for (int i = 1; i < V; i++)
      if (logits[i] > logits[arg]) arg = i;
    memset(prob, 0, sizeof(float) * (size_t)V);
    prob[arg] = 1.0f;
    return arg;
  }
  double sum = temper(s, logits, sp->temperature, &arg);
  int n = keep_set(s, sp, sum);
  if (n) {
    double tot = 0;
    for (int i = 0; i < n; i++) tot += s->prob[s->idx[i]];
    memset(prob, 0, sizeof(float) * (size_t)V);
    for (int i = 0; i < n; i++) prob[s->idx[i]] = (float)(s->prob[s->idx[i]] / tot);
  } else {
    for (int i = 0; i < V; i++) prob[i] = (float)(s->prob[i] / sum);
  }
  return arg;
}
