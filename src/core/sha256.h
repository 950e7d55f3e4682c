/* skl sha256: FIPS 180-4 SHA-256, streaming, for manifests and checkpoints.
 * Not a general crypto library. */
#ifndef SKL_SHA256_H
#define SKL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  uint64_t len;      /* bytes hashed so far */
  uint8_t buf[64];
  size_t nbuf;
} skl_sha256;

void skl_sha256_init(skl_sha256 *c);
void skl_sha256_update(skl_sha256 *c, const void *data, size_t n);
void skl_sha256_final(skl_sha256 *c, uint8_t out[32]);
/* Lower-case hex of a finished digest into hex[65] (NUL-terminated). */
void skl_sha256_hex(const uint8_t digest[32], char hex[65]);
/* One-shot convenience: hex digest of a buffer. */
void skl_sha256_buf_hex(const void *data, size_t n, char hex[65]);

#endif
