/* rl sft: pack, forward/backward with the prompt masked, all-reduce, AdamW.
 * Not a data loader: rl/session walks the epoch order. */
#include "rl/sft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl/pack.h"
#include "sys/sys.h"

/* How many items from the cursor fit B rows of T by in-order first-fit. */
static int plan_step(rl_session *s, int B, int T, int *fill) {
  memset(fill, 0, sizeof *fill * (size_t)B);
  int n = 0;
  for (;; n++) {
    if (n >= s->data.n * 2) break; /* never more than two epochs' worth in one step */
    const rl_item *it = &s->data.items[rl_session_peek(s, n)];
    int len = it->n_prompt + it->n_target - 1;
    if (len > T) len = T;
    int row = -1;
    for (int b = 0; b < B; b++)
      if (T - fill[b] >= len) { row = b; break; }
    if (row < 0) break;
    fill[row] += len;
  }
  return n;
}

skl_status rl_sft_run(const rl_session_opts *opts, skl_error *err) {
  rl_session_opts o = *opts;
  o.phase = "sft";
  const rl_train_cfg *c = o.cfg;
  skl_adamw_config ac = {.lr = c->sft_lr, .beta1 = c->beta1, .beta2 = c->beta2, .eps = c->eps,
                         .weight_decay = c->weight_decay, .grad_clip = c->grad_clip,
                         .warmup_steps = c->sft_warmup, .total_steps = c->sft_steps, .min_lr_ratio = c->min_lr_ratio};
  rl_session s;
  skl_status st = rl_session_init(&s, &o, &ac, 0, err);
  int B = c->sft_batch, T = c->sft_seq;
  int rows_local = (B + s.dist.size - 1) / s.dist.size;
  skl_acts acts = {0};
  rl_packed pk = {0};
  int *fill = NULL, *idx = NULL;
  rl_pack_item *items = NULL;
  float *lmask = NULL;
  int32_t *ltok = NULL, *ltgt = NULL, *lpos = NULL, *ldoc = NULL;
  if (!st && T > s.model.cfg.max_position)
    st = skl_error_set(err, SKL_ERR_RANGE, "sft.seq is %d but the model's window (max_position_embeddings) is %d; "
                       "lower sft.seq", T, s.model.cfg.max_position);
  if (!st && B % s.dist.size)
    st = skl_error_set(err, SKL_ERR_INVALID, "sft.batch %d does not divide across %d ranks; use a multiple of %d",
                       B, s.dist.size, s.dist.size);
  if (!st) st = skl_acts_init(&acts, &s.model.cfg, rows_local, T, T >= 2048, err);
  int max_items = B * T; /* an item takes >= 1 token */
  if (!st) st = rl_packed_init(&pk, B, T, max_items, err);
  if (!st) {
    fill = malloc(sizeof *fill * (size_t)B);
    idx = malloc(sizeof *idx * (size_t)max_items);
    items = malloc(sizeof *items * (size_t)max_items);
    size_t nl = (size_t)rows_local * T;
    lmask = malloc(nl * sizeof *lmask);
    ltok = malloc(nl * sizeof *ltok); ltgt = malloc(nl * sizeof *ltgt);
    lpos = malloc(nl * sizeof *lpos); ldoc = malloc(nl * sizeof *ldoc);
    if (!fill || !idx || !items || !lmask || !ltok || !ltgt || !lpos || !ldoc)
      st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  }
  bool done = s.st.step >= c->sft_steps;
  while (!st && !done) {
    double t_step = skl_time_now();
    int n = plan_step(&s, B, T, fill);
    if (n == 0) n = 1;
    if (n > max_items) n = max_items;
    rl_session_take(&s, n, idx);
    for (int i = 0; i < n; i++) {
      const rl_item *it = &s.data.items[idx[i]];
      items[i] = (rl_pack_item){it->prompt, it->n_prompt, it->target, it->n_target};
    }
    int cut = 0, dropped = 0;
    if ((st = rl_pack(&pk, items, n, &cut, &dropped, err))) break;
    /* Answer tokens weigh 1, prompt tokens sft.prompt_loss; the loss is the
     * weighted mean over every weighted token. */
    float wp = (float)c->sft_prompt_loss;
    double norm = 0;
    for (size_t i = 0; i < (size_t)B * T; i++)
      if (pk.targets[i] >= 0) norm += pk.mask[i] > 0 ? 1.0 : wp;
    /* this rank's rows: r, r + size, ... (every rank packed the same global batch) */
    int nb = 0;
    for (int b = s.dist.rank; b < B; b += s.dist.size, nb++) {
      size_t src = (size_t)b * T, dst = (size_t)nb * T;
      memcpy(ltok + dst, pk.tokens + src, sizeof *ltok * (size_t)T);
      memcpy(ltgt + dst, pk.targets + src, sizeof *ltgt * (size_t)T);
      memcpy(lpos + dst, pk.pos + src, sizeof *lpos * (size_t)T);
      memcpy(ldoc + dst, pk.doc + src, sizeof *ldoc * (size_t)T);
      for (int j = 0; j < T; j++)
        lmask[dst + j] = pk.targets[src + j] < 0 ? 0.0f : pk.mask[src + j] > 0 ? 1.0f : wp;
    }
    skl_model_zero_grad(&s.model);
    skl_step_stats ss = {0};
    skl_batch b = {.B = nb, .T = T, .tokens = ltok, .targets = ltgt, .pos = lpos, .doc = ldoc, .mask = lmask,
                   .loss_norm = norm > 0 ? norm : 1};
    if (nb > 0 && (st = skl_model_step(&s.model, &acts, &b, true, &ss, err))) break;
    /* the answer tokens' own mean loss, whatever the prompt weight */
    double red[5] = {ss.loss, ss.n_tokens, ss.sum_logp, 0, 0};
    for (int r = 0; r < nb; r++)
      for (int j = 0; j < T; j++) {
        size_t i = (size_t)r * T + j, g = (size_t)(s.dist.rank + r * s.dist.size) * T + j;
        if (ltgt[i] >= 0 && pk.mask[g] > 0) { red[3] -= acts.logp[i]; red[4] += 1; }
      }
    if ((st = skl_dist_allreduce_f32(&s.dist, s.model.grad_mem, s.model.n_params, err))) break;
    if ((st = skl_dist_allreduce_f64(&s.dist, red, 5, err))) break;
    double lr = skl_lr_at(&ac, s.st.step), gnorm = 0;
    bool skipped = false;
    if ((st = rl_session_update(&s, lr, "sft.lr", &gnorm, &skipped, err))) break;
    s.st.samples_seen += n - dropped;
    double dt = skl_time_now() - t_step;
    json_t *m = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:b, s:o, s:o}", "phase", "sft", "step",
                          (json_int_t)s.st.step + 1, "loss", rl_json_num(red[1] > 0 ? red[0] : 0.0),
                          "answer_loss", rl_json_num(red[4] > 0 ? red[3] / red[4] : 0.0), "lr",
                          rl_json_num(lr), "grad_norm", rl_json_num(gnorm), "tokens", rl_json_num(red[1]), "samples",
                          n - dropped, "cut", cut, "skipped_nonfinite", (int)skipped, "tokens_per_s",
                          rl_json_num((double)B * T / (dt > 0 ? dt : 1e-9)), "step_s", rl_json_num(dt));
    if (!m) { st = skl_error_set(err, SKL_ERR_NOMEM, "out of memory"); break; }
    st = rl_session_end_step(&s, m, c->sft_steps, &done, err);
    json_decref(m);
  }
  if (!st && s.st.step >= c->sft_steps) st = rl_session_save_final(&s, err);
  free(fill); free(idx); free(items); free(lmask); free(ltok); free(ltgt); free(lpos); free(ldoc);
  rl_packed_free(&pk);
  skl_acts_free(&acts);
  rl_session_free(&s);
  return st;
}
