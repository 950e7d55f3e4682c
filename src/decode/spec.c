/* skl spec: speculative generation with MTP heads: the heads' caches, the
 * draft / verify / accept rounds over a batch of sequences. Not the cached
 * main forward (decode.c) nor the head block's maths (model/block.c via
 * mtp/rows.c; head_forward_step is its step-kernel twin). */
#include "decode/spec.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "decode/step_kernels.h"
#include "model/layers.h"
#include "sys/sys.h"

struct skl_spec {
  skl_decoder *d;
  const skl_model *m;
  const skl_mtp_heads *h;
  int K, C, V, QD, KD, NH;
  int n_slots, T_max, n_prefix, P_max;
  int W;              /* ring rows per depth: > the most rows one round reads */
  int R;              /* head rows per forward */
  skl_kv_cache kv;    /* heads' K/V: "layer" k-1 is head k; regions as the decoder's */
  float *ring;        /* [n_slots, K, W, C] depth t (h^t, t < K) of position j at row j % W */
  skl_mtp_rows rows;  /* head forward scratch, R rows */
  int32_t *rtok, *rpos; /* [R] */
  float *hprev, *hout;  /* [R, C] */
  float *att2, *lse, *lse2; /* [R, QD], [NH, R], [NH, R] */
  float *lnf;         /* [n_slots, C] */
  float *cat;         /* [R, 2C] the drafts' [norm(emb), norm(h)] rows */
  skl_step_query *queries; /* [2 * R * NH] draft attention plan */
  int *task;          /* [2 * R * NKV, 5] region, kv head, first query, queries, first key row */
  int window;         /* heads attend at most this many prompt rows back (0: all) */
  float draft_min_prob; /* a round's drafting stops after a draft the head gave less (0: off) */
  char *mark;         /* [R] */
  float *attn_work;
  size_t attn_work_floats;
  skl_spec_draft_fn observe;
  void *observe_ctx;
};

/* ---- stats ---------------------------------------------------------------- */

double skl_spec_acceptance(const skl_spec_stats *st, int k) {
  if (k < 1 || k > st->K || !st->reached[k - 1]) return 0.0;
  return (double)st->accepted[k - 1] / (double)st->reached[k - 1];
}

double skl_spec_cumulative(const skl_spec_stats *st, int k) {
  if (k < 1 || k > st->K || !st->drafted[k - 1]) return 0.0;
  return (double)st->accepted[k - 1] / (double)st->drafted[k - 1];
}

double skl_spec_mean_accepted(const skl_spec_stats *st) {
  return st->rounds ? (double)st->accepted_total / (double)st->rounds : 0.0;
}

/* ---- setup ------------------------------------------------------------------ */

skl_status skl_spec_load_heads(skl_mtp_heads *h, const char *dir, const skl_model_config *cfg, int K,
                               skl_error *err) {
  memset(h, 0, sizeof *h);
  if (K < 1)
    return skl_error_set(err, SKL_ERR_RANGE, "speculative decoding with %d heads: use at least 1", K);
  skl_status s = skl_mtp_load(h, dir, cfg, err);
  if (s) return skl_error_prefix(err, "speculative decoding needs MTP heads");
  if (K > h->K) {
    int have = h->K;
    skl_mtp_free(h);
    return skl_error_set(err, SKL_ERR_RANGE,
                         "speculative decoding with %d heads: %s has %d trained MTP heads; use at most %d, or add "
                         "heads with 'skillrl mtp extend --model %s --to %d ...'",
                         K, dir, have, have, dir, K);
  }
  return SKL_OK;
}

void skl_spec_free(skl_spec *s) {
  if (!s) return;
  skl_kv_cache_free(&s->kv);
  skl_mtp_rows_free(&s->rows);
  free(s->ring);
  free(s->rtok);
  free(s->rpos);
  free(s->hprev);
  free(s->hout);
  free(s->att2);
  free(s->lse);
  free(s->lse2);
  free(s->lnf);
  free(s->cat);
  free(s->queries);
  free(s->task);
  free(s->mark);
  free(s->attn_work);
  free(s);
}

void skl_spec_set_window(skl_spec *s, int window) { s->window = window > 0 ? window : 0; }

void skl_spec_set_draft_min_prob(skl_spec *s, float p) { s->draft_min_prob = p > 0 ? p : 0.0f; }

void skl_spec_set_observer(skl_spec *s, skl_spec_draft_fn fn, void *ctx) {
  s->observe = fn;
  s->observe_ctx = ctx;
}

