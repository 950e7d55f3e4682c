/* Deterministic mutation fuzzer for skillrl's parsers of outside input (issue
 * 18): YAML config and overrides, JSONL and JSONL.zst, manifest.json,
 * tokenizer.json, config.json and judge replies. Seeded, a fixed number of
 * iterations (SKL_SLOW_SIZE=small: fewer); every input must end in a clean
 * accept or a clean error with a message (run under ASan+UBSan in the slow
 * suite). The corpus starts with the cases issue 18 found. Not libFuzzer (no
 * coverage); the safetensors header has its own driver (tests/hf). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/rng.h"
#include "harness.h"
#include "hf/hf_config.h"
#include "io/jsonl.h"
#include "io/manifest.h"
#include "judge/judge.h"
#include "model/model.h"
#include "rl/config.h"
#include "tok/tokenizer.h"

static char tmpdir[] = "/tmp/skl_fuzz_parsers_XXXXXX";
static char path_buf[4][700];

static const char *P(int slot, const char *rel) {
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", tmpdir, rel);
  return path_buf[slot];
}

/* Bytes that steer JSON and YAML parsers somewhere interesting. */
static const char interesting[] = "{}[]\":,0123456789-eE. \\u\n\t#&*!|>'-?:%@`";

static size_t mutate(skl_rng *r, const unsigned char *src, size_t n, unsigned char *dst, size_t cap) {
  if (n > cap) n = cap;
  memcpy(dst, src, n);
  int k = 1 + (int)skl_rng_below(r, 4);
  for (int m = 0; m < k; m++) {
    size_t pos = n ? (size_t)skl_rng_below(r, n) : 0;
    switch (skl_rng_below(r, 7)) {
    case 0: if (n) dst[pos] ^= (unsigned char)(1u << skl_rng_below(r, 8)); break;
    case 1: if (n) dst[pos] = (unsigned char)interesting[skl_rng_below(r, sizeof interesting - 1)]; break;
    case 2:
      if (n < cap) {
        memmove(dst + pos + 1, dst + pos, n - pos);
        dst[pos] = (unsigned char)interesting[skl_rng_below(r, sizeof interesting - 1)];
        n++;
      }
      break;
    case 3: if (n) { memmove(dst + pos, dst + pos + 1, n - pos - 1); n--; } break;
    case 4: if (skl_rng_below(r, 4) == 0) n = pos; break; /* truncate, now and then */
    case 5: { /* duplicate a span: repeats keys, nests deeper */
      size_t len = n ? (size_t)skl_rng_below(r, 32) : 0;
      if (pos + len > n) len = n - pos;
      if (n + len <= cap) { memmove(dst + pos + len, dst + pos, n - pos); n += len; }
    } break;
    default: if (n) dst[pos] = (unsigned char)skl_rng_below(r, 256); break;
    }
  }
  return n;
}

/* One parser: read the file at path (or, for overrides, the text), return its status. */
typedef skl_status (*target_fn)(const char *path, const unsigned char *data, size_t n, skl_error *err);

static skl_status t_yaml(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)d; (void)n;
  rl_train_cfg c;
  skl_status s = skl_cfg_load(rl_train_schema(), &c, path, NULL, 0, err);
  if (!s) skl_cfg_free(rl_train_schema(), &c);
  return s;
}

static skl_status t_override(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)path;
  char *kv = malloc(n + 1);
  if (!kv) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) kv[i] = d[i] ? (char)d[i] : ' ';
  kv[n] = '\0';
  char *ov[2] = {"model=m", kv};
  rl_train_cfg c;
  skl_status s = skl_cfg_load(rl_train_schema(), &c, NULL, ov, 2, err);
  if (!s) skl_cfg_free(rl_train_schema(), &c);
  free(kv);
  return s;
}

static skl_status t_jsonl(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)d; (void)n;
  skl_jsonl_reader *r = NULL;
  skl_status s = skl_jsonl_open(&r, path, err);
  json_t *rec;
  int k = 0;
  while (!s && !(s = skl_jsonl_next(r, &rec, err)) && rec && k++ < 1000) json_decref(rec);
  if (!s && rec) json_decref(rec);
  skl_jsonl_close(r);
  return s;
}

static skl_status t_manifest(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)d; (void)n;
  char dir[700];
  snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
  skl_manifest m;
  skl_status s = skl_manifest_read(&m, dir, err);
  skl_manifest_free(&m);
  return s;
}

