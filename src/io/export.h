/* skl export: a skillrl dataset folder rewritten as files a Python RL trainer
 * reads as they are (verl, OpenRLHF, TRL): one uncompressed .jsonl or one
 * .parquet per skill and split, the same columns in every file.
 * Not a generator (synth/) and not a reward function (python/skillrl_reward.py).
 *
 * Columns, in this order (every trainer):
 *   data_source   "skillrl/<skill>"            verl's reward dispatch key
 *   prompt        [{role, content}, ...]       chat messages (verl prompt_key,
 *                                              OpenRLHF input_key with
 *                                              --apply_chat_template, TRL prompt)
 *   ability       string
 *   reward_model  {style, ground_truth}        ground_truth always a string
 *   extra_info    {index, id, skill, split, answer_type, n_tokens, template,
 *                  seed, difficulty, blueprint}
 *                                              n_tokens counts the chat template
 *                                              named by template ("none": the
 *                                              text only); difficulty, blueprint as JSON
 *                                              text, so every skill's files have
 *                                              one schema and concatenate
 *   answer_type   number|string|choice|list|set
 *   ground_truth  the gold answer (string)
 * and per trainer (all of them unless one is chosen):
 *   datasource    = data_source                OpenRLHF's spelling
 *   label         {"answer_type": T, "ground_truth": G} as JSON text
 *                                              (OpenRLHF label_key: its reward
 *                                              function sees only the label)
 *   solution      = ground_truth               TRL's accuracy-reward column
 *
 * Layout: OUT/<skill>/<split>.jsonl (or .parquet) and OUT/export.json (what
 * was written, from which dataset). The whole folder is built under
 * "OUT.tmp.PID" and renamed into place at the end: an error leaves no OUT,
 * and an existing OUT is replaced only with overwrite (after success). */
#ifndef SKL_IO_EXPORT_H
#define SKL_IO_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/parquet.h"

typedef enum { SKL_EXPORT_JSONL = 0, SKL_EXPORT_PARQUET, SKL_EXPORT_FORMAT_COUNT } skl_export_format;
typedef enum {
  SKL_EXPORT_ALL = 0, /* the columns of every trainer */
  SKL_EXPORT_VERL,
  SKL_EXPORT_OPENRLHF,
  SKL_EXPORT_TRL,
  SKL_EXPORT_TRAINER_COUNT
} skl_export_trainer;

/* Stable names: "jsonl", "parquet"; "all", "verl", "openrlhf", "trl". */
const char *skl_export_format_name(skl_export_format f);
const char *skl_export_trainer_name(skl_export_trainer t);
/* @return SKL_OK or SKL_ERR_INVALID naming the accepted values */
skl_status skl_export_format_parse(const char *name, skl_export_format *out, skl_error *err);
skl_status skl_export_trainer_parse(const char *name, skl_export_trainer *out, skl_error *err);

typedef struct {
  const char *in_dir;          /* dataset folder with manifest.json */
  const char *out_dir;         /* folder to create */
  skl_export_format format;
  skl_export_trainer trainer;
  bool overwrite;              /* replace an existing out_dir */
  skl_parquet_codec codec;     /* parquet pages; default (0) uncompressed */
  int zstd_level;              /* parquet zstd pages: 1..19; 0 = 3 */
} skl_export_opts;

typedef struct {
  char *path;                  /* relative to out_dir: "niah/train.jsonl" */
  char *skill, *split;
  uint64_t rows;
} skl_export_file;

typedef struct {
  skl_export_file *files;      /* [n_files] in (skill, split) order */
  size_t n_files;
  uint64_t rows;
} skl_export_report;

/* Verify the dataset (manifest sha256 of every shard), convert every record,
 * and commit out_dir. Errors name the file, line and field and the fix:
 * "DIR/niah/train-00000.jsonl.zst:17: prompt[0].role: ...; the shard is
 * corrupt: regenerate the dataset with skillrl synth".
 * @return SKL_OK, SKL_ERR_STATE (out_dir exists without overwrite, or is the
 *   dataset itself), the errors of skl_manifest_verify / the readers, SKL_ERR_INVALID
 *   (a record off the schema), SKL_ERR_IO. */
skl_status skl_export_run(const skl_export_opts *o, skl_export_report *rep, skl_error *err);

/* Free a report; accepts NULL and zeroed reports. */
void skl_export_report_free(skl_export_report *rep);

#endif
