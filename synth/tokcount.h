/* synth tokcount: the token counter lengths are fitted in — an HF
 * tokenizer.json (src/tok) or the built-in approximation. Not a tokenizer. */
#ifndef SYNTH_TOKCOUNT_H
#define SYNTH_TOKCOUNT_H

#include "core/error.h"
#include "synth/render.h"

/* path NULL: the approximate counter (hash_hex ""). Otherwise load the
 * tokenizer and write the sha256 of the file into hash_hex.
 * @return SKL_OK, the tokenizer loader's errors, or SKL_ERR_UNSUPPORTED when
 *         this build has no tokenizer module. */
skl_status synth_counter_open(const char *path, synth_counter *out, char hash_hex[65], skl_error *err);
/* Release what open loaded; accepts a zeroed or approximate counter. */
void synth_counter_close(synth_counter *c);

#endif
