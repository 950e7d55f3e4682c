/* Tests for the decode step kernels (decode/step_kernels.h): the linears and
 * the attention against double-precision references, and their row-count
 * invariance: a row computed alone equals, bit for bit, the same row inside
 * calls of 2..41 rows, at 1..3 threads; through the decoder, a slot's step
 * logits alone equal its logits inside steps and exact verify blocks of
 * 2..40 rows (prefix-sharing and private slots mixed), llama/qwen2/qwen3;
 * and skl_generate's greedy tokens do not depend on the batch. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "decode/step_kernels.h"
#include "decode_testutil.h"
#include "harness.h"

static float *rand_floats(size_t n, float scale, skl_rng *r) {
  float *p = malloc(sizeof(float) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) p[i] = scale * (float)skl_rng_normal(r);
  return p;
}

/* ---- the linear ---- */

static void test_linear(void) {
  skl_rng r;
  skl_rng_seed(&r, 7);
  const int ICs[] = {1, 7, 16, 40, 257}, OCs[] = {1, 5, 16, 37};
  enum { NMAX = 41 };
  int bad_bits = 0, cases = 0;
  double worst = 0;
  for (size_t a = 0; a < sizeof ICs / sizeof *ICs; a++)
    for (size_t b = 0; b < sizeof OCs / sizeof *OCs; b++) {
      int IC = ICs[a], OC = OCs[b];
      float *x = rand_floats((size_t)NMAX * IC, 1.0f, &r), *w = rand_floats((size_t)OC * IC, 0.5f, &r);
      float *bias = rand_floats((size_t)OC, 1.0f, &r), *pre = rand_floats((size_t)NMAX * OC, 1.0f, &r);
      float *alone = malloc(sizeof(float) * NMAX * OC), *out = malloc(sizeof(float) * NMAX * OC);
      /* each row alone (bias), checked against doubles */
      for (int i = 0; i < NMAX; i++) {
        skl_step_linear(alone + (size_t)i * OC, x + (size_t)i * IC, w, bias, 1, IC, OC, false);
        for (int o = 0; o < OC; o++) {
          double ref = bias[o], mag = fabs(bias[o]);
          for (int k = 0; k < IC; k++) {
            ref += (double)x[(size_t)i * IC + k] * w[(size_t)o * IC + k];
            mag += fabs((double)x[(size_t)i * IC + k] * w[(size_t)o * IC + k]);
          }
          worst = fmax(worst, fabs(ref - alone[(size_t)i * OC + o]) / (mag + 1e-30));
        }
      }
      /* the same rows in calls of n rows, at 1..3 threads */
      for (int n = 2; n <= NMAX; n += n < 9 ? 1 : 8) {
        omp_set_num_threads(1 + n % 3);
        skl_step_linear(out, x, w, bias, n, IC, OC, false);
        bad_bits += memcmp(out, alone, sizeof(float) * (size_t)n * OC) != 0;
        cases++;
      }
      omp_set_num_threads(2);
      /* accumulate: out = pre + x w^T, equal to the alone dot added to pre */
      memcpy(out, pre, sizeof(float) * NMAX * OC);
      skl_step_linear(out, x, w, NULL, NMAX, IC, OC, true);
      for (int i = 0; i < NMAX; i++) {
        float one[64];
        skl_step_linear(one, x + (size_t)i * IC, w, NULL, 1, IC, OC, false);
        for (int o = 0; o < OC; o++)
          bad_bits += out[(size_t)i * OC + o] != pre[(size_t)i * OC + o] + one[o];
      }
      free(x); free(w); free(bias); free(pre); free(alone); free(out);
    }
  CHECK_MSG(bad_bits == 0, "linear: %d of %d batched calls differ from the rows alone", bad_bits, cases);
  CHECK_MSG(worst < 1e-5, "linear vs double reference: relative error %g", worst);
  CHECK(cases > 50);
}

