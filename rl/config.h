/* rl config: the "train" config kind shared by `skillrl sft`, `skillrl train`
 * and `skillrl filter` — model, data, sampling, GRPO/DAPO loss, optimizer,
 * rewards, checkpoints — as one typed struct with its YAML schema.
 * Not the loops (rl/sft.h, rl/trainer.h). */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

typedef struct {
  /* where */
  char *model;          /* model directory to start from (HF layout) */
  char *data;           /* dataset directory (manifest.json) */
  char *out;            /* run directory */
  char *skills;         /* comma-separated subset, "" = all in the data */
  int chat_format;      /* index into rl_chat_formats: auto|chatml|llama3|plain */
  int64_t seed;
  int threads;          /* 0 = all cores */
  /* GRPO */
  int steps;            /* optimizer steps (each: one rollout batch, update.epochs passes) */
  int prompts;          /* groups per step (global, over all ranks) */
  int group;            /* G responses per prompt */
  int micro;            /* sequences per forward/backward micro-batch */
  int max_response;     /* response budget in tokens */
  double temperature, top_p;
  int top_k;
  int spec_heads;        /* rollout.speculative.heads: MTP heads drafting (0: plain decoding) */
  bool dynamic_sampling;   /* drop zero-signal groups and resample (DAPO) */
  int max_sampling_rounds; /* bound on extra rollout rounds per step */
  bool std_norm;           /* divide advantages by the group std (classic GRPO) */
  double clip_low, clip_high;
  int agg;                 /* index into rl_agg_names */
  double kl_coef;
  int kl_estimator;        /* k1|k2|k3 */
  bool kl_in_reward;       /* KL as a reward penalty instead of a loss term */
  int update_epochs;
  bool shared_prefix;      /* prompt forward/backward once per group */
  /* optimizer (RL) */
  double lr, min_lr_ratio, weight_decay, beta1, beta2, eps, grad_clip;
  int warmup_steps;
  int schedule;            /* constant|cosine */
  /* reward */
  double format_reward;
  bool overlong_penalty;
  int overlong_cache;
  bool mask_truncated;
  char *judge_command;     /* external JSON-lines judge, or NULL */
  char *judge_plugin;      /* dlopen plugin, or NULL */
  double judge_timeout;
  int judge_retries;
  /* SFT warm-up */
  int sft_steps;
  int sft_batch;           /* packed rows per step */
  int sft_seq;             /* row length in tokens (samples packed) */
  double sft_lr;
  char *sft_out;           /* SFT run directory (NULL: OUT/sft) */
  int sft_warmup;
  double sft_prompt_loss; /* weight of prompt tokens in the SFT loss (0: masked) */
  int sft_target;          /* index into rl_sft_targets: answer|quote */
  /* pretraining (skillrl pretrain: next-token curriculum, synth/pt_stream.h) */
  int pt_steps;
  int pt_tokens;           /* tokens per step (rows = tokens / current length) */
  int pt_seq;              /* final row length */
  int pt_seq_start;        /* first row length of the length curriculum */
  int pt_induction_steps;  /* first steps: induction rows of random tokens only, at pt_induction_seq */
  int pt_induction_seq;
  double pt_induction_until;
  int pt_lookup_steps;     /* the most steps of the lookup stage (0: none) */
  int pt_lookup_seq;
  double pt_lookup_until;
  double pt_lookup_weight;   /* loss weight of the lookup tokens (the source's weighted label's probes) */ /* repeat accuracy that ends the induction stage (0: the steps only) */
  double pt_curriculum;    /* share of pt_steps over which the length grows */
  double pt_lr;
  int pt_warmup;
  skl_cfg_map pt_mixture;  /* induction|recall|documents -> weight */
  double pt_induction_text;
  double pt_recall_random;    /* share of recall rows in random tokens */
  skl_cfg_ints pt_span;    /* [min, max] repeated span tokens */
  double pt_repeat_share;
  int pt_tokens_per_entry, pt_tokens_per_query;
  skl_cfg_strs pt_genres;  /* built-in genres (empty: all) */
  skl_cfg_strs pt_corpus;  /* user corpus files, added as genres */
  char *pt_out;            /* run directory (NULL: OUT/pretrain) */
  /* filter */
  int filter_k;            /* samples per item */
  double filter_low, filter_high;
  char *filter_out;        /* output dataset dir */
  /* running */
  int log_every;
  int ckpt_every;          /* steps; 0 = only at the end and on signals */
  int ckpt_keep;           /* keep the last K step-N folders */
  int max_bad_steps;       /* consecutive NaN/inf steps before stopping */
  double dist_timeout;     /* seconds before a stalled collective is an error */
  bool save_bf16;
} rl_train_cfg;

extern const char *const rl_chat_formats[];
extern const char *const rl_sft_targets[];
extern const char *const rl_agg_names[];

extern const char *const rl_pt_components[];

/* Run folder of a phase: "sft" -> sft.out (or OUT/sft), "pretrain" ->
 * pretrain.out (or OUT/pretrain), else OUT.
 * @return malloc'd path, NULL on OOM */
char *rl_run_dir(const rl_train_cfg *c, const char *phase);

/* @return the schema of kind "train" */
const skl_cfg_schema *rl_train_schema(void);

#endif
