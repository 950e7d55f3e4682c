#!/usr/bin/env bash
# Slow suite: the README's main job (scripts/quickstart.sh) end to end at
# QUICKSTART_SCALE=small with the built binary; checks every stage's output.
set -u
src=${SKL_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/skl_quickstart.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
QUICKSTART_SCALE=small QUICKSTART_DIR="$tmp/qs" bash "$src/scripts/quickstart.sh" >"$tmp/log" 2>&1
rc=$?
check "quickstart exits 0 (see log below)" "[ $rc -eq 0 ]"
check "dataset manifest" "[ -f '$tmp/qs/data/manifest.json' ]"
check "trained tokenizer" "[ -f '$tmp/qs/tokenizer.json' ]"
check "SFT final model" "[ -f '$tmp/qs/sft/final/model.safetensors' ]"
check "RL final model" "[ -f '$tmp/qs/rl/final/model.safetensors' ]"
check "RL metrics" "[ -s '$tmp/qs/rl/metrics.jsonl' ]"
check "reward/accuracy and SFT loss curves (PNG)" "[ \"\$(head -c 4 '$tmp/qs/rl/curves.png' | od -An -c | tr -d ' ')\" = '211PNG' ] && [ -s '$tmp/qs/sft/curves.png' ]"
check "eval after SFT and after RL" "[ -s '$tmp/qs/eval-sft/results.jsonl' ] && [ -s '$tmp/qs/eval-rl/results.jsonl' ]"
check "side-by-side table printed" "grep -q 'mean (all items)' '$tmp/log'"
[ $fail -eq 0 ] || tail -40 "$tmp/log" >&2
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
