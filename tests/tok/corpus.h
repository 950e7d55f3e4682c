/* Deterministic test corpus for the tokenizer tests: prose, code, CJK, emoji,
 * digits, whitespace, special tokens, combining marks, invalid UTF-8.
 * Not a benchmark corpus (bench/tokenize.c builds its own from license texts). */
#ifndef SKL_TESTS_TOK_CORPUS_H
#define SKL_TESTS_TOK_CORPUS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/rng.h"

static void cp_put(skl_buf *b, uint32_t cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) { u[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  skl_buf_append(b, u, n);
}

static const char *const corpus_words[] = {
    "the", "of", "and", "to", "in", "is", "was", "that", "for", "it", "with", "as", "his", "on", "be", "at", "by",
    "I", "this", "had", "not", "are", "but", "from", "or", "have", "an", "they", "which", "one", "you", "were",
    "her", "all", "she", "there", "would", "their", "we", "him", "been", "has", "when", "who", "will", "more",
    "Document", "anchor", "retrieval", "reasoning", "Qwen", "LLaMA", "tokenizer", "internationalization",
    "supercalifragilisticexpialidocious", "naïve", "café", "résumé", "Straße", "façade", "coöperate", "ŉ",
    "ǅemal", "ΑΒΓ", "Ελληνικά", "русский", "язык", "עברית", "العربية", "हिन्दी", "ไทย", "ქართული", "Ærø",
    "x", "Z", "ID", "B-292", "LTUCRHGAXK", "1760536321726-5em0", "e.g.", "i.e.", "U.S.A.", "O'Neil",
};
static const char *const corpus_code[] = {
    "int main(int argc, char **argv) {\n\treturn 0;\n}\n",
    "def f(x):\n    return x ** 2  # square\n\n\nprint(f(3))\n",
    "for (size_t i = 0; i < n; i++) a[i] += b[i] * 0.5f;\r\n",
    "    if x != None and y >= 10:\n        raise ValueError(\"bad\")\n",
    "const re = /[a-z]+\\d{2,}/g; // comment\n",
    "SELECT name, COUNT(*) FROM t WHERE id IN (1,2,3) GROUP BY name;\n",
    "<div class=\"a\">&nbsp;<br/></div>\n",
    "{\"key\": [1, 2.5e-3, true, null], \"k2\": {\"n\": \"v\"}}\n",
    "x<<=2; y>>>=1; z = a?.b ?? c; w = !!v;\n",
    "#include <stdio.h>\n#define MAX(a,b) ((a)>(b)?(a):(b))\n",
    "    \t  \n\t\tindented\n",
};
static const char *const corpus_emoji[] = {
    "\xF0\x9F\x98\x80", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
    "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88", "\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5", "1\xEF\xB8\x8F\xE2\x83\xA3",
    "\xE2\x9D\xA4\xEF\xB8\x8F", "\xF0\x9F\xA7\x91\xF0\x9F\x8F\xBF\xE2\x80\x8D\xF0\x9F\x92\xBB", "\xE2\x9C\x8C\xF0\x9F\x8F\xBB",
    "\xF0\x9F\xA4\xB7\xE2\x80\x8D\xE2\x99\x82\xEF\xB8\x8F", "\xF0\x9F\x90\x88\xE2\x80\x8D\xE2\xAC\x9B",
};
static const char *const corpus_special[] = {
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>", "<|end_of_text|>", "<think>", "</think>",
    "<|eot_id|>", "<|start_header_id|>", "<|im_sta", "<|", "|>", "<|im_start|><|im_end|>", "<tool_call>",
    "<|reserved_special_token_7|>", "<|fim_prefix|>",
};
static const char *const corpus_contractions[] = {"'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m",
                                                  "'M", "'ll", "'LL", "'Ll", "'d", "'D", "\xE2\x80\x99s", "'x", "''"};
static const char *const corpus_ws[] = {" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "\t\t", "\r",
                                        "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8", "\x0B", "\x0C",
                                        "\xEF\xBB\xBF", "\xC2\x85", "\xE1\xA0\x8E", "\xE2\x80\x8B"};
static const char *const corpus_marks[] = {
    "e\xCC\x81", "a\xCC\x8A", "\xE2\x84\xAB", "\xE1\x84\x80\xE1\x85\xA1", "o\xCC\x88\xCC\x81", "\xCC\x81",
    "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7", "A\xCC\xA7\xCC\x8A", "\xEF\xAC\x81", "\xE2\x91\xA0", "\xC2\xB2",
    "\xCD\xB4", "\xE1\xBE\xBE", "n\xCC\x83", "\xE3\x81\x8B\xE3\x82\x99",
};
static const char *const corpus_invalid[] = {
    "\xC3", "\x80", "\xBF\xBF", "\xE2\x82", "\xF0\x9F\x98", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
    "\xF4\x90\x80\x80", "\xF5", "\xFF", "\xFE\xFE", "\xC2\x41", "\xE2\x28\xA1", "\xF8\x88\x80\x80\x80",
};
/* code point ranges assigned long ago (stable categories across Unicode versions) */
static const uint32_t corpus_ranges[][2] = {
    {0x20, 0x7E},     {0xA0, 0x24F},   {0x370, 0x3FF},   {0x400, 0x4FF},     {0x5D0, 0x5EA},   {0x620, 0x64A},
    {0x660, 0x669},   {0x900, 0x97F},  {0xE01, 0xE5B},   {0x1E00, 0x1EFF},   {0x2000, 0x206F}, {0x20A0, 0x20BF},
    {0x2100, 0x218B}, {0x2190, 0x23FF}, {0x2460, 0x24FF}, {0x2500, 0x27BF},  {0x3000, 0x303F}, {0x3041, 0x3096},
    {0x30A1, 0x30FA}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0xFF01, 0xFF5E},  {0x1D400, 0x1D6A5}, {0x1F300, 0x1F5FF},
    {0x1F600, 0x1F64F}, {0x20000, 0x2A6D6}, {0x10400, 0x1044F}, {0xFE30, 0xFE4F}, {0x0300, 0x036F}, {0x1100, 0x11F9},
};

