#!/usr/bin/env bash
# skillrl export: a small synthesized dataset exported as jsonl and parquet for
# every trainer; the parquet files read back by an independent reader
# (hyparquet, tests/io/node) equal the jsonl rows; the rewards module scores
# every gold answer 1; bad input (existing OUT, no manifest, corrupt record,
# modified shard, OUT = the dataset) gives a clear error and writes nothing.
# Not a test of the Parquet encoder's corners (test_parquet.c does those).
set -u
BIN=${SKL_BIN:?SKL_BIN must point at the skillrl binary}
SRC=${SKL_SOURCE_ROOT:?}
PY=${PYTHON:-python3}
tmp=$(mktemp -d /tmp/skl_test_export.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
run() {
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  out=$(cat "$tmp/stdout")
  err=$(cat "$tmp/stderr")
}
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    printf 'FAIL: %s\n  rc=%s\n  stdout: %s\n  stderr: %s\n' "$what" "$rc" "${out:0:800}" "${err:0:800}" >&2
  fi
}
has() { [[ $1 == *"$2"* ]]; }

ds=$tmp/ds
run "$BIN" synth -c "$SRC/configs/synth/quickstart.yaml" -o "$ds" count.train=24 count.test=12 length.min=600 length.max=900 \
  output.shard_size=3
check "synth a small dataset" test "$rc" -eq 0
check "... with several shards per skill and split" test -f "$ds/anti_interference/train-00001.jsonl.zst"

# ---- jsonl for every trainer: files, columns, counts, rewards ----
run "$BIN" export "$ds" -o "$tmp/all"
check "export jsonl exits 0" test "$rc" -eq 0
check "export names the files" has "$out" "$tmp/all/logic/train.jsonl"
check "export prints the verl hint" has "$out" "custom_reward_function.name=compute_score"
run "$PY" - "$ds" "$tmp/all" "$SRC/python" <<'EOF'
import glob, json, os, subprocess, sys
ds, out, pydir = sys.argv[1:4]
sys.path.insert(0, pydir)
import skillrl_reward as R
man = json.load(open(os.path.join(ds, "manifest.json")))
want = {}
for s in man["shards"]:
    want[(s["skill"], s["split"])] = want.get((s["skill"], s["split"]), 0) + s["records"]
files = sorted(glob.glob(os.path.join(out, "*", "*.jsonl")))
assert len(files) == len(want), (files, want)
cols = None
n_ok = 0
for f in files:
    skill, split = f.split(os.sep)[-2], os.path.basename(f)[:-6]
    rows = [json.loads(l) for l in open(f, encoding="utf-8")]
    assert len(rows) == want[(skill, split)], (f, len(rows))
    for i, r in enumerate(rows):
        keys = (list(r), list(r["extra_info"]), list(r["reward_model"]))
        cols = cols or keys
        assert keys == cols, ("columns differ", f, keys, cols)   # one schema for every file
        assert r["data_source"] == "skillrl/" + skill and r["datasource"] == r["data_source"]
        gt = r["reward_model"]["ground_truth"]
        assert isinstance(gt, str) and gt == r["ground_truth"] == r["solution"]
        assert json.loads(r["label"]) == {"answer_type": r["answer_type"], "ground_truth": gt}
        assert r["extra_info"]["index"] == i and r["extra_info"]["split"] == split
        assert isinstance(r["extra_info"]["blueprint"], str) and json.loads(r["extra_info"]["blueprint"])
        assert r["prompt"][-1]["role"] == "user" and all(set(m) == {"role", "content"} for m in r["prompt"])
        # every trainer's reward entry point scores the gold 1 and a hedge 0
        resp = "Reasoning.\nAnswer: " + gt
        assert R.compute_score(r["data_source"], resp, gt, r["extra_info"]) == 1.0
        assert R.compute_score(r["data_source"], "Answer: %s or 7" % gt, gt, r["extra_info"]) == 0.0
        q = "PROMPT" + resp
        got = R.reward_func([q], ["PROMPT"], [r["label"]])
        if isinstance(got, dict):  # torch importable: OpenRLHF's dict of tensors
            got = got["rewards"].tolist()
        assert got == [1.0], got
        assert R.trl_reward([[{"role": "assistant", "content": resp}]], solution=[r["solution"]],
                            answer_type=[r["answer_type"]], data_source=[r["data_source"]]) == [1.0]
        n_ok += 1