/* Fused segments (q/k/v) equal one linear per matrix, output strides kept. */
static void test_linear_segs(void) {
  skl_rng r;
  skl_rng_seed(&r, 8);
  int n = 6, IC = 24, O1 = 20, O2 = 9;
  float *x = rand_floats((size_t)n * IC, 1.0f, &r), *w1 = rand_floats((size_t)O1 * IC, 1.0f, &r);
  float *w2 = rand_floats((size_t)O2 * IC, 1.0f, &r), *b2 = rand_floats((size_t)O2, 1.0f, &r);
  float y1[6 * 20], y2[6 * 11], r1[6 * 20], r2[6 * 9];
  for (int i = 0; i < 6 * 11; i++) y2[i] = -7.0f; /* columns 9, 10 of each row stay untouched */
  skl_step_seg s[2] = {{w1, NULL, y1, 20, O1}, {w2, b2, y2, 11, O2}};
  skl_step_linear_segs(x, (size_t)IC, n, IC, s, 2, false);
  skl_step_linear(r1, x, w1, NULL, n, IC, O1, false);
  skl_step_linear(r2, x, w2, b2, n, IC, O2, false);
  int bad = memcmp(y1, r1, sizeof r1) != 0;
  for (int i = 0; i < n; i++) {
    bad += memcmp(y2 + i * 11, r2 + i * 9, sizeof(float) * 9) != 0;
    bad += y2[i * 11 + 9] != -7.0f || y2[i * 11 + 10] != -7.0f;
  }
  CHECK_MSG(bad == 0, "fused segments differ from separate linears (%d)", bad);
  free(x); free(w1); free(w2); free(b2);
}

/* ---- the attention ---- */

/* softmax(q k^T * scale) v over keys [0, tk), in doubles */
static void naive_attend(double *o, const float *q, const float *k, const float *v, size_t stride, int HD, int tk,
                         float scale) {
  double mx = -INFINITY, *s = malloc(sizeof(double) * (size_t)tk), sum = 0;
  for (int j = 0; j < tk; j++) {
    double d = 0;
    for (int e = 0; e < HD; e++) d += (double)q[e] * k[(size_t)j * stride + e];
    s[j] = d * scale;
    mx = fmax(mx, s[j]);
  }
  for (int e = 0; e < HD; e++) o[e] = 0;
  for (int j = 0; j < tk; j++) {
    double p = exp(s[j] - mx);
    sum += p;
    for (int e = 0; e < HD; e++) o[e] += p * v[(size_t)j * stride + e];
  }
  for (int e = 0; e < HD; e++) o[e] /= sum;
  free(s);
}

/* One head's keys k (rows stride apart) as K^T tiles for skl_step_attend_kt. */
static float *kt_of(const float *k, size_t stride, int HD, int tk) {
  float *kt = calloc(skl_step_kt_floats(tk, HD), sizeof(float));
  for (int j = 0; j < tk; j++) skl_step_kt_store(kt, j, k + (size_t)j * stride, HD);
  return kt;
}

/* skl_step_attend on row-major keys, or (kt != NULL) skl_step_attend_kt */
static void attend(const float *kt, const float *k, const float *v, size_t stride, int HD, float scale,
                   skl_step_query *qs, int nq) {
  if (kt) skl_step_attend_kt(kt, v, stride, HD, scale, qs, nq);
  else skl_step_attend(k, v, stride, HD, scale, qs, nq);
}

