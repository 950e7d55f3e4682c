/* synth genre: compiles the built-in grammars once, expands units with a
 * caller's rng, and loads user corpora into passage units. Not the grammars'
 * text (synth/genre_grammars.c) and not the renderer (synth/render.c). */
#include "synth/genre.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "synth/corpus_read.h"
#include "synth/genre_internal.h"

typedef enum { IT_LIT, IT_RULE, IT_CHOICE, IT_INT, IT_DEC, IT_UPPER, IT_HEX, IT_DIGITS } item_kind;

struct seq;
typedef struct {
  item_kind kind;
  const char *text; /* IT_LIT: literal; IT_RULE: name until resolved */
  int len;
  int rule;         /* IT_RULE: resolved index */
  struct seq *alts; /* IT_CHOICE */
  int nalts;
  long lo, hi;      /* IT_INT/IT_DEC range; IT_UPPER/HEX/DIGITS count in lo */
} item;

typedef struct seq {
  item *items;
  int n;
} seq;

typedef struct {
  const char *name;
  int name_len;
  seq *alts;
  int nalts;
} rule;

typedef struct {
  char name[96];
  rule *rules;    /* builtin: genre rules then shared rules */
  int nrules;
  int unit;       /* index of "U" */
  char **pass[2]; /* corpus: passage units per split part (0 train, 1 test) */
  size_t npass[2];
} genre_t;

typedef struct block {
  struct block *next;
  size_t used, cap;
  char data[];
} block;

struct synth_genres {
  genre_t *g;
  int n;
  block *arena;
};

static void *galloc(synth_genres *G, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!G->arena || G->arena->cap - G->arena->used < n) {
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    block *b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = G->arena;
    b->used = 0;
    b->cap = cap;
    G->arena = b;
  }
  void *p = G->arena->data + G->arena->used;
  G->arena->used += n;
  memset(p, 0, n);
  return p;
}

void synth_genres_free(synth_genres *G) {
  if (!G) return;
  while (G->arena) {
    block *b = G->arena->next;
    free(G->arena);
    G->arena = b;
  }
  free(G->g);
  free(G);
}

/* Split s[0..n) at top-level '|' (outside braces). Returns count; starts/lens out. */
static int split_alts(const char *s, int n, const char **starts, int *lens, int max) {
  int k = 0, depth = 0, from = 0;
  for (int i = 0; i <= n; i++) {
    if (i < n && s[i] == '{') depth++;
    else if (i < n && s[i] == '}') depth--;
    else if (i == n || (s[i] == '|' && depth == 0)) {
      if (k == max) return -1;
      starts[k] = s + from;
      lens[k++] = i - from;
      from = i + 1;
    }
  }
  return k;
}

static int parse_seq(synth_genres *G, const char *s, int n, seq *out);

static int parse_alts(synth_genres *G, const char *s, int n, seq **alts, int *nalts) {
  const char *st[256];
  int ln[256];
  int k = split_alts(s, n, st, ln, 256);
  if (k < 0) return -1;
  *alts = galloc(G, sizeof **alts * (size_t)k);
  if (!*alts) return -1;
  *nalts = k;
  for (int i = 0; i < k; i++)
    if (parse_seq(G, st[i], ln[i], &(*alts)[i])) return -1;
  return 0;
}