skl_status skl_spec_init(skl_spec **out, skl_decoder *d, const skl_mtp_heads *h, int K, skl_error *err) {
  *out = NULL;
  const skl_model *m = skl_decoder_model(d);
  const skl_model_config *mc = &m->cfg, *hc = &h->cfg;
  if (K < 1 || K > h->K)
    return skl_error_set(err, SKL_ERR_RANGE,
                         "speculative decoding with %d heads: the model has %d trained MTP heads; use 1..%d, or add "
                         "heads with 'skillrl mtp extend --to %d'",
                         K, h->K, h->K, K);
  if (mc->hidden_size != hc->hidden_size || mc->vocab_size != hc->vocab_size || mc->n_heads != hc->n_heads ||
      mc->n_kv_heads != hc->n_kv_heads || mc->head_dim != hc->head_dim ||
      mc->intermediate_size != hc->intermediate_size || mc->qk_norm != hc->qk_norm || mc->qkv_bias != hc->qkv_bias)
    return skl_error_set(err, SKL_ERR_INVALID,
                         "speculative decoding: the MTP heads were made for another model (hidden %d, vocab %d, "
                         "heads %d/%d x %d, ff %d) than the decoder's (hidden %d, vocab %d, heads %d/%d x %d, ff %d); "
                         "train heads for this model with 'skillrl mtp train'",
                         hc->hidden_size, hc->vocab_size, hc->n_heads, hc->n_kv_heads, hc->head_dim,
                         hc->intermediate_size, mc->hidden_size, mc->vocab_size, mc->n_heads, mc->n_kv_heads,
                         mc->head_dim, mc->intermediate_size);
  const skl_kv_cache *dkv = skl_decoder_cache(d);
  skl_spec *s = calloc(1, sizeof *s);
  if (!s) return skl_error_set(err, SKL_ERR_NOMEM, "speculative decoding: out of memory");
  s->d = d;
  s->m = m;
  s->h = h;
  s->K = K;
  s->C = mc->hidden_size;
  s->V = mc->vocab_size;
  s->NH = mc->n_heads;
  s->QD = mc->n_heads * mc->head_dim;
  s->KD = mc->n_kv_heads * mc->head_dim;
  s->n_slots = dkv->n_slots;
  s->T_max = dkv->T_max;
  s->n_prefix = dkv->n_prefix;
  s->P_max = dkv->P_max;
  s->W = K + 3;
  s->window = SKL_SPEC_WINDOW_DEFAULT;
  s->R = s->n_slots * (K + 1) > 128 ? s->n_slots * (K + 1) : 128;
  skl_model_config kc = *mc;
  kc.n_layers = K;
  skl_status st = skl_kv_cache_init(&s->kv, &kc, s->n_slots, s->T_max + K + 1, s->n_prefix, s->P_max, err);
  if (st) {
    free(s);
    return skl_error_prefix(err, "speculative decoding: heads' cache");
  }
  if ((st = skl_mtp_rows_init(&s->rows, hc, s->R, err))) {
    skl_spec_free(s);
    return st;
  }
  size_t R = (size_t)s->R, C = (size_t)s->C;
  s->ring = malloc(sizeof(float) * (size_t)s->n_slots * K * s->W * C);
  s->rtok = malloc(sizeof(int32_t) * R);
  s->rpos = malloc(sizeof(int32_t) * R);
  s->hprev = malloc(sizeof(float) * R * C);
  s->hout = malloc(sizeof(float) * R * C);
  s->att2 = malloc(sizeof(float) * R * s->QD);
  s->lse = malloc(sizeof(float) * R * s->NH);
  s->lse2 = malloc(sizeof(float) * R * s->NH);
  s->lnf = malloc(sizeof(float) * (size_t)s->n_slots * C);
  s->cat = malloc(sizeof(float) * R * 2 * C);
  s->queries = malloc(sizeof *s->queries * 2 * R * (size_t)s->NH);
  s->task = malloc(sizeof *s->task * 10 * R * (size_t)mc->n_kv_heads);
  s->mark = malloc(R);
  s->attn_work_floats = skl_attn_work_floats(omp_get_max_threads());
  s->attn_work = malloc(sizeof(float) * s->attn_work_floats);
  if (!s->attn_work) s->attn_work_floats = 0;
  if (!s->ring || !s->rtok || !s->rpos || !s->hprev || !s->hout || !s->att2 || !s->lse || !s->lse2 || !s->lnf ||
      !s->cat || !s->queries || !s->task || !s->mark) {
    skl_spec_free(s);
    return skl_error_set(err, SKL_ERR_NOMEM, "speculative decoding: cannot allocate the heads' scratch");
  }
  *out = s;
  return SKL_OK;
}

/* ---- head forward over cached rows ---------------------------------------------- */

/* Rows [row0, row0+n) of one head forward: positions j0..j0+n-1 of a
 * region whose rows are stored from position `base` on (local row j - base),
 * after `base` rows in region `par` (-1: none). The rows attend positions
 * lo..j (lo > 0: the draft window cut the prompt's start). */
typedef struct {
  int region, par, base, j0, n, row0, lo;
} hgroup;

static float *ring_row(const skl_spec *s, int slot, int depth, int j) {
  return s->ring + (((size_t)slot * s->K + depth) * s->W + (size_t)(j % s->W)) * s->C;
}

