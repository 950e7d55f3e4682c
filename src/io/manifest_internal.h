/* skl manifest internals shared by manifest.c and manifest_read.c.
 * Not public API. */
#ifndef SKL_IO_MANIFEST_INTERNAL_H
#define SKL_IO_MANIFEST_INTERNAL_H

#include "io/manifest.h"

/* The histogram of skill, created empty if absent; NULL on OOM. */
skl_manifest_hist *skl_manifest_hist_for(skl_manifest *m, const char *skill);

#endif