static skl_status t_tokenizer(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)d; (void)n;
  skl_tokenizer *t = NULL;
  skl_status s = skl_tokenizer_load(path, &t, err);
  if (!s) {
    static const char text[] = "The answer is 42.\n<|im_start|>user\nhi<|im_end|> caf\xc3\xa9";
    skl_tokens ids = {0};
    skl_buf out = {0};
    s = skl_tokenizer_encode(t, text, sizeof text - 1, &ids, err);
    if (!s) s = skl_tokenizer_decode(t, ids.data, ids.len, &out, err);
    skl_buf_free(&out);
    skl_tokens_free(&ids);
  }
  skl_tokenizer_free(t);
  return s;
}

static skl_status t_config_json(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)d; (void)n;
  skl_model_config c;
  skl_status s = skl_hf_config_load(path, &c, err);
  if (!s) s = skl_model_config_check(&c, err);
  if (!s && skl_model_param_count(&c) < 2000000) { /* small enough to build: the tensor table and rope */
    skl_model m;
    if (!(s = skl_model_init(&m, &c, err))) skl_model_free(&m);
  }
  return s;
}

static skl_status t_judge(const char *path, const unsigned char *d, size_t n, skl_error *err) {
  (void)d; (void)n;
  char cmd[900];
  snprintf(cmd, sizeof cmd, "cat '%s'; exec cat >/dev/null", path); /* the reply, then read the rest */
  skl_judge_opts o = {.kind = SKL_JUDGE_COMMAND, .target = cmd, .timeout_s = 0.3, .retries = 0};
  skl_judge *j = NULL;
  skl_status s = skl_judge_open(&j, &o, err);
  if (s) return s;
  skillrl_judge_item items[2] = {{"s1", "q", "r", "g"}, {"s2", "q", "r", "g"}};
  double sc[2];
  s = skl_judge_score(j, items, 2, sc, err);
  skl_judge_close(j);
  return s;
}

typedef struct {
  const char *name;
  const char *file;   /* the mutated input is written here (relative to tmpdir) */
  target_fn fn;
  int iters;          /* full size; SKL_SLOW_SIZE=small divides by 10 */
  bool names_file;    /* a rejection's message must name the file */
} target;

/* Seeds: valid inputs, then issue 18's cases (each must be refused cleanly). */
static const char *yaml_seeds[] = {
    "kind: train\nmodel: m\ndata: d\nout: o\nseed: 3\nsteps: 4\nbatch: {prompts: 2, group: 4, micro: 2}\n"
    "rollout: {max_response: 8}\noptim: {lr: 1.0e-3}\nsft: {steps: 6, batch: 2, seq: 256}\n"
    "checkpoint: {every: 1, keep: 3}\n",
    "kind: train\nmodel: m\nskills: [niah, logic]\nreward: {format_reward: 0.5}\n# comment\n",
    NULL};
static const char *override_seeds[] = {"rollout.max_response=8", "batch={prompts: 2, group: 4}", "skills=[a, b]",
                                       "batch=null", "optim.lr=1e-3", NULL};
static const char *jsonl_seeds[] = {
    "{\"id\":\"a\",\"skill\":\"niah\",\"prompt\":[{\"role\":\"user\",\"content\":\"x\"}],\"answer\":\"7\"}\n"
    "{\"id\":\"b\",\"n\":[1,2,3],\"u\":\"caf\\u00e9\"}\n",
    NULL};
static const char *tok_seed_extra[] = {
    "{\"model\":{\"type\":\"Unigram\",\"vocab\":{\"a\":0}}}",
    "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]},\"added_tokens\":[]}", NULL};
static const char *config_json_seeds[] = {
    "{\"architectures\":[\"LlamaForCausalLM\"],\"model_type\":\"llama\",\"hidden_size\":16,\"intermediate_size\":24,"
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"num_hidden_layers\":2,\"vocab_size\":30,"
    "\"max_position_embeddings\":64,\"rope_scaling\":{\"factor\":8.0,\"high_freq_factor\":4.0,"
    "\"low_freq_factor\":1.0,\"original_max_position_embeddings\":32,\"rope_type\":\"llama3\"},"
    "\"eos_token_id\":[1,2],\"tie_word_embeddings\":true}",
    "{\"model_type\":\"qwen3\",\"hidden_size\":2,\"num_attention_heads\":1,\"head_dim\":2,\"intermediate_size\":1,"
    "\"num_hidden_layers\":306783379,\"vocab_size\":30}",
    "{\"model_type\":\"llama\",\"vocab_size\":10,\"num_hidden_layers\":1000000000}",
    "{\"model_type\":\"qwen2\",\"hidden_size\":8,\"num_attention_heads\":2,\"intermediate_size\":8,"
    "\"num_hidden_layers\":1,\"vocab_size\":16,\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4}}",
    NULL};