/* The heads' cached attention of one head forward over ng groups (the
 * block's attention callback): appends the rows' K/V to head k's cache,
 * then each group's queries attend its own rows (and its parent's). */
typedef struct {
  skl_spec *s;
  int k, ng;
  const hgroup *g;
} head_attn;

static void head_attention(void *ctx, const skl_block_acts *ba, int N) {
  const head_attn *t = ctx;
  skl_spec *s = t->s;
  const skl_model_config *c = &s->h->cfg;
  int k = t->k;
  (void)N;
  skl_attn_shape sh = {0};
  sh.NH = c->n_heads;
  sh.NKV = c->n_kv_heads;
  sh.HD = c->head_dim;
  sh.scale = 1.0f / sqrtf((float)c->head_dim);
  sh.q_stride = sh.o_stride = (size_t)s->QD;
  sh.k_stride = sh.v_stride = (size_t)s->KD;
  sh.work = s->attn_work;
  sh.work_floats = s->attn_work_floats;
  size_t KD = (size_t)s->KD, QD = (size_t)s->QD;
  for (int gi = 0; gi < t->ng; gi++) {
    const hgroup *q = &t->g[gi];
    int local = q->j0 - q->base;
    float *kc = skl_kv_cache_k(&s->kv, q->region, k - 1), *vc = skl_kv_cache_v(&s->kv, q->region, k - 1);
    memcpy(kc + (size_t)local * KD, ba->k + (size_t)q->row0 * KD, sizeof(float) * (size_t)q->n * KD);
    memcpy(vc + (size_t)local * KD, ba->v + (size_t)q->row0 * KD, sizeof(float) * (size_t)q->n * KD);
    int o0 = q->lo > q->base ? q->lo - q->base : 0; /* first own row attended */
    skl_attn_shape a = sh;
    a.Tq = q->n;
    a.Tk = local + q->n - o0;
    a.q_off = q->j0;
    a.k_off = q->base + o0;
    float *att = ba->att + (size_t)q->row0 * QD;
    const float *qr = ba->q + (size_t)q->row0 * QD;
    skl_attn_forward(att, s->lse, qr, kc + (size_t)o0 * KD, vc + (size_t)o0 * KD, &a);
    if (q->par >= 0 && q->base > q->lo) {
      skl_attn_shape b = a;
      b.Tk = q->base - q->lo;
      b.k_off = q->lo;
      skl_attn_forward(s->att2, s->lse2, qr, skl_kv_cache_k(&s->kv, q->par, k - 1) + (size_t)q->lo * KD,
                       skl_kv_cache_v(&s->kv, q->par, k - 1) + (size_t)q->lo * KD, &b);
      skl_attn_merge(att, s->lse, s->att2, s->lse2, &a);
    }
  }
}

/* Head k over the rows of ng groups (inputs in s->rtok, s->rpos, s->hprev):
 * the MTP block (mtp/rows.c) with the cached attention above; appends the
 * rows' K/V to the heads' cache and writes h^k into s->hout. */
static void head_forward(skl_spec *s, int k, const hgroup *g, int ng, int nrows) {
  head_attn t = {s, k, ng, g};
  skl_block_attn at = {head_attention, NULL, &t};
  skl_mtp_rows_forward(s->h, k, s->m->p.embed, nrows, s->rtok, s->hprev, s->rpos, &s->rows, s->hout, &at);
}

/* Head k over the few rows of a draft round, on the decoder's step
 * kernels (model/block.c's math: same formulas; weights read once for all
 * rows, each row's arithmetic independent of the others, so a draft does
 * not depend on which sequences draft with it). Attention: rows of groups
 * sharing a parent read its K/V once (one task per kv head), then each
 * group its own rows. Inputs s->rtok, s->rpos, s->hprev; appends the rows'
 * K/V to the heads' cache and writes h^k into s->hout. */
