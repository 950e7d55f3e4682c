/* Tests for decode/spec: speculative decoding with MTP heads. Greedy output
 * equals plain greedy token for token (llama, qwen2, qwen3; heads that are
 * almost always right, sometimes right, never right; batched, shared
 * prefix; stop ids, budgets and slot capacity inside accepted blocks); the
 * heads' incremental drafts equal a full skl_mtp forward over the same
 * tokens; sampled sequences follow the main model's exact distribution
 * (chi-square, with a control that the test can tell a small change);
 * errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/spec.h"
#include "decode_testutil.h"
#include "harness.h"
#include "model/checkpoint.h"

/* ---- models with heads of chosen quality -------------------------------------
 * mix scales every layer's residual writers (wo, w_down) of the main model:
 * 0 makes it a bigram model (x[L] = Emb(t)). Heads with eh_proj = [I | 0],
 * enorm = 1 and zero residual writers output u ~ Emb(t_{i+k}), so model.norm
 * and the head give the bigram's prediction of t_{i+k+1}: exactly the main
 * model's when mix = 0. hmix adds that much random weight back (1: random
 * heads). */
static int g_window; /* draft window of the speculative runs (0: whole prompt) */
static float g_min_prob; /* skl_spec_set_draft_min_prob of the speculative runs */

static void scale_tensor(float *mem, const skl_tensor_info *tab, int n, const char *suffix, float f) {
  for (int i = 0; i < n; i++) {
    size_t ls = strlen(tab[i].name), lx = strlen(suffix);
    if (ls >= lx && !strcmp(tab[i].name + ls - lx, suffix))
      for (size_t j = 0; j < tab[i].numel; j++) mem[tab[i].offset + j] *= f;
  }
}

static int make_pair(skl_model *m, skl_mtp_heads *h, skl_arch arch, int V, int K, float mix, float hmix,
                     uint64_t seed) {
  skl_model_config c;
  tiny_config(&c, arch);
  c.vocab_size = V;
  if (!make_model_cfg(m, &c, seed)) return 0;
  scale_tensor(m->param_mem, m->tensors, m->n_tensors, "o_proj.weight", mix);
  scale_tensor(m->param_mem, m->tensors, m->n_tensors, "down_proj.weight", mix);
  skl_error err = {0};
  if (skl_mtp_init(h, &m->cfg, K, &err)) { fprintf(stderr, "%s\n", err.msg); return 0; }
  skl_rng r;
  skl_rng_seed(&r, seed + 1000);
  skl_mtp_init_weights(h, &r, 0.25f);
  for (int i = 0; i < h->n_tensors; i++) /* norms around 1 so they matter */
    if (h->tensors[i].ndim == 1)
      for (size_t j = 0; j < h->tensors[i].numel; j++)
        h->param_mem[h->tensors[i].offset + j] = 1.0f + 0.3f * (float)skl_rng_normal(&r);
  if (hmix < 1.0f) {
    int C = c.hidden_size;
    for (int k = 0; k < K; k++) {
      skl_mtp_params *p = &h->p[k];
      for (int a = 0; a < C; a++) {
        p->enorm[a] = 1.0f + (p->enorm[a] - 1.0f) * hmix;
        for (int b = 0; b < 2 * C; b++) p->eh_proj[(size_t)a * 2 * C + b] *= hmix;
        p->eh_proj[(size_t)a * 2 * C + a] += 1.0f;
      }
    }
    scale_tensor(h->param_mem, h->tensors, h->n_tensors, "o_proj.weight", hmix);
    scale_tensor(h->param_mem, h->tensors, h->n_tensors, "down_proj.weight", hmix);
  }
  return 1;
}

/* ---- greedy == plain ---------------------------------------------------------- */

typedef struct {
  int n_prompts, group, max_new, T_max; /* T_max 0: prompt + max_new */
  bool shared;
  const int32_t *stop;
  int n_stop;
  float temperature;
} run_opts;


/* Run plain and speculative generation on the same request and decoder
 * sizes; @return mismatching samples (tokens, len, stopped or logp). */
