/* skl rng: explicit, splittable random state (xoshiro256**, seeded by
 * splitmix64). Not global: every consumer is handed its own state. */
#ifndef SKL_RNG_H
#define SKL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t s[4];
} skl_rng;

/* Seed from one 64-bit value (splitmix64 expansion). */
void skl_rng_seed(skl_rng *r, uint64_t seed);

/* Deterministic child seed from a run seed and up to three stream ids, e.g.
 * (seed, rank, skill_id, sample_index). Same inputs, same stream, always. */
uint64_t skl_rng_derive(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* Hash of a string, for mixing names (skill ids, split names) into seeds. */
uint64_t skl_hash_str(const char *s);

uint64_t skl_rng_u64(skl_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint64_t skl_rng_below(skl_rng *r, uint64_t n);
/* Uniform integer in [lo, hi] inclusive. */
int64_t skl_rng_range(skl_rng *r, int64_t lo, int64_t hi);
/* Uniform double in [0, 1) with 53 random bits. */
double skl_rng_uniform(skl_rng *r);
/* Uniform float in [0, 1) with 24 random bits. */
float skl_rng_uniformf(skl_rng *r);
/* Standard normal (Box-Muller, no cached second value: state stays explicit). */
double skl_rng_normal(skl_rng *r);
/* Fisher-Yates shuffle of n elements of size `size`. */
void skl_rng_shuffle(skl_rng *r, void *base, size_t n, size_t size);

#endif