print("rows", n_ok, "columns", cols[0])
EOF
check "jsonl rows: one schema, counts, ground truths, rewards 1 for gold and 0 for hedges" test "$rc" -eq 0
summary=$(cat "$tmp/all/export.json" 2>/dev/null)
check "export.json lists the format and trainer" has "$summary" '"file_format": "jsonl"'

run "$BIN" export "$ds" -o "$tmp/verl" --for verl
check "--for verl exits 0" test "$rc" -eq 0
line=$(head -n 1 "$tmp/verl/niah/train.jsonl")
check "--for verl leaves out the other trainers' columns" bash -c '[[ "$1" != *\"solution\"* && "$1" != *\"label\"* ]]' _ "$line"
run "$BIN" export "$ds" -o "$tmp/trl" --for trl
line=$(head -n 1 "$tmp/trl/niah/train.jsonl")
check "--for trl adds solution only" bash -c '[[ "$1" == *\"solution\"* && "$1" != *\"label\"* ]]' _ "$line"

# ---- parquet, zstd and uncompressed pages, read back by hyparquet ----
run sh "$SRC/tests/io/node/install.sh"
check "install the reference parquet reader (npm, once)" test "$rc" -eq 0
for comp in zstd none; do
  run "$BIN" export "$ds" -o "$tmp/pq_$comp" --format parquet --compression $comp
  check "export parquet ($comp) exits 0" test "$rc" -eq 0
  run "$PY" - "$tmp/all" "$tmp/pq_$comp" "$SRC/tests/io/node/read.mjs" "$comp" <<'EOF'
import glob, json, os, subprocess, sys
jdir, pdir, reader, comp = sys.argv[1:5]
n = 0
for f in sorted(glob.glob(os.path.join(jdir, "*", "*.jsonl"))):
    p = os.path.join(pdir, os.path.relpath(f, jdir)[:-6] + ".parquet")
    lines = subprocess.run(["node", reader, p], stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
    meta = json.loads(lines[0])
    assert meta["codecs"] == (["ZSTD"] if comp == "zstd" else ["UNCOMPRESSED"]), meta["codecs"]
    got = [json.loads(l) for l in lines[1:]]
    want = [json.loads(l) for l in open(f, encoding="utf-8")]
    assert got == want, (p, "rows differ from", f)
    n += len(got)
print("parquet rows equal to jsonl:", n)
EOF
  check "parquet ($comp) read by hyparquet equals the jsonl rows" test "$rc" -eq 0
done

# shards listed out of order in the manifest (all -00000 first, then -00001...): still one file per skill and split
cp -r "$ds" "$tmp/ds_shuf"
run "$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); m["shards"].sort(key=lambda s: s["path"][-14:]); json.dump(m, open(sys.argv[1], "w"))' \
  "$tmp/ds_shuf/manifest.json"
run "$BIN" export "$tmp/ds_shuf" -o "$tmp/shuf"
check "manifest with interleaved skills: exit 0" test "$rc" -eq 0
run "$PY" -c '
import glob, json, os, sys
a, b = sys.argv[1:3]
def rows(f):  # extra_info.index follows the manifest order: compare without it
    out = []
    for l in open(f):
        r = json.loads(l)
        del r["extra_info"]["index"]
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)
fa = sorted(os.path.relpath(f, a) for f in glob.glob(a + "/*/*.jsonl"))
fb = sorted(os.path.relpath(f, b) for f in glob.glob(b + "/*/*.jsonl"))
assert fa == fb, (fa, fb)
for f in fa:
    assert rows(os.path.join(a, f)) == rows(os.path.join(b, f)), f
' "$tmp/shuf" "$tmp/all"
check "... the same files with the same rows" test "$rc" -eq 0

# ---- bad input ----
before=$(ls -R "$tmp/all" | md5sum)
run "$BIN" export "$ds" -o "$tmp/all"
check "existing OUT without --overwrite: exit 1" test "$rc" -eq 1
check "... the error names --overwrite" has "$err" "already exists: pass --overwrite"
check "... OUT untouched" test "$(ls -R "$tmp/all" | md5sum)" = "$before"
run "$BIN" export "$ds" -o "$tmp/all/" --format parquet --overwrite
check "--overwrite replaces OUT (trailing slash too)" test "$rc" -eq 0 -a -f "$tmp/all/niah/train.parquet" -a ! -e "$tmp/all/niah/train.jsonl"
check "... no temporary folder left" test -z "$(ls -d "$tmp"/all.* 2>/dev/null)"

