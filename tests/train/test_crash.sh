#!/usr/bin/env bash
# Trainer end-to-end (slow suite): kill -9 at random (seeded) moments, over and
# over, resuming each time, for SFT and GRPO; the finished run must be
# bit-identical to an uninterrupted one. SKL_SLOW_SIZE=small|full sets the
# number of steps. Not the targeted mid-checkpoint kill (test_kill.sh).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_crash.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

case "${SKL_SLOW_SIZE:-full}" in
  small) S=8 ;;
  full) S=24 ;;
  *) echo "SKL_SLOW_SIZE must be small or full" >&2; exit 2 ;;
esac
jget() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
steps_ok() {
  "$PY" -c 'import json,sys; s=[json.loads(l)["step"] for l in open(sys.argv[1]) if l.strip()]; sys.exit(s!=list(range(1,int(sys.argv[2])+1)) and "steps %s"%s)' "$1" "$2"
}
has_ckpt() { compgen -G "$1/ckpt/step-[0-9]*" | grep -qv '\.tmp'; }

write_cfg "$tmp/rl.yaml" "$tmp/unused"
for cmd in sft train; do
  args=(-c "$tmp/rl.yaml" -q --threads 1 steps=$S sft.steps=$S checkpoint.every=1 checkpoint.keep=2)
  [ $cmd = sft ] && args+=(model="$FX/m0" data="$FX/data")
  t0=$(date +%s.%N)
  run "$BIN" $cmd "${args[@]}" out="$tmp/$cmd-ref" sft.out="$tmp/$cmd-ref"
  [ "$rc" -eq 0 ] || die "$cmd reference"
  # kill within the time an uninterrupted run takes (the first step excluded)
  export KILL_MAX_S
  KILL_MAX_S=$("$PY" -c 'import sys; print(max(0.05, 0.8 * (float(sys.argv[2]) - float(sys.argv[1]))))' "$t0" "$(date +%s.%N)")
  kills=0
  finished=0
  for attempt in $(seq 1 $((4 * S))); do
    r=()
    has_ckpt "$tmp/$cmd-k" && r=(--resume)
    res=$("$PY" "$HERE/killer.py" rand "$attempt" "$tmp/$cmd-k" -- "$BIN" $cmd "${args[@]}" out="$tmp/$cmd-k" \
      sft.out="$tmp/$cmd-k" "${r[@]}")
    rc=$(jget "$res" rc)
    err=$res
    if [ "$rc" = 0 ]; then finished=1; break; fi
    if [ "$rc" != -9 ]; then check "$cmd attempt $attempt: only SIGKILL ends a run early" false; break; fi
    kills=$((kills + 1))
  done
  err="kills=$kills"
  echo "$cmd: $kills random kill(s) before the run finished"
  check "$cmd: killed at least once before finishing" test "$kills" -ge 1
  check "$cmd: finished after random kills" test "$finished" -eq 1
  check "$cmd: random kills + resume: same final weights" same "$(sha "$tmp/$cmd-k/final/model.safetensors")" \
    "$(sha "$tmp/$cmd-ref/final/model.safetensors")"
  check "$cmd: random kills + resume: same optimizer state" \
    same "$(sha "$tmp/$cmd-k/ckpt/step-$S/optimizer.safetensors")" "$(sha "$tmp/$cmd-ref/ckpt/step-$S/optimizer.safetensors")"
  check "$cmd: metrics 1..$S without duplicates" steps_ok "$tmp/$cmd-k/metrics.jsonl" $S
done
finish
