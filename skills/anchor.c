/* skill anchors: random names in four formats and one-character look-alikes.
 * Not a uniqueness check (skill_internal.h) and not cryptographic. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "skills/anchor.h"

static const char *kind_names[SKILL_ANCHOR_KIND_COUNT] = {"bracket_id", "timestamp", "upper_word", "uuid"};

const char *skill_anchor_kind_name(skill_anchor_kind kind) {
  return (unsigned)kind < SKILL_ANCHOR_KIND_COUNT ? kind_names[kind] : "unknown";
}

static char rand_of(skl_rng *rng, const char *alphabet) {
  return alphabet[skl_rng_below(rng, strlen(alphabet))];
}

static const char DIGITS[] = "0123456789";
static const char UPPER[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char B36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
static const char HEX[] = "0123456789abcdef";

void skill_anchor_make(skill_anchor_kind kind, skl_rng *rng, char *out, size_t cap) {
  char s[SKILL_ANCHOR_NAME_MAX];
  switch (kind) {
  case SKILL_ANCHOR_BRACKET_ID:
    snprintf(s, sizeof s, "[ID: %c-%03d]", rand_of(rng, UPPER), (int)skl_rng_range(rng, 100, 999));
    break;
  case SKILL_ANCHOR_TIMESTAMP: {
    size_t o = 0;
    s[o++] = '1';
    s[o++] = '7';
    for (int i = 0; i < 11; i++) s[o++] = rand_of(rng, DIGITS);
    s[o++] = '-';
    for (int i = 0; i < 4; i++) s[o++] = rand_of(rng, B36);
    s[o] = '\0';
    break;
  }
  case SKILL_ANCHOR_UPPER_WORD:
    for (int i = 0; i < 10; i++) s[i] = rand_of(rng, UPPER);
    s[10] = '\0';
    break;
  default: { /* uuid v4: 8-4-4-4-12, version nibble 4, variant 8-b */
    size_t o = 0;
    for (int i = 0; i < 32; i++) {
      if (i == 8 || i == 12 || i == 16 || i == 20) s[o++] = '-';
      if (i == 12) s[o++] = '4';
      else if (i == 16) s[o++] = HEX[8 + skl_rng_below(rng, 4)];
      else s[o++] = rand_of(rng, HEX);
    }
    s[o] = '\0';
    break;
  }
  }
  snprintf(out, cap, "%s", s);
}

/* Positions of the random part that a look-alike may change. */
static int mutable_at(skill_anchor_kind kind, const char *s, size_t i) {
  switch (kind) {
  case SKILL_ANCHOR_BRACKET_ID: return i == 5 || (i >= 7 && i <= 9);
  case SKILL_ANCHOR_TIMESTAMP: return i >= 2 && s[i] != '-';
  case SKILL_ANCHOR_UPPER_WORD: return 1;
  default: return s[i] != '-' && i != 14 && i != 19; /* keep version and variant */
  }
}

void skill_anchor_lookalike(const char *name, skill_anchor_kind kind, skl_rng *rng, char *out, size_t cap) {
  char s[SKILL_ANCHOR_NAME_MAX];
  snprintf(s, sizeof s, "%s", name);
  size_t n = strlen(s), pos[SKILL_ANCHOR_NAME_MAX], k = 0;
  for (size_t i = 0; i < n; i++) {
    if (mutable_at(kind, s, i) && isalnum((unsigned char)s[i])) pos[k++] = i;
  }
  if (k) {
    size_t i = pos[skl_rng_below(rng, k)];
    /* first digit of a bracket number stays non-zero: "[ID: B-092]" would read as 92 */
    const char *cls = isdigit((unsigned char)s[i]) ? (kind == SKILL_ANCHOR_BRACKET_ID && i == 7 ? "123456789" : DIGITS)
                      : isupper((unsigned char)s[i]) ? UPPER
                      : kind == SKILL_ANCHOR_UUID   ? "abcdef"
                                                    : "abcdefghijklmnopqrstuvwxyz";
    char c;
    do c = rand_of(rng, cls); while (c == s[i]);
    s[i] = c;
  }
  snprintf(out, cap, "%s", s);
}