mkdir -p "$tmp/nomanifest/niah"
run "$BIN" export "$tmp/nomanifest" -o "$tmp/o1"
check "no manifest: exit 1" test "$rc" -eq 1
check "... names manifest.json and the fix" has "$err" "manifest.json: not found; is $tmp/nomanifest a skillrl dataset folder?"
check "... nothing written" test ! -e "$tmp/o1"
run "$BIN" export "$tmp/nosuchdir" -o "$tmp/o1"
check "missing dataset folder: exit 1, named" has "$err" "$tmp/nosuchdir: no such folder"

run "$BIN" export "$ds" -o "$ds" --overwrite
check "OUT = the dataset is refused even with --overwrite" has "$err" "holds the dataset"
check "... the dataset survives" test -f "$ds/manifest.json"
run "$BIN" export "$ds" -o "$ds/exported"
check "OUT inside the dataset is refused (its manifest check would see extra shards)" has "$err" "is inside the dataset folder"
check "... nothing written there" test ! -e "$ds/exported"

# a shard changed after synth: the manifest's sha256 catches it
cp -r "$ds" "$tmp/ds_mod"
printf 'x' >>"$tmp/ds_mod/niah/train-00000.jsonl.zst"
run "$BIN" export "$tmp/ds_mod" -o "$tmp/o2"
check "modified shard: exit 1" test "$rc" -eq 1
check "... sha256 mismatch named" has "$err" "niah/train-00000.jsonl.zst"
check "... nothing written" test ! -e "$tmp/o2"

# a corrupt record in a shard whose manifest entry matches it: file:line and the fix
for bad in '{"id": "x", "skill": "niah"}' 'not json {'; do
  rm -rf "$tmp/ds_bad"
  cp -r "$ds" "$tmp/ds_bad"
  shard=$tmp/ds_bad/logic/train-00000.jsonl.zst
  zstd -dcq "$shard" >"$tmp/plain.jsonl"
  { head -n 2 "$tmp/plain.jsonl"; echo "$bad"; tail -n +4 "$tmp/plain.jsonl"; } >"$tmp/bad.jsonl"
  zstd -qf "$tmp/bad.jsonl" -o "$shard"
  run "$PY" - "$tmp/ds_bad" "$shard" "$tmp/bad.jsonl" <<'EOF'
import hashlib, json, os, sys
ds, shard, plain = sys.argv[1:4]
m = json.load(open(os.path.join(ds, "manifest.json")))
for s in m["shards"]:
    if os.path.join(ds, s["path"]) == shard:
        data = open(shard, "rb").read()
        s["sha256"], s["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
        s["uncompressed_bytes"] = os.path.getsize(plain)
json.dump(m, open(os.path.join(ds, "manifest.json"), "w"), indent=2)
EOF
  run "$BIN" export "$tmp/ds_bad" -o "$tmp/o3" --format parquet
  check "corrupt record ($bad): exit 1" test "$rc" -eq 1
  check "... names file:line 3" has "$err" "logic/train-00000.jsonl.zst:3"
  check "... nothing written, no temporary folder" test -z "$(ls -d "$tmp"/o3* 2>/dev/null)"
  if [[ $bad == not* ]]; then want="invalid JSON at column"; else want="split: missing required field"; fi
  check "... says what is wrong ($want) and the fix" bash -c '[[ "$1" == *"$2"* && "$1" == *"regenerate the"* ]]' _ "$err" "$want"
done

cp -r "$ds" "$tmp/ds_name"
sed -i 's/"niah"/"..\/niah"/g' "$tmp/ds_name/manifest.json"
run "$BIN" export "$tmp/ds_name" -o "$tmp/o5"
check "a skill name that is not a plain file name is refused" has "$err" "must be plain names"
check "... nothing written" test ! -e "$tmp/o5"

run "$BIN" export "$ds" -o "$tmp/o4" --format csv
check "unknown --format: exit 2, valid values named" bash -c '[[ $0 -eq 2 && "$1" == *"use jsonl or parquet"* ]]' "$rc" "$err"
run "$BIN" export "$ds" -o "$tmp/o4" --for ray
check "unknown --for: exit 2" bash -c '[[ $0 -eq 2 && "$1" == *"use verl, openrlhf, trl or all"* ]]' "$rc" "$err"
run "$BIN" export "$ds"
check "missing -o: exit 2" test "$rc" -eq 2
run "$BIN" export --help
check "--help documents the flags" bash -c '[[ "$1" == *"--overwrite"* && "$1" == *"--for TRAINER"* && "$1" == *"--compression"* ]]' _ "$out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
