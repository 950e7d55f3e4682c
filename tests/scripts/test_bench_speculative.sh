#!/usr/bin/env bash
# Slow suite: scripts/bench_speculative.sh end to end at SPEC_SCALE=small
# with the built binary and SPEC_MODEL (the 12-layer deep10m config): every
# stage runs, the chosen model config is the one trained, each bench line
# is one JSON object with the speedup and acceptance fields, and the GRPO
# rollout timings (skillrl train, plain vs speculative) come out.
set -u
src=${SKL_SOURCE_ROOT:?}
bin=${SKL_BIN:?}
tmp=$(mktemp -d /tmp/skl_bench_spec.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1" >&2; fi; }
(cd "$src" && SPEC_DIR="$tmp/r" SPEC_SCALE=small SPEC_MODEL=configs/model/deep10m.yaml SKL_BIN="$bin" \
  bash scripts/bench_speculative.sh >"$tmp/out" 2>"$tmp/err")
rc=$?
check "bench_speculative.sh exits 0" "[ $rc -eq 0 ]"
check "the model trained is SPEC_MODEL's (12 layers)" \
  "python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"num_hidden_layers\"] != 12)' '$tmp/r/model0/config.json'"
check "CE-only and self-distilled heads, 1 and 4" "[ -f '$tmp/r/ce1/mtp.safetensors' ] && [ -f '$tmp/r/sd4/mtp.safetensors' ]"
check "speculative bench lines are JSON with speedup and acceptance" "python3 - '$tmp/out' <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    if '{' not in line:
        continue
    d = json.loads(line[line.index('{'):])
    if d.get('bench') == 'decode' and 'acceptance' in d:
        assert d['speedup'] > 0 and d['decode_speedup'] > 0 and len(d['acceptance']) == d['heads']
        n += 1
sys.exit(n < 8)
PY"
check "heads on the policy's own responses trained and benched" "[ -f '$tmp/r/op4/mtp.safetensors' ] && [ -s '$tmp/r/own_rollouts.txt' ] && grep -q '^op4-K3-T0-B1-p0 {' '$tmp/out'"
check "GRPO rollouts plain and speculative (K 0, 2, 3) timed from skillrl train's metrics" "python3 - '$tmp/out' <<'PY'
import json, sys
ks = []
for line in open(sys.argv[1]):
    if line.startswith('rollouts-K'):
        d = json.loads(line[line.index('{'):])
        assert d['bench'] == 'rollouts' and d['rollout_s'] > 0 and d['tokens_per_s'] > 0 and d['response_tokens'] > 0
        ks.append(d['heads'])
sys.exit(ks != [0, 2, 3])
PY"
[ $fail -eq 0 ] || tail -30 "$tmp/err" >&2
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
