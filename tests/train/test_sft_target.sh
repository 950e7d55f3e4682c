#!/usr/bin/env bash
# SFT's sft.target: "answer" trains on "Answer: <gold>"; "quote" first
# quotes the inserts of the entries the answer's expression names (one per
# line, text order, a repeated text once), then the answer line. Checked
# against the rule recomputed here from each record's blueprint: the answer
# tokens of one SFT step (every item once) must grow by exactly the quotes'
# tokens. Data without a blueprint is refused with the shard and line.
set -u
tmp=$(mktemp -d /tmp/skl_test_sft_target.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

# niah with distractor entries (anchors 3: only the target is quoted) and
# calc_reason (several entries named), in the fixture's tokenizer
"$BIN" synth -c "$SRC/configs/synth/default.yaml" 'mixture={niah: 1, calc_reason: 1}' \
  'difficulty.niah={docs: 1, anchors: 3}' 'difficulty.calc_reason={docs: 2}' length.min=1100 length.max=1200 \
  length.response_budget=8 -t 1 -o "$tmp/data" count.train=6 count.test=2 tokenizer="$FX/tok.json" \
  >/dev/null 2>"$tmp/synth.err" || { err=$(cat "$tmp/synth.err"); die "synth"; }

write_cfg "$tmp/rl.yaml" "$tmp/unused"
# rows of 2048 tokens hold one ~1200-token item each: the step has every item once
field() { "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$@" 2>/dev/null; }
for t in answer quote; do
  run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$tmp/data" sft.target=$t sft.steps=1 \
    sft.batch=6 sft.seq=2048 sft.out="$tmp/s_$t"
  check "sft sft.target=$t exits 0" test "$rc" -eq 0
done
check "one step holds the 6 training items once" same "$(field "$tmp/s_answer/metrics.jsonl" samples)" 6
check "same for quote" same "$(field "$tmp/s_quote/metrics.jsonl" samples)" 6

# the quotes each record should get, tokenized with the model's tokenizer
"$PY" - "$tmp/data" >"$tmp/expect.txt" <<'PYEOF'
import json, re, subprocess, sys
d = sys.argv[1]
for sh in json.load(open(d + "/manifest.json"))["shards"]:
    if sh["split"] != "train":
        continue
    raw = subprocess.run(["zstd", "-dcq", d + "/" + sh["path"]], check=True, capture_output=True).stdout
    for line in raw.decode().splitlines():
        bp = json.loads(line)["extra_info"]["blueprint"]
        named = {int(a) for a in re.findall(r"(?<![A-Za-z0-9_])a(\d+)", bp["expr"])}
        ins = sorted((m for m in bp["doc_mapping"] if m["anchor"] in named), key=lambda m: (m["doc"], m["depth"]))
        seen, out = set(), []
        for m in ins:
            if m["text"] not in seen:
                seen.add(m["text"])
                out.append(m["text"])
        print(json.dumps({"quote": "\n".join(out) + "\n", "n_named": len(named), "n_all": len(bp["doc_mapping"])}))
PYEOF
n_quote_tokens=0
fewer=0
while IFS= read -r rec; do
  q=$("$PY" -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1])["quote"])' "$rec")
  printf '%s' "$q" >"$tmp/q.txt"
  ids=$("$BIN" tokenizer encode -t "$FX/tok.json" "$tmp/q.txt")
  n_quote_tokens=$((n_quote_tokens + $("$PY" -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$ids")))
  fewer=$((fewer + $("$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); print(int(r["n_named"] < r["n_all"]))' "$rec")))
done <"$tmp/expect.txt"
check "some records have inserts the answer does not rest on (not quoted)" test "$fewer" -gt 0
ta=$(field "$tmp/s_answer/metrics.jsonl" tokens)
tq=$(field "$tmp/s_quote/metrics.jsonl" tokens)
check "quote adds exactly the quoted inserts' tokens ($ta + $n_quote_tokens = $tq)" \
  "$PY" -c 'import sys; a,n,q=map(float,sys.argv[1:]); sys.exit(a + n != q)' "$ta" "$n_quote_tokens" "$tq"

# a record without its blueprint is refused, naming the shard and line
cp -r "$tmp/data" "$tmp/nobp"
"$PY" - "$tmp/nobp" <<'PYEOF'
import hashlib, json, os, subprocess, sys
d = sys.argv[1]
man = json.load(open(d + "/manifest.json"))
for sh in man["shards"]:
    if sh["split"] != "train" or sh["skill"] != "niah":
        continue
    p = d + "/" + sh["path"]
    recs = [json.loads(x) for x in subprocess.run(["zstd", "-dcq", p], check=True, capture_output=True).stdout.decode().splitlines()]
    del recs[1]["extra_info"]["blueprint"]
    data = ("\n".join(json.dumps(r) for r in recs) + "\n").encode()
    subprocess.run(["zstd", "-qf", "-o", p], input=data, check=True)
    sh["uncompressed_bytes"], sh["bytes"] = len(data), os.path.getsize(p)
    sh["sha256"] = hashlib.sha256(open(p, "rb").read()).hexdigest()
json.dump(man, open(d + "/manifest.json", "w"), indent=2)
PYEOF
run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$tmp/nobp" sft.target=quote sft.steps=1 sft.out="$tmp/bad"
check "quote without a blueprint is refused" test "$rc" -ne 0
check "the refusal names the shard and line" has "$err" "niah/train-00000.jsonl.zst:2"
check "the refusal says what to do" has "$err" "sft.target answer"
run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$tmp/nobp" sft.target=answer sft.steps=1 sft.out="$tmp/ok"
check "the same data trains with sft.target answer" test "$rc" -eq 0
run "$BIN" sft -c "$tmp/rl.yaml" -q model="$FX/m0" data="$tmp/data" sft.target=cite sft.out="$tmp/bad2"
check "an unknown sft.target is refused" test "$rc" -eq 2
check "the refusal lists the choices" has "$err" "quote"
finish