static void test_attend(bool use_kt) {
  skl_rng r;
  skl_rng_seed(&r, 9);
  const int HDs[] = {8, 10, 16, 20, 32, 64, 128};
  enum { NQ = 9, TK = 200 };
  const int tks[NQ] = {1, 63, 64, 65, 130, 200, 7, 128, 129};
  int bad_bits = 0;
  double worst = 0;
  for (size_t hi = 0; hi < sizeof HDs / sizeof *HDs; hi++) {
    int HD = HDs[hi];
    size_t stride = (size_t)HD + 3; /* a kv head inside a wider row */
    float *k = rand_floats(TK * stride, 1.0f, &r), *v = rand_floats(TK * stride, 1.0f, &r);
    float *q = rand_floats((size_t)NQ * HD, 2.0f, &r);
    float *acc = calloc((size_t)NQ * HD, sizeof(float)), *one = calloc((size_t)HD, sizeof(float));
    float m[NQ], l[NQ], scale = 1.0f / sqrtf((float)HD);
    skl_step_query qs[NQ];
    for (int i = 0; i < NQ; i++) {
      m[i] = -INFINITY;
      l[i] = 0;
      qs[i] = (skl_step_query){q + (size_t)i * HD, acc + (size_t)i * HD, &m[i], &l[i], tks[i]};
    }
    float *kt = use_kt ? kt_of(k, stride, HD, TK) : NULL;
    attend(kt, k, v, stride, HD, scale, qs, NQ);
    double *ref = malloc(sizeof(double) * (size_t)HD);
    for (int i = 0; i < NQ; i++) {
      /* alone: the same query by itself */
      float m1 = -INFINITY, l1 = 0;
      memset(one, 0, sizeof(float) * (size_t)HD);
      skl_step_query q1 = {q + (size_t)i * HD, one, &m1, &l1, tks[i]};
      attend(kt, k, v, stride, HD, scale, &q1, 1);
      bad_bits += memcmp(one, acc + (size_t)i * HD, sizeof(float) * (size_t)HD) != 0 || m1 != m[i] || l1 != l[i];
      naive_attend(ref, q + (size_t)i * HD, k, v, stride, HD, tks[i], scale);
      for (int e = 0; e < HD; e++) worst = fmax(worst, fabs(ref[e] - acc[(size_t)i * HD + e] / l[i]));
    }
    /* in pairs (the K^T kernel scores two queries at once): each pair's
     * first and second query equal the query alone */
    for (int i = 0; i + 1 < NQ; i++) {
      float m2[2] = {-INFINITY, -INFINITY}, l2[2] = {0, 0}, *two = calloc((size_t)2 * HD, sizeof(float));
      skl_step_query q2[2] = {{q + (size_t)(i + 1) * HD, two, &m2[0], &l2[0], tks[i + 1]},
                              {q + (size_t)i * HD, two + HD, &m2[1], &l2[1], tks[i]}};
      attend(kt, k, v, stride, HD, scale, q2, 2);
      bad_bits += memcmp(two, acc + (size_t)(i + 1) * HD, sizeof(float) * (size_t)HD) != 0 ||
                  memcmp(two + HD, acc + (size_t)i * HD, sizeof(float) * (size_t)HD) != 0 || m2[0] != m[i + 1] ||
                  l2[0] != l[i + 1] || m2[1] != m[i] || l2[1] != l[i];
      free(two);
    }
    free(ref); free(k); free(v); free(q); free(acc); free(one); free(kt);
  }
  CHECK_MSG(bad_bits == 0, "attention%s: %d queries differ alone vs in a group", use_kt ? " (K^T)" : "", bad_bits);
  CHECK_MSG(worst < 2e-5, "attention%s vs double reference: %g", use_kt ? " (K^T)" : "", worst);
}

/* A parent range then an own range equals one range over both, to float
 * rounding (the decoder's prefix + slot split). */
static void test_attend_two_ranges(bool use_kt) {
  skl_rng r;
  skl_rng_seed(&r, 10);
  int HD = 32, P = 100, T = 37;
  float *k = rand_floats((size_t)(P + T) * HD, 1.0f, &r), *v = rand_floats((size_t)(P + T) * HD, 1.0f, &r);
  float *q = rand_floats((size_t)HD, 2.0f, &r), acc[32] = {0}, m = -INFINITY, l = 0;
  float *kt0 = use_kt ? kt_of(k, (size_t)HD, HD, P) : NULL, *kt1 = use_kt ? kt_of(k + (size_t)P * HD, (size_t)HD, HD, T) : NULL;
  skl_step_query qs = {q, acc, &m, &l, P};
  attend(kt0, k, v, (size_t)HD, HD, 0.2f, &qs, 1);
  qs.tk = T;
  attend(kt1, k + (size_t)P * HD, v + (size_t)P * HD, (size_t)HD, HD, 0.2f, &qs, 1);
  free(kt0);
  free(kt1);
  double ref[32], worst = 0;
  naive_attend(ref, q, k, v, (size_t)HD, HD, P + T, 0.2f);
  for (int e = 0; e < HD; e++) worst = fmax(worst, fabs(ref[e] - acc[e] / l));
  CHECK_MSG(worst < 2e-5, "two ranges vs one: %g", worst);
  free(k); free(v); free(q);
}

/* ---- through the decoder ---- */

enum { NS = 40, NX = 5, TMAX = 200 };

/* A model of arch with head_dim hd (hidden 40 and HD 10 exercise the
 * kernels' tails; hd 32 the unrolled attention). */
static int make_inv_model(skl_model *m, skl_arch arch, int hd, uint64_t seed) {
  skl_model_config c;
  tiny_config(&c, arch);
  c.vocab_size = 70;
  c.hidden_size = hd == 32 ? 64 : 40;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.head_dim = arch == SKL_ARCH_QWEN3 && hd != 32 ? 12 : hd;
  c.intermediate_size = 52;
  return make_model_cfg(m, &c, seed);
}

