/* skillrl tokenizer train|encode|decode: the CLI over tok/tokenizer.h and
 * tok/train.h. Not the tokenizer itself: parsing flags, reading input, printing. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "tok/tokenizer.h"
#include "tok/train.h"

/* Whole input: a file, or stdin for "-" / no argument. */
static int read_input(const char *cmd, const char *path, skl_buf *out) {
  if (path && strcmp(path, "-")) {
    skl_error err;
    char *data;
    size_t len;
    if (skl_fs_read_all(path, &data, &len, &err)) return skl_cli_fail(cmd, err.msg);
    skl_status st = skl_buf_append(out, data, len);
    free(data);
    return st ? skl_cli_fail(cmd, "out of memory") : 0;
  }
  char chunk[1 << 16];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
    if (skl_buf_append(out, chunk, got)) return skl_cli_fail(cmd, "out of memory");
  if (ferror(stdin)) return skl_cli_fail(cmd, "cannot read standard input");
  if (!out->data && skl_buf_append(out, "", 0)) return skl_cli_fail(cmd, "out of memory");
  return 0;
}

static int cmd_encode(int argc, char **argv) {
  const char *tokp = NULL;
  bool special = false, count = false;
  const skl_arg_opt opts[] = {
      {"tokenizer", 't', SKL_ARG_STR, &tokp, "FILE", "tokenizer.json (Hugging Face, byte-level BPE)"},
      {"special", 0, SKL_ARG_FLAG, &special, NULL, "add the post-processor's special tokens (BOS etc.)"},
      {"count", 0, SKL_ARG_FLAG, &count, NULL, "print only the number of tokens"},
  };
  skl_arg_spec spec = {"skillrl tokenizer encode", "--tokenizer FILE [INPUT|-]",
                       "Encode the whole INPUT (a file; stdin when absent or '-') as one text and print\n"
                       "the ids as one JSON array. Special tokens written in the text (<|im_start|>...)\n"
                       "are recognised. Invalid UTF-8 is replaced by U+FFFD first (each maximal\n"
                       "invalid sequence, as a browser's TextDecoder would), so ids match what the\n"
                       "reference tokenizer gives for the decoded string.",
                       opts, 3, 0, 1, NULL};
  int npos, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!tokp) { fprintf(stderr, "skillrl tokenizer encode: --tokenizer FILE is required\n"); return 2; }
  skl_error err;
  skl_tokenizer *tok;
  if (skl_tokenizer_load(tokp, &tok, &err)) return skl_cli_fail("tokenizer encode", err.msg);
  skl_buf in = {0};
  if ((rc = read_input("tokenizer encode", npos ? argv[1] : NULL, &in))) { skl_tokenizer_free(tok); return rc; }
  skl_tokens ids = {0};
  skl_status st = skl_tokenizer_encode_ex(tok, in.data, in.len, special ? SKL_TOK_ADD_SPECIAL : 0, &ids, &err);
  if (st) rc = skl_cli_fail("tokenizer encode", err.msg);
  else if (count) printf("%zu\n", ids.len);
  else {
    skl_buf o = {0};
    skl_buf_puts(&o, "[");
    for (size_t i = 0; i < ids.len; i++) skl_buf_printf(&o, i ? ",%d" : "%d", (int)ids.data[i]);
    if (skl_buf_puts(&o, "]\n")) rc = skl_cli_fail("tokenizer encode", "out of memory");
    else fwrite(o.data, 1, o.len, stdout);
    skl_buf_free(&o);
  }
  skl_tokens_free(&ids);
  skl_buf_free(&in);
  skl_tokenizer_free(tok);
  return rc;
}

static int cmd_decode(int argc, char **argv) {
  const char *tokp = NULL;
  bool skip = false, bytes = false;
  const skl_arg_opt opts[] = {
      {"tokenizer", 't', SKL_ARG_STR, &tokp, "FILE", "tokenizer.json (Hugging Face, byte-level BPE)"},
      {"skip-special", 0, SKL_ARG_FLAG, &skip, NULL, "leave special tokens (<|im_end|>...) out of the text"},
      {"bytes", 0, SKL_ARG_FLAG, &bytes, NULL, "write the raw token bytes (default: invalid UTF-8 becomes U+FFFD)"},
  };
  skl_arg_spec spec = {"skillrl tokenizer decode", "--tokenizer FILE [IDS_JSON|-]",
                       "Decode a JSON array of ids (a file, stdin when absent or '-', or the array\n"
                       "itself when the argument starts with '[') and write the text to stdout.",
                       opts, 3, 0, 1, NULL};
  int npos, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!tokp) { fprintf(stderr, "skillrl tokenizer decode: --tokenizer FILE is required\n"); return 2; }
  skl_buf in = {0};
  const char *arg = npos ? argv[1] : NULL;
  if (arg && arg[0] == '[') { if (skl_buf_puts(&in, arg)) return skl_cli_fail("tokenizer decode", "out of memory"); }
  else if ((rc = read_input("tokenizer decode", arg, &in))) return rc;
  json_error_t je;
  json_t *arr = json_loadb(in.data, in.len, 0, &je);
  skl_buf_free(&in);
  const char *what = arg && arg[0] != '[' && strcmp(arg, "-") ? arg : "ids";
  if (!arr) {
    fprintf(stderr, "skillrl tokenizer decode: %s:%d:%d: not valid JSON: %s\n", what, je.line, je.column, je.text);
    return 1;
  }
  if (!json_is_array(arr)) {
    json_decref(arr);
    fprintf(stderr, "skillrl tokenizer decode: %s: expected a JSON array of token ids\n", what);
    return 1;
  }
  size_t n = json_array_size(arr);
  int32_t *ids = malloc((n + 1) * sizeof *ids);
  if (!ids) { json_decref(arr); return skl_cli_fail("tokenizer decode", "out of memory"); }
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(arr, i);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) {
      fprintf(stderr, "skillrl tokenizer decode: %s[%zu]: expected a non-negative integer token id\n", what, i);
      free(ids);
      json_decref(arr);
      return 1;
    }
    ids[i] = (int32_t)json_integer_value(v);
  }
  json_decref(arr);
  skl_error err;
  skl_tokenizer *tok;
  if (skl_tokenizer_load(tokp, &tok, &err)) { free(ids); return skl_cli_fail("tokenizer decode", err.msg); }
  skl_buf out = {0};
  unsigned fl = (skip ? SKL_TOK_DECODE_SKIP_SPECIAL : 0) | (bytes ? 0 : SKL_TOK_DECODE_REPLACE);
  if (skl_tokenizer_decode_ex(tok, ids, n, fl, &out, &err)) rc = skl_cli_fail("tokenizer decode", err.msg);
  else fwrite(out.data, 1, out.len, stdout);
  skl_buf_free(&out);
  free(ids);
  skl_tokenizer_free(tok);
  return rc;
}