static void head_forward_step(skl_spec *s, int k, const hgroup *g, int ng, int n) {
  const skl_model_config *c = &s->h->cfg;
  const skl_mtp_params *p = &s->h->p[k - 1];
  skl_mtp_rows *r = &s->rows;
  int C = c->hidden_size, NH = c->n_heads, NKV = c->n_kv_heads, HD = c->head_dim, QD = s->QD, KD = s->KD,
      FF = c->intermediate_size, grp = NH / NKV;
  float eps = c->rms_eps;
  /* input: x = eh_proj @ [norm(embed[t]); norm(h)] */
  skl_embed_forward(r->emb, s->rtok, s->m->p.embed, n, C);
  for (int i = 0; i < n; i++) {
    skl_rmsnorm_forward(s->cat + (size_t)i * 2 * C, NULL, r->emb + (size_t)i * C, p->enorm, 1, C, eps);
    skl_rmsnorm_forward(s->cat + (size_t)i * 2 * C + C, NULL, s->hprev + (size_t)i * C, p->hnorm, 1, C, eps);
  }
  skl_step_linear(r->x, s->cat, p->eh_proj, NULL, n, 2 * C, C, false);
  /* q, k, v */
  skl_rmsnorm_forward(r->blk.ln1, NULL, r->x, p->attn_norm, n, C, eps);
  float *qd = c->qk_norm ? r->blk.qraw : r->blk.q, *kd = c->qk_norm ? r->blk.kraw : r->blk.k;
  skl_step_seg qkv[3] = {{p->wq, p->bq, qd, (size_t)QD, QD}, {p->wk, p->bk, kd, (size_t)KD, KD},
                         {p->wv, p->bv, r->blk.v, (size_t)KD, KD}};
  skl_step_linear_segs(r->blk.ln1, (size_t)C, n, C, qkv, 3, false);
  if (c->qk_norm) {
    skl_rmsnorm_forward(r->blk.q, NULL, qd, p->q_norm, n * NH, HD, eps);
    skl_rmsnorm_forward(r->blk.k, NULL, kd, p->k_norm, n * NKV, HD, eps);
  }
  skl_rope_table(r->rope, s->rpos, n, s->h->inv_freq, s->h->rope_attn_factor, HD);
  skl_rope_forward(r->blk.q, r->rope, n, NH, HD, (size_t)QD);
  skl_rope_forward(r->blk.k, r->rope, n, NKV, HD, (size_t)KD);
  for (int gi = 0; gi < ng; gi++) {
    const hgroup *q = &g[gi];
    int local = q->j0 - q->base;
    memcpy(skl_kv_cache_k(&s->kv, q->region, k - 1) + (size_t)local * KD, r->blk.k + (size_t)q->row0 * KD,
           sizeof(float) * (size_t)q->n * KD);
    memcpy(skl_kv_cache_v(&s->kv, q->region, k - 1) + (size_t)local * KD, r->blk.v + (size_t)q->row0 * KD,
           sizeof(float) * (size_t)q->n * KD);
  }
  /* attention plan: phase 0 parents (rows of all groups reading one), phase 1 own rows */
  memset(r->blk.att, 0, sizeof(float) * (size_t)n * QD);
  for (int i = 0; i < n * NH; i++) {
    s->lse[i] = -INFINITY;
    s->lse2[i] = 0.0f;
  }
  int nq = 0, nt = 0, ph_end[2];
  for (int ph = 0; ph < 2; ph++) {
    memset(s->mark, 0, (size_t)ng);
    for (int gi = 0; gi < ng; gi++) {
      const hgroup *q0 = &g[gi];
      /* phase 0: parent rows [lo, base), shared by groups of one parent and lo;
       * phase 1: own rows from o0 = max(lo - base, 0) */
      int key = ph == 0 ? (q0->par >= 0 && q0->base > q0->lo ? q0->par : -1) : q0->region;
      if (key < 0 || s->mark[gi]) continue;
      int first = ph == 0 ? q0->lo : (q0->lo > q0->base ? q0->lo - q0->base : 0);
      for (int kh = 0; kh < NKV; kh++) {
        int *t = s->task + 5 * (size_t)nt++;
        t[0] = key;
        t[1] = kh;
        t[2] = nq;
        t[4] = first;
        for (int gj = gi; gj < ng; gj++) {
          const hgroup *q = &g[gj];
          if (ph == 0 ? !(q->par == key && q->base > q->lo && q->lo == q0->lo) : gj != gi) continue;
          s->mark[gj] = 1;
          for (int i = 0; i < q->n; i++)
            for (int h = kh * grp; h < (kh + 1) * grp; h++) {
              size_t row = (size_t)q->row0 + i, sh = row * NH + h;
              s->queries[nq++] = (skl_step_query){r->blk.q + row * QD + (size_t)h * HD, r->blk.att + row * QD + (size_t)h * HD,
                                                  &s->lse[sh], &s->lse2[sh],
                                                  ph == 0 ? q->base - q->lo : q->j0 - q->base + i + 1 - first};
            }
        }
        t[3] = nq - t[2];
      }
    }
    ph_end[ph] = nt;
  }
  float scale = 1.0f / sqrtf((float)HD);
  for (int ph = 0; ph < 2; ph++) {
    int t0 = ph ? ph_end[0] : 0, t1 = ph_end[ph];
#pragma omp parallel for schedule(dynamic, 1) if (t1 - t0 > 1)
    for (int t = t0; t < t1; t++) {
      const int *tk = s->task + 5 * (size_t)t;
      size_t off = (size_t)tk[4] * KD + (size_t)tk[1] * HD;
      skl_step_attend(skl_kv_cache_k(&s->kv, tk[0], k - 1) + off, skl_kv_cache_v(&s->kv, tk[0], k - 1) + off,
                      (size_t)KD, HD, scale, s->queries + tk[2], tk[3]);
    }
  }
  for (int i = 0; i < n * NH; i++) {
    float *o = r->blk.att + (size_t)i * HD, inv = 1.0f / s->lse2[i];
    for (int e = 0; e < HD; e++) o[e] *= inv;
  }
  /* out: h = x + att @ wo^T; out = h + swiglu(...) @ w_down^T */
  memcpy(r->blk.h, r->x, sizeof(float) * (size_t)n * C);
  skl_step_linear(r->blk.h, r->blk.att, p->wo, NULL, n, QD, C, true);
  skl_rmsnorm_forward(r->blk.ln2, NULL, r->blk.h, p->mlp_norm, n, C, eps);
  skl_step_seg gu[2] = {{p->w_gate, NULL, r->blk.gate, (size_t)FF, FF}, {p->w_up, NULL, r->blk.up, (size_t)FF, FF}};
  skl_step_linear_segs(r->blk.ln2, (size_t)C, n, C, gu, 2, false);
  skl_swiglu_forward(r->blk.act, r->blk.gate, r->blk.up, (size_t)n * FF);
  memcpy(s->hout, r->blk.h, sizeof(float) * (size_t)n * C);
  skl_step_linear(s->hout, r->blk.act, p->w_down, NULL, n, FF, C, true);
}