static int compare_runs(skl_model *m, skl_mtp_heads *h, int K, int32_t **prompts, const int *plen, const run_opts *o,
                        uint64_t seed, skl_spec_stats *st_out, skl_gen_output *keep) {
  skl_error err = {0};
  int maxp = 0;
  for (int p = 0; p < o->n_prompts; p++) maxp = plen[p] > maxp ? plen[p] : maxp;
  int n = o->n_prompts * o->group;
  int T = o->T_max ? o->T_max : o->shared ? o->max_new : maxp + o->max_new;
  skl_gen_request rq = {0};
  rq.n_prompts = o->n_prompts;
  rq.prompts = (const int32_t *const *)prompts;
  rq.prompt_lens = plen;
  rq.group = o->group;
  rq.shared_prefix = o->shared;
  rq.max_new = o->max_new;
  rq.stop = o->stop;
  rq.n_stop = o->n_stop;
  rq.sample = skl_sample_defaults();
  rq.sample.temperature = o->temperature;
  rq.seed = seed;
  skl_decoder *d1 = NULL, *d2 = NULL;
  skl_spec *sp = NULL;
  skl_gen_output a = {0}, b = {0};
  int bad = n;
  int np = o->shared ? o->n_prompts : 0;
  if (skl_decoder_init(&d1, m, n, T, np, maxp, &err) || skl_decoder_init(&d2, m, n, T, np, maxp, &err) ||
      skl_spec_init(&sp, d2, h, K, &err) || (skl_spec_set_window(sp, g_window), 0) ||
      (skl_spec_set_draft_min_prob(sp, g_min_prob), 0) || skl_generate(d1, &rq, &a, &err) ||
      skl_generate_speculative(sp, &rq, &b, st_out, &err)) {
    fprintf(stderr, "compare_runs: %s\n", err.msg);
    goto out;
  }
  bad = 0;
  for (int i = 0; i < n; i++) {
    bool same = a.len[i] == b.len[i] && a.stopped[i] == b.stopped[i] &&
                !memcmp(a.tokens + (size_t)i * a.max_new, b.tokens + (size_t)i * b.max_new, sizeof(int32_t) * a.len[i]) &&
                !memcmp(a.logp + (size_t)i * a.max_new, b.logp + (size_t)i * b.max_new, sizeof(float) * a.len[i]);
    if (!same) {
      bad++;
      fprintf(stderr, "sample %d differs: plain len %d stopped %d, spec len %d stopped %d\n", i, a.len[i],
              a.stopped[i], b.len[i], b.stopped[i]);
    }
  }
  if (a.decode_tokens != b.decode_tokens) bad++;
  if (keep) { *keep = a; memset(&a, 0, sizeof a); }
out:
  skl_gen_output_free(&a);
  skl_gen_output_free(&b);
  skl_spec_free(sp);
  skl_decoder_free(d1);
  skl_decoder_free(d2);
  return bad;
}

static void gen_prompts(int32_t **pr, int *plen, int n, int V, uint64_t seed, int lo, int hi) {
  skl_rng r;
  skl_rng_seed(&r, seed);
  for (int p = 0; p < n; p++) {
    plen[p] = lo + (int)skl_rng_below(&r, (uint64_t)(hi - lo + 1));
    pr[p] = malloc(sizeof(int32_t) * (size_t)plen[p]);
    gen_tokens(pr[p], plen[p], V, seed * 31 + (uint64_t)p);
  }
}

static void free_prompts(int32_t **pr, int n) {
  for (int p = 0; p < n; p++) free(pr[p]);
}

