/* skillrl mtp: train, extend and evaluate multi-token-prediction heads on a
 * frozen model directory (CLI glue: data loading, printing). Not the heads'
 * math (src/mtp) and not speculative decoding (generate / bench decode). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "model/checkpoint.h"
#include "mtp/mtp.h"
#include "mtp/mtp_train.h"
#include "rl/data.h"
#include "tok/tokenizer.h"

typedef struct {
  const char *model, *data, *out, *dtype;
  int64_t heads, to, steps, batch, seq_len, topn, seed, log_every, warmup;
  double lr, alpha, beta, tau, held_out, weight_decay;
  bool no_distill;
} mtp_opts;

typedef struct {
  const char *cmd;
  int64_t every;
  int K;
} log_ctx;

static int on_step(void *p, int step, double lr, double gn, const skl_mtp_stats *st) {
  log_ctx *c = p;
  if (c->every <= 0 || (step + 1) % c->every) return 0;
  fprintf(stderr, "mtp %s: step %d loss %.4f lr %.3g gnorm %.3g |", c->cmd, step + 1, st->loss, lr, gn);
  for (int k = 0; k < c->K; k++)
    fprintf(stderr, " h%d ce %.3f kl %.3f acc %.3f", k + 1, st->ce[k], st->kl[k],
            st->n[k] > 0 ? st->agree[k] / st->n[k] : 0.0);
  fputc('\n', stderr);
  return 0;
}

/* Token sequences of --data: a dataset folder (manifest.json; prompt + gold
 * response of every train item) or a plain text file (one sequence). */
static skl_status load_windows(const mtp_opts *o, const char *model_dir, int K, skl_mtp_windows *w,
                               skl_error *err) {
  char *tok_path = skl_path_join(model_dir, "tokenizer.json");
  if (!tok_path) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (!skl_fs_exists(tok_path)) {
    skl_status s = skl_error_set(err, SKL_ERR_NOTFOUND,
                                 "%s: not found: --data is text and needs the model's tokenizer (put "
                                 "the tokenizer.json the model was trained with into %s)",
                                 tok_path, model_dir);
    free(tok_path);
    return s;
  }
  skl_tokenizer *tok = NULL;
  skl_status s = skl_tokenizer_load(tok_path, &tok, err);
  free(tok_path);
  if (s) return s;
  memset(w, 0, sizeof *w);
  int T = (int)o->seq_len, min_len = K + 2;
  char *man = skl_path_join(o->data, "manifest.json");
  if (man && skl_fs_is_dir(o->data) && skl_fs_exists(man)) {
    rl_data_opts dopt = {0};
    dopt.dir = o->data;
    dopt.split = "train";
    dopt.format = SKL_CHAT_AUTO;
    rl_dataset ds;
    memset(&ds, 0, sizeof ds);
    s = rl_dataset_load(&dopt, tok, &ds, err);
    int32_t *seq = NULL;
    for (int i = 0; i < ds.n && !s; i++) {
      const rl_item *it = &ds.items[i];
      int n = it->n_prompt + it->n_target;
      int32_t *ns = realloc(seq, (size_t)n * sizeof(int32_t));
      if (!ns) {
        s = skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
        break;
      }
      seq = ns;
      memcpy(seq, it->prompt, (size_t)it->n_prompt * sizeof(int32_t));
      memcpy(seq + it->n_prompt, it->target, (size_t)it->n_target * sizeof(int32_t));
      s = skl_mtp_windows_add(w, seq, n, T, min_len, err);
    }
    free(seq);
    rl_dataset_free(&ds);
  } else if (skl_fs_is_dir(o->data)) {
    s = skl_error_set(err, SKL_ERR_NOTFOUND,
                      "--data %s: a folder without manifest.json (give a dataset folder written by "
                      "'skillrl synth' or a plain text file)",
                      o->data);
  } else {
    char *text = NULL;
    size_t len = 0;
    skl_tokens ids = {0};
    s = skl_fs_read_all(o->data, &text, &len, err);
    if (!s) s = skl_tokenizer_encode(tok, text, len, &ids, err);
    if (!s && ids.len > (size_t)1 << 30) s = skl_error_set(err, SKL_ERR_RANGE, "--data %s: too many tokens", o->data);
    if (!s) s = skl_mtp_windows_add(w, ids.data, (int)ids.len, T, min_len, err);
    free(text);
    skl_tokens_free(&ids);
  }
  free(man);
  skl_tokenizer_free(tok);
  if (!s && w->n < 2)
    s = skl_error_set(err, SKL_ERR_RANGE,
                      "--data %s: %d window(s) of at least %d tokens: need 2 or more (one held out); "
                      "give more text or a smaller --seq-len",
                      o->data, w->n, min_len);
  return s;
}