/* Heads 1..K over prompt rows [lo, Pc) into region `region` (no parent):
 * hid[P, C] holds h^0 of the prompt and is overwritten with deeper depths
 * row by row (only rows < Pc). Row j of head k reads t_{j+k} (j+k < P). */
static void heads_prefill(skl_spec *s, int region, const int32_t *prompt, int lo, int Pc, float *hid) {
  size_t C = (size_t)s->C;
  for (int k = 1; k <= s->K; k++)
    for (int r0 = lo; r0 < Pc; r0 += s->R) {
      int n = Pc - r0 < s->R ? Pc - r0 : s->R;
      for (int i = 0; i < n; i++) {
        s->rtok[i] = prompt[r0 + i + k];
        s->rpos[i] = r0 + i;
      }
      memcpy(s->hprev, hid + (size_t)r0 * C, sizeof(float) * (size_t)n * C);
      hgroup g = {region, -1, 0, r0, n, 0, lo};
      head_forward(s, k, &g, 1, n);
      memcpy(hid + (size_t)r0 * C, s->hout, sizeof(float) * (size_t)n * C);
    }
}

/* ---- generation -------------------------------------------------------------- */

/* Per-sequence state of one call. Positions count from the prompt's first
 * token; npos tokens have been fed to the main model, t_npos (the last
 * sampled token, `last`) has not. Head k holds valid rows for positions
 * < c[k-1]; rows past that hold drafts' values and are recomputed. */
typedef struct {
  int P, Pc, base, par; /* prompt length, heads' prompt rows, rows in the heads' parent, parent region */
  int lo;               /* first position the heads attend (the draft window) */
  const int32_t *prompt;
  int npos, gen;        /* tokens fed, tokens generated */
  int32_t last;
  int c[SKL_MTP_MAX_HEADS];
  int kd;               /* drafts this round */
  int32_t draft[SKL_MTP_MAX_HEADS + 1]; /* [0] = last, [k] = head k's draft */
  bool active;
} seq_t;

/* Token at position j of sequence i (prompt, generated, or this round's draft). */
static int32_t tok_at(const seq_t *q, const skl_gen_output *o, int i, int j) {
  if (j < q->P) return q->prompt[j];
  if (j - q->P < q->gen) return o->tokens[(size_t)i * o->max_new + (j - q->P)];
  return q->draft[j - q->npos];
}

/* One id from prob[V] (sums to ~1) with one uniform; never a zero-probability id. */
static int32_t draw(const float *prob, int V, double u) {
  double acc = 0;
  int32_t last = -1;
  for (int i = 0; i < V; i++) {
    if (prob[i] <= 0.0f) continue;
    acc += prob[i];
    last = i;
    if (u < acc) return i;
  }
  return last >= 0 ? last : 0;
}

/* Prefill prompt p (main model, G slots or its prefix) and the heads over
 * its settled rows; ring depth 0 of each slot gets h^0 of rows [Pc, P). */