/* >= 50 prompts per arch and head quality, separate and shared prefixes. */
static void test_greedy_identical(skl_arch arch) {
  const float mixes[3][2] = {{0.0f, 0.0f}, {0.1f, 0.1f}, {1.0f, 1.0f}};
  for (int q = 0; q < 3; q++) {
    skl_model m;
    skl_mtp_heads h;
    if (!make_pair(&m, &h, arch, 64, 3, mixes[q][0], mixes[q][1], 40 + (uint64_t)arch * 7 + (uint64_t)q)) {
      CHECK(0);
      return;
    }
    int prompts_run = 0, bad = 0;
    int64_t acc = 0, drafted = 0, drafted3 = 0;
    for (int rep = 0; rep < 4; rep++) {
      int32_t *pr[8];
      int plen[8];
      gen_prompts(pr, plen, 8, 64, 100 + (uint64_t)rep + 10 * (uint64_t)q, 1, 20);
      skl_spec_stats st;
      run_opts o = {.n_prompts = 8, .group = 1, .max_new = 24, .shared = false};
      bad += compare_runs(&m, &h, 3, pr, plen, &o, 5, &st, NULL);
      acc += st.accepted[0];
      drafted += st.drafted[0];
      drafted3 += st.drafted[2];
      prompts_run += 8;
      run_opts o2 = {.n_prompts = 3, .group = 3, .max_new = 24, .shared = true};
      bad += compare_runs(&m, &h, 3, pr, plen, &o2, 6, &st, NULL);
      prompts_run += 3;
      free_prompts(pr, 8);
    }
    double rate = drafted ? (double)acc / (double)drafted : 0;
    CHECK_MSG(bad == 0, "%s heads %d: %d greedy samples differ from plain decoding", skl_arch_name(arch), q, bad);
    CHECK(prompts_run >= 44);
    if (q == 0) CHECK_MSG(rate > 0.9, "%s: copy heads accept only %.3f", skl_arch_name(arch), rate);
    if (q == 1) CHECK_MSG(rate > 0.05 && rate < 0.995, "%s: partial heads accept %.3f", skl_arch_name(arch), rate);
    if (q == 2) CHECK_MSG(rate < 0.3, "%s: random heads accept %.3f", skl_arch_name(arch), rate);
    /* dynamic draft length: unsure (random) heads stop drafting early */
    if (q == 2 && g_min_prob > 0)
      CHECK_MSG(drafted3 < drafted / 2, "%s: min prob %.2f: head 3 drafted %lld of head 1's %lld rounds",
                skl_arch_name(arch), g_min_prob, (long long)drafted3, (long long)drafted);
    printf("%s heads %d: head-1 acceptance %.3f over %d prompts\n", skl_arch_name(arch), q, rate, prompts_run);
    skl_mtp_free(&h);
    skl_model_free(&m);
  }
}

/* Stop ids, budgets and slot capacity that fall inside accepted blocks. */
static void test_boundaries(void) {
  skl_model m;
  skl_mtp_heads h;
  if (!make_pair(&m, &h, SKL_ARCH_QWEN3, 64, 4, 0.0f, 0.0f, 77)) { CHECK(0); return; }
  int32_t *pr[2];
  int plen[2];
  gen_prompts(pr, plen, 2, 64, 9, 5, 12);
  /* plain output without stops: its tokens give stop ids at every offset */
  skl_gen_output ref = {0};
  run_opts o = {.n_prompts = 2, .group = 1, .max_new = 30};
  CHECK(compare_runs(&m, &h, 4, pr, plen, &o, 1, NULL, &ref) == 0);
  int bad = 0, stopped_mid = 0;
  for (int t = 0; t < 16 && ref.tokens; t++) {
    int32_t stop = ref.tokens[t];
    run_opts os = o;
    os.stop = &stop;
    os.n_stop = 1;
    skl_gen_output g = {0};
    bad += compare_runs(&m, &h, 4, pr, plen, &os, 1, NULL, &g);
    if (g.len) stopped_mid += g.stopped[0] && g.len[0] < 30;
    skl_gen_output_free(&g);
  }
  CHECK_MSG(bad == 0, "%d samples differ with stop ids", bad);
  CHECK(stopped_mid >= 8);
  /* every budget 1..12 */
  for (int M = 1; M <= 12; M++) {
    run_opts ob = o;
    ob.max_new = M;
    bad += compare_runs(&m, &h, 4, pr, plen, &ob, 1, NULL, NULL);
  }
  CHECK_MSG(bad == 0, "%d samples differ at small budgets", bad);
  /* slot capacity smaller than the budget (separate and shared prompts) */
  for (int T = 13; T <= 20; T++) {
    run_opts oc = o;
    oc.T_max = T;
    bad += compare_runs(&m, &h, 4, pr, plen, &oc, 1, NULL, NULL);
    run_opts od = {.n_prompts = 2, .group = 2, .max_new = 30, .shared = true, .T_max = T - 8};
    bad += compare_runs(&m, &h, 4, pr, plen, &od, 1, NULL, NULL);
  }
  CHECK_MSG(bad == 0, "%d samples differ at capacity limits", bad);
  /* fewer heads than trained */
  for (int K = 1; K <= 3; K++) bad += compare_runs(&m, &h, K, pr, plen, &o, 1, NULL, NULL);
  CHECK_MSG(bad == 0, "%d samples differ with K < trained heads", bad);
  skl_gen_output_free(&ref);
  free_prompts(pr, 2);
  skl_mtp_free(&h);
  skl_model_free(&m);
}