static void print_result(const char *cmd, const mtp_opts *o, const skl_mtp_heads *h,
                         const skl_mtp_stats *ev, int n_train, int n_held, const char *out) {
  printf("{\"mtp\":\"%s\",\"heads\":%d,\"trained_from\":%d,\"steps\":%lld,\"distill\":%s,"
         "\"alpha\":%g,\"beta\":%g,\"topn\":%lld,\"tau\":%g,\"train_windows\":%d,\"held_out_windows\":%d,",
         cmd, h->K, h->n_frozen + 1, (long long)o->steps, o->beta > 0 ? "true" : "false", o->alpha,
         o->beta, (long long)o->topn, o->tau, n_train, n_held);
  const char *keys[] = {"acceptance", "top1", "ce", "kl"};
  for (int q = 0; q < 4; q++) {
    printf("\"%s\":[", keys[q]);
    for (int k = 0; k < h->K; k++) {
      double v = q == 0   ? (ev->n[k] > 0 ? ev->agree[k] / ev->n[k] : 0)
                 : q == 1 ? (ev->n[k] > 0 ? ev->correct[k] / ev->n[k] : 0)
                 : q == 2 ? ev->ce[k]
                          : ev->kl[k];
      printf("%s%.6g", k ? "," : "", v);
    }
    printf("],");
  }
  printf("\"out\":\"");
  for (const char *c = out ? out : ""; *c; c++) {
    if (*c == '"' || *c == '\\') putchar('\\');
    if ((unsigned char)*c >= 0x20) putchar(*c);
  }
  printf("\"}\n");
}

