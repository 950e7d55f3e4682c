#!/usr/bin/env bash
# CLI tests of `skillrl mtp train|extend|eval`: a tiny model with a byte-level
# tokenizer, a short text, exit codes, output files and error messages.
# Not the heads' math (test_mtp.c, test_mtp_ref.c).
set -u
BIN=${SKL_BIN:?SKL_BIN must point at the skillrl binary}
SRC=${SKL_SOURCE_ROOT:?SKL_SOURCE_ROOT must be set}
PY=${PYTHON:-python3}
# behaviour, not speed: one thread keeps the run short on a busy machine
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d /tmp/skl_test_mtp_cli.XXXXXX)
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
    printf 'FAIL: %s\n  rc=%s\n  stdout: %s\n  stderr: %s\n' "$what" "$rc" "${out:0:600}" "${err:0:600}" >&2
  fi
}
has() { [[ $1 == *"$2"* ]]; }

"$PY" "$SRC/tests/mtp/make_tokenizer.py" "$tmp/tok.json" || { echo "cannot write tokenizer"; exit 1; }
"$BIN" model init -c "$SRC/configs/model/tiny.yaml" -o "$tmp/model" --tokenizer "$tmp/tok.json" >/dev/null || exit 1
"$BIN" model init -c "$SRC/configs/model/tiny.yaml" -o "$tmp/notok" >/dev/null || exit 1
for i in $(seq 1 120); do printf 'the cat sat on the mat and then the dog ran in the park. '; done >"$tmp/text.txt"
common=(--data "$tmp/text.txt" --steps 4 -T 32 -B 2 --log-every 2 --topn 8)

run "$BIN" mtp
check "mtp without subcommand is a usage error" test "$rc" -eq 2
check "usage names the subcommands" has "$out" "train|extend|eval"
run "$BIN" mtp train --help
check "train --help exits 0" test "$rc" -eq 0
check "train --help lists --no-distill" has "$out" "--no-distill"
run "$BIN" mtp train --model "$tmp/model" "${common[@]}" --heads 2 -o "$tmp/out" --tua 2
check "unknown flag is a usage error" test "$rc" -eq 2
check "unknown flag suggests --tau" has "$err" "tau"
run "$BIN" mtp train --model "$tmp/model" "${common[@]}" -o "$tmp/out"
check "train without --heads is a usage error" test "$rc" -eq 2

run "$BIN" mtp train --model "$tmp/notok" "${common[@]}" --heads 2 -o "$tmp/out"
check "model without tokenizer fails" test "$rc" -eq 1
check "message names the missing tokenizer.json" has "$err" "notok/tokenizer.json: not found"
check "nothing written without a tokenizer" test ! -e "$tmp/out"

run "$BIN" mtp train --model "$tmp/model" --data "$tmp" --steps 2 --heads 1 -o "$tmp/out"
check "a folder without manifest.json is refused" test "$rc" -eq 1
check "message says what --data must be" has "$err" "without manifest.json"

run "$BIN" mtp train --model "$tmp/model" "${common[@]}" --heads 2 -o "$tmp/out"
check "train runs" test "$rc" -eq 0
check "train prints acceptance per head" has "$out" '"acceptance":['
check "train logs progress" has "$err" "step 4 loss"
check "train writes mtp.safetensors" test -s "$tmp/out/mtp.safetensors"
check "train copies the tokenizer" test -s "$tmp/out/tokenizer.json"
check "config.json counts the heads" grep -q '"num_nextn_predict_layers": *2' "$tmp/out/config.json"
cp "$tmp/out/mtp.safetensors" "$tmp/mtp_before"

run "$BIN" mtp train --model "$tmp/model" "${common[@]}" --heads 1 --no-distill -o "$tmp/out_ce"
check "--no-distill runs" test "$rc" -eq 0
check "--no-distill reports beta 0" has "$out" '"distill":false'

run "$BIN" mtp extend --model "$tmp/out" "${common[@]}" --to 1 -o "$tmp/out3"
check "extend --to smaller fails" test "$rc" -eq 1
check "extend message names both counts" has "$err" "--to 1 must be larger than the current 2 heads"
run "$BIN" mtp extend --model "$tmp/model" "${common[@]}" --to 3 -o "$tmp/out3"
check "extend of a model without heads fails" test "$rc" -eq 1
check "extend message says there are no heads" has "$err" "no MTP heads"

run "$BIN" mtp extend --model "$tmp/out" "${common[@]}" --to 3 -o "$tmp/out3"
check "extend runs" test "$rc" -eq 0
check "extend reports 3 heads trained from head 3" has "$out" '"heads":3,"trained_from":3'
check "extend writes 3 heads" grep -q '"num_nextn_predict_layers": *3' "$tmp/out3/config.json"
check "extend leaves the source dir alone" cmp -s "$tmp/out/mtp.safetensors" "$tmp/mtp_before"

run "$BIN" mtp eval --model "$tmp/out3" --data "$tmp/text.txt" -T 32 -B 2 --topn 8
check "eval runs" test "$rc" -eq 0
check "eval prints three acceptances" has "$out" '"heads":3'

cp -r "$tmp/out" "$tmp/inplace"
run "$BIN" mtp extend --model "$tmp/inplace" "${common[@]}" --to 2
check "extend without -o fails on --to equal" test "$rc" -eq 1
run "$BIN" mtp extend --model "$tmp/inplace" "${common[@]}" --to 4
check "extend in place runs" test "$rc" -eq 0
check "extend in place updates config.json" grep -q '"num_nextn_predict_layers": *4' "$tmp/inplace/config.json"
check "extend in place keeps the tokenizer" test -s "$tmp/inplace/tokenizer.json"
check "extend in place does not rewrite the main weights" cmp -s "$tmp/inplace/model.safetensors" "$tmp/out/model.safetensors"
run "$BIN" mtp eval --model "$tmp/inplace" --data "$tmp/text.txt" -T 32 -B 2 --topn 8
check "the in-place result loads with 4 heads" has "$out" '"heads":4'


# a skill dataset folder (prompt + gold response of each train item)
if "$BIN" synth -c "$SRC/configs/synth/default.yaml" count.train=12 count.test=4 length.min=1280 \
    length.max=1500 output.dir="$tmp/ds" >/dev/null 2>&1; then
  run "$BIN" mtp train --model "$tmp/model" --data "$tmp/ds" --steps 2 -T 128 -B 2 --heads 1 -o "$tmp/out_ds"
  check "train on a dataset folder runs" test "$rc" -eq 0
  check "dataset windows are counted" has "$out" '"train_windows":'
else
  rc=1 out="" err="skillrl synth failed"
  check "synth writes a small dataset for the dataset-folder test" false
fi

sed -i 's/"num_nextn_predict_layers": *3/"num_nextn_predict_layers": 5/' "$tmp/out3/config.json"
run "$BIN" mtp eval --model "$tmp/out3" --data "$tmp/text.txt" -T 32 -B 2
check "heads not matching config.json fail" test "$rc" -eq 1
check "mismatch message names both counts" has "$err" "num_nextn_predict_layers = 5 but mtp.safetensors holds heads 1..3"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
