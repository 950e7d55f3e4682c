/* skl chat: ChatML / Llama-3 / plain rendering of a conversation.
 * Not tokenization: the caller encodes the text (special tokens in the text
 * are recognised by the tokenizer). */
#include "chat/chat.h"

#include <string.h>

const char *skl_chat_format_name(skl_chat_format f) {
  switch (f) {
    case SKL_CHAT_AUTO: return "auto";
    case SKL_CHAT_CHATML: return "chatml";
    case SKL_CHAT_LLAMA3: return "llama3";
    case SKL_CHAT_PLAIN: return "plain";
  }
  return "?";
}

skl_status skl_chat_format_parse(const char *name, skl_chat_format *out, skl_error *err) {
  for (int f = SKL_CHAT_AUTO; f <= SKL_CHAT_PLAIN; f++)
    if (!strcmp(name, skl_chat_format_name(f))) { *out = f; return SKL_OK; }
  return skl_error_set(err, SKL_ERR_INVALID, "unknown chat format '%s' (use auto, chatml, llama3 or plain)", name);
}

skl_chat_format skl_chat_detect(int has_im_start, int has_header) {
  if (has_im_start) return SKL_CHAT_CHATML;
  if (has_header) return SKL_CHAT_LLAMA3;
  return SKL_CHAT_PLAIN;
}

skl_status skl_chat_render(skl_chat_format f, const skl_chat_msg *m, int n, int gen, skl_buf *out,
                           skl_error *err) {
  for (int i = 0; i < n; i++)
    if (!m[i].role || (strcmp(m[i].role, "system") && strcmp(m[i].role, "user") && strcmp(m[i].role, "assistant")))
      return skl_error_set(err, SKL_ERR_INVALID, "chat message %d: role '%s' is not system, user or assistant", i,
                           m[i].role ? m[i].role : "(none)");
  skl_status s = SKL_OK;
  switch (f) {
    case SKL_CHAT_CHATML:
      for (int i = 0; i < n && !s; i++)
        s = skl_buf_printf(out, "<|im_start|>%s\n%s<|im_end|>\n", m[i].role, m[i].content ? m[i].content : "");
      if (!s && gen) s = skl_buf_puts(out, "<|im_start|>assistant\n");
      break;
    case SKL_CHAT_LLAMA3:
      s = skl_buf_puts(out, "<|begin_of_text|>");
      for (int i = 0; i < n && !s; i++)
        s = skl_buf_printf(out, "<|start_header_id|>%s<|end_header_id|>\n\n%s<|eot_id|>", m[i].role,
                           m[i].content ? m[i].content : "");
      if (!s && gen) s = skl_buf_puts(out, "<|start_header_id|>assistant<|end_header_id|>\n\n");
      break;
    case SKL_CHAT_PLAIN:
    case SKL_CHAT_AUTO:
      for (int i = 0; i < n && !s; i++) {
        if (i) s = skl_buf_puts(out, "\n\n");
        if (!s && !strcmp(m[i].role, "assistant")) s = skl_buf_puts(out, "Assistant: ");
        if (!s) s = skl_buf_puts(out, m[i].content ? m[i].content : "");
      }
      if (!s && gen) s = skl_buf_puts(out, n ? "\n\nAssistant: " : "Assistant: ");
      break;
  }
  return s ? skl_error_set(err, SKL_ERR_NOMEM, "out of memory rendering a chat") : SKL_OK;
}

const char *const *skl_chat_stop_tokens(skl_chat_format f) {
  static const char *const chatml[] = {"<|im_end|>", "<|endoftext|>", NULL};
  static const char *const llama3[] = {"<|eot_id|>", "<|end_of_text|>", NULL};
  static const char *const none[] = {NULL};
  switch (f) {
    case SKL_CHAT_CHATML: return chatml;
    case SKL_CHAT_LLAMA3: return llama3;
    default: return none;
  }
}
