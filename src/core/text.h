/* skl text: small string helpers: edit distance for "did you mean"
 * messages, membership in a name list. Not Unicode-aware: keys, flags and
 * ids are ASCII. */
#ifndef SKL_TEXT_H
#define SKL_TEXT_H

#include <stdbool.h>

/* Levenshtein distance between two strings of up to 128 bytes (longer: 999).
 * @return the number of single-byte edits turning a into b */
int skl_edit_distance(const char *a, const char *b);

/* Is name one of the names in list, separated by commas and/or spaces
 * ("niah, logic" or "niah logic")? Whole names only: "nia" is not in
 * "niah". @return false for an empty list */
bool skl_name_in_list(const char *list, const char *name);

#endif