static int parse_seq(synth_genres *G, const char *s, int n, seq *out) {
  /* worst case: every char is its own item */
  item *items = galloc(G, sizeof *items * (size_t)(n + 1));
  if (!items) return -1;
  int m = 0, i = 0;
  while (i < n) {
    if (s[i] != '{') {
      int j = i;
      while (j < n && s[j] != '{') j++;
      items[m].kind = IT_LIT;
      items[m].text = s + i;
      items[m++].len = j - i;
      i = j;
      continue;
    }
    int depth = 0, j = i;
    for (; j < n; j++) {
      if (s[j] == '{') depth++;
      else if (s[j] == '}' && --depth == 0) break;
    }
    if (j >= n) return -1; /* unbalanced */
    const char *c = s + i + 1;
    int cl = j - i - 1;
    item *it = &items[m++];
    if (cl > 0 && strchr("#%@$^", c[0])) {
      char tmp[32];
      if (cl >= (int)sizeof tmp) return -1;
      memcpy(tmp, c + 1, (size_t)cl - 1);
      tmp[cl - 1] = 0;
      char *end;
      it->lo = strtol(tmp, &end, 10);
      it->hi = it->lo;
      if (*end == '-') it->hi = strtol(end + 1, &end, 10);
      if (*end || it->hi < it->lo) return -1;
      it->kind = c[0] == '#' ? IT_INT : c[0] == '%' ? IT_DEC : c[0] == '@' ? IT_UPPER : c[0] == '$' ? IT_HEX : IT_DIGITS;
    } else if (memchr(c, '|', (size_t)cl)) {
      it->kind = IT_CHOICE;
      if (parse_alts(G, c, cl, &it->alts, &it->nalts)) return -1;
    } else {
      it->kind = IT_RULE;
      it->text = c;
      it->len = cl;
    }
    i = j + 1;
  }
  out->items = items;
  out->n = m;
  return 0;
}

static int resolve_seq(genre_t *g, seq *q) {
  for (int i = 0; i < q->n; i++) {
    item *it = &q->items[i];
    if (it->kind == IT_CHOICE) {
      for (int a = 0; a < it->nalts; a++)
        if (resolve_seq(g, &it->alts[a])) return -1;
    } else if (it->kind == IT_RULE) {
      it->rule = -1;
      for (int r = 0; r < g->nrules && it->rule < 0; r++) /* genre rules come first: they win */
        if (g->rules[r].name_len == it->len && !memcmp(g->rules[r].name, it->text, (size_t)it->len)) it->rule = r;
      if (it->rule < 0) return -1;
    }
  }
  return 0;
}

static skl_status compile_genre(synth_genres *G, genre_t *g, const synth_genre_grammar *gr, skl_error *err) {
  snprintf(g->name, sizeof g->name, "%s", gr->name);
  g->nrules = gr->n_rules + synth_shared_rule_count;
  g->rules = galloc(G, sizeof *g->rules * (size_t)g->nrules);
  if (!g->rules) return skl_error_set(err, SKL_ERR_NOMEM, "genres: out of memory");
  g->unit = -1;
  for (int r = 0; r < g->nrules; r++) {
    const char *src = r < gr->n_rules ? gr->rules[r] : synth_shared_rules[r - gr->n_rules];
    const char *eq = strchr(src, '=');
    if (!eq) return skl_error_set(err, SKL_ERR_INTERNAL, "genre %s: rule '%.30s' has no '='", gr->name, src);
    g->rules[r].name = src;
    g->rules[r].name_len = (int)(eq - src);
    if (parse_alts(G, eq + 1, (int)strlen(eq + 1), &g->rules[r].alts, &g->rules[r].nalts))
      return skl_error_set(err, SKL_ERR_INTERNAL, "genre %s: rule '%.*s' is malformed", gr->name,
                           g->rules[r].name_len, src);
    if (g->rules[r].name_len == 1 && src[0] == 'U' && g->unit < 0) g->unit = r;
  }
  if (g->unit < 0) return skl_error_set(err, SKL_ERR_INTERNAL, "genre %s: no unit rule 'U'", gr->name);
  for (int r = 0; r < g->nrules; r++)
    for (int a = 0; a < g->rules[r].nalts; a++)
      if (resolve_seq(g, &g->rules[r].alts[a]))
        return skl_error_set(err, SKL_ERR_INTERNAL, "genre %s: rule '%.*s' names an unknown rule", gr->name,
                             g->rules[r].name_len, g->rules[r].name);
  return SKL_OK;
}

int synth_genre_builtin_count(void) { return synth_builtin_grammar_count; }