/* ---- incremental drafts == full forward ------------------------------------------ */

#define MAXREC 600
typedef struct {
  int seq, k, n;
  int32_t tok;
  float logits[64];
} rec_t;

typedef struct {
  rec_t *r;
  int n;
} recs_t;

static void on_draft(void *ctx, int seq, int k, int n, int32_t token, const float *logits) {
  recs_t *rs = ctx;
  if (rs->n >= MAXREC) return;
  rec_t *r = &rs->r[rs->n++];
  r->seq = seq;
  r->k = k;
  r->n = n;
  r->tok = token;
  memcpy(r->logits, logits, sizeof r->logits);
}

static void test_incremental_heads(skl_arch arch, bool shared, float temperature) {
  skl_model m;
  skl_mtp_heads h;
  int K = 3;
  if (!make_pair(&m, &h, arch, 64, K, 0.3f, 0.5f, 500 + (uint64_t)arch)) { CHECK(0); return; }
  int32_t *pr[2];
  int plen[2] = {2, 11}; /* shorter and longer than K */
  for (int p = 0; p < 2; p++) {
    pr[p] = malloc(sizeof(int32_t) * (size_t)plen[p]);
    gen_tokens(pr[p], plen[p], 64, 70 + (uint64_t)p);
  }
  int G = 2, n = 4, M = 20;
  skl_error err = {0};
  skl_gen_request rq = {0};
  rq.n_prompts = 2;
  rq.prompts = (const int32_t *const *)pr;
  rq.prompt_lens = plen;
  rq.group = G;
  rq.shared_prefix = shared;
  rq.max_new = M;
  rq.sample = skl_sample_defaults();
  rq.sample.temperature = temperature;
  rq.seed = 3;
  skl_decoder *d = NULL;
  skl_spec *sp = NULL;
  skl_gen_output out = {0};
  recs_t rs = {calloc(MAXREC, sizeof(rec_t)), 0};
  CHECK(skl_decoder_init(&d, &m, n, shared ? M : 11 + M, shared ? 2 : 0, 11, &err) == SKL_OK);
  CHECK(d && skl_spec_init(&sp, d, &h, K, &err) == SKL_OK);
  if (!sp) { skl_decoder_free(d); skl_mtp_free(&h); skl_model_free(&m); free(rs.r); free_prompts(pr, 2); return; }
  skl_spec_set_observer(sp, on_draft, &rs);
  CHECK_MSG(skl_generate_speculative(sp, &rq, &out, NULL, &err) == SKL_OK, "%s", err.msg);
  CHECK(rs.n > 20);
  skl_mtp_loss_config lc;
  skl_mtp_loss_defaults(&lc);
  const float *wout = m.p.lm_head ? m.p.lm_head : m.p.embed;
  int C = m.cfg.hidden_size, checked = 0;
  double worst = 0, scale = 0;
  for (int ri = 0; ri < rs.n; ri++) {
    const rec_t *r = &rs.r[ri];
    int i = r->seq, P = plen[i / G], T = r->n + r->k;
    int32_t *seq = malloc(sizeof(int32_t) * (size_t)T);
    memcpy(seq, pr[i / G], sizeof(int32_t) * (size_t)P);
    for (int j = P; j <= r->n; j++) seq[j] = out.tokens[(size_t)i * M + (j - P)];
    bool found = true;
    for (int kk = 1; kk < r->k; kk++) { /* this round's earlier drafts */
      found = false;
      for (int rj = 0; rj < rs.n; rj++)
        if (rs.r[rj].seq == i && rs.r[rj].n == r->n && rs.r[rj].k == kk) { seq[r->n + kk] = rs.r[rj].tok; found = true; }
      if (!found) break;
    }
    CHECK(found);
    skl_acts ma;
    skl_mtp_acts a;
    skl_mtp_batch b = {1, T, seq, NULL};
    if (!found || skl_acts_init(&ma, &m.cfg, 1, T, false, &err)) { free(seq); continue; }
    if (skl_mtp_acts_init(&a, &h.cfg, K, 1, T, lc.topn, &err)) { skl_acts_free(&ma); free(seq); continue; }
    if (skl_mtp_step(&h, &m, &ma, &a, &b, &lc, false, NULL, &err) == SKL_OK) {
      const float *lnf = a.lnf + ((size_t)(r->k - 1) * a.N + (size_t)(r->n - 1)) * C;
      for (int v = 0; v < 64; v++) {
        double z = 0;
        for (int c = 0; c < C; c++) z += (double)lnf[c] * wout[(size_t)v * C + c];
        worst = fmax(worst, fabs(z - r->logits[v]));
        scale = fmax(scale, fabs(z));
      }
      checked++;
    }
    skl_mtp_acts_free(&a);
    skl_acts_free(&ma);
    free(seq);
  }
  CHECK(checked == rs.n);
  CHECK_MSG(worst <= 1e-3 * fmax(1.0, scale), "%s shared=%d T=%g: incremental vs full head logits differ by %g (scale %g)",
            skl_arch_name(arch), shared, temperature, worst, scale);
  CHECK(scale > 0.1);
  skl_gen_output_free(&out);
  skl_spec_free(sp);
  skl_decoder_free(d);
  free(rs.r);
  free_prompts(pr, 2);
  skl_mtp_free(&h);
  skl_model_free(&m);
}

