#!/usr/bin/env bash
# Trainer end-to-end: bad input is refused at start (exit 1 or 2) with a
# message that says what to change, and nothing is trained or checkpointed.
# Not the loaders' unit tests (tests/rl, tests/io).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_bad.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

write_cfg "$tmp/rl.yaml" "$tmp/run"
refused() { [[ $rc == 1 || $rc == 2 ]]; }
# expect_refusal WHAT NEEDLE... -- CMD...: refused, message has every NEEDLE, no run output
expect_refusal() {
  local what=$1
  shift
  local needles=()
  while [ "$1" != -- ]; do needles+=("$1"); shift; done
  shift
  rm -rf "$tmp/run"
  run "$@"
  check "$what: refused (exit 1 or 2)" refused
  local n
  for n in "${needles[@]}"; do check "$what: message has '$n'" has "$err" "$n"; done
  check "$what: no checkpoint or final model" test ! -e "$tmp/run/ckpt" -a ! -e "$tmp/run/final" \
    -a ! -e "$tmp/run/sft/ckpt" -a ! -e "$tmp/run/sft/final"
}

# a record without "answer" (line 3 of the train shard)
cp -r "$FX/data7" "$tmp/noans"
"$PY" "$HERE/dataset_edit.py" "$tmp/noans" drop-answer train || die "editing the dataset"
for cmd in train sft; do
  expect_refusal "$cmd: record without answer" "train-00000.jsonl.zst" "answer" -- \
    "$BIN" $cmd -c "$tmp/rl.yaml" -q data="$tmp/noans"
  check "$cmd: record without answer: names the line" bash -c '[[ $0 =~ (line|:)\ ?1[^0-9] ]]' "$err"
done
# the edit really is the only difference: the same folder with answers back in trains
cp -r "$FX/data7" "$tmp/okdata"
"$PY" "$HERE/dataset_edit.py" "$tmp/okdata" const-answer=7 || die "editing the dataset"
run "$BIN" train -c "$tmp/rl.yaml" -q data="$tmp/okdata" out="$tmp/okrun" steps=1
check "a re-written dataset with answers trains (control)" test "$rc" -eq 0

# issue 18: what the manifest vouches for is checked (sha256, skill, record
# count), and ids are unique
cp -r "$FX/data7" "$tmp/swapped"
cp "$tmp/swapped/niah/test-00000.jsonl.zst" "$tmp/swapped/niah/train-00000.jsonl.zst"
for cmd in train sft; do
  expect_refusal "$cmd: a shard swapped under its manifest" "train-00000.jsonl.zst: sha256 mismatch" \
    "regenerate the dataset" -- "$BIN" $cmd -c "$tmp/rl.yaml" -q data="$tmp/swapped"
done
for e in set-skill=logic dup-id records+1; do
  rm -rf "$tmp/ed"
  cp -r "$FX/data7" "$tmp/ed"
  "$PY" "$HERE/dataset_edit.py" "$tmp/ed" $e train || die "editing the dataset ($e)"
  case $e in
  set-skill=*) needle="record of skill 'logic' in a shard the manifest lists as 'niah'" ;;
  dup-id) needle="appears twice in the 'train' split" ;;
  records+1) needle="records but the manifest lists" ;;
  esac
  expect_refusal "train: dataset edit $e" "$needle" -- "$BIN" train -c "$tmp/rl.yaml" -q data="$tmp/ed"
  expect_refusal "filter: dataset edit $e" "$needle" -- "$BIN" filter -c "$tmp/rl.yaml" data="$tmp/ed" \
    filter.out="$tmp/run/filtered"
done

# issue 18: an 8 MiB prompt is refused before it is tokenized (train checks
# the window while loading, as filter does)
cp -r "$FX/data7" "$tmp/huge"
"$PY" "$HERE/dataset_edit.py" "$tmp/huge" huge-prompt=8 train || die "making an 8 MiB prompt"
expect_refusal "train: an 8 MiB prompt" "bytes, far more than the 4088 tokens" -- \
  "$BIN" train -c "$tmp/rl.yaml" -q data="$tmp/huge"

# issue 18: a starting model with a tensor the engine does not know: refused
# (training dropped it from every checkpoint and final model it wrote)
cp -r "$FX/warm" "$tmp/extra"
"$PY" - "$tmp/extra/model.safetensors" <<'PYEOF' || die "adding a tensor"
import json, struct, sys
p = sys.argv[1]
b = open(p, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
h["model.extra_adapter.weight"] = {"dtype": "F32", "shape": [2], "data_offsets": [len(data), len(data) + 8]}
data += struct.pack("<2f", 1.0, 2.0)
hb = json.dumps(h).encode()
hb += b" " * (-len(hb) % 8)
open(p, "wb").write(struct.pack("<Q", len(hb)) + hb + data)
PYEOF
for cmd in train sft; do
  expect_refusal "$cmd: starting model with an unknown tensor" "unexpected tensor 'model.extra_adapter.weight'" -- \
    "$BIN" $cmd -c "$tmp/rl.yaml" -q model="$tmp/extra"
done

# the dataset was counted in another tokenizer than the model's
expect_refusal "tokenizer mismatch" "tokenizer" "re-synthesize" -- "$BIN" train -c "$tmp/rl.yaml" -q data="$FX/data_tok2"
expect_refusal "sft: tokenizer mismatch" "tokenizer" -- "$BIN" sft -c "$tmp/rl.yaml" -q data="$FX/data_tok2"

# response budget larger than the model's window (tiny: 4096 positions)
expect_refusal "response budget over the window" "rollout.max_response" "4096" -- \
  "$BIN" train -c "$tmp/rl.yaml" -q rollout.max_response=5000
# sft rows longer than the window
expect_refusal "sft.seq over the window" "sft.seq" -- "$BIN" sft -c "$tmp/rl.yaml" -q sft.seq=8192

# missing model / data
grep -v '^model:' "$tmp/rl.yaml" >"$tmp/nomodel.yaml"
grep -v '^data:' "$tmp/rl.yaml" >"$tmp/nodata.yaml"
expect_refusal "no model" "'model'" "required" -- "$BIN" train -c "$tmp/nomodel.yaml" -q
expect_refusal "no data" "'data'" "required" -- "$BIN" train -c "$tmp/nodata.yaml" -q
expect_refusal "sft: no model" "'model'" -- "$BIN" sft -c "$tmp/nomodel.yaml" -q
expect_refusal "model dir that does not exist" "$tmp/nope" -- "$BIN" train -c "$tmp/rl.yaml" -q model="$tmp/nope"
expect_refusal "data dir that does not exist" "$tmp/nodir" -- "$BIN" train -c "$tmp/rl.yaml" -q data="$tmp/nodir"

# unknown keys: did-you-mean, on the command line and in the file
expect_refusal "unknown override key" "optim.lrr" "did you mean 'optim.lr'" -- "$BIN" train -c "$tmp/rl.yaml" -q optim.lrr=1
sed 's/^rollout: {max_response: 8}/rollout: {max_respons: 8}/' "$tmp/rl.yaml" >"$tmp/typo.yaml"
expect_refusal "unknown key in the file" "max_respons" "did you mean" "typo.yaml" -- "$BIN" train -c "$tmp/typo.yaml" -q
expect_refusal "out-of-range value" "batch.group" -- "$BIN" train -c "$tmp/rl.yaml" -q batch.group=1
expect_refusal "no -c" "-c" -- "$BIN" train -q
finish
