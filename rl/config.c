/* rl config: the train schema (keys, defaults, ranges, help).
 * Not validation across keys (the loops check what depends on the model). */
#include "rl/config.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

const char *const rl_chat_formats[] = {"auto", "chatml", "llama3", "plain", NULL};
const char *const rl_agg_names[] = {"token-mean", "seq-mean-token-mean", "seq-mean-token-sum", NULL};
static const char *const kl_names[] = {"k1", "k2", "k3", NULL};
static const char *const schedules[] = {"constant", "cosine", NULL};
const char *const rl_sft_targets[] = {"answer", "quote", NULL};
const char *const rl_pt_components[] = {"induction", "recall", "documents", NULL};

#define F(k, t, field, d, lo, hi, h) {.key = k, .type = t, .offset = offsetof(rl_train_cfg, field), .def = d, .min = lo, .max = hi, .help = h}
#define E(k, field, d, ch, h) {.key = k, .type = SKL_CFG_ENUM, .offset = offsetof(rl_train_cfg, field), .def = d, .choices = ch, .help = h}

static const skl_cfg_field fields[] = {
    F("model", SKL_CFG_STRING, model, NULL, 0, 0, "model directory to start from (config.json, model.safetensors, tokenizer.json)"),
    F("data", SKL_CFG_STRING, data, NULL, 0, 0, "dataset directory written by `skillrl synth` (manifest.json)"),
    F("out", SKL_CFG_STRING, out, "runs/train", 0, 0, "run directory: config.yaml, metrics.jsonl, ckpt/step-N/"),
    F("skills", SKL_CFG_STRING, skills, "", 0, 0, "comma-separated skills to train on; empty = all in the data"),
    E("chat_format", chat_format, "auto", rl_chat_formats, "prompt format; auto picks from the tokenizer's special tokens"),
    F("seed", SKL_CFG_INT64, seed, "1", 0, 9.2e18, "run seed: data order, sampling, everything random"),
    F("threads", SKL_CFG_INT, threads, "0", 0, 4096, "compute threads per rank; 0 = all cores"),
    F("steps", SKL_CFG_INT, steps, "20", 0, 1e9, "RL optimizer steps"),
    F("batch.prompts", SKL_CFG_INT, prompts, "8", 1, 1e6, "prompts (groups) per step, over all ranks"),
    F("batch.group", SKL_CFG_INT, group, "8", 2, 4096, "G: responses sampled per prompt"),
    F("batch.micro", SKL_CFG_INT, micro, "8", 1, 1e6, "sequences per forward/backward micro-batch"),
    F("rollout.max_response", SKL_CFG_INT, max_response, "32", 1, 1e7, "response budget in tokens"),
    F("rollout.temperature", SKL_CFG_FLOAT, temperature, "1.0", 0, 10, "sampling temperature (0 = greedy); the loss's log-probs (old, new, reference) use the same temperature, logits / T as verl (T = 1 when greedy)"),
    F("rollout.top_p", SKL_CFG_FLOAT, top_p, "1.0", 1e-6, 1, "nucleus sampling mass"),
    F("rollout.top_k", SKL_CFG_INT, top_k, "0", 0, 1e7, "top-k sampling (0 = off)"),
    F("rollout.speculative.heads", SKL_CFG_INT, spec_heads, "0", 0, 16,
      "speculative rollouts: K of the MTP heads in model's mtp.safetensors draft, the policy verifies (same "
      "output distribution; 0 = plain decoding). The heads stay frozen, so acceptance falls as the policy moves"),
    F("dynamic_sampling.enabled", SKL_CFG_BOOL, dynamic_sampling, "true", 0, 0, "drop groups whose rewards are all equal and sample more (DAPO)"),
    F("dynamic_sampling.max_rounds", SKL_CFG_INT, max_sampling_rounds, "4", 0, 1000, "extra rollout rounds per step before training on a partial batch"),
    F("advantage.std_norm", SKL_CFG_BOOL, std_norm, "false", 0, 0, "divide advantages by the group's std (classic GRPO)"),
    F("loss.clip_low", SKL_CFG_FLOAT, clip_low, "0.2", 0, 0.999, "ratio floor 1 - clip_low"),
    F("loss.clip_high", SKL_CFG_FLOAT, clip_high, "0.28", 0, 100, "ratio ceiling 1 + clip_high (clip-higher)"),
    E("loss.agg", agg, "token-mean", rl_agg_names, "loss aggregation over tokens and sequences"),
    F("loss.kl_coef", SKL_CFG_FLOAT, kl_coef, "0", 0, 100, "KL to the frozen starting model (0 = off, no reference kept)"),
    E("loss.kl_estimator", kl_estimator, "k3", kl_names, "KL estimator"),
    F("loss.kl_in_reward", SKL_CFG_BOOL, kl_in_reward, "false", 0, 0, "apply the KL as a reward penalty instead of a loss term"),
    F("update.epochs", SKL_CFG_INT, update_epochs, "1", 1, 100, "passes over each rollout batch"),
    F("update.shared_prefix", SKL_CFG_BOOL, shared_prefix, "true", 0, 0, "update step per group: the prompt's forward/backward runs once for its G responses (old, reference and new log-probs, gradients; exact up to float rounding); false packs prompt+response rows, batch.micro per micro-batch"),
    F("optim.lr", SKL_CFG_FLOAT, lr, "1e-5", 0, 10, "peak learning rate (RL)"),
    F("optim.min_lr_ratio", SKL_CFG_FLOAT, min_lr_ratio, "0.1", 0, 1, "cosine floor as a fraction of lr"),
    F("optim.weight_decay", SKL_CFG_FLOAT, weight_decay, "0.0", 0, 10, "AdamW decoupled weight decay"),
    F("optim.beta1", SKL_CFG_FLOAT, beta1, "0.9", 0, 0.99999, "AdamW beta1"),
    F("optim.beta2", SKL_CFG_FLOAT, beta2, "0.999", 0, 0.9999999, "AdamW beta2"),
    F("optim.eps", SKL_CFG_FLOAT, eps, "1e-8", 0, 1, "AdamW epsilon"),
    F("optim.grad_clip", SKL_CFG_FLOAT, grad_clip, "1.0", 0, 1e9, "global gradient-norm clip (0 = off)"),
    F("optim.warmup_steps", SKL_CFG_INT, warmup_steps, "0", 0, 1e9, "linear warm-up steps"),
    E("optim.schedule", schedule, "constant", schedules, "learning-rate schedule after warm-up"),
    F("reward.format_reward", SKL_CFG_FLOAT, format_reward, "0", -10, 10, "added when a response has an 'Answer:' line"),
    F("reward.overlong_penalty", SKL_CFG_BOOL, overlong_penalty, "false", 0, 0, "DAPO soft punishment near the response budget"),
    F("reward.overlong_cache", SKL_CFG_INT, overlong_cache, "8", 0, 1e7, "punishment window in tokens before the budget"),
    F("reward.mask_truncated", SKL_CFG_BOOL, mask_truncated, "false", 0, 0, "truncated responses carry no gradient"),
    F("reward.judge.command", SKL_CFG_STRING, judge_command, NULL, 0, 0, "external judge (JSON lines on stdin/stdout) for free-form answers"),
    F("reward.judge.plugin", SKL_CFG_STRING, judge_plugin, NULL, 0, 0, "judge plugin .so (src/judge/judge_plugin.h)"),
    F("reward.judge.timeout", SKL_CFG_FLOAT, judge_timeout, "60", 0.1, 1e6, "seconds before a silent judge counts as hung"),
    F("reward.judge.retries", SKL_CFG_INT, judge_retries, "1", 0, 100, "restarts of a failed judge before the run stops"),
    F("sft.steps", SKL_CFG_INT, sft_steps, "100", 0, 1e9, "supervised warm-up steps"),
    F("sft.batch", SKL_CFG_INT, sft_batch, "4", 1, 1e6, "packed rows per SFT step"),
    F("sft.seq", SKL_CFG_INT, sft_seq, "1024", 16, 1e7, "tokens per packed SFT row"),
    F("sft.lr", SKL_CFG_FLOAT, sft_lr, "1e-3", 0, 10, "SFT peak learning rate (cosine to min_lr_ratio)"),
    F("sft.warmup", SKL_CFG_INT, sft_warmup, "10", 0, 1e9, "SFT warm-up steps"),
    F("sft.prompt_loss", SKL_CFG_FLOAT, sft_prompt_loss, "0", 0, 1,
      "weight of prompt tokens in the SFT loss (0: answer tokens only; > 0 also trains next-token "
      "prediction on the prompt; metrics report answer_loss apart)"),
    E("sft.target", sft_target, "answer", rl_sft_targets,
      "SFT response: answer = \"Answer: <gold>\"; quote = first the inserts (\"Entry ...: its value is ...\") of "
      "the entries the answer's expression names, one per line (none when it names no single entry, as logic's structural questions), then the answer line: the quoting teaches a "
      "small model to find and copy its evidence (raise rollout.max_response to fit)"),
    F("sft.out", SKL_CFG_STRING, sft_out, NULL, 0, 0, "SFT run directory (unset: OUT/sft); its final/ is the model RL starts from"),
    F("pretrain.steps", SKL_CFG_INT, pt_steps, "600", 0, 1e9, "pretraining steps (skillrl pretrain)"),
    F("pretrain.tokens", SKL_CFG_INT, pt_tokens, "16384", 16, 1e9, "tokens per pretraining step, over all ranks (rows = tokens / the step's length)"),
    F("pretrain.seq", SKL_CFG_INT, pt_seq, "1024", 32, 1e7, "row length at the end of the length curriculum (<= the model's window)"),
    F("pretrain.seq_start", SKL_CFG_INT, pt_seq_start, "256", 32, 1e7, "row length when the mixture starts (after pretrain.induction_steps); grows to pretrain.seq"),
    F("pretrain.induction_steps", SKL_CFG_INT, pt_induction_steps, "0", 0, 1e9,
      "the most steps of the induction-first stage: rows of random tokens with repeats only, "
      "pretrain.induction_seq long (the copying circuit forms there fastest: a sharp drop of "
      "loss_induction_random); it ends earlier at pretrain.induction_until; the mixture and the length curriculum "
      "follow"),
    F("pretrain.induction_until", SKL_CFG_FLOAT, pt_induction_until, "0.6", 0, 1,
      "the induction-first stage ends at the first step whose random-token repeat accuracy reaches this (the "
      "phase change: it jumps from ~0 to ~0.9 within tens of steps, after a number of steps that varies with the "
      "seed), or after pretrain.induction_steps steps at the most; 0: always pretrain.induction_steps"),
    F("pretrain.lookup_steps", SKL_CFG_INT, pt_lookup_steps, "0", 0, 1e9,
      "the most steps of the lookup stage, after the induction stage: recall rows only (text and random, "
      "pretrain.recall_random), pretrain.lookup_seq long, at the flat peak rate, where the key-to-value lookup "
      "forms (acc_recall jumps from ~0.5 to ~0.95); it ends earlier at pretrain.lookup_until; 0: no such stage"),
    F("pretrain.lookup_until", SKL_CFG_FLOAT, pt_lookup_until, "0.8", 0, 1,
      "the lookup stage ends at the first step whose recall accuracy (acc_recall: the quoted value's first token) "
      "reaches this, or after pretrain.lookup_steps steps; 0: always pretrain.lookup_steps"),
    F("pretrain.lookup_seq", SKL_CFG_INT, pt_lookup_seq, "192", 192, 1e7, "row length of the lookup stage"),
    F("pretrain.lookup_weight", SKL_CFG_FLOAT, pt_lookup_weight, "1", 0, 1000,
      "loss weight of recall's lookup tokens (the first token of each quoted value: the one that needs the "
      "name-to-entry match; given it, the rest narrows to one entry) against 1 for every other token"),
    F("pretrain.induction_seq", SKL_CFG_INT, pt_induction_seq, "128", 32, 1e7, "row length of the induction-first steps"),
    F("pretrain.curriculum", SKL_CFG_FLOAT, pt_curriculum, "0.5", 0, 1, "share of the steps after pretrain.induction_steps over which the row length grows from seq_start to seq, quadratically (slowly at first: short rows while recall forms; 0: pretrain.seq at once)"),
    F("pretrain.lr", SKL_CFG_FLOAT, pt_lr, "3e-3", 0, 10, "pretraining peak learning rate: warm-up, flat through the induction-first stage, then a cosine to optim.min_lr_ratio over the steps left"),
    F("pretrain.warmup", SKL_CFG_INT, pt_warmup, "20", 0, 1e9, "pretraining warm-up steps"),
    {.key = "pretrain.mixture", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(rl_train_cfg, pt_mixture),
     .def = "{induction: 1, recall: 2, documents: 1}", .min = 0, .max = 1e9, .choices = rl_pt_components,
     .help = "weights of the stream's components: induction (spans repeated at random offsets, in random tokens "
             "and genre text), recall (entries among genre text, then questions answered by quoting them), "
             "documents (genre text); a component left out weighs 0"},
    F("pretrain.recall_random", SKL_CFG_FLOAT, pt_recall_random, "0.5", 0, 1, "share of recall rows in random tokens: entries 'key template value' among random filler, then some repeated (multi-query associative recall; the lookup with a shared template between key and value)"),
    F("pretrain.induction_text", SKL_CFG_FLOAT, pt_induction_text, "0.5", 0, 1, "share of induction rows carried by genre text (the rest: random tokens, loss on the repeats only)"),
    F("pretrain.span", SKL_CFG_INT_LIST, pt_span, "[4, 24]", 2, 1e6, "[min, max] tokens of an induction span"),
    F("pretrain.repeat_share", SKL_CFG_FLOAT, pt_repeat_share, "0.4", 0.01, 0.9, "induction: about this share of a row is repeated spans"),
    F("pretrain.tokens_per_entry", SKL_CFG_INT, pt_tokens_per_entry, "48", 8, 1e9, "recall: at most one entry per this many tokens of row (each row draws 2 to that many)"),
    F("pretrain.tokens_per_query", SKL_CFG_INT, pt_tokens_per_query, "48", 8, 1e9, "recall: one question per this many tokens of row"),
    F("pretrain.genres", SKL_CFG_STR_LIST, pt_genres, "[]", 0, 0, "built-in genres of the stream's text (empty: all eight; names as synth's background.genres)"),
    F("pretrain.corpus", SKL_CFG_STR_LIST, pt_corpus, "[]", 0, 0, "user corpus files (.txt, .jsonl with a text field, optionally .zst) added to the stream's text"),
    F("pretrain.out", SKL_CFG_STRING, pt_out, NULL, 0, 0, "pretraining run directory (unset: OUT/pretrain); its final/ is the model SFT starts from"),
    F("filter.k", SKL_CFG_INT, filter_k, "8", 1, 4096, "samples per item in `skillrl filter`"),
    F("filter.low", SKL_CFG_FLOAT, filter_low, "0.3", 0, 1, "keep items whose pass rate is >= low"),
    F("filter.high", SKL_CFG_FLOAT, filter_high, "0.6", 0, 1, "and <= high"),
    F("filter.out", SKL_CFG_STRING, filter_out, NULL, 0, 0, "output dataset folder of `skillrl filter`"),
    F("log.every", SKL_CFG_INT, log_every, "1", 1, 1e9, "console line every N steps"),
    F("checkpoint.every", SKL_CFG_INT, ckpt_every, "0", 0, 1e9, "checkpoint every N steps (0 = end and signals only)"),
    F("checkpoint.keep", SKL_CFG_INT, ckpt_keep, "2", 1, 1e6, "keep the last K checkpoints"),
    F("checkpoint.bf16", SKL_CFG_BOOL, save_bf16, "false", 0, 0, "save weights as bf16 (optimizer state stays fp32)"),
    F("nan.max_consecutive", SKL_CFG_INT, max_bad_steps, "3", 1, 1e6, "stop after this many non-finite steps in a row"),
    F("dist.timeout", SKL_CFG_FLOAT, dist_timeout, "600", 1, 1e7, "seconds before a stalled collective ends the job"),
};

static const skl_cfg_schema schema = {
    .kind = "train", .fields = fields, .n_fields = (int)(sizeof fields / sizeof fields[0]),
    .struct_size = sizeof(rl_train_cfg)};

const skl_cfg_schema *rl_train_schema(void) { return &schema; }

char *rl_run_dir(const rl_train_cfg *c, const char *phase) {
  if (!strcmp(phase, "pretrain")) {
    if (c->pt_out && *c->pt_out) return strdup(c->pt_out);
    return skl_path_join(c->out ? c->out : "", "pretrain");
  }
  if (strcmp(phase, "sft")) return strdup(c->out ? c->out : "");
  if (c->sft_out && *c->sft_out) return strdup(c->sft_out);
  return skl_path_join(c->out ? c->out : "", "sft");
}