#define PICK(arr) (arr)[skl_rng_below(r, sizeof(arr) / sizeof((arr)[0]))]

static void corpus_piece(skl_rng *r, skl_buf *b, bool allow_invalid) {
  switch (skl_rng_below(r, allow_invalid ? 12 : 11)) {
  case 0: case 1: { /* prose */
    int n = (int)skl_rng_range(r, 1, 14);
    for (int i = 0; i < n; i++) {
      const char *w = PICK(corpus_words);
      if (skl_rng_below(r, 8) == 0) { char u[64]; size_t l = strlen(w); if (l < 63) { for (size_t k = 0; k <= l; k++) u[k] = (char)((w[k] >= 'a' && w[k] <= 'z') ? w[k] - 32 : w[k]); skl_buf_puts(b, u); } }
      else skl_buf_puts(b, w);
      uint64_t p = skl_rng_below(r, 12);
      if (p == 0) skl_buf_puts(b, PICK(corpus_contractions));
      skl_buf_puts(b, p == 1 ? ", " : p == 2 ? ". " : p == 3 ? "  " : p == 4 ? "\n" : " ");
    }
    break;
  }
  case 2: skl_buf_puts(b, PICK(corpus_code)); break;
  case 3: { /* CJK / other scripts / astral */
    int n = (int)skl_rng_range(r, 1, 20);
    if (skl_rng_below(r, 4) == 0) { /* anywhere in Unicode, assigned or not (no surrogates) */
      for (int i = 0; i < n; i++) {
        uint32_t cp = (uint32_t)skl_rng_range(r, 0x80, skl_rng_below(r, 2) ? 0xFFFF : 0x10FFFF);
        cp_put(b, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
      }
      break;
    }
    const uint32_t *rg = corpus_ranges[skl_rng_below(r, sizeof corpus_ranges / sizeof corpus_ranges[0])];
    for (int i = 0; i < n; i++) cp_put(b, (uint32_t)skl_rng_range(r, rg[0], rg[1]));
    break;
  }
  case 4: { int n = (int)skl_rng_range(r, 1, 4); for (int i = 0; i < n; i++) skl_buf_puts(b, PICK(corpus_emoji)); break; }
  case 5: { /* digit runs */
    int n = (int)skl_rng_range(r, 1, 24);
    for (int i = 0; i < n; i++) {
      char d = (char)('0' + skl_rng_below(r, 10));
      skl_buf_append(b, &d, 1);
      if (skl_rng_below(r, 6) == 0) skl_buf_puts(b, skl_rng_below(r, 2) ? "," : ".");
    }
    if (skl_rng_below(r, 3) == 0) skl_buf_puts(b, "\xD9\xA3\xE2\x85\xA2\xC2\xBD"); /* Arabic-Indic 3, Roman III, 1/2 */
    break;
  }
  case 6: { int n = (int)skl_rng_range(r, 1, 40); for (int i = 0; i < n; i++) skl_buf_puts(b, PICK(corpus_ws)); break; }
  case 7: skl_buf_puts(b, PICK(corpus_special)); break;
  case 8: skl_buf_puts(b, PICK(corpus_contractions)); break;
  case 9: skl_buf_puts(b, PICK(corpus_marks)); break;
  case 10: { /* punctuation soup */
    static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    int n = (int)skl_rng_range(r, 1, 8);
    for (int i = 0; i < n; i++) skl_buf_append(b, &punct[skl_rng_below(r, sizeof punct - 1)], 1);
    break;
  }
  default:
    if (skl_rng_below(r, 4) == 0) { /* a long word: past the word cache's key limit */
      const uint32_t *rg = corpus_ranges[skl_rng_below(r, 3) == 0 ? 19 : 0];
      int n = (int)skl_rng_range(r, 40, 200);
      uint32_t one = (uint32_t)skl_rng_range(r, 'a', 'z');
      bool same = skl_rng_below(r, 2);
      for (int i = 0; i < n; i++) cp_put(b, rg == corpus_ranges[0] ? (same ? one : (uint32_t)skl_rng_range(r, 'a', 'z')) : (uint32_t)skl_rng_range(r, rg[0], rg[1]));
    } else skl_buf_puts(b, PICK(corpus_invalid));
    break;
  }
}

/* One test string: 1..k pieces. */
static void corpus_string(skl_rng *r, skl_buf *b, bool allow_invalid) {
  skl_buf_clear(b);
  int n = (int)skl_rng_range(r, 1, 8);
  for (int i = 0; i < n; i++) corpus_piece(r, b, allow_invalid);
  if (!b->data) skl_buf_append(b, "", 0);
}

#endif
