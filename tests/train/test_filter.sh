#!/usr/bin/env bash
# Trainer end-to-end: `skillrl filter` — kept records carry
# extra_info.pass_rate inside [low, high], the kept set agrees with an
# unfiltered pass over the same items, the output is a valid dataset, and a
# second run needs --overwrite. Not the reward verifiers (tests/rl).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_filter.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

write_cfg "$tmp/rl.yaml" "$tmp/unused" "filter: {k: 8, low: 0.3, high: 0.6}"
# all items with their pass rates (band [0, 1])
run "$BIN" filter -c "$tmp/rl.yaml" filter.out="$tmp/all" filter.low=0 filter.high=1
[ "$rc" -eq 0 ] || die "filter with band [0, 1]"
check "band [0,1]: stdout is one JSON line with seen/kept" "$PY" -c '
import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["seen"]==10 and d["kept"]==10 and 0<=d["mean_pass_rate"]<=1))' "$out"
run "$BIN" filter -c "$tmp/rl.yaml" filter.out="$tmp/band"
check "band [0.3,0.6] exits 0" test "$rc" -eq 0
check "band: stdout reports seen 10" "$PY" -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["seen"]!=10)' "$out"

# verify DIR LOW HIGH [ALLDIR]: manifest matches the shards; every record has a pass
# rate in [LOW, HIGH] that is a multiple of 1/8; records equal the source's except
# for pass_rate; with ALLDIR, the kept ids are exactly ALLDIR's ids inside the band
verify() {
  "$PY" - "$FX/data7" "$@" <<'PYEOF'
import hashlib, json, os, subprocess, sys
src, d, lo, hi = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
alld = sys.argv[5] if len(sys.argv) > 5 else None
def load(d):
    man = json.load(open(os.path.join(d, "manifest.json")))
    recs = {}
    for sh in man["shards"]:
        raw = open(os.path.join(d, sh["path"]), "rb").read()
        if hashlib.sha256(raw).hexdigest() != sh["sha256"]:
            sys.exit("%s: sha256 differs from the manifest" % sh["path"])
        lines = subprocess.run(["zstd", "-dcq"], input=raw, capture_output=True, check=True).stdout.decode().splitlines()
        if len(lines) != sh["records"]:
            sys.exit("%s: %d records, manifest says %d" % (sh["path"], len(lines), sh["records"]))
        for l in lines:
            r = json.loads(l)
            recs[r["id"]] = r
    if sum(sh["records"] for sh in man["shards"]) != man["total_records"]:
        sys.exit("total_records disagrees with the shards")
    return recs
srcr, got = load(src), load(d)
for i, r in got.items():
    pr = r.get("extra_info", {}).get("pass_rate")
    if pr is None:
        sys.exit("%s: no extra_info.pass_rate" % i)
    if not (lo <= pr <= hi):
        sys.exit("%s: pass_rate %s outside [%s, %s]" % (i, pr, lo, hi))
    if abs(pr * 8 - round(pr * 8)) > 1e-9:
        sys.exit("%s: pass_rate %s is not a multiple of 1/k" % (i, pr))
    s = json.loads(json.dumps(srcr[i]))
    del r["extra_info"]["pass_rate"]
    if r != s:
        sys.exit("%s: record differs from the source beyond pass_rate" % i)
if alld:
    a = load(alld)
    want = sorted(i for i, r in a.items() if lo <= r["extra_info"]["pass_rate"] <= hi)
    if sorted(got) != want:
        sys.exit("kept %s, but the unfiltered pass says %s" % (sorted(got), want))
PYEOF
}
check "band [0,1]: valid dataset, every record has a pass rate" verify "$tmp/all" 0 1
check "band [0.3,0.6]: pass rates inside the band, kept = unfiltered items in the band" \
  verify "$tmp/band" 0.3 0.6 "$tmp/all"

# a second run into the same folder needs --overwrite and leaves the first intact
before=$(cat "$tmp/band/manifest.json" | sha256sum)
run "$BIN" filter -c "$tmp/rl.yaml" filter.out="$tmp/band"
check "second run without --overwrite refused" test "$rc" -eq 1
check "second run: message says --overwrite" has "$err" "--overwrite"
check "second run: first output intact" same "$(cat "$tmp/band/manifest.json" | sha256sum)" "$before"
run "$BIN" filter -c "$tmp/rl.yaml" filter.out="$tmp/band" --overwrite filter.low=0.5 filter.high=1
check "--overwrite exits 0" test "$rc" -eq 0
check "--overwrite: new band applied" verify "$tmp/band" 0.5 1 "$tmp/all"
# bad band and missing output folder
run "$BIN" filter -c "$tmp/rl.yaml" filter.out="$tmp/x" filter.low=0.7 filter.high=0.2
check "low > high refused" bash -c '[[ $0 == 1 || $0 == 2 ]]' "$rc"
check "low > high: message names filter.low" has "$err" "filter.low"
run "$BIN" filter -c "$tmp/rl.yaml"
check "no filter.out refused" bash -c '[[ $0 == 1 || $0 == 2 ]]' "$rc"
check "no filter.out: message names filter.out" has "$err" "filter.out"
# issue 18: filter checks the model's window as train does (it kept items
# train then refused), and refuses a huge record before tokenizing it
run "$BIN" filter -c "$tmp/rl.yaml" filter.out="$tmp/win" rollout.max_response=3950
check "prompts longer than the window left by max_response: refused" test "$rc" -eq 1
check "window refusal gives the numbers" has "$err" "more than the 146 the model's window leaves"
check "window refusal: no dataset written" test ! -e "$tmp/win/manifest.json"
cp -r "$FX/data7" "$tmp/huge"
"$PY" "$HERE/dataset_edit.py" "$tmp/huge" huge-prompt=8 train || die "making a dataset with an 8 MiB prompt"
run "$BIN" filter -c "$tmp/rl.yaml" data="$tmp/huge" filter.out="$tmp/hugeout"
check "an 8 MiB prompt: refused" test "$rc" -eq 1
check "an 8 MiB prompt: message gives its size against the window" has "$err" "bytes, far more than the 4088 tokens"
finish
