/* synth record: writes the verl-compatible record of one sample as one
 * compact JSON line, blueprint included so `skillrl synth show` can highlight
 * it. Hand-serialised (escape runs copied with memcpy): JSON output was a
 * third of synthesis time through jansson. Not a validator (io/record.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "skills/answer.h"
#include "skills/anchor.h"
#include "synth/record_internal.h"

/* Append s[0..n) as a JSON string literal. The input is valid UTF-8
 * (generated text or a checked corpus), so only '"', '\\' and controls
 * need escaping. */
static int jstr(skl_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (skl_buf_reserve(b, n + 2)) return -1;
  b->data[b->len++] = '"';
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\') j++;
    if (skl_buf_append(b, s + i, j - i)) return -1;
    if (j == n) break;
    unsigned char c = (unsigned char)s[j];
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    size_t el = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\t': esc[1] = 't'; break;
    case '\r': esc[1] = 'r'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      el = 6;
    }
    if (skl_buf_append(b, esc, el)) return -1;
    i = j + 1;
  }
  return skl_buf_append(b, "\"", 1) ? -1 : 0;
}

static int jkey(skl_buf *b, const char *k, const char *s) {
  return skl_buf_printf(b, "\"%s\":", k) || jstr(b, s, strlen(s)) ? -1 : 0;
}

/* A double as a JSON real: shortest round-trip form, always with a '.' or 'e'. */
static int jreal(skl_buf *b, double x) {
  char t[40];
  if (!isfinite(x)) x = 0;
  snprintf(t, sizeof t, "%.17g", x);
  for (int p = 6; p < 17; p++) { /* shortest that reads back exactly */
    char u[40];
    snprintf(u, sizeof u, "%.*g", p, x);
    if (strtod(u, NULL) == x) { memcpy(t, u, sizeof u); break; }
  }
  if (!strpbrk(t, ".eEn")) strcat(t, ".0");
  return skl_buf_puts(b, t) ? -1 : 0;
}

static int blueprint_json(skl_buf *b, const skill_blueprint *bp, const synth_prompt *pr, const synth_genres *g) {
  int r = skl_buf_printf(b, "{\"n_docs\":%d,\"doc_genres\":[", bp->n_docs);
  for (int d = 0; d < bp->n_docs && !r; d++) {
    const char *gn = synth_genre_name(g, pr->doc_genre[d]);
    r = (d && skl_buf_puts(b, ",")) || jstr(b, gn, strlen(gn));
  }
  r = r || skl_buf_puts(b, "],\"anchors\":[");
  for (int a = 0; a < bp->n_anchors && !r; a++) {
    const skill_anchor *x = &bp->anchors[a];
    r = (a && skl_buf_puts(b, ",")) || skl_buf_puts(b, "{") || jkey(b, "name", x->name) || skl_buf_puts(b, ",") ||
        jkey(b, "kind", skill_anchor_kind_name(x->kind)) || skl_buf_puts(b, ",") ||
        jkey(b, "question", x->question) || skl_buf_puts(b, ",\"value\":") ||
        (x->value.is_number ? jreal(b, x->value.num) : jstr(b, x->value.str, strlen(x->value.str))) ||
        skl_buf_puts(b, "}");
  }
  r = r || skl_buf_puts(b, "],\"doc_mapping\":[");
  for (int i = 0; i < bp->n_inserts && !r; i++) {
    const skill_insert *x = &bp->inserts[i];
    r = (i && skl_buf_puts(b, ",")) || skl_buf_printf(b, "{\"doc\":%d,\"depth\":", x->doc) || jreal(b, x->depth) ||
        skl_buf_printf(b, ",\"anchor\":%d,\"offset\":%zu,", x->anchor, pr->insert_at[i]) || jkey(b, "text", x->text) ||
        skl_buf_puts(b, "}");
  }
  r = r || skl_buf_puts(b, "],") || jkey(b, "question", bp->question) || skl_buf_puts(b, ",\"choices\":[");
  for (int i = 0; i < bp->n_choices && i < 4 && !r; i++)
    r = (i && skl_buf_puts(b, ",")) || jstr(b, bp->choices[i], strlen(bp->choices[i]));
  r = r || skl_buf_puts(b, "],") || jkey(b, "expr", bp->expr) || skl_buf_puts(b, "}");
  return r ? -1 : 0;
}

skl_status synth_record_build(const skill_blueprint *bp, const synth_prompt *pr, const synth_record_meta *meta,
                              char **line, size_t *len, skl_error *err) {
  *line = NULL;
  char id[192], src[96];
  snprintf(id, sizeof id, "%s-%s-%06lld", bp->skill, meta->split, (long long)meta->id_index);
  snprintf(src, sizeof src, "skillrl/%s", bp->skill);
  skl_buf b = {0};
  int r = skl_buf_reserve(&b, pr->user.len + pr->system.len + 4096) || skl_buf_puts(&b, "{") || jkey(&b, "id", id) ||
          skl_buf_puts(&b, ",") || jkey(&b, "skill", bp->skill) || skl_buf_puts(&b, ",") ||
          jkey(&b, "split", meta->split) || skl_buf_puts(&b, ",") || jkey(&b, "data_source", src) ||
          skl_buf_puts(&b, ",") || jkey(&b, "ability", "long_context_reasoning") || skl_buf_puts(&b, ",\"prompt\":[");
  if (!r && pr->system.len)
    r = skl_buf_puts(&b, "{\"role\":\"system\",\"content\":") || jstr(&b, pr->system.data, pr->system.len) ||
        skl_buf_puts(&b, "},");
  r = r || skl_buf_puts(&b, "{\"role\":\"user\",\"content\":") || jstr(&b, pr->user.data, pr->user.len) ||
      skl_buf_puts(&b, "}],") || jkey(&b, "answer", bp->answer) || skl_buf_puts(&b, ",") ||
      jkey(&b, "answer_type", skill_answer_type_name(bp->answer_type)) ||
      skl_buf_puts(&b, ",\"reward_model\":{\"style\":\"rule\",") || jkey(&b, "ground_truth", bp->answer) ||
      skl_buf_printf(&b, "},\"extra_info\":{\"n_tokens\":%zu,", pr->n_tokens) ||
      (pr->format != SYNTH_FORMAT_NONE && skl_buf_printf(&b, "\"template\":\"%s\",", synth_count_format_name(pr->format))) ||
      skl_buf_printf(&b, "\"seed\":%llu,", (unsigned long long)meta->seed) ||
      jkey(&b, "difficulty", bp->difficulty) ||
      skl_buf_printf(&b, ",\"target_tokens\":%lld,\"attempts\":%d,\"blueprint\":", (long long)meta->target_tokens,
                     meta->attempts) ||
      blueprint_json(&b, bp, pr, meta->genres) || skl_buf_puts(&b, "}}");
  if (r) {
    skl_buf_free(&b);
    return skl_error_set(err, SKL_ERR_NOMEM, "synth: out of memory serialising record %s", id);
  }
  *line = b.data;
  *len = b.len;
  return SKL_OK;
}
