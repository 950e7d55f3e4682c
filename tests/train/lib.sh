# Shared helpers for the trainer's end-to-end tests (sourced, not run):
# checks and the closing report, and a tiny cached fixture (tokenizer,
# dataset, model, warmed-up model). Not a test by itself.
#
# The fixture is built once per skillrl binary under
# $SKL_BUILD_ROOT/tests/train/fixture-<hash> (flock'ed, built in a temp dir and
# renamed), since every test needs the same one and the machine is small:
#   $FX/tok.json    byte-level BPE, vocab 400, trained on a first synth pass
#   $FX/data        niah, 8 train + 2 test, 200-240 tokens of tok.json
#   $FX/data7       the same with every answer replaced by "7" (learnable)
#   $FX/m0          tiny llama, 1 layer, fresh init, tokenizer tok.json
#   $FX/warm        m0 after 30 SFT steps on data7 (pass rate ~0.5: GRPO has signal)
#   $FX/tok2.json, $FX/data_tok2   another tokenizer and a dataset counted in it
set -u
BIN=${SKL_BIN:?SKL_BIN must point at the skillrl binary}
SRC=${SKL_SOURCE_ROOT:?SKL_SOURCE_ROOT must be set}
BROOT=${SKL_BUILD_ROOT:?SKL_BUILD_ROOT must be set}
PY=${PYTHON:-/usr/bin/python3}
HERE=$SRC/tests/train
pass=0
fail=0
rc=0
out=
err=

# run CMD...: stdout -> $out, stderr -> $err, exit code -> $rc
run() {
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  out=$(cat "$tmp/stdout")
  err=$(cat "$tmp/stderr")
}
check() { # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    printf 'FAIL: %s\n  rc=%s\n  stdout: %s\n  stderr: %s\n' "$what" "$rc" "$(tail -c 800 <<<"$out")" "$(tail -c 800 <<<"$err")" >&2
  fi
}
has() { [[ $1 == *"$2"* ]]; }
same() { [[ -n $1 && $1 == "$2" ]]; }
sha() { if [ -f "$1" ]; then sha256sum "$1" | cut -d' ' -f1; else echo "missing:$1"; fi; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit $?
}
# die MSG: a setup step failed; count it and stop
die() {
  fail=$((fail + 1))
  printf 'FAIL (setup): %s\n  rc=%s\n  stderr: %s\n' "$1" "$rc" "$(tail -c 1500 <<<"$err")" >&2
  finish
}

synth_args=(-c "$SRC/configs/synth/default.yaml" 'mixture={niah: 1}' 'difficulty.niah={docs: 1, anchors: 1}'
  length.min=232 length.max=272 length.response_budget=8 -t 1)

build_fixture() { # build_fixture DIR
  local d=$1
  "$BIN" synth "${synth_args[@]}" -o "$d/pre" count.train=64 count.test=4 >/dev/null &&
    "$BIN" tokenizer train --vocab-size 400 -o "$d/tok.json" "$d/pre/niah/train-00000.jsonl.zst" >/dev/null &&
    "$BIN" synth "${synth_args[@]}" -o "$d/data" count.train=8 count.test=2 tokenizer="$d/tok.json" >/dev/null &&
    cp -r "$d/data" "$d/data7" && "$PY" "$HERE/dataset_edit.py" "$d/data7" const-answer=7 &&
    "$BIN" model init -c "$SRC/configs/model/tiny.yaml" -o "$d/m0" --tokenizer "$d/tok.json" num_hidden_layers=1 \
      >/dev/null &&
    cat >"$d/warm.yaml" <<EOF &&
kind: train
model: $d/m0
data: $d/data7
out: $d/warmrun
seed: 7
sft: {steps: 30, batch: 2, seq: 256, lr: 1.0e-2, warmup: 1, out: $d/warmrun}
EOF
    "$BIN" sft -c "$d/warm.yaml" --threads 1 -q >/dev/null &&
    cp -r "$d/warmrun/final" "$d/warm" &&
    "$BIN" tokenizer train --vocab-size 330 -o "$d/tok2.json" "$d/pre/niah/train-00000.jsonl.zst" >/dev/null &&
    "$BIN" synth "${synth_args[@]}" -o "$d/data_tok2" count.train=4 count.test=2 tokenizer="$d/tok2.json" \
      length.min=340 length.max=400 >/dev/null
}

# fixture: sets FX, building it if needed
fixture() {
  local key
  key=$(cat "$BIN" "$HERE/lib.sh" "$HERE/dataset_edit.py" | sha256sum | cut -c1-16)
  mkdir -p "$BROOT/tests/train"
  FX=$BROOT/tests/train/fixture-$key
  exec 9>"$BROOT/tests/train/fixture.lock"
  flock 9
  if [ ! -f "$FX/ok" ]; then
    rm -rf "$FX.tmp"
    mkdir -p "$FX.tmp"
    if ! build_fixture "$FX.tmp" 2>"$tmp/fixture.err"; then
      flock -u 9
      err=$(cat "$tmp/fixture.err")
      die "building the fixture in $FX.tmp"
    fi
    touch "$FX.tmp/ok"
    rm -rf "$FX"
    mv "$FX.tmp" "$FX"
    # fixtures of older binaries: nobody can be using them (same lock)
    local o
    for o in "$BROOT"/tests/train/fixture-*; do
      [ "$o" = "$FX" ] || rm -rf "$o"
    done
  fi
  flock -u 9
  exec 9>&-
}

# write_cfg FILE OUT [extra yaml lines]: the tiny run config used by all tests
write_cfg() {
  local f=$1 o=$2
  shift 2
  {
    cat <<EOF
kind: train
model: $FX/warm
data: $FX/data7
out: $o
seed: 3
steps: 4
batch: {prompts: 2, group: 4, micro: 2}
rollout: {max_response: 8}
reward: {format_reward: 0.5}
optim: {lr: 1.0e-3}
sft: {steps: 6, batch: 2, seq: 256, lr: 3.0e-3, warmup: 1}
checkpoint: {every: 1, keep: 3}
EOF
    local l
    for l in "$@"; do echo "$l"; done
  } >"$f"
}

# state_field CKPT_DIR FIELD: a field of trainer_state.json
state_field() {
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]+"/trainer_state.json"))[sys.argv[2]])' "$1" "$2" 2>/dev/null
}
