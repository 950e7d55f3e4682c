#!/usr/bin/env bash
# Trainer end-to-end: non-finite steps. A model whose MLP output overflows
# float32 (finite weights, 3e38) makes every loss and gradient non-finite:
# each step must skip the update, and the run must stop after
# nan.max_consecutive such steps with a clear message. Not the optimizer's unit tests.
set -u
tmp=$(mktemp -d /tmp/skl_test_train_nan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

write_cfg "$tmp/rl.yaml" "$tmp/unused" "nan: {max_consecutive: 3}"
"$PY" "$HERE/st_poison.py" "$FX/warm" "$tmp/hot" model.layers.0.mlp.down_proj.weight 3e38 || die "poisoning the model"
# same_tensors A B: the F32 tensors of two safetensors files are byte-equal
same_tensors() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, struct, sys
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}
a, b = load(sys.argv[1]), load(sys.argv[2])
if a.keys() != b.keys():
    sys.exit("tensor names differ")
bad = [k for k in a if a[k] != b[k]]
if bad:
    sys.exit("tensors differ: %s" % bad[:3])
PYEOF
}
# skipped_lines METRICS N: N lines, each marked skipped_nonfinite
skipped_lines() {
  "$PY" -c '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(not (len(r)==int(sys.argv[2]) and all(x.get("skipped_nonfinite") in (1,True) for x in r)) and "got %s" % r)' "$1" "$2"
}

for cmd in sft train; do
  extra=()
  # GRPO: keep all-equal groups so the update (and its non-finite log-probs) runs
  [ $cmd = train ] && extra=(dynamic_sampling.enabled=false)
  run "$BIN" $cmd -c "$tmp/rl.yaml" -q --threads 1 model="$tmp/hot" out="$tmp/$cmd" sft.out="$tmp/$cmd" steps=6 sft.steps=6 "${extra[@]}"
  check "$cmd: non-finite run stops with exit 1" test "$rc" -eq 1
  check "$cmd: message says non-finite" bash -c '[[ $0 == *non-finite* ]]' "$err"
  check "$cmd: message is not a bogus out-of-memory" bash -c '[[ $0 != *"out of memory"* ]]' "$err"
  check "$cmd: message names the limit (3 in a row)" has "$err" "3 non-finite"
  check "$cmd: the first 2 non-finite steps were skipped and logged" skipped_lines "$tmp/$cmd/metrics.jsonl" 2
  check "$cmd: skipped steps left the weights alone (step-1 checkpoint = start)" \
    same_tensors "$tmp/$cmd/ckpt/step-1/model.safetensors" "$tmp/hot/model.safetensors"
  check "$cmd: no final model after a stop on non-finite steps" test ! -e "$tmp/$cmd/final"
done
finish
