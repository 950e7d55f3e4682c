/* Tests for synth/render: layout, inserts at sentence boundaries in depth
 * order, templates, length fitting accuracy from 256 to 128k tokens, the
 * approximate counter, and the too-short error. Not an oracle test. */
#include <stdlib.h>

#include "chat/chat.h"
#include "harness.h"
#include "skills/registry.h"
#include "synth/render.h"

static synth_genres *G;
static int pool[16];

static synth_render_opts opts(size_t budget) {
  synth_render_opts o = {.genres = G, .genre_pool = pool, .n_genre_pool = synth_genre_builtin_count(),
                         .corpus_genre = -1, .budget = budget, .counter = synth_counter_approx()};
  return o;
}

static void test_counter(void) {
  size_t n;
  synth_count_approx(NULL, "hello world", 11, &n, NULL);
  CHECK(n == 2);
  synth_count_approx(NULL, "internationalization", 20, &n, NULL); /* 20 letters: 1 + 19/8 */
  CHECK(n == 3);
  synth_count_approx(NULL, "1234567", 7, &n, NULL); /* 3 digits a token */
  CHECK(n == 3);
  synth_count_approx(NULL, "a, b.\n\n\nc", 9, &n, NULL); /* a , b . \n+ c */
  CHECK(n == 6);
  synth_count_approx(NULL, "caf\xc3\xa9", 5, &n, NULL); /* caf + é */
  CHECK(n == 2);
  /* additive over a concatenation at a space */
  size_t a, b, ab;
  const char *x = "The minutes were approved. ", *y = "Revenue rose 12.5 percent.";
  char both[128];
  snprintf(both, sizeof both, "%s%s", x, y);
  synth_count_approx(NULL, x, strlen(x), &a, NULL);
  synth_count_approx(NULL, y, strlen(y), &b, NULL);
  synth_count_approx(NULL, both, strlen(both), &ab, NULL);
  CHECK(a + b == ab);
}

/* A hand-made blueprint: 3 docs, 4 inserts (two in doc 1 at the same boundary). */
static skill_anchor A[4];
static skill_insert I[4];
static char *genres[3];
static skill_blueprint bp;

static void setup_bp(void) {
  const char *texts[] = {"Entry ALPHA: its value is 1.", "Entry BETA: its value is 2.", "Entry GAMMA: its value is 3.",
                         "Entry DELTA: its value is 4."};
  int docs[] = {1, 0, 1, 2};
  double dep[] = {0.5, 0.0, 0.5 + 1e-6, 1.0};
  for (int i = 0; i < 4; i++) {
    snprintf(A[i].name, sizeof A[i].name, "%.5s", texts[i] + 6);
    I[i].doc = docs[i];
    I[i].depth = dep[i];
    I[i].anchor = i;
    snprintf(I[i].text, sizeof I[i].text, "%s", texts[i]);
  }
  genres[0] = NULL;
  genres[1] = "technical_log"; /* a blueprint may name a genre: it is used */
  genres[2] = "no_such_genre"; /* unknown: drawn from the pool instead */
  bp.skill = "test";
  bp.n_docs = 3;
  bp.doc_genres = genres;
  bp.anchors = A;
  bp.n_anchors = 4;
  bp.inserts = I;
  bp.n_inserts = 4;
  snprintf(bp.question, sizeof bp.question, "What is the value of entry ALPHA?");
  bp.answer_type = SKILL_ANSWER_NUMBER;
}