static int run(const char *cmd, int argc, char **argv) {
  bool is_train = !strcmp(cmd, "train"), is_extend = !strcmp(cmd, "extend");
  mtp_opts o = {0};
  skl_mtp_train_config tc;
  skl_mtp_train_defaults(&tc);
  o.dtype = "f32";
  o.heads = 0;
  o.steps = tc.steps;
  o.batch = tc.B;
  o.seq_len = tc.T;
  o.lr = tc.lr;
  o.alpha = tc.loss.alpha;
  o.beta = tc.loss.beta;
  o.topn = tc.loss.topn;
  o.tau = tc.loss.tau;
  o.seed = 0;
  o.held_out = 0.1;
  o.log_every = 10;
  o.warmup = tc.warmup;
  o.weight_decay = tc.weight_decay;
  const skl_arg_opt opts[] = {
      {"model", 0, SKL_ARG_STR, &o.model, "DIR", "model directory (config.json, model.safetensors, tokenizer.json)"},
      {"data", 0, SKL_ARG_STR, &o.data, "PATH", "dataset folder (manifest.json; train split) or a plain text file"},
      {"out", 'o', SKL_ARG_STR, &o.out, "DIR", is_extend ? "output model directory (default: update --model in place)" : "output model directory"},
      {"heads", 0, SKL_ARG_INT, &o.heads, "K", "number of MTP heads to train (train; 1..16)"},
      {"to", 0, SKL_ARG_INT, &o.to, "K2", "extend: new head count, larger than the current one"},
      {"steps", 0, SKL_ARG_INT, &o.steps, "N", "optimizer steps (default 200)"},
      {"batch", 'B', SKL_ARG_INT, &o.batch, "B", "windows per step (default 8)"},
      {"seq-len", 'T', SKL_ARG_INT, &o.seq_len, "T", "window length in tokens (default 128)"},
      {"lr", 0, SKL_ARG_DOUBLE, &o.lr, "X", "AdamW peak learning rate (default 1e-3, warmup then cosine)"},
      {"warmup", 0, SKL_ARG_INT, &o.warmup, "N", "warmup steps (default 10)"},
      {"weight-decay", 0, SKL_ARG_DOUBLE, &o.weight_decay, "X", "AdamW decoupled weight decay (default 0)"},
      {"alpha", 0, SKL_ARG_DOUBLE, &o.alpha, "A", "weight of CE on the true token (default 1)"},
      {"beta", 0, SKL_ARG_DOUBLE, &o.beta, "B", "weight of KL to the main head's top-N (default 1)"},
      {"topn", 0, SKL_ARG_INT, &o.topn, "N", "teacher support: top-N main-model logits (default 20)"},
      {"tau", 0, SKL_ARG_DOUBLE, &o.tau, "T", "distillation temperature (default 1)"},
      {"no-distill", 0, SKL_ARG_FLAG, &o.no_distill, NULL, "plain MTP heads: CE only (beta = 0)"},
      {"held-out", 0, SKL_ARG_DOUBLE, &o.held_out, "F", "fraction of windows held out for acceptance (default 0.1)"},
      {"seed", 0, SKL_ARG_INT, &o.seed, "S", "seed of head init, split and batch order (default 0)"},
      {"dtype", 0, SKL_ARG_STR, &o.dtype, "f32|bf16", "storage type of mtp.safetensors (default f32; the main model is always copied as f32)"},
      {"log-every", 0, SKL_ARG_INT, &o.log_every, "N", "progress line on stderr every N steps (0: none)"},
  };
  char prog[64];
  snprintf(prog, sizeof prog, "skillrl mtp %s", cmd);
  skl_arg_spec spec = {
      prog,
      is_train ? "--model DIR --data PATH --heads K -o OUT_DIR [flags]"
               : is_extend ? "--model DIR --data PATH --to K2 [-o OUT_DIR] [flags]"
                           : "--model DIR --data PATH [flags]",
      is_train ? "Train K DeepSeek-V3-style MTP heads on a frozen model with CE on the true token plus "
                 "self-distillation (KL to the main head's top-N at temperature tau), then write the "
                 "model directory with mtp.safetensors and print one JSON line with the held-out "
                 "per-head acceptance proxy (head argmax == main argmax at the matching position)."
      : is_extend ? "Looped extension: copy the last trained head into new heads K+1..K2 and train "
                    "only those (main model and old heads frozen)."
                  : "Held-out acceptance proxy of the heads stored in --model (no training).",
      opts, (int)(sizeof opts / sizeof opts[0]), 0, 0, NULL};
  int npos = 0, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  char who[32];
  snprintf(who, sizeof who, "mtp %s", cmd);
  if (!o.model || !o.data || (is_train && (!o.out || o.heads <= 0)) || (is_extend && o.to <= 0)) {
    fprintf(stderr, "skillrl mtp %s: needs %s (see --help)\n", cmd,
            is_train ? "--model DIR, --data PATH, --heads K and -o OUT_DIR"
            : is_extend ? "--model DIR, --data PATH and --to K2"
                        : "--model DIR and --data PATH");
    return 2;
  }
  if ((is_train && o.heads > SKL_MTP_MAX_HEADS) || (is_extend && o.to > SKL_MTP_MAX_HEADS)) {
    fprintf(stderr, "skillrl mtp %s: at most %d heads\n", cmd, SKL_MTP_MAX_HEADS);
    return 2;
  }
  if (o.seq_len < 4 || o.seq_len > 1 << 20 || o.batch < 1 || o.batch > 4096 || o.steps < 1 ||
      o.steps > 100000000 || !(o.held_out > 0 && o.held_out < 1) || o.topn < 1 || o.topn > 1000000 ||
      o.warmup < 0 || o.warmup > 100000000) {
    fprintf(stderr, "skillrl mtp %s: --seq-len >= 4, --batch >= 1, --steps >= 1, --topn >= 1, "
                    "--warmup >= 0 and 0 < --held-out < 1 are required\n", cmd);
    return 2;
  }
  skl_dtype dt;
  if (!strcmp(o.dtype, "f32") || !strcmp(o.dtype, "F32")) dt = SKL_DTYPE_F32;
  else if (!strcmp(o.dtype, "bf16") || !strcmp(o.dtype, "BF16")) dt = SKL_DTYPE_BF16;
  else {
    fprintf(stderr, "skillrl mtp %s: --dtype '%s': expected f32 or bf16\n", cmd, o.dtype);
    return 2;
  }
  if (o.no_distill) o.beta = 0.0;
  tc.steps = (int)o.steps;
  tc.B = (int)o.batch;
  tc.T = (int)o.seq_len;
  tc.lr = o.lr;
  tc.warmup = (int)o.warmup;
  tc.weight_decay = o.weight_decay;
  tc.seed = (uint64_t)o.seed;
  tc.loss.alpha = o.alpha;
  tc.loss.beta = o.beta;
  tc.loss.topn = (int)o.topn;
  tc.loss.tau = o.tau;

  skl_error err = {0};
  skl_model m;
  skl_mtp_heads h, old;
  skl_mtp_windows w = {0}, held = {0};
  memset(&h, 0, sizeof h);
  memset(&old, 0, sizeof old);
  int ret = 0;
  skl_status s = skl_ckpt_load_model(&m, o.model, false, &err);
  if (s) return skl_cli_fail(who, err.msg);
  if ((s = skl_mtp_loss_check(&tc.loss, m.cfg.vocab_size, &err))) goto fail;
  if (is_train) {
    if ((s = skl_mtp_init(&h, &m.cfg, (int)o.heads, &err))) goto fail;
    skl_rng r;
    skl_rng_seed(&r, skl_rng_derive((uint64_t)o.seed, skl_hash_str("mtp init"), 0, 0));
    skl_mtp_init_weights(&h, &r, 0.02f);
  } else {
    if ((s = skl_mtp_load(&old, o.model, &m.cfg, &err))) goto fail;
    if (is_extend) {
      if ((s = skl_mtp_extend(&h, &old, (int)o.to, &err))) goto fail;
    } else {
      h = old;
      memset(&old, 0, sizeof old);
    }
  }
  if ((s = load_windows(&o, o.model, h.K, &w, &err))) goto fail;
  int n_held = (int)(w.n * o.held_out + 0.5);
  if (n_held < 1) n_held = 1;
  if ((s = skl_mtp_windows_split(&w, &held, n_held, (uint64_t)o.seed, &err))) goto fail;
  if (is_train || is_extend) {
    log_ctx lc = {cmd, o.log_every, h.K};
    if ((s = skl_mtp_train(&h, &m, &w, &tc, on_step, &lc, &err))) goto fail;
  }
  skl_mtp_stats ev;
  if ((s = skl_mtp_evaluate(&h, &m, &held, tc.B, &tc.loss, &ev, &err))) goto fail;
  const char *out = o.out ? o.out : is_extend ? o.model : NULL;
  if (out) {
    char *tokp = skl_path_join(o.model, "tokenizer.json");
    if (!tokp) s = skl_error_set(&err, SKL_ERR_NOMEM, "out of memory");
    else if (!strcmp(out, o.model)) s = skl_mtp_save_into(&h, out, &m.cfg, dt, &err);
    else s = skl_mtp_save_model(&m, &h, out, dt, tokp, &err);
    free(tokp);
    if (s) goto fail;
  }
  print_result(cmd, &o, &h, &ev, w.n, held.n, out);
  goto done;
fail:
  ret = skl_cli_fail(who, err.msg);
done:
  skl_mtp_windows_free(&w);
  skl_mtp_windows_free(&held);
  skl_mtp_free(&h);
  skl_mtp_free(&old);
  skl_model_free(&m);
  return ret;
}

int skl_cmd_mtp(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    printf("usage: skillrl mtp train|extend|eval --model DIR --data PATH [flags]\n\n"
           "  train    train K self-distilled MTP heads on a frozen model (-o OUT_DIR --heads K)\n"
           "  extend   copy the last head into new heads up to --to K2 and train only those\n"
           "  eval     held-out acceptance proxy of the stored heads\n");
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "train") || !strcmp(argv[1], "extend") || !strcmp(argv[1], "eval"))
    return run(argv[1], argc - 1, argv + 1);
  fprintf(stderr, "skillrl mtp: unknown subcommand '%s' (known: train, extend, eval)\n", argv[1]);
  return 2;
}