/* Slots 0..13 read prefix 0 (70 tokens: two key blocks), 14..19 prefix 1
 * (5 tokens), 20..39 hold private prompts of 1..130 tokens; then every
 * slot's next token alone, then in random batches of 2..40 (steps) and in
 * verify blocks of 1..5 rows per slot, each compared bit for bit. */
static void test_decoder_invariance(skl_arch arch, int hd) {
  skl_model m;
  if (!make_inv_model(&m, arch, hd, 60 + (uint64_t)arch + (uint64_t)hd)) { CHECK(0); return; }
  int V = m.cfg.vocab_size;
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, NS, TMAX, 2, 80, &err) == SKL_OK);
  if (!d) { skl_model_free(&m); return; }
  int32_t pre0[70], pre1[5], own[TMAX], nxt[NS][NX];
  gen_tokens(pre0, 70, V, 1);
  gen_tokens(pre1, 5, V, 2);
  CHECK(skl_decoder_prefill_prefix(d, 0, pre0, 70, NULL, &err) == SKL_OK);
  CHECK(skl_decoder_prefill_prefix(d, 1, pre1, 5, NULL, &err) == SKL_OK);
  int base[NS];
  for (int s = 0; s < NS; s++) {
    gen_tokens(own, TMAX, V, 100 + (uint64_t)s);
    gen_tokens(nxt[s], NX, V, 200 + (uint64_t)s);
    int n_own = s < 20 ? s % 4 : 1 + (s * 7) % 130;
    if (s < 20) CHECK(skl_decoder_attach(d, s, s < 14 ? 0 : 1, &err) == SKL_OK);
    if (n_own) CHECK(skl_decoder_prefill(d, s, own, n_own, NULL, &err) == SKL_OK);
    base[s] = n_own;
  }
  /* alone: every slot's NX next tokens, one step each, then rolled back */
  size_t VS = (size_t)V;
  float *alone = malloc(sizeof(float) * NS * NX * VS), *lg = malloc(sizeof(float) * NS * NX * VS);
  omp_set_num_threads(2);
  for (int s = 0; s < NS; s++) {
    for (int t = 0; t < NX; t++)
      CHECK(skl_decoder_step(d, 1, &s, &nxt[s][t], alone + ((size_t)s * NX + t) * VS, &err) == SKL_OK);
    CHECK(skl_decoder_truncate(d, s, base[s], &err) == SKL_OK);
  }
  skl_rng r;
  skl_rng_seed(&r, 11 + (uint64_t)arch);
  int bad_step = 0, bad_verify = 0, n_step = 0, n_verify = 0;
  const int sizes[] = {2, 3, 4, 5, 7, 8, 13, 16, 17, 24, 33, 40};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    int n = sizes[si], slots[NS], perm[NS], cnt[NS];
    for (int i = 0; i < NS; i++) perm[i] = i;
    for (int i = NS - 1; i > 0; i--) { /* a random subset in random order */
      int j = (int)skl_rng_below(&r, (uint64_t)i + 1), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    memcpy(slots, perm, sizeof(int) * (size_t)n);
    omp_set_num_threads(1 + (int)si % 3);
    /* a step of n rows */
    int32_t in[NS * NX];
    for (int i = 0; i < n; i++) in[i] = nxt[slots[i]][0];
    CHECK(skl_decoder_step(d, n, slots, in, lg, &err) == SKL_OK);
    for (int i = 0; i < n; i++) {
      bad_step += memcmp(lg + (size_t)i * VS, alone + (size_t)slots[i] * NX * VS, sizeof(float) * VS) != 0;
      n_step++;
      CHECK(skl_decoder_truncate(d, slots[i], base[slots[i]], &err) == SKL_OK);
    }
    /* an exact verify of 1..NX rows per slot */
    int rows = 0;
    for (int i = 0; i < n; i++) {
      cnt[i] = 1 + (int)skl_rng_below(&r, NX);
      memcpy(in + rows, nxt[slots[i]], sizeof(int32_t) * (size_t)cnt[i]);
      rows += cnt[i];
    }
    CHECK(skl_decoder_verify(d, n, slots, cnt, in, true, lg, NULL, &err) == SKL_OK);
    for (int i = 0, row = 0; i < n; row += cnt[i], i++) {
      for (int t = 0; t < cnt[i]; t++, n_verify++)
        bad_verify += memcmp(lg + (size_t)(row + t) * VS, alone + ((size_t)slots[i] * NX + t) * VS,
                             sizeof(float) * VS) != 0;
      CHECK(skl_decoder_truncate(d, slots[i], base[slots[i]], &err) == SKL_OK);
    }
  }
  omp_set_num_threads(2);
  CHECK_MSG(bad_step == 0 && bad_verify == 0,
            "%s hd %d: rows differ from the slot alone: %d of %d step rows, %d of %d verify rows",
            skl_arch_name(arch), hd, bad_step, n_step, bad_verify, n_verify);
  CHECK(n_step > 100 && n_verify > 300);
  /* and the steps are right, not only consistent: slot 25 vs the full forward */
  int s = 25;
  int32_t seq[TMAX];
  gen_tokens(own, TMAX, V, 100 + (uint64_t)s);
  memcpy(seq, own, sizeof(int32_t) * (size_t)base[s]);
  memcpy(seq + base[s], nxt[s], sizeof(int32_t) * NX);
  float *ref = full_logits(&m, seq, base[s] + NX);
  if (ref) {
    double w = max_diff(alone + (size_t)s * NX * VS, ref + (size_t)base[s] * VS, NX * V);
    CHECK_MSG(w <= TOL * 10, "%s hd %d: step vs full forward differ by %g", skl_arch_name(arch), hd, w);
  }
  free(ref);
  free(alone);
  free(lg);
  skl_decoder_free(d);
  skl_model_free(&m);
}