skl_status synth_genres_init(synth_genres **out, skl_error *err) {
  *out = NULL;
  synth_genres *G = calloc(1, sizeof *G);
  if (!G || !(G->g = calloc((size_t)synth_builtin_grammar_count, sizeof *G->g))) {
    free(G);
    return skl_error_set(err, SKL_ERR_NOMEM, "genres: out of memory");
  }
  for (int i = 0; i < synth_builtin_grammar_count; i++) {
    skl_status s = compile_genre(G, &G->g[i], &synth_builtin_grammars[i], err);
    if (s) {
      synth_genres_free(G);
      return s;
    }
    G->n++;
  }
  *out = G;
  return SKL_OK;
}

int synth_genre_count(const synth_genres *G) { return G->n; }
const char *synth_genre_name(const synth_genres *G, int genre) {
  return genre >= 0 && genre < G->n ? G->g[genre].name : "?";
}
int synth_genre_find(const synth_genres *G, const char *name) {
  for (int i = 0; i < G->n; i++)
    if (!strcmp(G->g[i].name, name)) return i;
  return -1;
}

skl_status synth_genre_pick(const synth_genres *G, char *const *names, int n_names, const char *key, int spare,
                            int **ids, int *n, skl_error *err) {
  int nb = synth_genre_builtin_count();
  *n = 0;
  *ids = malloc(sizeof **ids * (size_t)((n_names > 0 ? n_names : nb) + (spare > 0 ? spare : 0) + 1));
  if (!*ids) return skl_error_set(err, SKL_ERR_NOMEM, "out of memory");
  if (n_names == 0)
    for (int k = 0; k < nb; k++) (*ids)[(*n)++] = k;
  for (int i = 0; i < n_names; i++) {
    int k = synth_genre_find(G, names[i]);
    if (k < 0 || k >= nb) {
      char known[512] = "";
      size_t o = 0;
      for (int j = 0; j < nb && o < sizeof known; j++)
        o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", j ? ", " : "", synth_genre_name(G, j));
      free(*ids);
      *ids = NULL;
      return skl_error_set(err, SKL_ERR_INVALID, "%s: unknown genre '%s'; known: %s", key, names[i], known);
    }
    (*ids)[(*n)++] = k;
  }
  return SKL_OK;
}

static skl_status expand_seq(const genre_t *g, const seq *q, skl_rng *rng, skl_buf *out, int depth);

/* v, or "v.cc" when cents >= 0, without printf (a hot path: numbers are frequent). */
static skl_status put_int(skl_buf *out, int64_t v, int cents) {
  char t[32], *p = t + sizeof t;
  if (cents >= 0) {
    *--p = (char)('0' + cents % 10);
    *--p = (char)('0' + cents / 10);
    *--p = '.';
  }
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do *--p = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0) *--p = '-';
  return skl_buf_append(out, p, (size_t)(t + sizeof t - p));
}

static skl_status expand_rule(const genre_t *g, int r, skl_rng *rng, skl_buf *out, int depth) {
  const rule *ru = &g->rules[r];
  return expand_seq(g, &ru->alts[skl_rng_below(rng, (uint64_t)ru->nalts)], rng, out, depth + 1);
}

static skl_status expand_seq(const genre_t *g, const seq *q, skl_rng *rng, skl_buf *out, int depth) {
  if (depth > 40) return SKL_OK; /* grammars are not recursive; a guard, not a feature */
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < q->n; i++) {
    const item *it = &q->items[i];
    skl_status s = SKL_OK;
    char tmp[48];
    switch (it->kind) {
    case IT_LIT: s = skl_buf_append(out, it->text, (size_t)it->len); break;
    case IT_RULE: s = expand_rule(g, it->rule, rng, out, depth); break;
    case IT_CHOICE: s = expand_seq(g, &it->alts[skl_rng_below(rng, (uint64_t)it->nalts)], rng, out, depth + 1); break;
    case IT_INT: s = put_int(out, skl_rng_range(rng, it->lo, it->hi), -1); break;
    case IT_DEC:
      s = put_int(out, skl_rng_range(rng, it->lo, it->hi), (int)skl_rng_below(rng, 100));
      break;
    case IT_UPPER: case IT_HEX: case IT_DIGITS: {
      long k = it->lo < (long)sizeof tmp ? it->lo : (long)sizeof tmp - 1;
      for (long j = 0; j < k; j++)
        tmp[j] = it->kind == IT_UPPER ? (char)('A' + skl_rng_below(rng, 26))
                 : it->kind == IT_HEX ? hex[skl_rng_below(rng, 16)]
                                      : (char)('0' + skl_rng_below(rng, 10));
      s = skl_buf_append(out, tmp, (size_t)k);
      break;
    }
    }
    if (s) return s;
  }
  return SKL_OK;
}

