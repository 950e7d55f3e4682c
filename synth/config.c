/* synth config: the schema table of kind "synth" and its defaults.
 * Not validation beyond types and ranges: the pipeline checks skills and sums. */
#include "synth/config.h"

#include <math.h>
#include <stddef.h>

static const char *const template_kinds[] = {"plain", "chat", NULL};
/* synth_count_format order (render.h) */
static const char *const template_formats[] = {"none", "plain", "chatml", "qwen3", "llama3", NULL};
static const char *const knob_names[] = {"docs", "anchors", "similarity", "depth", "hops", "reasoning", NULL};

static const skl_cfg_field fields[] = {
    {.key = "mixture", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, mixture),
     .def = "{anti_interference: 5, multi_hop: 3, multi_source: 2, logic: 2, calc_reason: 2, niah: 1}",
     .min = 0, .max = 1e9, .help = "skill id -> mixture weight (samples are split by weight)"},
    {.key = "count.train", .type = SKL_CFG_INT64, .offset = offsetof(synth_cfg, train), .def = "300", .min = 0,
     .max = 1e9, .help = "train samples over all skills"},
    {.key = "count.test", .type = SKL_CFG_INT64, .offset = offsetof(synth_cfg, test), .def = "60", .min = 0,
     .max = 1e9, .help = "test samples over all skills"},
    {.key = "seed", .type = SKL_CFG_INT64, .offset = offsetof(synth_cfg, seed), .def = "1234", .min = 0,
     .max = 9.2e18, .help = "run seed: same config and seed, same bytes"},
    {.key = "length.min", .type = SKL_CFG_INT, .offset = offsetof(synth_cfg, length_min), .def = "2048", .min = 64,
     .max = 4194304, .help = "shortest target context length (tokens, prompt + response budget)"},
    {.key = "length.max", .type = SKL_CFG_INT, .offset = offsetof(synth_cfg, length_max), .def = "4096", .min = 64,
     .max = 4194304, .help = "longest target context length (tokens)"},
    {.key = "length.buckets", .type = SKL_CFG_INT_LIST, .offset = offsetof(synth_cfg, buckets), .def = "[]",
     .min = 64, .max = 4194304, .help = "if set, target lengths are drawn from these values instead of min..max"},
    {.key = "length.response_budget", .type = SKL_CFG_INT, .offset = offsetof(synth_cfg, response_budget),
     .def = "128", .min = 0, .max = 4194304, .help = "tokens left for the response: prompt <= target - this"},
    {.key = "tokenizer", .type = SKL_CFG_STRING, .offset = offsetof(synth_cfg, tokenizer), .def = NULL,
     .help = "tokenizer.json that lengths are counted in (unset: built-in approximate counter)"},
    {.key = "template.kind", .type = SKL_CFG_ENUM, .offset = offsetof(synth_cfg, template_kind), .def = "chat",
     .choices = template_kinds, .help = "plain: one user message; chat: system + user messages"},
    {.key = "template.format", .type = SKL_CFG_ENUM, .offset = offsetof(synth_cfg, template_format), .def = "none",
     .choices = template_formats,
     .help = "chat format counted in the length: none counts the messages' text only; plain, chatml, qwen3 "
             "(= ChatML) or llama3 count the rendered conversation up to the assistant's opening, so length "
             "bounds the model's whole input and response_budget stays free below its window"},
    {.key = "template.system", .type = SKL_CFG_STRING, .offset = offsetof(synth_cfg, system), .def = NULL,
     .help = "system prompt of the chat template (unset: asks for a final 'Answer:' line)"},
    {.key = "template.preamble", .type = SKL_CFG_STRING, .offset = offsetof(synth_cfg, preamble), .def = NULL,
     .help = "first paragraph of the user message (unset: a one-line instruction)"},
    {.key = "background.genres", .type = SKL_CFG_STR_LIST, .offset = offsetof(synth_cfg, genres), .def = "[]",
     .help = "built-in genres to use (empty: all eight)"},
    {.key = "background.corpus", .type = SKL_CFG_STR_LIST, .offset = offsetof(synth_cfg, corpus), .def = "[]",
     .help = "user corpus files (.txt, .jsonl with a text field; optionally .zst)"},
    {.key = "background.corpus_share", .type = SKL_CFG_FLOAT, .offset = offsetof(synth_cfg, corpus_share),
     .def = "1.0", .min = 0, .max = 1, .help = "share of documents filled from the corpus when one is given"},
    {.key = "difficulty.niah", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, difficulty[0]), .def = "{}",
     .choices = knob_names, .help = "niah knobs overriding the skill defaults, e.g. {docs: 6, anchors: 12}"},
    {.key = "difficulty.anti_interference", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, difficulty[1]), .def = "{}",
     .choices = knob_names, .help = "anti_interference knobs overriding the skill defaults, e.g. {docs: 6, anchors: 12}"},
    {.key = "difficulty.multi_source", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, difficulty[2]), .def = "{}",
     .choices = knob_names, .help = "multi_source knobs overriding the skill defaults, e.g. {docs: 6, anchors: 12}"},
    {.key = "difficulty.logic", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, difficulty[3]), .def = "{}",
     .choices = knob_names, .help = "logic knobs overriding the skill defaults, e.g. {docs: 6, anchors: 12}"},
    {.key = "difficulty.calc_reason", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, difficulty[4]), .def = "{}",
     .choices = knob_names, .help = "calc_reason knobs overriding the skill defaults, e.g. {docs: 6, anchors: 12}"},
    {.key = "difficulty.multi_hop", .type = SKL_CFG_FLOAT_MAP, .offset = offsetof(synth_cfg, difficulty[5]), .def = "{}",
     .choices = knob_names, .help = "multi_hop knobs overriding the skill defaults, e.g. {docs: 6, anchors: 12}"},
    {.key = "output.shard_size", .type = SKL_CFG_INT, .offset = offsetof(synth_cfg, shard_size), .def = "10000",
     .min = 1, .max = 1e9, .help = "records per shard file"},
    {.key = "output.zstd_level", .type = SKL_CFG_INT, .offset = offsetof(synth_cfg, zstd_level), .def = "3",
     .min = 1, .max = 19, .help = "zstd compression level of the shards"},
    {.key = "output.dir", .type = SKL_CFG_STRING, .offset = offsetof(synth_cfg, out), .def = NULL,
     .help = "output folder (the -o flag overrides it)"},
    {.key = "max_attempts", .type = SKL_CFG_INT, .offset = offsetof(synth_cfg, max_attempts), .def = "50", .min = 1,
     .max = 100000, .help = "regenerations (next seed) per sample when checks disagree, before giving up"},
};

static const skl_cfg_schema schema = {"synth", fields, (int)(sizeof fields / sizeof fields[0]), sizeof(synth_cfg)};

const skl_cfg_schema *synth_cfg_schema(void) { return &schema; }
