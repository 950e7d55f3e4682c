#!/usr/bin/env bash
# Run-folder ownership (issue 18): sft/train into a folder that already holds
# a run is refused without --resume or --overwrite, --overwrite replaces it,
# and while one process writes a run folder a second one is refused (RUN/.lock).
# Not resume itself (test_resume.sh).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_runfolder.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture
write_cfg "$tmp/rl.yaml" "$tmp/unused"
sft() { run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" "$@"; }

# ---- a finished run is not replaced silently ----
sft sft.out="$tmp/s" sft.steps=2
[ "$rc" -eq 0 ] || die "first sft"
before=$(sha "$tmp/s/final/model.safetensors")
sft sft.out="$tmp/s" sft.steps=2 seed=5
check "sft into a finished run without --resume: refused (exit 1)" test "$rc" -eq 1
check "refusal names the folder" has "$err" "$tmp/s already holds a run"
check "refusal says --resume or --overwrite" bash -c '[[ $0 == *--resume* && $0 == *--overwrite* ]]' "$err"
check "refused run left the final model alone" same "$(sha "$tmp/s/final/model.safetensors")" "$before"
check "refused run left the metrics alone (2 lines)" test "$(grep -c . "$tmp/s/metrics.jsonl")" -eq 2
sft sft.out="$tmp/s" sft.steps=2 seed=5 --overwrite
check "--overwrite: exit 0" test "$rc" -eq 0
check "--overwrite: a new final model" test "$(sha "$tmp/s/final/model.safetensors")" != "$before"
check "--overwrite: metrics of the new run only (2 lines)" test "$(grep -c . "$tmp/s/metrics.jsonl")" -eq 2
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 out="$tmp/g" steps=1
[ "$rc" -eq 0 ] || die "first train"
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 out="$tmp/g" steps=1
check "train into a finished run without --resume: refused" test "$rc" -eq 1
check "train refusal names the folder" has "$err" "$tmp/g already holds a run"
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 out="$tmp/g" steps=2 --resume
check "train --resume of a finished run continues it: exit 0" test "$rc" -eq 0

# ---- one writer at a time ----
"$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" sft.out="$tmp/busy" sft.steps=100000 \
  checkpoint.every=0 >"$tmp/busy.out" 2>"$tmp/busy.err" &
bp=$!
for _ in $(seq 600); do [ -s "$tmp/busy/metrics.jsonl" ] && break; sleep 0.1; done
check "the first writer is training" test -s "$tmp/busy/metrics.jsonl"
sft sft.out="$tmp/busy" sft.steps=2
check "a second sft into a folder in use: refused" test "$rc" -eq 1
check "message: folder in use by another process, with its pid" has "$err" "$tmp/busy is being written by another skillrl process (pid $bp"
sft sft.out="$tmp/busy" sft.steps=2 --resume
check "--resume into a folder in use: refused too" has "$err" "being written by another skillrl process"
kill -TERM "$bp"
wait "$bp"
n=$(grep -c . "$tmp/busy/metrics.jsonl")
check "the first writer's metrics are whole: steps 1..$n once each" "$PY" -c '
import json,sys
s=[json.loads(l)["step"] for l in open(sys.argv[1]) if l.strip()]
sys.exit(s != list(range(1, len(s)+1)))' "$tmp/busy/metrics.jsonl"
sft sft.out="$tmp/busy" sft.steps=$((n + 1)) checkpoint.every=0 --resume
check "after the writer ended, --resume takes the folder" test "$rc" -eq 0
finish
