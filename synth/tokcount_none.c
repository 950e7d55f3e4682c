/* synth tokcount (no tokenizer module in this build): approximate counting
 * only. Not used once src/tok builds: synth/meson.build picks tokcount_hf.c. */
#include "synth/tokcount.h"

#include <string.h>

skl_status synth_counter_open(const char *path, synth_counter *out, char hash_hex[65], skl_error *err) {
  *out = synth_counter_approx();
  hash_hex[0] = 0;
  if (!path) return SKL_OK;
  return skl_error_set(err, SKL_ERR_UNSUPPORTED, "tokenizer %s: this build has no tokenizer module (src/tok); "
                       "unset tokenizer: to count with the built-in approximation", path);
}

void synth_counter_close(synth_counter *c) { (void)c; }
