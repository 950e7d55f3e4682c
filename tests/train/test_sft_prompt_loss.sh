#!/usr/bin/env bash
# SFT's sft.prompt_loss: prompt tokens join the loss with that weight, the
# answer tokens' own loss is reported apart (answer_loss), 0 keeps the prompt
# masked exactly as before, and an out-of-range weight is refused.
set -u
tmp=$(mktemp -d /tmp/skl_test_sft_prompt_loss.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

write_cfg "$tmp/rl.yaml" "$tmp/unused"
field() { # field METRICS_FILE LINE KEY
  "$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])[sys.argv[3]])' "$@" \
    2>/dev/null
}
for w in 0 0.5; do
  run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" sft.prompt_loss=$w sft.out="$tmp/s$w"
  check "sft sft.prompt_loss=$w exits 0" test "$rc" -eq 0
done
m0=$tmp/s0/metrics.jsonl m5=$tmp/s0.5/metrics.jsonl
close() { "$PY" -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(abs(a-b) > 1e-6*max(1,abs(a)))' "$1" "$2"; }
check "prompt_loss 0: the loss is the answer tokens' loss" close "$(field "$m0" 0 loss)" "$(field "$m0" 0 answer_loss)"
check "prompt_loss 0.5: the first step's answer_loss is the same (same weights, same batch)" \
  close "$(field "$m0" 0 answer_loss)" "$(field "$m5" 0 answer_loss)"
check "prompt_loss 0.5: the loss mixes in the prompt tokens" \
  bash -c '! "$0" "$1" "$2"' close "$(field "$m5" 0 loss)" "$(field "$m5" 0 answer_loss)"
check "prompt_loss 0.5: more tokens carry weight" \
  "$PY" -c 'import sys; sys.exit(not float(sys.argv[2]) > 4 * float(sys.argv[1]))' \
  "$(field "$m0" 0 tokens)" "$(field "$m5" 0 tokens)"
check "prompt_loss 0.5: different weights" bash -c '[ "$0" != "$1" ]' \
  "$(sha "$tmp/s0/final/model.safetensors")" "$(sha "$tmp/s0.5/final/model.safetensors")"

run "$BIN" sft -c "$tmp/rl.yaml" -q model="$FX/m0" data="$FX/data" sft.prompt_loss=1.5 sft.out="$tmp/bad"
check "sft.prompt_loss 1.5 is refused" test "$rc" -eq 2
check "the refusal names the key and its range" has "$err" "sft.prompt_loss"
finish
