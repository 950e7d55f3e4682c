# Shared by the ablate tests (sourced, not run): checks and a tiny fixture in
# $tmp — dataset of two skills (niah, calc_reason) counted in a 400-token
# tokenizer, a 1-layer model m0, the general set gen/. Not a test by itself.
set -u
BIN=${SKL_BIN:?SKL_BIN must point at the skillrl binary}
SRC=${SKL_SOURCE_ROOT:?SKL_SOURCE_ROOT must be set}
tmp=$(mktemp -d /tmp/skl_test_ablate_XXXXXX)
pass=0
fail=0
run() { "$@" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?; out=$(cat "$tmp/stdout"); err=$(cat "$tmp/stderr"); }
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    printf 'FAIL: %s\n  rc=%s\n  stdout: %s\n  stderr: %s\n' "$what" "$rc" "$(tail -c 600 <<<"$out")" "$(tail -c 600 <<<"$err")" >&2
  fi
}
has() { [[ $1 == *"$2"* ]]; }
ok_has() { [ "$rc" -eq 0 ] && has "$1" "$2"; }    # succeeded and printed TEXT
fail_has() { [ "$rc" -ne 0 ] && has "$1" "$2"; }  # failed with TEXT
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ] && rm -rf "$tmp"; [ "$fail" -eq 0 ]; exit $?; }

cd "$tmp" || exit 1
S=(-c "$SRC/configs/synth/default.yaml" 'mixture={niah: 1, calc_reason: 1}' 'difficulty.niah={docs: 1, anchors: 1}'
  'difficulty.calc_reason={docs: 2, anchors: 3}' length.min=700 length.max=800 length.response_budget=8 -t 1)
run "$BIN" synth "${S[@]}" -o pre count.train=32 count.test=4
check "synth pre" [ "$rc" -eq 0 ]
run "$BIN" tokenizer train --vocab-size 400 -o tok.json pre/niah/train-00000.jsonl.zst pre/calc_reason/train-00000.jsonl.zst
check "tokenizer" [ "$rc" -eq 0 ]
run "$BIN" synth "${S[@]}" -o data count.train=8 count.test=4 tokenizer=tok.json
check "synth data" [ "$rc" -eq 0 ]
run "$BIN" model init -c "$SRC/configs/model/tiny.yaml" -o m0 --tokenizer tok.json num_hidden_layers=1
check "model init" [ "$rc" -eq 0 ]
run "$BIN" eval general -o gen --count 2 --length 512 --tokenizer tok.json
check "general set" ok_has "$out" "wrote 6 records"