static int cmd_train(int argc, char **argv) {
  int64_t vocab = 0, minfreq = 2;
  const char *outp = NULL, *norm = "nfc";
  const char *specials[64];
  int nspecial = 0;
  /* --special may repeat: collect them before the table parser sees argv */
  int w = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--special") || !strncmp(argv[i], "--special=", 10)) {
      const char *v = argv[i][9] == '=' ? argv[i] + 10 : (i + 1 < argc ? argv[++i] : NULL);
      if (!v) { fprintf(stderr, "skillrl tokenizer train: --special needs a TOKEN\n"); return 2; }
      if (nspecial == 64) { fprintf(stderr, "skillrl tokenizer train: at most 64 --special tokens\n"); return 2; }
      specials[nspecial++] = v;
      continue;
    }
    argv[w++] = argv[i];
  }
  argc = w;
  const char *dummy = NULL;
  const skl_arg_opt opts[] = {
      {"vocab-size", 0, SKL_ARG_INT, &vocab, "N", "vocabulary size including the 256 bytes and special tokens"},
      {"min-frequency", 0, SKL_ARG_INT, &minfreq, "K", "merge only pairs seen at least K times (default 2)"},
      {"special", 0, SKL_ARG_STR, &dummy, "TOKEN", "an added special token; repeat for more (default: "
                                                  "<|endoftext|> <|im_start|> <|im_end|>)"},
      {"normalizer", 0, SKL_ARG_STR, &norm, "nfc|none", "normalizer written to the file (default nfc)"},
      {"output", 'o', SKL_ARG_STR, &outp, "FILE", "tokenizer.json to write (atomically)"},
  };
  skl_arg_spec spec = {"skillrl tokenizer train", "--vocab-size N -o tokenizer.json INPUT...",
                       "Train a byte-level BPE tokenizer (Qwen2-style pre-split regex + ByteLevel) on\n"
                       "text files or dataset JSONL(.jsonl, .jsonl.zst: prompt contents and answer)\n"
                       "and write a Hugging Face tokenizer.json. Ties between equally frequent pairs\n"
                       "break by the pair's token ids, so the same input gives the same file.",
                       opts, 5, 1, -1, NULL};
  int npos, rc = skl_args_parse(&spec, argc, argv, &npos);
  if (rc) return rc == 1 ? 0 : 2;
  if (!outp) { fprintf(stderr, "skillrl tokenizer train: -o FILE is required\n"); return 2; }
  if (vocab <= 0) { fprintf(stderr, "skillrl tokenizer train: --vocab-size N is required\n"); return 2; }
  if (strcmp(norm, "nfc") && strcmp(norm, "none")) {
    fprintf(stderr, "skillrl tokenizer train: --normalizer must be nfc or none, got '%s'\n", norm);
    return 2;
  }
  static const char *const dflt[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  skl_tok_train_opts o = {
      .vocab_size = (size_t)vocab,
      .min_frequency = minfreq < 1 ? 1 : (uint64_t)minfreq,
      .specials = nspecial ? specials : (const char **)dflt,
      .n_specials = nspecial ? (size_t)nspecial : 3,
      .nfc = !strcmp(norm, "nfc"),
  };
  skl_error err;
  skl_tok_train_stats stats;
  if (skl_tok_train_files((const char *const *)argv + 1, (size_t)npos, &o, outp, &stats, &err))
    return skl_cli_fail("tokenizer train", err.msg);
  fprintf(stderr, "skillrl tokenizer train: %s: vocab %zu (%zu merges) from %.1f MB, %zu distinct words, %.2f s\n",
          outp, stats.vocab_size, stats.merges, stats.bytes / 1e6, stats.words, stats.seconds);
  return 0;
}

int skl_cmd_tokenizer(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "encode")) return cmd_encode(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "decode")) return cmd_decode(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "train")) return cmd_train(argc - 1, argv + 1);
  bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
  FILE *f = help ? stdout : stderr;
  if (argc >= 2 && !help) fprintf(stderr, "skillrl tokenizer: unknown subcommand '%s'\n", argv[1]);
  fprintf(f, "usage: skillrl tokenizer train|encode|decode [flags]   (skillrl tokenizer SUB --help)\n\n"
             "  train    learn a byte-level BPE tokenizer.json from text / JSONL(.zst)\n"
             "  encode   text -> JSON array of ids\n"
             "  decode   JSON array of ids -> text\n");
  return help ? 0 : 2;
}