static const char *judge_seeds[] = {"{\"id\":\"s1\",\"score\":1}\n{\"id\":\"s2\",\"score\":0}\n",
                                    "{\"id\":\"s2\",\"score\":0.5}\n{\"id\":\"s1\",\"score\":1e-3}\n", NULL};

/* GPT-2 style byte-level BPE, bytes only, plus chat tokens (a loader-valid seed). */
static char *make_tokenizer(size_t *n) {
  skl_buf b = {0};
  skl_buf_puts(&b, "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":256,\"content\":\"<|im_start|>\",\"special\":true},"
                   "{\"id\":257,\"content\":\"<|im_end|>\",\"special\":true}],\"normalizer\":null,"
                   "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
                   "\"decoder\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{");
  int extra = 0;
  for (unsigned c = 0; c < 256; c++) {
    int printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
    unsigned cp = printable ? c : 256 + (unsigned)extra++;
    skl_buf_puts(&b, c ? ",\"" : "\"");
    if (cp == '"' || cp == '\\') skl_buf_printf(&b, "\\%c", (char)cp);
    else if (cp < 0x80) skl_buf_printf(&b, "%c", (char)cp);
    else skl_buf_printf(&b, "%c%c", (char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)));
    skl_buf_printf(&b, "\":%u", c);
  }
  skl_buf_puts(&b, "},\"merges\":[]}}");
  *n = b.len;
  return b.data;
}

static void corpus_of(int t, const char ***seeds, int *n) {
  static const char *tok[8];
  static char *tokgen;
  *seeds = NULL;
  *n = 0;
  switch (t) {
  case 0: *seeds = yaml_seeds; break;
  case 1: *seeds = override_seeds; break;
  case 2: case 3: *seeds = jsonl_seeds; break;
  case 5: {
    size_t len;
    if (!tokgen) tokgen = make_tokenizer(&len);
    tok[0] = tokgen;
    for (int i = 0; tok_seed_extra[i]; i++) tok[i + 1] = tok_seed_extra[i];
    *seeds = tok;
  } break;
  case 6: *seeds = config_json_seeds; break;
  case 7: *seeds = judge_seeds; break;
  default: break;
  }
  while (*seeds && (*seeds)[*n]) (*n)++;
}

/* Write bytes to the target's file; .zst and manifest targets re-encode. */
static int put(int t, const char *file, const unsigned char *d, size_t n) {
  if (t == 3) { /* JSONL.zst: the mutated bytes are compressed bytes of a seed, so mutate a real frame */
    FILE *f = fopen(P(0, file), "wb");
    if (!f) return 0;
    if (n) fwrite(d, 1, n, f);
    fclose(f);
    return 1;
  }
  return skl_fs_write_atomic(P(0, file), d, n, NULL) == SKL_OK;
}

