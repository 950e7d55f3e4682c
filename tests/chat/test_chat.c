/* Tests for src/chat: the rendered text of each format, exactly as the
 * models' chat templates produce it for system+user(+assistant) turns.
 * Not a tokenizer test. */
#include "chat/chat.h"
#include "harness.h"

int main(void) {
  skl_chat_msg m[3] = {{"system", "Be brief."}, {"user", "Hi?"}, {"assistant", "Hello."}};
  skl_buf b = {0};
  skl_error e;
  CHECK(skl_chat_render(SKL_CHAT_CHATML, m, 2, 1, &b, &e) == SKL_OK);
  CHECK_STR(b.data, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi?<|im_end|>\n"
                    "<|im_start|>assistant\n");
  skl_buf_clear(&b);
  CHECK(skl_chat_render(SKL_CHAT_LLAMA3, m, 3, 0, &b, &e) == SKL_OK);
  CHECK_STR(b.data, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                    "<|start_header_id|>user<|end_header_id|>\n\nHi?<|eot_id|>"
                    "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>");
  skl_buf_clear(&b);
  CHECK(skl_chat_render(SKL_CHAT_PLAIN, m, 2, 1, &b, &e) == SKL_OK);
  CHECK_STR(b.data, "Be brief.\n\nHi?\n\nAssistant: ");
  skl_chat_msg bad[1] = {{"tool", "x"}};
  CHECK(skl_chat_render(SKL_CHAT_CHATML, bad, 1, 1, &b, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "chat message 0: role 'tool' is not system, user or assistant");
  skl_chat_format f;
  CHECK(skl_chat_format_parse("llama3", &f, &e) == SKL_OK && f == SKL_CHAT_LLAMA3);
  CHECK(skl_chat_format_parse("jinja", &f, &e) == SKL_ERR_INVALID);
  CHECK(skl_chat_detect(1, 0) == SKL_CHAT_CHATML && skl_chat_detect(0, 1) == SKL_CHAT_LLAMA3);
  CHECK_STR(skl_chat_stop_tokens(SKL_CHAT_CHATML)[0], "<|im_end|>");
  CHECK(skl_chat_stop_tokens(SKL_CHAT_PLAIN)[0] == NULL);
  skl_buf_free(&b);
  return test_report();
}
