#!/usr/bin/env bash
# Trainer end-to-end: the shared-prefix update (update.shared_prefix true,
# the default: one group step per prompt) and the packed per-sample update
# (false) train the same: same rewards, groups and response lengths step by
# step, losses/KL/entropy/grad norm and final weights equal up to float
# rounding. A KL reference and two update epochs exercise all three
# log-prob passes (old, ref, new) and the backward; temperature 0.8 the logit
# scale of both paths. Not resume (test_resume.sh).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_shared_prefix.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

write_cfg "$tmp/rl.yaml" "$tmp/unused" 'loss: {kl_coef: 0.05}' 'update: {epochs: 2}'
for sp in true false; do
  run "$BIN" train -c "$tmp/rl.yaml" -q --threads 2 out="$tmp/rl-$sp" update.shared_prefix=$sp rollout.temperature=0.8
  check "train update.shared_prefix=$sp exits 0" test "$rc" -eq 0
done
check "the resolved config records update.shared_prefix" grep -q "shared_prefix: false" "$tmp/rl-false/config.yaml"

# metrics: sampling-side fields equal, loss-side fields within float rounding
run "$PY" - "$tmp/rl-true/metrics.jsonl" "$tmp/rl-false/metrics.jsonl" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
if len(a) != len(b) or len(a) < 4:
    sys.exit("%d vs %d metric lines" % (len(a), len(b)))
worst = 0.0
for x, y in zip(a, b):
    for f in ("reward", "accuracy", "groups_kept", "groups_dropped", "response_len", "truncation_rate"):
        if x[f] != y[f]:
            sys.exit("step %d: %s %r vs %r" % (x["step"], f, x[f], y[f]))
    for f in ("pg_loss", "kl", "entropy", "grad_norm", "clip_frac"):
        d = abs(x[f] - y[f]) / (1e-6 + abs(y[f]))
        worst = max(worst, d)
        if d > 1e-3:
            sys.exit("step %d: %s %r vs %r" % (x["step"], f, x[f], y[f]))
print("metrics: largest relative difference %.3g" % worst)
EOF
check "shared-prefix and packed updates give the same metrics" test "$rc" -eq 0
echo "$out"

# weights: every tensor within 1e-4 of the packed run's (Adam steps of
# lr 1e-3 from gradients equal to ~1e-6 relative), and the runs did train
run "$PY" - "$FX/warm/model.safetensors" "$tmp/rl-true/final/model.safetensors" \
  "$tmp/rl-false/final/model.safetensors" <<'EOF'
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=np.float32)
            for k, v in h.items() if k != "__metadata__"}
w0, a, b = (load(p) for p in sys.argv[1:4])
moved = max(float(np.abs(a[k] - w0[k]).max()) for k in a)
diff = max(float(np.abs(a[k] - b[k]).max()) for k in a)
print("weights: moved up to %.3g, shared vs packed differ up to %.3g" % (moved, diff))
if moved < 1e-3:
    sys.exit("the runs did not train")
if diff > 1e-4:
    sys.exit("weights differ by %.3g" % diff)
EOF
check "shared-prefix and packed updates give the same weights" test "$rc" -eq 0
echo "$out"
finish
