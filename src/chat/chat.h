/* skl chat: renders a chat (list of {role, content}) into the prompt text a
 * model expects — ChatML (Qwen2/3), Llama-3, or plain — and names the stop
 * tokens that end an assistant turn. Not Jinja: the formats are written out,
 * matching the models' published chat templates for these roles. */
#ifndef SKL_CHAT_H
#define SKL_CHAT_H

#include "core/buf.h"
#include "core/error.h"

typedef enum {
  SKL_CHAT_AUTO,   /* pick from the tokenizer's special tokens (skl_chat_detect) */
  SKL_CHAT_CHATML, /* <|im_start|>role\ncontent<|im_end|>\n ... <|im_start|>assistant\n */
  SKL_CHAT_LLAMA3, /* <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|> */
  SKL_CHAT_PLAIN,  /* contents separated by blank lines; no special tokens */
} skl_chat_format;

typedef struct {
  const char *role;    /* "system", "user", "assistant" */
  const char *content;
} skl_chat_msg;

/* @return "auto", "chatml", "llama3", "plain" */
const char *skl_chat_format_name(skl_chat_format f);
/* Parse a name. @return SKL_OK or SKL_ERR_INVALID listing the names. */
skl_status skl_chat_format_parse(const char *name, skl_chat_format *out, skl_error *err);

/* Choose a format from which special tokens a tokenizer has: has_im_start
 * (<|im_start|>) -> CHATML, has_header (<|start_header_id|>) -> LLAMA3,
 * else PLAIN. */
skl_chat_format skl_chat_detect(int has_im_start, int has_header);

/* Append the rendered conversation to out; with add_generation_prompt the
 * opening of an assistant turn follows, so the model continues as assistant.
 * @return SKL_OK, SKL_ERR_INVALID (a role other than system/user/assistant:
 *         message names the index), SKL_ERR_NOMEM. */
skl_status skl_chat_render(skl_chat_format f, const skl_chat_msg *msgs, int n, int add_generation_prompt,
                           skl_buf *out, skl_error *err);

/* Token strings that end an assistant turn in this format (NULL-terminated
 * static list), e.g. {"<|im_end|>", "<|endoftext|>", NULL}. PLAIN: empty. */
const char *const *skl_chat_stop_tokens(skl_chat_format f);

#endif
