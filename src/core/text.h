/* skl text: small string helpers shared by every "did you mean" message.
 * Not Unicode-aware: keys, flags and ids are ASCII. */
#ifndef SKL_TEXT_H
#define SKL_TEXT_H

/* Levenshtein distance between two strings of up to 128 bytes (longer: 999).
 * @return the number of single-byte edits turning a into b */
int skl_edit_distance(const char *a, const char *b);

#endif
