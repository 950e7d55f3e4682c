#!/usr/bin/env bash
# Trainer end-to-end under MPI: `mpirun -np 2` matches one process with the
# same global batch and seed (metrics exactly, weights up to float summation
# order), a 2-rank checkpoint resumes on 1 rank (and back), and a batch that
# does not divide across ranks is refused. Not the collectives (tests/dist).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_mpi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# in a sanitizer build, OpenMPI's own never-freed allocations read as leaks;
# our code's leaks are caught by the single-process tests
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
MPIRUN=$(command -v mpirun) || { echo "mpirun not found (apt-get install openmpi-bin)" >&2; fail=1; finish; }
fixture

write_cfg "$tmp/rl.yaml" "$tmp/unused"
np() { local n=$1; shift; run "$MPIRUN" -np "$n" "$BIN" "$@" --threads 1; }
# close A B TOL: every tensor of two safetensors files agrees within TOL (abs + rel)
close() {
  "$PY" - "$@" <<'PYEOF'
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        if v["dtype"] != "F32":
            sys.exit("%s: dtype %s" % (k, v["dtype"]))
        a, e = v["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + a:8 + n + e], dtype="<f4").reshape(v["shape"])
    return out
x, y, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
if x.keys() != y.keys():
    sys.exit("tensor names differ")
for k in x:
    if not np.all(np.isfinite(x[k])) or not np.all(np.isfinite(y[k])):
        sys.exit("%s: non-finite" % k)
    d = np.abs(x[k].astype(np.float64) - y[k])
    lim = tol + tol * np.abs(x[k])
    if np.any(d > lim):
        sys.exit("%s: max diff %g" % (k, d.max()))
PYEOF
}
# metrics_eq A B FIELDS [TOL]: equal per step (exactly, or within TOL relative)
metrics_eq() {
  "$PY" - "$@" <<'PYEOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
fs, tol = sys.argv[3].split(","), float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
if [r["step"] for r in a] != [r["step"] for r in b]:
    sys.exit("steps differ")
for x, y in zip(a, b):
    for f in fs:
        u, v = x.get(f), y.get(f)
        ok = u == v if tol == 0 else (u is not None and v is not None and abs(u - v) <= tol * (1 + abs(u)))
        if not ok:
            sys.exit("step %d %s: %r vs %r" % (x["step"], f, u, v))
PYEOF
}
EXACT=reward,accuracy,skills,groups_kept,groups_dropped,response_len,truncation_rate,sampling_rounds

# ---- GRPO: 1 process vs 2 ranks ----
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 out="$tmp/g1"
[ "$rc" -eq 0 ] || die "1-process grpo"
np 2 train -c "$tmp/rl.yaml" -q out="$tmp/g2"
check "grpo np 2 exits 0" test "$rc" -eq 0
check "grpo np 2: final model written once" test -f "$tmp/g2/final/model.safetensors"
check "grpo np 2: one metrics line per step" test "$(grep -c . "$tmp/g2/metrics.jsonl")" -eq 4
check "grpo np 2 vs 1: same rewards, accuracy, groups per step (exactly)" metrics_eq "$tmp/g1/metrics.jsonl" \
  "$tmp/g2/metrics.jsonl" "$EXACT"
check "grpo np 2 vs 1: losses and grad norms agree to 1e-5" metrics_eq "$tmp/g1/metrics.jsonl" \
  "$tmp/g2/metrics.jsonl" pg_loss,grad_norm,entropy,kl,clip_frac 1e-5
check "grpo np 2 vs 1: weights agree up to summation order" close "$tmp/g1/final/model.safetensors" \
  "$tmp/g2/final/model.safetensors" 1e-5
check "grpo np 2 vs 1: optimizer state agrees" close "$tmp/g1/ckpt/step-4/optimizer.safetensors" \
  "$tmp/g2/ckpt/step-4/optimizer.safetensors" 1e-4
check "grpo np 2: the closing line is printed once, by rank 0" test "$(grep -c 'done;' <<<"$err")" -eq 1

# ---- a 2-rank checkpoint resumed on 1 rank, and a 1-rank one on 2 ranks ----
np 2 train -c "$tmp/rl.yaml" -q out="$tmp/r21" --stop-after 2
check "np 2 stop-after 2 exits 0" test "$rc" -eq 0
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 out="$tmp/r21" --resume
check "2-rank checkpoint resumed on 1 rank: exit 0" test "$rc" -eq 0
check "2 -> 1 ranks: same metrics as uninterrupted" metrics_eq "$tmp/g1/metrics.jsonl" "$tmp/r21/metrics.jsonl" "$EXACT"
check "2 -> 1 ranks: weights agree" close "$tmp/g1/final/model.safetensors" "$tmp/r21/final/model.safetensors" 1e-5
run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 out="$tmp/r12" --stop-after 2
[ "$rc" -eq 0 ] || die "1-process stop-after 2"
np 2 train -c "$tmp/rl.yaml" -q out="$tmp/r12" --resume
check "1-rank checkpoint resumed on 2 ranks: exit 0" test "$rc" -eq 0
check "1 -> 2 ranks: same metrics as uninterrupted" metrics_eq "$tmp/g1/metrics.jsonl" "$tmp/r12/metrics.jsonl" "$EXACT"
check "1 -> 2 ranks: weights agree" close "$tmp/g1/final/model.safetensors" "$tmp/r12/final/model.safetensors" 1e-5

# ---- batch.prompts not divisible by the ranks: refused ----
np 2 train -c "$tmp/rl.yaml" -q out="$tmp/bad" batch.prompts=3
check "prompts 3 on 2 ranks refused" test "$rc" -ne 0
check "prompts 3 on 2 ranks: message says what to use" has "$err" "multiple of 2"
check "prompts 3 on 2 ranks: nothing trained" test ! -e "$tmp/bad/ckpt"

# ---- SFT: 1 process vs 2 ranks (2 rows a step: one per rank) ----
run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" sft.out="$tmp/s1"
[ "$rc" -eq 0 ] || die "1-process sft"
np 2 sft -c "$tmp/rl.yaml" -q model="$FX/m0" data="$FX/data" sft.out="$tmp/s2"
check "sft np 2 exits 0" test "$rc" -eq 0
check "sft np 2 vs 1: same tokens and samples per step" metrics_eq "$tmp/s1/metrics.jsonl" "$tmp/s2/metrics.jsonl" \
  tokens,samples,cut
check "sft np 2 vs 1: losses agree to 1e-5" metrics_eq "$tmp/s1/metrics.jsonl" "$tmp/s2/metrics.jsonl" loss,grad_norm 1e-5
check "sft np 2 vs 1: weights agree up to summation order" close "$tmp/s1/final/model.safetensors" \
  "$tmp/s2/final/model.safetensors" 1e-5

# ---- a stalled rank (SIGSTOP) ends the job within dist.timeout (issue 18) ----
# Before, rank 0 reported the timeout and then exit() ran MPI_Finalize, which
# waited on the stopped rank forever; an error path must end in MPI_Abort.
"$MPIRUN" -np 2 "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" sft.out="$tmp/stall" \
  sft.steps=100000 checkpoint.every=0 dist.timeout=5 >"$tmp/stall.out" 2>"$tmp/stall.err" &
mp=$!
r1=
for _ in $(seq 600); do # up to 60 s for both ranks to be training
  if [ -s "$tmp/stall/metrics.jsonl" ]; then
    for p in $(pgrep -P "$mp"); do
      tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && r1=$p
    done
    [ -n "$r1" ] && break
  fi
  sleep 0.1
done
check "stall: found rank 1 of a running 2-rank sft" test -n "$r1"
[ -n "$r1" ] && kill -STOP "$r1"
t0=$(date +%s)
while kill -0 "$mp" 2>/dev/null && [ $(($(date +%s) - t0)) -lt 35 ]; do sleep 0.2; done
if kill -0 "$mp" 2>/dev/null; then
  rc=hung
  [ -n "$r1" ] && kill -CONT "$r1"
  kill "$mp"
fi
wait "$mp"
[ "$rc" = hung ] || rc=$?
err=$(cat "$tmp/stall.err")
check "stall: the job ends within dist.timeout (5 s) + 30 s, with an error" test "$rc" != hung -a "$rc" != 0
check "stall: the message names the collective and the timeout" has "$err" "did not complete within 5 s"
finish
