/* skillrl generate: sample text from a model folder (config.json,
 * model.safetensors, tokenizer.json) with the KV-cached decoder. Not a
 * server or a chat loop: one prompt in, N samples out. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "core/fs.h"
#include "decode/decode.h"
#include "decode/spec.h"
#include "hf/hf_config.h"
#include "model/checkpoint.h"
#include "sys/sys.h"
#include "tok/tokenizer.h"

/* Prompt ids: raw text (with the tokenizer's BOS etc.) or a rendered chat. */
static skl_status encode_prompt(const skl_tokenizer *tok, const char *text, bool chat, skl_chat_format *fmt,
                                skl_tokens *ids, skl_error *err) {
  if (!chat) return skl_tokenizer_encode_ex(tok, text, strlen(text), SKL_TOK_ADD_SPECIAL, ids, err);
  *fmt = skl_chat_detect(skl_tokenizer_token_id(tok, "<|im_start|>") >= 0,
                         skl_tokenizer_token_id(tok, "<|start_header_id|>") >= 0);
  skl_chat_msg msg = {"user", text};
  skl_buf b = {0};
  skl_status s = skl_chat_render(*fmt, &msg, 1, 1, &b, err);
  /* the template already holds any BOS: add no special tokens (as HF's apply_chat_template) */
  if (!s) s = skl_tokenizer_encode(tok, b.data ? b.data : "", b.len, ids, err);
  skl_buf_free(&b);
  return s;
}

