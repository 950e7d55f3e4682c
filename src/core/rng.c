/* skl rng: xoshiro256** with splitmix64 seeding and derivation.
 * Not cryptographic. */
#include <stddef.h>
#include <string.h>
#include <math.h>

#include "core/rng.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void skl_rng_seed(skl_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t skl_rng_derive(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = seed;
  uint64_t h = splitmix64(&x);
  x = h ^ a; h = splitmix64(&x);
  x = h ^ b; h = splitmix64(&x);
  x = h ^ c; h = splitmix64(&x);
  return h;
}

uint64_t skl_hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a splitmix finish */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return splitmix64(&h);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t skl_rng_u64(skl_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t skl_rng_below(skl_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = skl_rng_u64(r); while (x >= limit);
  return x % n;
}

int64_t skl_rng_range(skl_rng *r, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  return lo + (int64_t)skl_rng_below(r, (uint64_t)(hi - lo) + 1);
}

double skl_rng_uniform(skl_rng *r) { return (double)(skl_rng_u64(r) >> 11) * 0x1.0p-53; }

float skl_rng_uniformf(skl_rng *r) { return (float)(skl_rng_u64(r) >> 40) * 0x1.0p-24f; }

double skl_rng_normal(skl_rng *r) {
  double u1 = skl_rng_uniform(r), u2 = skl_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void skl_rng_shuffle(skl_rng *r, void *base, size_t n, size_t size) {
  unsigned char *b = base, tmp[256];
  if (size > sizeof tmp) return; /* callers shuffle indices or pointers */
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)skl_rng_below(r, i);
    if (j == i - 1) continue;
    memcpy(tmp, b + (i - 1) * size, size);
    memcpy(b + (i - 1) * size, b + j * size, size);
    memcpy(b + j * size, tmp, size);
  }
}