static void test_layout(void) {
  skl_rng r;
  skl_rng_seed(&r, 5);
  synth_render_opts o = opts(2000);
  synth_prompt p = {0};
  skl_error e;
  CHECK_MSG(synth_render(&bp, &o, &r, &p, &e) == SKL_OK, "%s", e.msg);
  const char *u = p.user.data;
  CHECK(p.system.len == 0); /* plain template */
  CHECK(!strncmp(u, synth_default_preamble, strlen(synth_default_preamble)));
  const char *d1 = strstr(u, "\n\nDocument 1\n"), *d2 = strstr(u, "\n\nDocument 2\n"), *d3 = strstr(u, "\n\nDocument 3\n");
  const char *q = strstr(u, "\n\nQuestion: What is the value of entry ALPHA?\nEnd your response");
  CHECK(d1 && d2 && d3 && q && d1 < d2 && d2 < d3 && d3 < q);
  CHECK(p.doc_genre[1] == synth_genre_find(G, "technical_log"));
  CHECK(p.doc_genre[2] >= 0 && p.doc_genre[2] < synth_genre_builtin_count());
  /* every insert is where insert_at says, in its document, at a boundary */
  const char *docs[] = {d1, d2, d3, q};
  for (int i = 0; i < 4; i++) {
    const char *at = u + p.insert_at[i];
    CHECK(!strncmp(at, I[i].text, strlen(I[i].text)));
    CHECK(at > docs[I[i].doc] && at < docs[I[i].doc + 1]);
    char before = at[-1];
    CHECK_MSG(before == '\n' || (before == ' ' && (at[-2] == '.' || at[-2] == '?' || at[-2] == ':' || at[-2] == '!' || at[-2] == ')' || at[-2] == '"')),
              "insert %d not at a sentence boundary: '...%.20s'", i, at - 20);
  }
  /* depth order inside a document, even at one boundary */
  CHECK(p.insert_at[0] < p.insert_at[2]);
  /* depth 0: first in its document; depth 1: last */
  CHECK(u + p.insert_at[1] == d1 + strlen("\n\nDocument 1\n"));
  const char *after_delta = u + p.insert_at[3] + strlen(I[3].text);
  CHECK(after_delta == q);
  /* fitted: within budget, and close to it */
  CHECK(p.n_tokens <= 2000);
  CHECK_MSG(p.n_tokens >= 1900, "only %zu of 2000 tokens used", p.n_tokens);
  size_t again;
  synth_count_approx(NULL, u, p.user.len, &again, NULL);
  CHECK(again == p.n_tokens); /* the reported count is the text's count */
  /* determinism */
  synth_prompt p2 = {0};
  skl_rng_seed(&r, 5);
  synth_render(&bp, &o, &r, &p2, &e);
  CHECK(p2.user.len == p.user.len && !memcmp(p2.user.data, p.user.data, p.user.len));
  /* chat template: system message counted too */
  o.tmpl.kind = SYNTH_TEMPLATE_CHAT;
  o.tmpl.system = "Be brief.";
  o.tmpl.preamble = "Here are documents.";
  skl_rng_seed(&r, 5);
  CHECK(synth_render(&bp, &o, &r, &p2, &e) == SKL_OK);
  CHECK_STR(p2.system.data, "Be brief.");
  CHECK(!strncmp(p2.user.data, "Here are documents.\n\nDocument 1\n", 32));
  size_t ns, nu;
  synth_count_approx(NULL, p2.system.data, p2.system.len, &ns, NULL);
  synth_count_approx(NULL, p2.user.data, p2.user.len, &nu, NULL);
  CHECK(p2.n_tokens == ns + nu && p2.n_tokens <= 2000);
  synth_prompt_free(&p2);
  /* too short: the error gives both numbers and the fix */
  o = opts(20);
  CHECK(synth_render(&bp, &o, &r, &p, &e) == SKL_ERR_RANGE);
  CHECK_CONTAINS(e.msg, "skill 'test': the prompt needs");
  CHECK_CONTAINS(e.msg, "but the length budget is 20");
  CHECK_CONTAINS(e.msg, "raise length.min");
  /* an insert naming a document that does not exist */
  I[3].doc = 7;
  o = opts(2000);
  CHECK(synth_render(&bp, &o, &r, &p, &e) == SKL_ERR_INVALID);
  CHECK_CONTAINS(e.msg, "insert 3 names document 7 of 3");
  I[3].doc = 2;
  synth_prompt_free(&p);
}

/* Lengths from 256 to 128k tokens with real skill blueprints: always within
 * budget, and using at least 90% of it (a unit is at most ~80 tokens). */
static void test_lengths(void) {
  const size_t budgets[] = {256, 1000, 4096, 32768, 131072};
  const skill_def *d = skill_find("niah");
  skill_knobs k = d->defaults;
  k.docs = 2;
  k.anchors = 2;
  for (size_t bi = 0; bi < sizeof budgets / sizeof *budgets; bi++) {
    for (int s = 0; s < (budgets[bi] > 10000 ? 2 : 10); s++) {
      skl_rng r;
      skl_rng_seed(&r, 100 + (uint64_t)s);
      skill_blueprint b = {0};
      skl_error e;
      CHECK(skill_build(d, &k, &r, &b, &e) == SKL_OK);
      synth_render_opts o = opts(budgets[bi]);
      synth_prompt p = {0};
      CHECK_MSG(synth_render(&b, &o, &r, &p, &e) == SKL_OK, "%s", e.msg);
      CHECK_MSG(p.n_tokens <= budgets[bi], "%zu > budget %zu", p.n_tokens, budgets[bi]);
      CHECK_MSG(p.n_tokens * 10 >= budgets[bi] * 9, "%zu tokens for budget %zu", p.n_tokens, budgets[bi]);
      if (s == 0) printf("budget %6zu: %6zu tokens, %7zu bytes, %d units\n", budgets[bi], p.n_tokens, p.user.len, p.units);
      synth_prompt_free(&p);
      skill_blueprint_free(&b);
    }
  }
}

