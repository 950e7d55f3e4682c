/* skl checkpoint: a model as a Hugging Face directory (config.json,
 * model.safetensors F32/BF16, tokenizer.json) and the optimizer state
 * (optimizer.safetensors) for resuming. Not the trainer state (rl/). */
#ifndef SKL_MODEL_CHECKPOINT_H
#define SKL_MODEL_CHECKPOINT_H

#include <stdbool.h>

#include "core/error.h"
#include "hf/safetensors.h"
#include "model/model.h"
#include "model/optim.h"

/* Write DIR/config.json, DIR/model.safetensors (every tensor of the table
 * under its HF name, stored as dtype F32 or BF16) and, if tokenizer_json is
 * non-NULL, a copy as DIR/tokenizer.json after checking its ids fit the
 * embedding. Each file is written atomically; DIR is created.
 * @return SKL_OK or the IO / validation error (naming the file). */
skl_status skl_ckpt_save_model(const skl_model *m, const char *dir, skl_dtype dtype,
                               const char *tokenizer_json, skl_error *err);

/* Load DIR (config.json + model.safetensors or a sharded index) into a fresh
 * model (skl_model_init inside; free with skl_model_free). Every expected
 * tensor must be present with its exact shape (F32/F16/BF16 converted to
 * f32). A tensor the model does not expect is an error naming it unless
 * allow_unexpected (e.g. MTP heads read by another module); a tied model
 * ignores a stored lm_head.weight, as transformers does. If DIR holds a
 * tokenizer.json, its ids must fit the embedding.
 * @return SKL_OK, SKL_ERR_NOTFOUND (missing file/tensor), SKL_ERR_INVALID
 *         (shape, unexpected tensor, tokenizer/embedding mismatch), or the
 *         config / safetensors reader's error; messages name the tensor/key. */
skl_status skl_ckpt_load_model(skl_model *m, const char *dir, bool allow_unexpected,
                               skl_error *err);

/* Check that every token id of a tokenizer.json (model.vocab values and
 * added_tokens ids) is < vocab_size. Larger embeddings are fine (padded
 * vocabularies); a tokenizer with ids beyond the embedding is not.
 * @return SKL_OK, SKL_ERR_INVALID (message names both sizes and the fix),
 *         SKL_ERR_PARSE / IO for an unreadable file. */
skl_status skl_ckpt_check_tokenizer(const char *tokenizer_json, int vocab_size, skl_error *err);

/* DIR/optimizer.safetensors: exp_avg.<name>, exp_avg_sq.<name> (F32) for
 * every parameter, metadata "step" and the hyper-parameters. Loading checks
 * every tensor's presence and shape against m's table and restores step. */
skl_status skl_ckpt_save_optim(const skl_adamw *o, const skl_model *m, const char *dir,
                               skl_error *err);
skl_status skl_ckpt_load_optim(skl_adamw *o, const skl_model *m, const char *dir,
                               skl_error *err);

#endif
