/* synth render: background generation, insert placement, templates and
 * length fitting for one sample. Not thread-shared: one call, one sample. */
#include "synth/render.h"

#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"
#include "skills/answer.h"
#include "skills/phrases.h"

const char *const synth_default_system =
    "You are a careful reader. Answer the question using only the documents you are given. Think step by step if "
    "needed, then end your response with a final line of the form \"Answer: <answer>\".";
const char *const synth_default_preamble =
    "Read the following documents carefully and answer the question after them.";

/* Byte classes of the approximate counter. */
enum { CC_OTHER, CC_SPACE, CC_NL, CC_ALPHA, CC_DIGIT, CC_HIGH, CC_CONT }; /* CC_OTHER = 0: the default */
static const unsigned char cclass[256] = {
    /* GNU C range designators; every byte not named is CC_OTHER */
    [' '] = CC_SPACE, ['\t'] = CC_SPACE, ['\r'] = CC_SPACE, ['\n'] = CC_NL,
    ['a' ... 'z'] = CC_ALPHA, ['A' ... 'Z'] = CC_ALPHA, ['0' ... '9'] = CC_DIGIT,
    [0x80 ... 0xbf] = CC_CONT, [0xc0 ... 0xff] = CC_HIGH,
};

skl_status synth_count_approx(const void *ctx, const char *text, size_t len, size_t *n, skl_error *err) {
  (void)ctx;
  (void)err;
  size_t c = 0, i = 0;
  const unsigned char *s = (const unsigned char *)text;
  while (i < len) {
    size_t j = i + 1;
    switch (cclass[s[i]]) {
    case CC_SPACE: case CC_CONT: i++; continue; /* spaces join the next piece; stray continuation bytes cost 0 */
    case CC_NL: while (j < len && s[j] == '\n') j++; c++; break;
    case CC_ALPHA: while (j < len && cclass[s[j]] == CC_ALPHA) j++; c += 1 + (j - i - 1) / 8; break;
    case CC_DIGIT: while (j < len && cclass[s[j]] == CC_DIGIT) j++; c += (j - i + 2) / 3; break;
    case CC_HIGH: while (j < len && cclass[s[j]] == CC_CONT) j++; c++; break;
    default: c++; break;
    }
    i = j;
  }
  *n = c;
  return SKL_OK;
}

synth_counter synth_counter_approx(void) {
  synth_counter c = {synth_count_approx, NULL, "approx"};
  return c;
}

void synth_prompt_free(synth_prompt *p) {
  if (!p) return;
  skl_buf_free(&p->system);
  skl_buf_free(&p->user);
  free(p->doc_genre);
  free(p->insert_at);
  memset(p, 0, sizeof *p);
}

/* Background units of one document: text in one buffer, offsets, tokens. */
typedef struct {
  skl_buf text;
  size_t *off; /* [n + 1] */
  int n, cap;
} doc_units;

static int unit_sep_is_newline(const doc_units *u, int k) {
  /* the separator ending unit k-1 decides how an insert after it is joined:
   * after a line (log line, list item) it is a line of its own; after a
   * sentence or a paragraph end it runs on with the following sentence */
  if (k <= 0) return 0;
  const char *end = u->text.data + u->off[k];
  return end[-1] == '\n' && (u->off[k] < 2 || end[-2] != '\n');
}

