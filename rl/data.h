/* rl data: loads a skill dataset split (DIR/manifest.json + shards) into
 * training items — the prompt rendered with the model's chat format and
 * tokenized, the gold answer, its type — and checks it fits the model.
 * Not the synthesizer (synth/) and not a streaming loader: items are held
 * in memory (a few thousand prompts), their order drawn per epoch. */
#ifndef RL_DATA_H
#define RL_DATA_H

#include <stdint.h>

#include "chat/chat.h"
#include "core/error.h"
#include "core/rng.h"
#include "skills/blueprint.h"
#include "tok/tokenizer.h"

typedef struct {
  char *id;
  char *skill;
  char *question;          /* the last user message (for judges and reports) */
  char *answer;            /* gold answer text */
  skill_answer_type type;
  int32_t *prompt;         /* [n_prompt] chat-rendered prompt ids, ending with the assistant opening */
  int n_prompt;
  int32_t *target;         /* [n_target] SFT response: "Answer: <gold>" (with quote_evidence
                            * after the quoted inserts, one per line) then the stop token */
  int n_target;
  int n_tokens_meta;       /* extra_info.n_tokens as written by synth (-1 if absent) */
} rl_item;

typedef struct {
  rl_item *items;          /* [n] in file order: skills as in the manifest, shards in order */
  int n;
  skl_chat_format format;  /* resolved (never AUTO) */
  int32_t stop_ids[4];     /* token ids that end a response */
  int n_stop;
} rl_dataset;

typedef struct {
  const char *dir;         /* dataset folder with manifest.json */
  const char *split;       /* "train" or "test" */
  const char *skills;      /* comma-separated skill ids to keep, NULL/"" = all */
  int max_items;           /* per skill; 0 = all */
  skl_chat_format format;  /* AUTO picks from the tokenizer's special tokens */
  int max_prompt;          /* refuse prompts longer than this (the model's window minus the
                            * response budget); 0 = no check */
  int check_tokenizer;     /* refuse when the manifest's tokenizer hash differs from tok's */
  int quote_evidence;      /* SFT target: first the inserts the answer rests on (sft.target quote) */
} rl_data_opts;

/* Load and tokenize. Errors name the shard and line (missing fields the
 * reward needs: answer, answer_type, prompt), a tokenizer mismatch (with both
 * hashes and the fix), or a prompt longer than max_prompt (with the numbers).
 * @return SKL_OK, SKL_ERR_NOTFOUND (no manifest / no shards for the split),
 *         SKL_ERR_INVALID, SKL_ERR_RANGE, SKL_ERR_PARSE, SKL_ERR_NOMEM. */
skl_status rl_dataset_load(const rl_data_opts *o, const skl_tokenizer *tok, rl_dataset *ds, skl_error *err);
void rl_dataset_free(rl_dataset *ds); /* zeroed ok */

/* Deterministic permutation of 0..n-1 for an epoch: a pure function of
 * (seed, epoch), so a resumed run draws the same order. */
void rl_epoch_order(uint64_t seed, int epoch, int n, int *order);

#endif
