/* synth record: one finished sample as a JSON line in the dataset schema
 * (DESIGN.md §3, io/record.h). Internal to synth/: pipeline.c calls it. */
#ifndef SYNTH_RECORD_INTERNAL_H
#define SYNTH_RECORD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "skills/blueprint.h"
#include "synth/genre.h"
#include "synth/render.h"

typedef struct {
  int64_t id_index;      /* sample index within (skill, split) */
  const char *split;     /* "train" / "test" */
  uint64_t seed;         /* the seed that produced this sample (< 2^63) */
  int64_t target_tokens; /* drawn target length */
  int attempts;
  const synth_genres *genres;
} synth_record_meta;

/* Serialise bp + rendered prompt to one compact JSON line (malloc'd into *line).
 * @return SKL_OK or SKL_ERR_NOMEM. */
skl_status synth_record_build(const skill_blueprint *bp, const synth_prompt *pr, const synth_record_meta *meta,
                              char **line, size_t *len, skl_error *err);

#endif