int main(void) {
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  const char *size = getenv("SKL_SLOW_SIZE");
  int div = size && !strcmp(size, "small") ? 10 : 1;
  skl_fs_mkdirs(P(0, "ds/niah"), NULL);
  /* seeds that need building: a zstd shard and a manifest */
  unsigned char *zseed = NULL, *mseed = NULL;
  size_t zn = 0, mn = 0;
  {
    skl_jsonl_writer *w = NULL;
    skl_jsonl_writer_opts wo = skl_jsonl_writer_opts_default();
    skl_shard_info info;
    skl_error e = {0};
    CHECK(skl_jsonl_writer_open(&w, P(0, "ds/niah/train-00000.jsonl.zst"), &wo, &e) == SKL_OK);
    for (int i = 0; i < 5; i++) {
      json_t *o = json_pack("{s:s, s:i, s:s}", "id", "x", "i", i, "skill", "niah");
      skl_jsonl_write(w, o, &e);
      json_decref(o);
    }
    CHECK(skl_jsonl_writer_close(w, &info, &e) == SKL_OK);
    skl_manifest m;
    CHECK(skl_manifest_init(&m, &e) == SKL_OK);
    CHECK(skl_manifest_add_shard(&m, "niah", "train", "niah/train-00000.jsonl.zst", &info, &e) == SKL_OK);
    CHECK(skl_manifest_set_tokenizer_hash(&m, info.sha256, &e) == SKL_OK);
    CHECK(skl_manifest_write(&m, P(0, "ds"), &e) == SKL_OK);
    skl_manifest_free(&m);
    char *buf;
    CHECK(skl_fs_read_all(P(0, "ds/niah/train-00000.jsonl.zst"), &buf, &zn, &e) == SKL_OK);
    zseed = (unsigned char *)buf;
    CHECK(skl_fs_read_all(P(0, "ds/manifest.json"), &buf, &mn, &e) == SKL_OK);
    mseed = (unsigned char *)buf;
  }
  const target targets[] = {
      {"yaml config", "cfg.yaml", t_yaml, 3000, true},
      {"override", "", t_override, 3000, false},
      {"jsonl", "in.jsonl", t_jsonl, 3000, true},
      {"jsonl.zst", "in.jsonl.zst", t_jsonl, 2000, true},
      {"manifest", "ds/manifest.json", t_manifest, 3000, true},
      {"tokenizer.json", "tokenizer.json", t_tokenizer, 600, true},
      {"config.json", "config.json", t_config_json, 3000, true},
      {"judge replies", "reply.txt", t_judge, 150, false},
  };
  /* issue 18's YAML case: 200k nested '[' (minutes in libyaml before) */
  size_t deep_n = 200003;
  char *deep = malloc(deep_n + 1);
  memcpy(deep, "a: ", 3);
  memset(deep + 3, '[', deep_n - 3);
  deep[deep_n] = '\0';
  skl_rng r;
  skl_rng_seed(&r, 20261207);
  size_t cap = 1 << 16;
  unsigned char *buf = malloc(cap + deep_n);
  for (int t = 0; t < (int)(sizeof targets / sizeof targets[0]); t++) {
    const target *tg = &targets[t];
    const char **seeds;
    int ns;
    corpus_of(t, &seeds, &ns);
    const unsigned char *sd[8];
    size_t sn[8];
    int k = 0;
    for (int i = 0; i < ns && k < 7; i++, k++) { sd[k] = (const unsigned char *)seeds[i]; sn[k] = strlen(seeds[i]); }
    if (t == 3) { sd[k] = zseed; sn[k++] = zn; }
    if (t == 4) { sd[k] = mseed; sn[k++] = mn; }
    if (t == 0) { sd[k] = (const unsigned char *)deep; sn[k++] = deep_n; }
    int accepted = 0, rejected = 0, bad_msg = 0;
    int iters = tg->iters / div + k; /* the seeds themselves first */
    for (int it = 0; it < iters; it++) {
      int v = it < k ? it : (int)skl_rng_below(&r, (uint64_t)k);
      size_t n = it < k ? sn[v] : mutate(&r, sd[v], sn[v] < cap ? sn[v] : cap, buf, cap);
      const unsigned char *in = it < k ? sd[v] : buf;
      if (*tg->file && !put(t, tg->file, in, n)) { CHECK_MSG(0, "%s: cannot write the input", tg->name); break; }
      skl_error err = {0};
      skl_status s = tg->fn(P(1, tg->file), in, n, &err);
      if (s == SKL_OK) { accepted++; continue; }
      rejected++;
      const char *base = strrchr(tg->file, '/') ? strrchr(tg->file, '/') + 1 : tg->file;
      if (!err.msg[0] || (tg->names_file && !strstr(err.msg, base) && s != SKL_ERR_NOMEM)) {
        if (bad_msg++ < 3) fprintf(stderr, "%s: status %s, message '%s'\n", tg->name, skl_status_name(s), err.msg);
      }
    }
    CHECK_MSG(bad_msg == 0, "%s: %d rejections without a message naming the input", tg->name, bad_msg);
    CHECK_MSG(rejected > 0 && accepted > 0, "%s: %d accepted, %d rejected (both expected)", tg->name, accepted,
              rejected);
    printf("fuzz %s: %d inputs, %d accepted, %d rejected\n", tg->name, iters, accepted, rejected);
  }
  free(buf);
  free(deep);
  free(zseed);
  free(mseed);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (!t_fail && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
