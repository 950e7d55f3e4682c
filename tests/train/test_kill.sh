#!/usr/bin/env bash
# Trainer end-to-end: crashes and signals — kill -9 while a checkpoint is
# being written (resume must end bit-identical, never pick a *.tmp.* folder),
# SIGTERM (exit 0, checkpoint of the last completed step, resume continues).
# Not the plain --stop-after resume (test_resume.sh).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_kill.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

jget() { "$PY" -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(json.dumps(v) if isinstance(v,(list,bool)) else v)' "$1" "$2"; }
nlines() { grep -c . "$1" 2>/dev/null || echo 0; }
steps_ok() { # steps_ok METRICS S: steps are exactly 1..S
  "$PY" -c 'import json,sys; s=[json.loads(l)["step"] for l in open(sys.argv[1]) if l.strip()]; sys.exit(s!=list(range(1,int(sys.argv[2])+1)) and "steps %s"%s)' "$1" "$2"
}
has_ckpt() { compgen -G "$1/ckpt/step-[0-9]*" | grep -qv '\.tmp'; }

write_cfg "$tmp/rl.yaml" "$tmp/unused"
S=6
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/ref"
[ "$rc" -eq 0 ] || die "reference run"
ref_model=$(sha "$tmp/ref/final/model.safetensors")
ref_opt=$(sha "$tmp/ref/ckpt/step-$S/optimizer.safetensors")

# ---- kill -9 during checkpoint writes, resume, repeat until the run finishes ----
landed=0
finished=0
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
  r=()
  has_ckpt "$tmp/k" && r=(--resume)
  # skip the first temp folder seen so every attempt completes >= 1 checkpoint
  res=$("$PY" "$HERE/killer.py" tmp 1 "$tmp/k" -- "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S \
    out="$tmp/k" "${r[@]}")
  rc=$(jget "$res" rc)
  err=$res
  if [ "$rc" = 0 ]; then finished=1; break; fi
  check "attempt $attempt: killed by SIGKILL, not a failure of its own" test "$rc" = -9
  [ "$rc" = -9 ] || break
  [ "$(jget "$res" tmp_at_kill)" != "[]" ] && landed=$((landed + 1))
done
rc=0
err="landed=$landed finished=$finished"
check "kill -9 landed while a checkpoint folder was half-written (at least once)" test "$landed" -ge 1
check "the killed-and-resumed run finished" test "$finished" -eq 1
check "kill -9 + resume: same final weights" same "$(sha "$tmp/k/final/model.safetensors")" "$ref_model"
check "kill -9 + resume: same optimizer state" same "$(sha "$tmp/k/ckpt/step-$S/optimizer.safetensors")" "$ref_opt"
check "kill -9 + resume: metrics steps 1..$S, none duplicated" steps_ok "$tmp/k/metrics.jsonl" $S
err=$(ls "$tmp/k/ckpt")
check "no stale *.tmp.* checkpoint folders left after the run completed" bash -c '! ls "$0" | grep -q "\.tmp"' \
  "$tmp/k/ckpt"

# ---- a fabricated half-written folder with a higher step is never resumed from ----
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/f" --stop-after 2
[ "$rc" -eq 0 ] || die "stop-after 2"
mkdir -p "$tmp/f/ckpt/step-5.tmp.1"
cp "$tmp/f/ckpt/step-2/config.json" "$tmp/f/ckpt/step-5.tmp.1/"
head -c 100 "$tmp/f/ckpt/step-2/model.safetensors" >"$tmp/f/ckpt/step-5.tmp.1/model.safetensors"
printf '{"phase":"grpo","step":5,"epoch":0,"cursor":' >"$tmp/f/ckpt/step-5.tmp.1/trainer_state.json"
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/f" --resume
check "resume next to a half-written step-5.tmp.1 exits 0" test "$rc" -eq 0
check "resume ignored step-5.tmp.1: same final weights" same "$(sha "$tmp/f/final/model.safetensors")" "$ref_model"
check "resume ignored step-5.tmp.1: metrics 1..$S" steps_ok "$tmp/f/metrics.jsonl" $S

# ---- issue 18: a damaged newest checkpoint (flipped byte, truncation) is
# found by its checksums and resume falls back to the previous one ----
flip() { "$PY" -c '
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[len(b) - off] ^= 0x40; open(p, "wb").write(b)' "$1" "$2"; }
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/dmg" --stop-after 3
[ "$rc" -eq 0 ] || die "stop-after 3"
flip "$tmp/dmg/ckpt/step-3/model.safetensors" 7
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/dmg" --resume
check "flipped byte in the newest checkpoint: resume exits 0" test "$rc" -eq 0
check "flipped byte: the damaged file is named" has "$err" "step-3/model.safetensors: sha256 differs"
check "flipped byte: resumed from step-2" has "$err" "resuming from $tmp/dmg/ckpt/step-2"
check "flipped byte + fallback: same final weights as uninterrupted" same "$(sha "$tmp/dmg/final/model.safetensors")" \
  "$ref_model"
check "flipped byte + fallback: metrics 1..$S" steps_ok "$tmp/dmg/metrics.jsonl" $S
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/trn" --stop-after 2
[ "$rc" -eq 0 ] || die "stop-after 2"
opt=$tmp/trn/ckpt/step-2/optimizer.safetensors
head -c $(($(stat -c %s "$opt") / 2)) "$opt" >"$opt.cut" && mv "$opt.cut" "$opt"
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/trn" --resume
check "truncated newest checkpoint: resume falls back to step-1 and finishes" test "$rc" -eq 0
check "truncated newest checkpoint: same final weights" same "$(sha "$tmp/trn/final/model.safetensors")" "$ref_model"
flip "$tmp/trn/ckpt/step-$S/config.json" 3
for k in $(seq 1 $((S - 1))); do rm -rf "$tmp/trn/ckpt/step-$k"; done
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/trn" --resume
check "every checkpoint damaged: --resume refused" test "$rc" -eq 1
check "every checkpoint damaged: the message says what was skipped" has "$err" "skipped a damaged one"

# a negative cursor in trainer_state.json (no checksums: an older checkpoint)
# indexed before the data order; now the checkpoint counts as damaged
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/neg" --stop-after 1
[ "$rc" -eq 0 ] || die "stop-after 1"
rm "$tmp/neg/ckpt/step-1/checksums.json"
sed -i 's/"cursor": [0-9]*/"cursor": -3/' "$tmp/neg/ckpt/step-1/trainer_state.json"
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/neg" --resume
check "negative cursor in trainer_state.json: --resume refused" test "$rc" -eq 1
check "negative cursor: the message says why" has "$err" "must be non-negative"

# ---- SIGTERM mid-run: exit 143, checkpoint of the last completed step, resume ----
res=$("$PY" "$HERE/killer.py" term 2 "$tmp/t" -- "$BIN" train -c "$tmp/rl.yaml" --threads 1 steps=$S out="$tmp/t" \
  checkpoint.every=0)
rc=$(jget "$res" rc)
err=$(jget "$res" stderr)
check "SIGTERM: exit code 143 (128 + SIGTERM, issue 18)" test "$rc" = 143
check "SIGTERM: message says stopped, continue with --resume" has "$err" "--resume"
n=$(nlines "$tmp/t/metrics.jsonl")
err="metrics lines: $n; ckpt: $(ls "$tmp/t/ckpt" 2>&1)"
check "SIGTERM: stopped before the end" test "$n" -lt $S
check "SIGTERM: checkpoint of the last completed step ($n)" test -f "$tmp/t/ckpt/step-$n/trainer_state.json"
check "SIGTERM: trainer_state step = $n" test "$(state_field "$tmp/t/ckpt/step-$n" step)" = "$n"
check "SIGTERM: no final model yet" test ! -e "$tmp/t/final"
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 steps=$S out="$tmp/t" checkpoint.every=0 --resume
check "SIGTERM: resume exits 0" test "$rc" -eq 0
check "SIGTERM + resume: same final weights" same "$(sha "$tmp/t/final/model.safetensors")" "$ref_model"
check "SIGTERM + resume: metrics 1..$S" steps_ok "$tmp/t/metrics.jsonl" $S

# ---- SFT: SIGTERM then resume ----
run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" sft.out="$tmp/sref"
[ "$rc" -eq 0 ] || die "sft reference"
res=$("$PY" "$HERE/killer.py" term 2 "$tmp/st" -- "$BIN" sft -c "$tmp/rl.yaml" --threads 1 model="$FX/m0" \
  data="$FX/data" sft.out="$tmp/st" checkpoint.every=0)
rc=$(jget "$res" rc)
err=$(jget "$res" stderr)
check "sft SIGTERM: exit code 143" test "$rc" = 143
n=$(nlines "$tmp/st/metrics.jsonl")
check "sft SIGTERM: checkpoint of the last completed step ($n)" test -f "$tmp/st/ckpt/step-$n/trainer_state.json"
run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" sft.out="$tmp/st" checkpoint.every=0 --resume
check "sft SIGTERM + resume: exit 0" test "$rc" -eq 0
check "sft SIGTERM + resume: same final weights" same "$(sha "$tmp/st/final/model.safetensors")" \
  "$(sha "$tmp/sref/final/model.safetensors")"

finish