/* ---- sampling: distribution equals the main model's --------------------------------- */

/* Regularised upper incomplete gamma Q(a, x) (Numerical Recipes' series /
 * continued fraction), for chi-square p-values. */
static double gamma_q(double a, double x) {
  if (x <= 0) return 1.0;
  double gln = lgamma(a);
  if (x < a + 1) {
    double ap = a, sum = 1.0 / a, del = sum;
    for (int n = 0; n < 10000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (fabs(del) < fabs(sum) * 1e-15) break;
    }
    return 1.0 - sum * exp(-x + a * log(x) - gln);
  }
  double b = x + 1 - a, c = 1e300, d = 1 / b, hh = d;
  for (int i = 1; i < 10000; i++) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (fabs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (fabs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    double del = d * c;
    hh *= del;
    if (fabs(del - 1) < 1e-15) break;
  }
  return exp(-x + a * log(x) - gln) * hh;
}

/* p-value of counts[ncell] against probabilities prob[ncell] (N samples);
 * cells expected below 5 are pooled. */
static double chi2_pvalue(const int64_t *counts, const double *prob, int ncell, int64_t N, int *df_out) {
  double chi = 0, pool_e = 0, pool_o = 0;
  int bins = 0;
  for (int c = 0; c < ncell; c++) {
    double e = prob[c] * (double)N;
    if (e < 5) { pool_e += e; pool_o += (double)counts[c]; continue; }
    chi += ((double)counts[c] - e) * ((double)counts[c] - e) / e;
    bins++;
  }
  if (pool_e > 0) {
    chi += (pool_o - pool_e) * (pool_o - pool_e) / fmax(pool_e, 1e-9);
    bins++;
  }
  *df_out = bins - 1;
  return gamma_q((bins - 1) / 2.0, chi / 2.0);
}

/* Exact probabilities of every M-token continuation under plain sampling
 * (V^M cells, id-major), from the full forward. */
static void exact_dist(skl_model *m, const int32_t *prompt, int P, int M, const skl_sample_params *sp, double *prob) {
  int V = m->cfg.vocab_size, cells = 1;
  for (int t = 0; t < M; t++) cells *= V;
  int32_t *seq = malloc(sizeof(int32_t) * (size_t)(P + M));
  float *pd = malloc(sizeof(float) * V);
  skl_sampler smp;
  skl_error err = {0};
  skl_sampler_init(&smp, V, &err);
  memcpy(seq, prompt, sizeof(int32_t) * P);
  for (int c = 0; c < cells; c += V) { /* one forward per (M-1)-prefix covers its V continuations */
    int rest = c;
    for (int t = M - 1; t >= 0; t--) { seq[P + t] = rest % V; rest /= V; }
    float *lg = full_logits(m, seq, P + M - 1);
    double pre = 1;
    for (int t = 0; t < M - 1; t++) {
      skl_sample_dist(&smp, lg + (size_t)(P - 1 + t) * V, sp, pd);
      pre *= pd[seq[P + t]];
    }
    skl_sample_dist(&smp, lg + (size_t)(P + M - 2) * V, sp, pd);
    for (int v = 0; v < V; v++) prob[c + v] = pre * pd[v];
    free(lg);
  }
  skl_sampler_free(&smp);
  free(pd);
  free(seq);
}

static void test_sampling_distribution(float min_prob) {
  enum { V = 4, M = 5, G = 64, CALLS = 200, CELLS = 1024 };
  skl_model m;
  skl_mtp_heads h;
  int K = 3;
  if (!make_pair(&m, &h, SKL_ARCH_LLAMA, V, K, 0.5f, 0.5f, 901)) { CHECK(0); return; }
  int32_t prompt[6] = {1, 3, 0, 2, 2, 1};
  const int32_t *prompts[1] = {prompt};
  int plen[1] = {6};
  const skl_sample_params variants[3] = {{1.0f, 0, 1.0f}, {0.7f, 3, 1.0f}, {1.3f, 0, 0.8f}};
  double *prob = malloc(sizeof(double) * CELLS), *wrong = malloc(sizeof(double) * CELLS);
  int64_t *cs = calloc(CELLS, sizeof(int64_t)), *cp = calloc(CELLS, sizeof(int64_t));
  skl_error err = {0};
  skl_decoder *d1 = NULL, *d2 = NULL;
  skl_spec *sp = NULL;
  CHECK(skl_decoder_init(&d1, &m, G, M, 1, 6, &err) == SKL_OK);
  CHECK(skl_decoder_init(&d2, &m, G, M, 1, 6, &err) == SKL_OK);
  CHECK(d2 && skl_spec_init(&sp, d2, &h, K, &err) == SKL_OK);
  if (sp) skl_spec_set_draft_min_prob(sp, min_prob);
  for (int vi = 0; vi < 3 && sp && d1; vi++) {
    exact_dist(&m, prompt, 6, M, &variants[vi], prob);
    skl_sample_params hot = variants[vi];
    hot.temperature *= 1.15f;
    exact_dist(&m, prompt, 6, M, &hot, wrong);
    memset(cs, 0, sizeof(int64_t) * CELLS);
    memset(cp, 0, sizeof(int64_t) * CELLS);
    skl_spec_stats tot;
    memset(&tot, 0, sizeof tot);
    for (int call = 0; call < CALLS; call++) {
      skl_gen_request rq = {0};
      rq.n_prompts = 1;
      rq.prompts = prompts;
      rq.prompt_lens = plen;
      rq.group = G;
      rq.shared_prefix = true;
      rq.max_new = M;
      rq.sample = variants[vi];
      rq.seed = 1000 * (uint64_t)vi + (uint64_t)call;
      skl_gen_output a = {0}, b = {0};
      skl_spec_stats st;
      if (skl_generate(d1, &rq, &a, &err) || skl_generate_speculative(sp, &rq, &b, &st, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        break;
      }
      for (int k = 0; k < K; k++) {
        tot.reached[k] += st.reached[k];
        tot.accepted[k] += st.accepted[k];
        tot.drafted[k] += st.drafted[k];
      }
      for (int i = 0; i < G; i++) {
        int ca = 0, cb = 0;
        for (int t = 0; t < M; t++) {
          ca = ca * V + a.tokens[(size_t)i * M + t];
          cb = cb * V + b.tokens[(size_t)i * M + t];
        }
        cp[ca]++;
        cs[cb]++;
        if (a.len[i] != M || b.len[i] != M) CHECK(0);
      }
      skl_gen_output_free(&a);
      skl_gen_output_free(&b);
    }
    int64_t N = (int64_t)G * CALLS;
    int df1, df2, df3;
    double p_spec = chi2_pvalue(cs, prob, CELLS, N, &df1), p_plain = chi2_pvalue(cp, prob, CELLS, N, &df2),
           p_wrong = chi2_pvalue(cs, wrong, CELLS, N, &df3);
    double acc1 = tot.reached[0] ? (double)tot.accepted[0] / tot.reached[0] : 0;
    printf("sampling T=%.2f top_k=%d top_p=%.2f min_prob %.2f: chi-square p = %.4f (spec, df %d), %.4f (plain, "
           "df %d), %.2g (spec vs T x1.15, df %d); head acceptance %.3f %.3f %.3f; drafted %lld %lld %lld\n",
           variants[vi].temperature, variants[vi].top_k, variants[vi].top_p, min_prob, p_spec, df1, p_plain, df2, p_wrong, df3,
           acc1, tot.reached[1] ? (double)tot.accepted[1] / tot.reached[1] : 0,
           tot.reached[2] ? (double)tot.accepted[2] / tot.reached[2] : 0, (long long)tot.drafted[0],
           (long long)tot.drafted[1], (long long)tot.drafted[2]);
    /* with a min prob, rounds stop early: head 3 drafts in far fewer
     * rounds than head 1 (without, the budget alone cuts few) */
    if (min_prob > 0)
      CHECK_MSG(tot.drafted[2] < tot.drafted[0] / 2, "min prob %.2f: head 3 drafted %lld of head 1's %lld rounds",
                min_prob, (long long)tot.drafted[2], (long long)tot.drafted[0]);
    CHECK_MSG(p_spec > 1e-3, "speculative samples differ from the model's distribution: p = %g", p_spec);
    CHECK_MSG(p_plain > 1e-3, "plain samples differ from the exact distribution: p = %g (reference broken?)", p_plain);
    CHECK_MSG(p_wrong < 1e-6, "the test cannot tell a 15%% temperature change: p = %g", p_wrong);
    /* both accepts and rejects happened, at every head */
    for (int k = 0; k < K; k++)
      CHECK_MSG(tot.reached[k] > 100 && tot.accepted[k] > 0.1 * tot.reached[k] && tot.accepted[k] < 0.95 * tot.reached[k],
                "head %d: %lld of %lld accepted", k + 1, (long long)tot.accepted[k], (long long)tot.reached[k]);
  }
  skl_spec_free(sp);
  skl_decoder_free(d1);
  skl_decoder_free(d2);
  free(prob);
  free(wrong);
  free(cs);
  free(cp);
  skl_mtp_free(&h);
  skl_model_free(&m);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_errors(void) {
  skl_model m;
  skl_mtp_heads h;
  if (!make_pair(&m, &h, SKL_ARCH_QWEN2, 64, 2, 1.0f, 1.0f, 3)) { CHECK(0); return; }
  skl_error err = {0};
  skl_decoder *d = NULL;
  skl_spec *sp = NULL;
  CHECK(skl_decoder_init(&d, &m, 2, 40, 1, 20, &err) == SKL_OK);
  CHECK(skl_spec_init(&sp, d, &h, 3, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "speculative decoding with 3 heads: the model has 2 trained MTP heads");
  CHECK_CONTAINS(err.msg, "mtp extend --to 3");
  CHECK(sp == NULL);
  CHECK(skl_spec_init(&sp, d, &h, 0, &err) == SKL_ERR_RANGE);
  /* heads of another model */
  skl_model_config other = m.cfg;
  other.intermediate_size = 40;
  skl_mtp_heads h2;
  CHECK(skl_mtp_init(&h2, &other, 2, &err) == SKL_OK);
  CHECK(skl_spec_init(&sp, d, &h2, 2, &err) == SKL_ERR_INVALID);
  CHECK_CONTAINS(err.msg, "made for another model");
  skl_mtp_free(&h2);
  /* bad requests */
  CHECK(skl_spec_init(&sp, d, &h, 2, &err) == SKL_OK);
  int32_t pr[3] = {1, 2, 3}, bad_tok[2] = {1, 64};
  const int32_t *prompts[1] = {pr};
  int plen[1] = {3};
  skl_gen_request rq = {.n_prompts = 1, .prompts = prompts, .prompt_lens = plen, .group = 3, .max_new = 5,
                        .sample = skl_sample_defaults()};
  skl_gen_output o;
  CHECK(skl_generate_speculative(sp, &rq, &o, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "exceed the decoder's 2 slots");
  CHECK(o.tokens == NULL);
  rq.group = 1;
  rq.max_new = 0;
  CHECK(skl_generate_speculative(sp, &rq, &o, NULL, &err) == SKL_ERR_RANGE);
  rq.max_new = 5;
  rq.sample.top_p = 0;
  CHECK(skl_generate_speculative(sp, &rq, &o, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "--top-p");
  rq.sample.top_p = 1;
  const int32_t *bp[1] = {bad_tok};
  int bl[1] = {2};
  rq.prompts = bp;
  rq.prompt_lens = bl;
  CHECK(skl_generate_speculative(sp, &rq, &o, NULL, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "id 64 outside the vocabulary");
  skl_spec_free(sp);
  /* model directories: without heads, fewer heads than asked */
  char dir[] = "/tmp/skl_test_spec_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char bare[300], with[300];
  snprintf(bare, sizeof bare, "%s/bare", dir);
  snprintf(with, sizeof with, "%s/with", dir);
  CHECK(skl_ckpt_save_model(&m, bare, SKL_DTYPE_F32, NULL, &err) == SKL_OK);
  CHECK(skl_mtp_save_model(&m, &h, with, SKL_DTYPE_F32, NULL, &err) == SKL_OK);
  skl_model mb;
  CHECK(skl_ckpt_load_model(&mb, bare, false, &err) == SKL_OK);
  CHECK(skl_spec_load_heads(&h2, bare, &mb.cfg, 2, &err) == SKL_ERR_NOTFOUND);
  CHECK_CONTAINS(err.msg, "speculative decoding needs MTP heads");
  CHECK_CONTAINS(err.msg, "no MTP heads");
  CHECK_CONTAINS(err.msg, "mtp train");
  skl_model_free(&mb);
  CHECK(skl_ckpt_load_model(&mb, with, false, &err) == SKL_OK);
  CHECK(skl_spec_load_heads(&h2, with, &mb.cfg, 3, &err) == SKL_ERR_RANGE);
  CHECK_CONTAINS(err.msg, "has 2 trained MTP heads; use at most 2");
  CHECK(skl_spec_load_heads(&h2, with, &mb.cfg, 2, &err) == SKL_OK);
  CHECK(h2.K == 2);
  skl_mtp_free(&h2);
  skl_model_free(&mb);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
  skl_decoder_free(d);
  skl_mtp_free(&h);
  skl_model_free(&m);
}

int main(void) {
  test_errors();
  for (int a = 0; a < 3; a++) test_greedy_identical((skl_arch)a);
  test_boundaries();
  g_window = 4; /* drafts see 4 prompt rows: other drafts, the same output */
  test_greedy_identical(SKL_ARCH_QWEN3);
  test_boundaries();
  g_window = 0;
  test_incremental_heads(SKL_ARCH_LLAMA, true, 0.0f);
  test_incremental_heads(SKL_ARCH_QWEN3, false, 0.0f);
  test_incremental_heads(SKL_ARCH_QWEN2, true, 1.0f);
  test_sampling_distribution(0.0f);
  g_min_prob = 0.5f; /* dynamic draft length: the same greedy tokens, the same distribution */
  test_greedy_identical(SKL_ARCH_LLAMA);
  test_boundaries();
  g_min_prob = 0;
  test_sampling_distribution(0.5f);
  return test_report();
}