static skl_status prefill_prompt(skl_spec *s, const skl_gen_request *rq, int p, seq_t *sq, float *logits, float *hid,
                                 skl_gen_output *out, skl_error *err) {
  int G = rq->group, P = rq->prompt_lens[p], Pc = P > s->K ? P - s->K : 0;
  int lo = s->window > 0 && Pc > s->window ? Pc - s->window : 0;
  const int32_t *prompt = rq->prompts[p];
  size_t V = (size_t)s->V, C = (size_t)s->C, KD = (size_t)s->KD;
  skl_status st;
  float *row0 = logits + (size_t)p * G * V;
  if (rq->shared_prefix) {
    for (int g = 0; g < G; g++) skl_decoder_reset_slot(s->d, p * G + g);
    skl_decoder_reset_prefix(s->d, p);
    if ((st = skl_decoder_prefill_hidden(s->d, -1, p, prompt, P, row0, hid, err))) return st;
    out->prefill_tokens += P;
    for (int g = 0; g < G; g++) {
      if ((st = skl_decoder_attach(s->d, p * G + g, p, err))) return st;
      if (g) memcpy(row0 + (size_t)g * V, row0, sizeof(float) * V);
    }
  } else {
    for (int g = 0; g < G; g++) {
      skl_decoder_reset_slot(s->d, p * G + g);
      if ((st = skl_decoder_prefill_hidden(s->d, p * G + g, -1, prompt, P, row0 + (size_t)g * V, hid, err)))
        return st;
      out->prefill_tokens += P;
    }
  }
  for (int g = 0; g < G; g++)
    for (int j = Pc; j < P; j++) memcpy(ring_row(s, p * G + g, 0, j), hid + (size_t)j * C, sizeof(float) * C);
  int region = rq->shared_prefix ? s->n_slots + p : p * G;
  heads_prefill(s, region, prompt, lo, Pc, hid);
  if (!rq->shared_prefix) /* the other slots of the group get the same rows */
    for (int g = 1; g < G; g++)
      for (int k = 0; k < s->K; k++) {
        memcpy(skl_kv_cache_k(&s->kv, p * G + g, k) + (size_t)lo * KD, skl_kv_cache_k(&s->kv, region, k) + (size_t)lo * KD,
               sizeof(float) * (size_t)(Pc - lo) * KD);
        memcpy(skl_kv_cache_v(&s->kv, p * G + g, k) + (size_t)lo * KD, skl_kv_cache_v(&s->kv, region, k) + (size_t)lo * KD,
               sizeof(float) * (size_t)(Pc - lo) * KD);
      }
  for (int g = 0; g < G; g++) {
    seq_t *q = &sq[p * G + g];
    q->P = P;
    q->Pc = Pc;
    q->lo = lo;
    q->prompt = prompt;
    q->base = rq->shared_prefix ? Pc : 0;
    q->par = rq->shared_prefix ? region : -1;
    q->npos = P;
    for (int k = 0; k < s->K; k++) q->c[k] = Pc;
  }
  return SKL_OK;
}

/* The head's probability of its draft d: q[d], or greedy (q one-hot) the
 * temperature-1 softmax of its logits at d. */
static float draft_prob(const float *lg, int V, const float *q, int32_t d, float temperature) {
  if (temperature > 0) return q[d];
  double sum = 0;
  for (int v = 0; v < V; v++) sum += exp((double)lg[v] - (double)lg[d]);
  return (float)(1.0 / sum);
}

/* Heads draft for every active sequence: head k (k <= its kd) runs the rows
 * [c_k, npos) of each, its last row's logits give draft k. q[i, k-1, V]
 * gets the draft distribution. */
static void draft_round(skl_spec *s, const skl_gen_request *rq, seq_t *sq, const int *act, int na,
                        const skl_gen_output *out, skl_sampler *smp, skl_rng *rng, float *qdist, float *hlogits) {
  size_t C = (size_t)s->C, V = (size_t)s->V;
  const float *wout = s->m->p.lm_head ? s->m->p.lm_head : s->m->p.embed;
  for (int k = 1; k <= s->K; k++) {
    int a0 = 0;
    while (a0 < na) {
      /* a run of sequences whose rows fit in R (one run: R >= slots x (K+1)) */
      hgroup gl[256];
      int ng = 0, nrows = 0, a1 = a0;
      for (; a1 < na && ng < 256; a1++) {
        int i = act[a1];
        seq_t *q = &sq[i];
        if (q->kd < k) continue;
        int n = q->npos - q->c[k - 1];
        if (nrows + n > s->R) break;
        hgroup hg = {i, q->par, q->base, q->c[k - 1], n, nrows, q->lo};
        for (int r = 0; r < n; r++) {
          int j = q->c[k - 1] + r;
          s->rtok[nrows + r] = tok_at(q, out, i, j + k);
          s->rpos[nrows + r] = j;
          memcpy(s->hprev + (size_t)(nrows + r) * C, ring_row(s, i, k - 1, j), sizeof(float) * C);
        }
        gl[ng++] = hg;
        nrows += n;
      }
      if (ng) {
        head_forward_step(s, k, gl, ng, nrows);
        for (int gi = 0; gi < ng; gi++) {
          const hgroup *hg = &gl[gi];
          if (k < s->K)
            for (int r = 0; r < hg->n; r++)
              memcpy(ring_row(s, hg->region, k, hg->j0 + r), s->hout + (size_t)(hg->row0 + r) * C, sizeof(float) * C);
          memcpy(s->lnf + (size_t)gi * C, s->hout + (size_t)(hg->row0 + hg->n - 1) * C, sizeof(float) * C);
        }
        skl_rmsnorm_forward(s->lnf, NULL, s->lnf, s->m->p.final_norm, ng, s->C, s->m->cfg.rms_eps);
        skl_step_linear(hlogits, s->lnf, wout, NULL, ng, s->C, s->V, false);
        for (int gi = 0; gi < ng; gi++) {
          int i = gl[gi].region;
          seq_t *q = &sq[i];
          float *qd = qdist + ((size_t)i * s->K + (k - 1)) * V;
          const float *lg = hlogits + (size_t)gi * V;
          int32_t arg = skl_sample_dist(&smp[i], lg, &rq->sample, qd);
          int32_t d = rq->sample.temperature > 0 ? draw(qd, s->V, skl_rng_uniform(&rng[i])) : arg;
          q->draft[k] = d;
          q->c[k - 1] = q->npos; /* provisional: rows past the settled ones are fixed after verify */
          /* an unlikely draft is likely rejected, and the drafts after it
           * with it: stop here. Draft d itself stays (it was drawn from q
           * unconditioned, so its acceptance test stays exact); the stop
           * depends on draft-side values only, like the budget's. */
          if (s->draft_min_prob > 0 && k < q->kd && draft_prob(lg, s->V, qd, d, rq->sample.temperature) < s->draft_min_prob)
            q->kd = k;
          if (s->observe) s->observe(s->observe_ctx, i, k, q->npos, d, lg);
        }
      }
      a0 = a1;
    }
  }
}

