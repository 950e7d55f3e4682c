/* skl manifest: DIR/manifest.json describing a generated dataset (counts,
 * length histogram, seeds, hashes, shards with sha256) and its verification.
 * Not a shard writer (io/jsonl.h) and not a generator (synth/). */
#ifndef SKL_IO_MANIFEST_H
#define SKL_IO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/jsonl.h"

#define SKL_MANIFEST_FORMAT "skillrl-dataset"
#define SKL_MANIFEST_VERSION 1
#define SKL_MANIFEST_FILE "manifest.json"

/* Token-length histogram buckets: bucket i holds n_tokens in
 * [skl_manifest_bucket_lo[i], skl_manifest_bucket_lo[i+1]), the last one is
 * open-ended: <1K, 1K-2K, 2K-4K, ..., 128K-256K, >=256K. */
#define SKL_MANIFEST_NBUCKETS 10
extern const int64_t skl_manifest_bucket_lo[SKL_MANIFEST_NBUCKETS];

typedef struct {
  char *path;                  /* relative to DIR, e.g. "niah/train-00000.jsonl.zst" */
  char *skill;                 /* "niah" */
  char *split;                 /* "train" */
  uint64_t records;
  uint64_t uncompressed_bytes;
  uint64_t bytes;              /* file size on disk */
  char sha256[65];             /* lower-case hex of the file */
} skl_manifest_shard;

typedef struct {
  char *name;                  /* "run", "niah", ... */
  uint64_t value;
} skl_manifest_seed;

typedef struct {
  char *skill;
  uint64_t counts[SKL_MANIFEST_NBUCKETS];
} skl_manifest_hist;

typedef struct {
  int version;                 /* SKL_MANIFEST_VERSION */
  char *created_by;            /* "skillrl 0.1.0" */
  char *config_hash;           /* hex, NULL if unset */
  char *tokenizer_hash;        /* hex, NULL if unset (lengths counted in bytes) */
  skl_manifest_shard *shards;  /* [n_shards] */
  size_t n_shards, cap_shards;
  skl_manifest_seed *seeds;    /* [n_seeds] */
  size_t n_seeds, cap_seeds;
  skl_manifest_hist *hists;    /* [n_hists], one per skill */
  size_t n_hists, cap_hists;
} skl_manifest;

/* Empty manifest with created_by = "skillrl VERSION". @return SKL_OK or NOMEM. */
skl_status skl_manifest_init(skl_manifest *m, skl_error *err);
/* Free everything; accepts NULL and zeroed/half-built manifests. */
void skl_manifest_free(skl_manifest *m);

/* Record a committed shard. relpath must be relative to DIR without ".."
 * (e.g. "niah/train-00000.jsonl.zst"); a path already present is refused.
 * @return SKL_OK, SKL_ERR_INVALID (bad path, duplicate), SKL_ERR_NOMEM. */
skl_status skl_manifest_add_shard(skl_manifest *m, const char *skill, const char *split,
                                  const char *relpath, const skl_shard_info *info, skl_error *err);
/* Count one record of n_tokens tokens (>= 0) into skill's histogram. */
skl_status skl_manifest_add_length(skl_manifest *m, const char *skill, int64_t n_tokens,
                                   skl_error *err);
/* Set (or replace) a named seed. */
skl_status skl_manifest_set_seed(skl_manifest *m, const char *name, uint64_t seed, skl_error *err);
skl_status skl_manifest_set_config_hash(skl_manifest *m, const char *hex, skl_error *err);
skl_status skl_manifest_set_tokenizer_hash(skl_manifest *m, const char *hex, skl_error *err);

/* Records per (skill, split) summed over shards (0 if none). */
uint64_t skl_manifest_count(const skl_manifest *m, const char *skill, const char *split);

/* Write DIR/manifest.json atomically (temp, fsync, rename). Output is
 * deterministic: shards sorted by path, skills and seeds by name.
 * @return SKL_OK, SKL_ERR_IO, SKL_ERR_NOMEM. */
skl_status skl_manifest_write(const skl_manifest *m, const char *dir, skl_error *err);

/* Read DIR/manifest.json into m (initialised here; free with
 * skl_manifest_free even on failure). Errors name the file and the key,
 * e.g. "DIR/manifest.json: shards[2].sha256: expected 64 hex digits".
 * @return SKL_OK, SKL_ERR_NOTFOUND, SKL_ERR_PARSE, SKL_ERR_INVALID,
 *         SKL_ERR_UNSUPPORTED (newer format version), SKL_ERR_IO. */
skl_status skl_manifest_read(skl_manifest *m, const char *dir, skl_error *err);

/* Read DIR/manifest.json and re-hash every shard. Reports the first problem:
 * a missing shard, a size or sha256 mismatch ("DIR/niah/train-00000.jsonl.zst:
 * sha256 mismatch: manifest says X, file has Y; the shard was modified or
 * truncated — regenerate the dataset"), or an extra shard (a *.jsonl or
 * *.jsonl.zst under DIR not listed in the manifest).
 * @return SKL_OK, SKL_ERR_NOTFOUND (missing), SKL_ERR_INVALID (mismatch,
 *         extra), or the errors of skl_manifest_read. */
skl_status skl_manifest_verify(const char *dir, skl_error *err);

/* Re-hash one listed shard, DIR/sh->path, against the manifest's sha256 and
 * size: what a reader calls before using a shard, so a modified, truncated
 * or swapped shard (e.g. another skill's) is refused, not used.
 * @return SKL_OK, SKL_ERR_NOTFOUND (absent) or SKL_ERR_INVALID (mismatch),
 *         naming the file and the fix. */
skl_status skl_manifest_check_shard(const char *dir, const skl_manifest_shard *sh, skl_error *err);

#endif