/* Assemble the prompt with units[d].n' = use[d] units per document. */
static skl_status assemble(const skill_blueprint *bp, const synth_render_opts *o, const doc_units *units,
                           const int *use, const int *order, synth_prompt *out) {
  skl_buf *b = &out->user;
  skl_buf_clear(b);
  skl_buf_clear(&out->system);
  if (o->tmpl.kind == SYNTH_TEMPLATE_CHAT &&
      skl_buf_puts(&out->system, o->tmpl.system ? o->tmpl.system : synth_default_system))
    return SKL_ERR_NOMEM;
  const char *pre = o->tmpl.preamble ? o->tmpl.preamble : synth_default_preamble;
  if (skl_buf_printf(b, "%s\n\n", pre)) return SKL_ERR_NOMEM;
  int ii = 0; /* cursor into `order` (inserts sorted by doc, depth) */
  for (int d = 0; d < bp->n_docs; d++) {
    if (skl_buf_printf(b, SKILL_PH_DOCUMENT "%d\n", d + 1)) return SKL_ERR_NOMEM;
    size_t body = b->len;
    int k = use[d];
    for (int u = 0; u <= k; u++) {
      /* inserts whose boundary is u: after unit u-1 */
      while (ii < bp->n_inserts && bp->inserts[order[ii]].doc == d) {
        const skill_insert *in = &bp->inserts[order[ii]];
        double x = in->depth < 0 ? 0 : in->depth > 1 ? 1 : in->depth;
        int at = (int)(x * k + 0.5);
        if (at != u) break;
        int nl = unit_sep_is_newline(&units[d], u);
        out->insert_at[order[ii]] = b->len;
        if (skl_buf_puts(b, in->text) || skl_buf_puts(b, nl ? "\n" : " ")) return SKL_ERR_NOMEM;
        ii++;
      }
      if (u < k && skl_buf_append(b, units[d].text.data + units[d].off[u], units[d].off[u + 1] - units[d].off[u]))
        return SKL_ERR_NOMEM;
    }
    /* trim trailing whitespace of the body, then the document separator */
    while (b->len > body && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\n')) b->len--;
    b->data[b->len] = 0;
    if (skl_buf_puts(b, "\n\n")) return SKL_ERR_NOMEM;
  }
  if (skl_buf_printf(b, SKILL_PH_QUESTION "%s\n%s", bp->question, skill_answer_instruction(bp->answer_type)))
    return SKL_ERR_NOMEM;
  return SKL_OK;
}

const char *synth_count_format_name(synth_count_format f) {
  static const char *const names[] = {"none", "plain", "chatml", "qwen3", "llama3"};
  return (unsigned)f <= SYNTH_FORMAT_LLAMA3 ? names[f] : "unknown";
}

static skl_status count_prompt(const synth_render_opts *o, const synth_prompt *p, size_t *n, skl_error *err) {
  size_t a = 0, b = 0;
  skl_status s = SKL_OK;
  if (o->tmpl.format != SYNTH_FORMAT_NONE) { /* the whole rendered conversation */
    static const skl_chat_format chat[] = {SKL_CHAT_PLAIN, SKL_CHAT_PLAIN, SKL_CHAT_CHATML, SKL_CHAT_CHATML,
                                           SKL_CHAT_LLAMA3};
    if ((unsigned)o->tmpl.format > SYNTH_FORMAT_LLAMA3)
      return skl_error_set(err, SKL_ERR_INVALID, "render: unknown template format %d", (int)o->tmpl.format);
    skl_chat_msg m[2];
    int k = 0;
    if (p->system.len) m[k++] = (skl_chat_msg){"system", p->system.data};
    m[k++] = (skl_chat_msg){"user", p->user.data ? p->user.data : ""};
    skl_buf t = {0};
    s = skl_chat_render(chat[o->tmpl.format], m, k, 1, &t, err);
    if (!s) s = o->counter.count(o->counter.ctx, t.data ? t.data : "", t.len, n, err);
    skl_buf_free(&t);
    return s;
  }
  if (p->system.len) s = o->counter.count(o->counter.ctx, p->system.data, p->system.len, &a, err);
  if (!s) s = o->counter.count(o->counter.ctx, p->user.data, p->user.len, &b, err);
  *n = a + b;
  return s;
}

skl_status synth_render(const skill_blueprint *bp, const synth_render_opts *o, skl_rng *rng, synth_prompt *out,
                        skl_error *err) {
  int D = bp->n_docs;
  skl_status s = SKL_OK;
  if (D <= 0) return skl_error_set(err, SKL_ERR_INVALID, "render: blueprint of skill '%s' has no documents", bp->skill);
  free(out->doc_genre);
  free(out->insert_at);
  out->doc_genre = calloc((size_t)D, sizeof *out->doc_genre);
  out->insert_at = calloc((size_t)bp->n_inserts + 1, sizeof *out->insert_at);
  int *use = calloc((size_t)D, sizeof *use);
  int *order = calloc((size_t)bp->n_inserts + 1, sizeof *order);
  doc_units *units = calloc((size_t)D, sizeof *units);
  if (!out->doc_genre || !out->insert_at || !use || !order || !units) {
    s = skl_error_set(err, SKL_ERR_NOMEM, "render: out of memory");
    goto done;
  }
  out->n_docs = D;
  out->format = o->tmpl.format;
  /* genre per document: the blueprint's choice when it names a known one */
  for (int d = 0; d < D; d++) {
    int g = -1;
    if (bp->doc_genres && bp->doc_genres[d]) g = synth_genre_find(o->genres, bp->doc_genres[d]);
    if (g < 0 && o->corpus_genre >= 0 && (o->n_genre_pool == 0 || skl_rng_uniform(rng) < o->corpus_share))
      g = o->corpus_genre;
    if (g < 0) g = o->genre_pool[skl_rng_below(rng, (uint64_t)o->n_genre_pool)];
    out->doc_genre[d] = g;
  }
  /* inserts in text order: (doc, depth, index); insertion sort, few inserts */
  for (int i = 0; i < bp->n_inserts; i++) {
    const skill_insert *in = &bp->inserts[i];
    if (in->doc < 0 || in->doc >= D) {
      s = skl_error_set(err, SKL_ERR_INVALID, "render: skill '%s' insert %d names document %d of %d", bp->skill, i,
                        in->doc, D);
      goto done;
    }
    int j = i;
    while (j > 0) {
      const skill_insert *p = &bp->inserts[order[j - 1]];
      if (p->doc < in->doc || (p->doc == in->doc && p->depth <= in->depth)) break;
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  /* fixed part: everything but background */
  if ((s = assemble(bp, o, units, use, order, out))) {
    s = skl_error_set(err, SKL_ERR_NOMEM, "render: out of memory");
    goto done;
  }
  size_t fixed;
  if ((s = count_prompt(o, out, &fixed, err))) goto done;
  out->fixed_tokens = fixed;
  if (fixed > o->budget) {
    s = skl_error_set(err, SKL_ERR_RANGE, "skill '%s': the prompt needs %zu tokens without any background but the "
                      "length budget is %zu (target length minus response budget): raise length.min or lower the "
                      "skill's docs/anchors knobs", bp->skill, fixed, o->budget);
    goto done;
  }
  /* grow: one unit per document in turn, each counted once */
  size_t total = fixed;
  int n_units = 0, full = 0;
  skl_buf tmp = {0};
  while (!full && (!o->max_units || n_units < o->max_units)) {
    full = 1;
    for (int d = 0; d < D; d++) {
      doc_units *u = &units[d];
      skl_buf_clear(&tmp);
      if ((s = synth_genre_unit(o->genres, out->doc_genre[d], o->split_part, rng, &tmp, err))) break;
      size_t t;
      if ((s = o->counter.count(o->counter.ctx, tmp.data, tmp.len, &t, err))) break;
      if (total + t > o->budget) continue; /* another document's shorter unit may still fit */
      if (u->n + 2 > u->cap) {
        int nc = u->cap ? u->cap * 2 : 64;
        size_t *no = realloc(u->off, (size_t)nc * sizeof *no);
        if (!no) { s = skl_error_set(err, SKL_ERR_NOMEM, "render: out of memory"); break; }
        u->off = no;
        u->cap = nc;
        u->off[0] = 0;
      }
      if (skl_buf_append(&u->text, tmp.data, tmp.len)) { s = skl_error_set(err, SKL_ERR_NOMEM, "render: out of memory"); break; }
      u->off[++u->n] = u->text.len;
      use[d] = u->n;
      total += t;
      n_units++;
      full = 0;
    }
    if (s) break;
  }
  skl_buf_free(&tmp);
  if (s) goto done;
  /* verify once; trim the longest documents' last units while over budget */
  for (int round = 0;; round++) {
    if ((s = assemble(bp, o, units, use, order, out))) {
      s = skl_error_set(err, SKL_ERR_NOMEM, "render: out of memory");
      goto done;
    }
    if ((s = count_prompt(o, out, &out->n_tokens, err))) goto done;
    if (out->n_tokens <= o->budget) break;
    if (round > 64 || n_units == 0) {
      s = skl_error_set(err, SKL_ERR_INTERNAL, "render: cannot fit skill '%s' into %zu tokens (%zu after trimming)",
                        bp->skill, o->budget, out->n_tokens);
      goto done;
    }
    size_t over = out->n_tokens - o->budget, avg = (total - fixed) / (size_t)n_units + 1;
    int drop = (int)(over / avg) + 1;
    for (int k = 0; k < drop && n_units > 0; k++) {
      int best = 0;
      for (int d = 1; d < D; d++)
        if (use[d] > use[best]) best = d;
      use[best]--;
      n_units--;
    }
  }
  out->units = n_units;
done:
  if (units)
    for (int d = 0; d < D; d++) {
      skl_buf_free(&units[d].text);
      free(units[d].off);
    }
  free(units);
  free(use);
  free(order);
  return s;
}