skl_status skl_generate_speculative(skl_spec *s, const skl_gen_request *rq, skl_gen_output *out,
                                    skl_spec_stats *stp, skl_error *err) {
  memset(out, 0, sizeof *out);
  skl_spec_stats st;
  memset(&st, 0, sizeof st);
  st.K = s->K;
  skl_sampler *smp;
  skl_rng *rng;
  skl_status rc = skl_gen_begin(s->d, rq, out, &smp, &rng, err);
  if (rc) return rc;
  const skl_kv_cache *dkv = skl_decoder_cache(s->d);
  int G = rq->group, n = rq->n_prompts * G, M = rq->max_new, K = s->K, V = s->V;
  size_t C = (size_t)s->C;
  int maxP = 0;
  for (int p = 0; p < rq->n_prompts; p++) maxP = rq->prompt_lens[p] > maxP ? rq->prompt_lens[p] : maxP;
  seq_t *sq = calloc((size_t)n, sizeof *sq);
  int *act = malloc(sizeof *act * (size_t)n), *cnt = malloc(sizeof *cnt * (size_t)n);
  int32_t *vtok = malloc(sizeof *vtok * (size_t)n * (K + 1));
  size_t rows = (size_t)n * (K + 1);
  float *logits = malloc(sizeof(float) * rows * V);  /* prefill rows, then verify rows */
  float *vhid = malloc(sizeof(float) * rows * C);
  float *qdist = malloc(sizeof(float) * (size_t)n * K * V);
  float *pdist = malloc(sizeof(float) * (size_t)n * V);
  float *hlogits = malloc(sizeof(float) * (size_t)n * V);
  float *hid = malloc(sizeof(float) * (size_t)maxP * C);
  if (!sq || !act || !cnt || !vtok ||
      !logits || !vhid || !qdist || !pdist || !hlogits || !hid) {
    rc = skl_error_set(err, SKL_ERR_NOMEM, "speculative generate: out of memory");
    goto done;
  }
  double t0 = skl_time_now();
  for (int p = 0; p < rq->n_prompts; p++)
    if ((rc = prefill_prompt(s, rq, p, sq, logits, hid, out, err))) goto done;
  double t1 = skl_time_now();
  out->prefill_s = t1 - t0;
  /* the first token from the prompt's logits, exactly as skl_generate */
  int na = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (int i = 0; i < n; i++) {
    float lp = 0;
    int32_t tok = skl_sample_token(&smp[i], logits + (size_t)i * V, &rq->sample, &rng[i], &lp);
    out->tokens[(size_t)i * M] = tok;
    out->logp[(size_t)i * M] = lp;
    out->len[i] = 1;
    sq[i].gen = 1;
    sq[i].last = tok;
  }
  out->decode_tokens += n;
  for (int i = 0; i < n; i++) {
    if (skl_gen_is_stop(rq, sq[i].last)) { out->stopped[i] = true; continue; }
    if (1 >= M || dkv->len[i] >= dkv->T_max) continue;
    sq[i].active = true;
    act[na++] = i;
  }
  while (na > 0) {
    /* drafts per sequence: the budget and the slot's room bound them */
    for (int a = 0; a < na; a++) {
      seq_t *q = &sq[act[a]];
      int kd = K, room = dkv->T_max - dkv->len[act[a]] - 1, left = M - q->gen - 1;
      kd = kd < room ? kd : room;
      kd = kd < left ? kd : left;
      q->kd = kd > 0 ? kd : 0;
      q->draft[0] = q->last;
    }
    double ta = skl_time_now();
    draft_round(s, rq, sq, act, na, out, smp, rng, qdist, hlogits);
    double tb = skl_time_now();
    int nt = 0;
    for (int a = 0; a < na; a++) {
      seq_t *q = &sq[act[a]];
      cnt[a] = q->kd + 1;
      for (int k = 0; k <= q->kd; k++) vtok[nt + k] = q->draft[k];
      nt += cnt[a];
    }
    if ((rc = skl_decoder_verify(s->d, na, act, cnt, vtok, true, logits, vhid, err))) goto done;
    double tc = skl_time_now();
    st.draft_s += tb - ta;
    st.verify_s += tc - tb;
    st.verify_calls++;
    /* accept / reject per sequence (independent: own RNG, own rows) */
    for (int a = 0, row = 0; a < na; row += cnt[a], a++) {
      int i = act[a];
      seq_t *q = &sq[i];
      const float *vl = logits + (size_t)row * V;
      float *pd = pdist + (size_t)i * V;
      int acc = 0;
      bool fin = false;
      int32_t x = -1;
      for (int k = 1; k <= q->kd; k++) st.drafted[k - 1]++;
      for (int k = 1; k <= q->kd && !fin; k++) {
        const float *lg = vl + (size_t)(k - 1) * V;
        int32_t d = q->draft[k];
        st.reached[k - 1]++;
        int32_t arg = skl_sample_dist(&smp[i], lg, &rq->sample, pd);
        bool ok;
        const float *qd = qdist + ((size_t)i * K + (k - 1)) * V;
        if (rq->sample.temperature > 0) {
          double u = skl_rng_uniform(&rng[i]);
          ok = (double)qd[d] > 0 && u * (double)qd[d] < (double)pd[d];
        } else {
          ok = d == arg;
        }
        if (ok) {
          st.accepted[k - 1]++;
          acc++;
          out->tokens[(size_t)i * M + q->gen] = d;
          out->logp[(size_t)i * M + q->gen] = skl_sample_logp(lg, V, d);
          q->gen++;
          if (skl_gen_is_stop(rq, d)) { out->stopped[i] = true; fin = true; }
          continue;
        }
        /* rejected: the correction from the residual max(0, p - q) */
        if (rq->sample.temperature > 0) {
          double tot = 0;
          for (int v = 0; v < V; v++) {
            float r = pd[v] - qd[v];
            pd[v] = r > 0 ? r : 0.0f;
            tot += pd[v];
          }
          double u = skl_rng_uniform(&rng[i]);
          if (tot > 0) {
            x = draw(pd, V, u * tot);
          } else { /* p == q to rounding (no rejection in exact arithmetic): sample p */
            skl_sample_dist(&smp[i], lg, &rq->sample, pd);
            x = draw(pd, V, u);
          }
        } else {
          x = arg;
        }
        out->tokens[(size_t)i * M + q->gen] = x;
        out->logp[(size_t)i * M + q->gen] = skl_sample_logp(lg, V, x);
        q->gen++;
        if (skl_gen_is_stop(rq, x)) out->stopped[i] = true;
        fin = true;
      }
      if (!fin) { /* every draft accepted: one more token from the next position */
        const float *lg = vl + (size_t)q->kd * V;
        float lp = 0;
        x = skl_sample_token(&smp[i], lg, &rq->sample, &rng[i], &lp);
        out->tokens[(size_t)i * M + q->gen] = x;
        out->logp[(size_t)i * M + q->gen] = lp;
        q->gen++;
        if (skl_gen_is_stop(rq, x)) out->stopped[i] = true;
      }
      out->len[i] = q->gen;
      st.emitted += acc + 1;
      st.accepted_total += acc;
      st.rounds++;
      /* settle: the main slot keeps last + accepted drafts; ring depth 0
       * gets their hidden states; heads keep rows whose token was settled */
      if (out->stopped[i]) continue;
      int own = dkv->len[i] - cnt[a];
      if ((rc = skl_decoder_truncate(s->d, i, own + acc + 1, err))) goto done;
      for (int r = 0; r <= acc; r++)
        memcpy(ring_row(s, i, 0, q->npos + r), vhid + (size_t)(row + r) * C, sizeof(float) * C);
      for (int k = 1; k <= q->kd; k++) {
        int keep = q->npos + acc - k + 1;
        if (q->c[k - 1] > keep) q->c[k - 1] = keep;
      }
      q->npos += acc + 1;
      q->last = x;
    }
    int nk = 0;
    for (int a = 0; a < na; a++) {
      int i = act[a];
      if (out->stopped[i] || sq[i].gen >= M || dkv->len[i] >= dkv->T_max) continue;
      act[nk++] = i;
    }
    na = nk;
  }
  for (int i = 0; i < n; i++) out->decode_tokens += out->len[i] - 1;
  out->decode_s = skl_time_now() - t1;
done:
  free(sq);
  free(act);
  free(cnt);
  free(vtok);
  free(logits);
  free(vhid);
  free(qdist);
  free(pdist);
  free(hlogits);
  free(hid);
  skl_gen_end(rq, out, &smp, &rng, rc);
  if (stp) *stp = st;
  return rc;
}