/* Greedy generation of one prompt alone and the same prompt as the second
 * of three prompts with 4 samples each (shared prefixes): same tokens. */
static void test_generate_batch_invariance(void) {
  skl_model m;
  if (!make_inv_model(&m, SKL_ARCH_QWEN2, 32, 77)) { CHECK(0); return; }
  int V = m.cfg.vocab_size;
  int32_t p0[30], p1[45], p2[9];
  gen_tokens(p0, 30, V, 1);
  gen_tokens(p1, 45, V, 2);
  gen_tokens(p2, 9, V, 3);
  skl_decoder *d = NULL;
  skl_error err = {0};
  CHECK(skl_decoder_init(&d, &m, 12, 40, 3, 45, &err) == SKL_OK);
  if (!d) { skl_model_free(&m); return; }
  const int32_t *one[1] = {p1}, *three[3] = {p0, p1, p2};
  int len1[1] = {45}, len3[3] = {30, 45, 9};
  skl_gen_request rq = {0};
  rq.n_prompts = 1;
  rq.prompts = one;
  rq.prompt_lens = len1;
  rq.group = 1;
  rq.shared_prefix = true;
  rq.max_new = 40;
  rq.sample = skl_sample_defaults();
  rq.sample.temperature = 0;
  skl_gen_output a = {0}, b = {0};
  CHECK(skl_generate(d, &rq, &a, &err) == SKL_OK);
  rq.n_prompts = 3;
  rq.prompts = three;
  rq.prompt_lens = len3;
  rq.group = 4;
  omp_set_num_threads(3);
  CHECK(skl_generate(d, &rq, &b, &err) == SKL_OK);
  omp_set_num_threads(2);
  int bad = 0;
  for (int g = 0; g < 4 && a.tokens && b.tokens; g++)
    bad += b.len[4 + g] != a.len[0] ||
           memcmp(b.tokens + (size_t)(4 + g) * 40, a.tokens, sizeof(int32_t) * (size_t)a.len[0]) != 0 ||
           memcmp(b.logp + (size_t)(4 + g) * 40, a.logp, sizeof(float) * (size_t)a.len[0]) != 0;
  CHECK_MSG(bad == 0, "greedy generate: %d of 4 samples differ from the prompt decoded alone", bad);
  skl_gen_output_free(&a);
  skl_gen_output_free(&b);
  skl_decoder_free(d);
  skl_model_free(&m);
}

int main(void) {
  test_linear();
  test_linear_segs();
  test_attend(false);
  test_attend(true);
  test_attend_two_ranges(false);
  test_attend_two_ranges(true);
  for (int a = SKL_ARCH_LLAMA; a <= SKL_ARCH_QWEN3; a++) {
    test_decoder_invariance((skl_arch)a, 10);
    test_decoder_invariance((skl_arch)a, 32);
  }
  test_generate_batch_invariance();
  printf("step kernels: %s\n", skl_step_isa());
  return test_report();
}