skl_status synth_genre_unit(const synth_genres *G, int gi, int split_part, skl_rng *rng, skl_buf *out,
                            skl_error *err) {
  SKL_ASSERT(gi >= 0 && gi < G->n);
  const genre_t *g = &G->g[gi];
  skl_status s;
  if (g->rules) {
    s = expand_rule(g, g->unit, rng, out, 0);
  } else {
    int p = split_part ? 1 : 0;
    s = skl_buf_puts(out, g->pass[p][skl_rng_below(rng, g->npass[p])]);
  }
  if (s) return skl_error_set(err, SKL_ERR_NOMEM, "genre %s: out of memory", g->name);
  return SKL_OK;
}

/* ---------- user corpora ---------- */

static int is_sentence_end(const char *t, size_t i, size_t n) {
  return (t[i] == '.' || t[i] == '!' || t[i] == '?') && (i + 1 == n || t[i + 1] == ' ' || t[i + 1] == '\n');
}

/* Split one passage into units of up to ~400 bytes ending at sentence ends,
 * and file each under the split part chosen by its hash. */
static skl_status add_passage(synth_genres *G, genre_t *g, const char *t, size_t n, size_t *cap, skl_error *err) {
  while (n && isspace((unsigned char)*t)) t++, n--;
  while (n && isspace((unsigned char)t[n - 1])) n--;
  size_t from = 0;
  while (from < n) {
    size_t cut = n;
    for (size_t i = from; i < n; i++)
      if (is_sentence_end(t, i, n) && i + 1 - from >= 200) { cut = i + 1; break; }
    if (cut - from > 2000) { /* no sentence end for long: cut at a space */
      cut = from + 2000;
      while (cut > from + 1000 && t[cut] != ' ') cut--;
    }
    size_t len = cut - from;
    char *u = galloc(G, len + 3);
    if (!u) return skl_error_set(err, SKL_ERR_NOMEM, "corpus: out of memory");
    size_t o = 0;
    for (size_t i = from; i < cut; i++) u[o++] = t[i] == '\n' ? ' ' : t[i];
    while (o && u[o - 1] == ' ') o--;
    int last = cut >= n;
    memcpy(u + o, last ? "\n\n" : " ", last ? 3 : 2);
    /* one in five passages (by text hash) belongs to the test part */
    int part = skl_hash_str(u) % 5 == 0;
    if (g->npass[part] == cap[part]) {
      size_t nc = cap[part] ? cap[part] * 2 : 256;
      char **np = realloc(g->pass[part], nc * sizeof *np);
      if (!np) return skl_error_set(err, SKL_ERR_NOMEM, "corpus: out of memory");
      g->pass[part] = np;
      cap[part] = nc;
    }
    g->pass[part][g->npass[part]++] = u;
    from = cut;
    while (from < n && isspace((unsigned char)t[from])) from++;
  }
  return SKL_OK;
}

