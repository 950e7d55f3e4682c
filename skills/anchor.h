/* skill anchors: generators of the unique strings that mark facts in a context
 * ("[ID: B-292]", "1760536321726-5em0", "LTUCRHGAXK", uuids) and their look-alikes.
 * Not uniqueness bookkeeping: skills/skill_internal.h checks names against a blueprint. */
#ifndef SKILL_ANCHOR_H
#define SKILL_ANCHOR_H

#include <stddef.h>

#include "core/rng.h"
#include "skills/blueprint.h"

/* Longest anchor name + NUL. */
#define SKILL_ANCHOR_NAME_MAX 40

/* @return stable name of a kind: "bracket_id", "timestamp", "upper_word", "uuid" */
const char *skill_anchor_kind_name(skill_anchor_kind kind);

/* Write a fresh random name of the given kind into out (cap >= SKILL_ANCHOR_NAME_MAX).
 * Formats: bracket_id "[ID: X-NNN]" (X in A-Z, NNN in 100-999); timestamp 13 digits
 * starting "17", '-', 4 of [0-9a-z]; upper_word 10 of A-Z; uuid v4 lower-case hex. */
void skill_anchor_make(skill_anchor_kind kind, skl_rng *rng, char *out, size_t cap);

/* Write a look-alike of name: same kind and length, exactly one character of the
 * random part changed to another of its class (digit for digit, letter for letter). */
void skill_anchor_lookalike(const char *name, skill_anchor_kind kind, skl_rng *rng, char *out, size_t cap);

#endif