int skl_cmd_generate(int argc, char **argv) {
  const char *dir = NULL, *prompt_arg = NULL;
  int64_t max_new = 128, top_k = 0, seed = 0, n_samples = 1, threads = 0, speculative = 0;
  double temperature = 1.0, top_p = 1.0;
  bool chat = false;
  const skl_arg_opt opts[] = {
      {"model", 0, SKL_ARG_STR, &dir, "DIR", "model folder: config.json, model.safetensors, tokenizer.json"},
      {"prompt", 'p', SKL_ARG_STR, &prompt_arg, "TEXT|@FILE", "the prompt, or @FILE to read it from a file"},
      {"max-new", 0, SKL_ARG_INT, &max_new, "N", "most tokens to generate per sample (default 128)"},
      {"temperature", 't', SKL_ARG_DOUBLE, &temperature, "T", "sampling temperature; 0 = greedy (default 1)"},
      {"top-k", 0, SKL_ARG_INT, &top_k, "K", "keep the K most likely tokens; 0 = off (default)"},
      {"top-p", 0, SKL_ARG_DOUBLE, &top_p, "P", "nucleus sampling mass in (0, 1]; 1 = off (default)"},
      {"seed", 0, SKL_ARG_INT, &seed, "S", "sampling seed (default 0)"},
      {"num", 'n', SKL_ARG_INT, &n_samples, "N", "samples of the same prompt, prefilled once (default 1)"},
      {"chat", 0, SKL_ARG_FLAG, &chat, NULL, "wrap the prompt as a user turn (ChatML for Qwen, Llama-3 format)"},
      {"threads", 0, SKL_ARG_INT, &threads, "N", "OpenMP and OpenBLAS threads (default: OpenMP's)"},
      {"speculative", 0, SKL_ARG_INT, &speculative, "K",
       "speculative decoding: the model's first K MTP heads draft, the model verifies (greedy: the same text; "
       "sampling: the same distribution); acceptance printed on stderr"},
  };
  skl_arg_spec spec = {"skillrl generate", "--model DIR --prompt TEXT|@FILE [flags]",
                       "Generate text with the KV-cached decoder. Stops at the model's eos ids (and, with --chat, the "
                       "format's end-of-turn tokens) or after --max-new tokens. Prints each sample's text.",
                       opts, (int)(sizeof opts / sizeof opts[0]), 0, 0, NULL};
  int npos = 0, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!dir || !prompt_arg) {
    fprintf(stderr, "skillrl generate: needs --model DIR and --prompt TEXT (or @FILE)\n");
    return 2;
  }
  if (max_new < 1 || max_new > (1 << 24) || n_samples < 1 || n_samples > 4096 || top_k < 0 || top_k > (1 << 30) ||
      speculative < 0 || speculative > SKL_MTP_MAX_HEADS) {
    fprintf(stderr, "skillrl generate: --max-new and --num must be >= 1, --top-k >= 0, --speculative 0..%d\n",
            SKL_MTP_MAX_HEADS);
    return 2;
  }
  skl_sample_params sp = {(float)temperature, (int)top_k, (float)top_p};
  skl_error err = {0};
  if (skl_sample_check(&sp, &err)) {
    fprintf(stderr, "skillrl generate: %s\n", err.msg);
    return 2;
  }
  if (threads > 0) {
    omp_set_num_threads((int)threads);
    skl_blas_set_threads((int)threads);
  }
  char *text = NULL;
  if (prompt_arg[0] == '@') {
    /* bounded: @/dev/zero read forever. No model window (at most
     * SKL_HF_MAX_POSITION tokens) holds more than ~4 bytes a token. */
    if (skl_fs_read_max(prompt_arg + 1, (size_t)4 * SKL_HF_MAX_POSITION, &text, NULL, &err))
      return skl_cli_fail("generate", err.msg);
  } else if (!(text = strdup(prompt_arg))) {
    return skl_cli_fail("generate", "out of memory");
  }
  skl_model m;
  memset(&m, 0, sizeof m);
  skl_tokenizer *tok = NULL;
  skl_decoder *d = NULL;
  skl_spec *sd = NULL;
  skl_mtp_heads heads;
  skl_spec_stats sst;
  memset(&heads, 0, sizeof heads);
  skl_tokens ids = {0};
  skl_gen_output out = {0};
  skl_buf txt = {0};
  int code = 0;
  char *tpath = skl_path_join(dir, "tokenizer.json");
  skl_chat_format fmt = SKL_CHAT_PLAIN;
  int32_t stop[16];
  int n_stop = 0;
  if (!tpath) { code = skl_cli_fail("generate", "out of memory"); goto out; }
  if (skl_ckpt_load_model(&m, dir, true, &err) || skl_tokenizer_load(tpath, &tok, &err) ||
      encode_prompt(tok, text, chat, &fmt, &ids, &err)) {
    code = skl_cli_fail("generate", err.msg);
    goto out;
  }
  if (ids.len == 0) { code = skl_cli_fail("generate", "the prompt encodes to no tokens"); goto out; }
  for (int i = 0; i < m.cfg.n_eos && n_stop < 8; i++) stop[n_stop++] = m.cfg.eos_token_ids[i];
  if (chat)
    for (const char *const *s = skl_chat_stop_tokens(fmt); *s && n_stop < 16; s++) {
      int32_t id = skl_tokenizer_token_id(tok, *s);
      if (id >= 0 && id < m.cfg.vocab_size) stop[n_stop++] = id;
    }
  int P = (int)ids.len, N = (int)n_samples, M = (int)max_new;
  const int32_t *prompts[1] = {ids.data};
  skl_gen_request rq = {0};
  rq.n_prompts = 1;
  rq.prompts = prompts;
  rq.prompt_lens = &P;
  rq.group = N;
  rq.shared_prefix = N > 1;
  rq.max_new = M;
  rq.stop = stop;
  rq.n_stop = n_stop;
  rq.sample = sp;
  rq.seed = (uint64_t)seed;
  if (skl_decoder_init(&d, &m, N, N > 1 ? M : P + M, N > 1 ? 1 : 0, N > 1 ? P : 0, &err) ||
      (speculative && (skl_spec_load_heads(&heads, dir, &m.cfg, (int)speculative, &err) ||
                       skl_spec_init(&sd, d, &heads, (int)speculative, &err) ||
                       skl_generate_speculative(sd, &rq, &out, &sst, &err))) ||
      (!speculative && skl_generate(d, &rq, &out, &err))) {
    code = skl_cli_fail("generate", err.msg);
    goto out;
  }
  for (int i = 0; i < N; i++) {
    int len = out.len[i] - (out.stopped[i] ? 1 : 0); /* the stop token is not text */
    skl_buf_clear(&txt);
    if (skl_tokenizer_decode_ex(tok, out.tokens + (size_t)i * M, (size_t)len, SKL_TOK_DECODE_REPLACE, &txt, &err)) {
      code = skl_cli_fail("generate", err.msg);
      goto out;
    }
    if (N > 1) printf("--- sample %d (%d tokens%s) ---\n", i, out.len[i], out.stopped[i] ? ", stopped" : "");
    fwrite(txt.data ? txt.data : "", 1, txt.len, stdout);
    fputc('\n', stdout);
  }
  fprintf(stderr, "skillrl generate: %d prompt tokens, %lld generated in %.2f s (prefill %.2f s)\n", P,
          (long long)out.decode_tokens, out.prefill_s + out.decode_s, out.prefill_s);
  if (speculative) {
    fprintf(stderr, "skillrl generate: speculative, %d heads: %.2f drafts accepted per round; acceptance per head",
            (int)speculative, skl_spec_mean_accepted(&sst));
    for (int k = 1; k <= (int)speculative; k++) fprintf(stderr, " %.3f", skl_spec_acceptance(&sst, k));
    fputc('\n', stderr);
  }
out:
  skl_spec_free(sd);
  skl_mtp_free(&heads);
  skl_buf_free(&txt);
  skl_gen_output_free(&out);
  skl_decoder_free(d);
  skl_tokens_free(&ids);
  skl_tokenizer_free(tok);
  skl_model_free(&m);
  free(tpath);
  free(text);
  return code;
}
