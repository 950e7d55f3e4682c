#!/usr/bin/env bash
# Slow suite: the README's main job (scripts/quickstart.sh) end to end at
# QUICKSTART_SCALE=small with the built binary, for both jobs (the default
# quickstart and SKL_JOB=demo, the RL demonstration's configs); checks every
# stage's output, and that an unknown job is refused.
set -u
src=${SKL_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/skl_quickstart.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
for job in quickstart demo; do
  d=$tmp/$job
  seed=""
  [ $job = demo ] && seed=7 # the demo runs with another seed (QUICKSTART_SEED), the quickstart with the configs'
  SKL_JOB=$job QUICKSTART_SCALE=small QUICKSTART_DIR="$d" QUICKSTART_SEED=$seed bash "$src/scripts/quickstart.sh" \
    >"$tmp/$job.log" 2>&1
  rc=$?
  check "$job: exits 0 (see log below)" "[ $rc -eq 0 ]"
  check "$job: dataset manifest" "[ -f '$d/data/manifest.json' ]"
  check "$job: trained tokenizer" "[ -f '$d/tokenizer.json' ]"
  check "$job: SFT final model" "[ -f '$d/sft/final/model.safetensors' ]"
  check "$job: RL final model" "[ -f '$d/rl/final/model.safetensors' ]"
  check "$job: RL metrics" "[ -s '$d/rl/metrics.jsonl' ]"
  check "$job: reward/accuracy and SFT loss curves (PNG)" "[ \"\$(head -c 4 '$d/rl/curves.png' | od -An -c | tr -d ' ')\" = '211PNG' ] && [ -s '$d/sft/curves.png' ]"
  check "$job: eval after SFT and after RL" "[ -s '$d/eval-sft/results.jsonl' ] && [ -s '$d/eval-rl/results.jsonl' ]"
  check "$job: eval on the fresh probes" "[ -s '$d/eval-sft-fresh/results.jsonl' ] && [ -s '$d/eval-rl-fresh/results.jsonl' ]"
  check "$job: fresh probes come from the unused seed" "grep -q '4242424242' '$d/probes/manifest.json'"
  check "$job: two side-by-side tables printed" "[ \$(grep -c 'mean (all items)' '$tmp/$job.log') -eq 2 ]"
  check "$job: every stage's time printed" "grep -q '(7/8 held-out' '$tmp/$job.log'"
  [ $fail -eq 0 ] || tail -40 "$tmp/$job.log" >&2
done
check "quickstart: pretrain final model" "[ -f '$tmp/quickstart/pretrain/final/model.safetensors' ]"
check "quickstart: pretrain metrics with both stages" "grep -q '\"stage\":\"induction\"' '$tmp/quickstart/pretrain/metrics.jsonl' && grep -q '\"stage\":\"mixture\"' '$tmp/quickstart/pretrain/metrics.jsonl'"
check "quickstart: SFT starts from the pretrained model" "grep -q 'pretrain/final' '$tmp/quickstart/sft/config.yaml'"
check "demo: QUICKSTART_SEED reaches SFT and GRPO" "grep -q '^seed: 7' '$tmp/demo/sft/config.yaml' && grep -q '^seed: 7' '$tmp/demo/rl/config.yaml'"
check "quickstart: the configs' seed without QUICKSTART_SEED" "grep -q '^seed: 1' '$tmp/quickstart/sft/config.yaml'"
check "demo: no pretrain stage" "[ ! -d '$tmp/demo/pretrain' ]"
check "demo: SFT quotes the evidence" "grep -q '^  target: quote' '$tmp/demo/sft/config.yaml'"
check "demo: niah only, entry at depth 1" "grep -q 'depth=1.00' <(zstd -dc '$tmp/demo/data/niah/test-00000.jsonl.zst' | head -1)"
SKL_JOB=nope QUICKSTART_DIR="$tmp/nope" bash "$src/scripts/quickstart.sh" >"$tmp/nope.log" 2>&1
rc=$?
check "an unknown SKL_JOB is refused" "[ $rc -eq 2 ] && grep -q 'use quickstart (default) or demo' '$tmp/nope.log'"
QUICKSTART_SEED=x1 QUICKSTART_DIR="$tmp/nope" bash "$src/scripts/quickstart.sh" >"$tmp/seed.log" 2>&1
rc=$?
check "a QUICKSTART_SEED that is not a number is refused" "[ $rc -eq 2 ] && grep -q 'non-negative integer' '$tmp/seed.log'"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
