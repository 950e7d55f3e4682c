/* synth genre internals: the grammar tables shared by genre.c and
 * genre_grammars.c. Not public: use synth/genre.h. */
#ifndef SYNTH_GENRE_INTERNAL_H
#define SYNTH_GENRE_INTERNAL_H

typedef struct {
  const char *name;         /* genre id */
  const char *const *rules; /* "name=alt|alt" strings; "U" is the unit */
  int n_rules;
} synth_genre_grammar;

extern const synth_genre_grammar synth_builtin_grammars[];
extern const int synth_builtin_grammar_count;
extern const char *const *synth_shared_rules;
extern const int synth_shared_rule_count;

#endif