/* template.format: the count is the rendered conversation's (the published
 * ChatML / Qwen3 / Llama-3 renderings of a system + user turn with the
 * assistant's opening), within budget, and the template's tokens come out of
 * the background, not out of response_budget. */
static void test_template_lengths(void) {
  /* the renderings a model's own chat template gives for one system + user turn */
  static const struct {
    synth_count_format f;
    const char *want;
  } published[] = {
      {SYNTH_FORMAT_CHATML, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"},
      {SYNTH_FORMAT_QWEN3, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"},
      {SYNTH_FORMAT_LLAMA3, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
                            "<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>"
                            "<|start_header_id|>assistant<|end_header_id|>\n\n"},
      {SYNTH_FORMAT_PLAIN, "S\n\nU\n\nAssistant: "},
  };
  static const skl_chat_format chat[] = {SKL_CHAT_PLAIN, SKL_CHAT_PLAIN, SKL_CHAT_CHATML, SKL_CHAT_CHATML, SKL_CHAT_LLAMA3};
  const skill_def *d = skill_find("niah");
  skill_knobs k = d->defaults;
  k.docs = 2;
  k.anchors = 2;
  for (size_t i = 0; i < sizeof published / sizeof *published; i++) {
    synth_count_format f = published[i].f;
    skl_chat_msg m[2] = {{"system", "S"}, {"user", "U"}};
    skl_buf t = {0};
    CHECK(skl_chat_render(chat[f], m, 2, 1, &t, NULL) == SKL_OK);
    CHECK_MSG(t.data && !strcmp(t.data, published[i].want), "%s renders '%s'", synth_count_format_name(f), t.data);
    skl_buf_free(&t);
    for (int s = 0; s < 4; s++) {
      skl_rng r, r0;
      skl_rng_seed(&r, 300 + (uint64_t)s);
      r0 = r;
      skill_blueprint b = {0}, b0 = {0};
      skl_error e;
      CHECK(skill_build(d, &k, &r, &b, &e) == SKL_OK);
      CHECK(skill_build(d, &k, &r0, &b0, &e) == SKL_OK);
      synth_render_opts o = opts(1500), o0 = opts(1500);
      o.tmpl = (synth_template){SYNTH_TEMPLATE_CHAT, NULL, NULL, f};
      o0.tmpl = (synth_template){SYNTH_TEMPLATE_CHAT, NULL, NULL, SYNTH_FORMAT_NONE};
      synth_prompt p = {0}, p0 = {0};
      CHECK_MSG(synth_render(&b, &o, &r, &p, &e) == SKL_OK, "%s", e.msg);
      CHECK_MSG(synth_render(&b0, &o0, &r0, &p0, &e) == SKL_OK, "%s", e.msg);
      CHECK(p.format == f && p0.format == SYNTH_FORMAT_NONE);
      /* n_tokens is exactly the count of the rendered conversation */
      skl_chat_msg mm[2] = {{"system", p.system.data}, {"user", p.user.data}};
      skl_buf_clear(&t);
      CHECK(skl_chat_render(chat[f], mm, 2, 1, &t, NULL) == SKL_OK);
      size_t n = 0, content = 0, c2 = 0;
      CHECK(synth_count_approx(NULL, t.data, t.len, &n, NULL) == SKL_OK);
      CHECK_MSG(n == p.n_tokens, "%s: n_tokens %zu, rendered conversation %zu", synth_count_format_name(f), p.n_tokens, n);
      CHECK(p.n_tokens <= 1500);
      /* the template's tokens displaced background: less content than without a template */
      synth_count_approx(NULL, p.system.data, p.system.len, &content, NULL);
      synth_count_approx(NULL, p.user.data, p.user.len, &c2, NULL);
      CHECK_MSG(f == SYNTH_FORMAT_PLAIN ? content + c2 <= p0.n_tokens : content + c2 < p0.n_tokens, "%s: content %zu tokens, without template %zu", synth_count_format_name(f),
                content + c2, p0.n_tokens);
      skl_buf_free(&t);
      synth_prompt_free(&p);
      synth_prompt_free(&p0);
      skill_blueprint_free(&b);
      skill_blueprint_free(&b0);
    }
  }
}

int main(void) {
  skl_error e;
  if (synth_genres_init(&G, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
  for (int i = 0; i < synth_genre_builtin_count(); i++) pool[i] = i;
  setup_bp();
  test_counter();
  test_layout();
  test_lengths();
  test_template_lengths();
  synth_genres_free(G);
  return test_report();
}