static skl_status load_corpus_file(synth_genres *G, genre_t *g, const char *path, size_t *cap, skl_error *err) {
  char *data = NULL;
  size_t len = 0;
  int is_jsonl = 0;
  skl_status s = synth_corpus_read(path, &data, &len, &is_jsonl, err);
  if (s) return s;
  size_t before = g->npass[0] + g->npass[1];
  if (is_jsonl) {
    char **texts = NULL;
    size_t nt = 0;
    s = synth_corpus_jsonl_texts(path, data, len, &texts, &nt, err);
    for (size_t i = 0; !s && i < nt; i++) s = add_passage(G, g, texts[i], strlen(texts[i]), cap, err);
    for (size_t i = 0; i < nt; i++) free(texts[i]);
    free(texts);
  } else {
    /* paragraphs: split at blank lines */
    size_t from = 0;
    for (size_t i = 0; !s && i <= len; i++) {
      int blank = i == len || (data[i] == '\n' && i + 1 < len && (data[i + 1] == '\n' ||
                                (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')));
      if (blank) {
        s = add_passage(G, g, data + from, i - from, cap, err);
        from = i + 1;
      }
    }
  }
  free(data);
  if (!s && g->npass[0] + g->npass[1] == before)
    s = skl_error_set(err, SKL_ERR_INVALID, "corpus file %s holds no text (only whitespace): add text or drop it "
                      "from corpus:", path);
  return s;
}

skl_status synth_genres_add_corpus(synth_genres *G, const char *name, const char *const *paths, int n_paths,
                                   skl_error *err) {
  if (n_paths <= 0) return skl_error_set(err, SKL_ERR_INVALID, "corpus '%s': no files given", name);
  genre_t *ng = realloc(G->g, (size_t)(G->n + 1) * sizeof *ng);
  if (!ng) return skl_error_set(err, SKL_ERR_NOMEM, "corpus: out of memory");
  G->g = ng;
  genre_t *g = &G->g[G->n];
  memset(g, 0, sizeof *g);
  snprintf(g->name, sizeof g->name, "corpus:%s", name);
  size_t cap[2] = {0, 0};
  skl_status s = SKL_OK;
  for (int i = 0; i < n_paths && !s; i++) s = load_corpus_file(G, g, paths[i], cap, err);
  if (!s && (g->npass[0] == 0 || g->npass[1] == 0))
    s = skl_error_set(err, SKL_ERR_INVALID, "corpus '%s' has only %zu passage(s): train and test need disjoint "
                      "passages (about 1 in 5 goes to test), add more text", name, g->npass[0] + g->npass[1]);
  if (s) {
    free(g->pass[0]);
    free(g->pass[1]);
    return s;
  }
  /* passage arrays live outside the arena: move them in so free() is one walk */
  for (int p = 0; p < 2; p++) {
    char **a = galloc(G, g->npass[p] * sizeof *a);
    if (!a) { free(g->pass[0]); free(g->pass[1]); return skl_error_set(err, SKL_ERR_NOMEM, "corpus: out of memory"); }
    memcpy(a, g->pass[p], g->npass[p] * sizeof *a);
    free(g->pass[p]);
    g->pass[p] = a;
  }
  G->n++;
  return SKL_OK;
}

/* ---------- variety measure ---------- */

double synth_text_distinct_ngram_ratio(const char *text, size_t len, int n) {
  /* hash each word, then each window of n word hashes, into an open-addressing set */
  size_t nw = 0, capw = 1024;
  uint64_t *w = malloc(capw * sizeof *w);
  if (!w) return -1;
  size_t i = 0;
  while (i < len) {
    while (i < len && isspace((unsigned char)text[i])) i++;
    if (i >= len) break;
    uint64_t h = 1469598103934665603ull;
    while (i < len && !isspace((unsigned char)text[i])) h = (h ^ (unsigned char)text[i++]) * 1099511628211ull;
    if (nw == capw) {
      uint64_t *nwp = realloc(w, (capw *= 2) * sizeof *w);
      if (!nwp) { free(w); return -1; }
      w = nwp;
    }
    w[nw++] = h;
  }
  if (nw < (size_t)n) { free(w); return 1.0; }
  size_t total = nw - (size_t)n + 1, cap = 16;
  while (cap < total * 2) cap *= 2;
  uint64_t *set = calloc(cap, sizeof *set);
  if (!set) { free(w); return -1; }
  size_t distinct = 0;
  for (size_t k = 0; k < total; k++) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int j = 0; j < n; j++) h = (h ^ w[k + (size_t)j]) * 0xff51afd7ed558ccdull + (uint64_t)j;
    h |= 1; /* 0 marks an empty slot */
    size_t p = (size_t)(h & (cap - 1));
    while (set[p] && set[p] != h) p = (p + 1) & (cap - 1);
    if (!set[p]) { set[p] = h; distinct++; }
  }
  free(set);
  free(w);
  return (double)distinct / (double)total;
}
