#!/usr/bin/env bash
# bench_train_vs_torch.sh: skillrl's training step beside plain PyTorch on the
# same model (ref5m, B=4, T=1024): ROUNDS rounds (default 3), each one
# `skillrl bench train --peer torch` (skillrl's steps, then PyTorch's), one JSON
# line per round with tokens/s of both and the ratio, then one summary line
# {"bench":"train_vs_torch", ratio median/min/max over the rounds, ...}.
# Not a test: timings are noisy on a shared machine; quote the ratios. The
# rounds alternate the peers, so a load spike hits one round, not one peer.
#
# usage: scripts/bench_train_vs_torch.sh [BUILD_DIR] [extra bench flags...]
#   THREADS=2 (default) sets OpenMP/OpenBLAS/torch threads for both peers.
#   ROUNDS=3 (default) rounds.
# Debian's OpenBLAS 0.3.21 takes recent CPUs for Prescott (~5x slower sgemm);
# both peers use the same libopenblas, so the core type is forced for both.
# OpenMP's wait policy is left as users get it (unset: spin briefly, then
# sleep); an OMP_WAIT_POLICY already in the environment applies to both peers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
bin="$build/skillrl"
if [ ! -x "$bin" ]; then
  echo "bench_train_vs_torch.sh: $bin not found; build first (meson setup build && ninja -C build)" >&2
  exit 2
fi
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
export SKL_SOURCE_ROOT="$root"
export PYTHON="${PYTHON:-/usr/bin/python3}"
threads="${THREADS:-2}"
cd "$root"
rounds="${ROUNDS:-3}"
case "$rounds" in
  '' | *[!0-9]* | 0) echo "bench_train_vs_torch.sh: ROUNDS='$rounds': expected a whole number >= 1" >&2; exit 2 ;;
esac
lines=()
for _ in $(seq "$rounds"); do
  line=$("$bin" bench train -m configs/model/ref5m.yaml -B 4 -T 1024 --steps 3 --threads "$threads" --peer torch "$@")
  echo "$line"
  lines+=("$line")
done
printf '%s\n' "${lines[@]}" | "$PYTHON" -c '
import json, statistics, sys
rs = [json.loads(l) for l in sys.stdin if l.strip()]
med = lambda k: statistics.median(r[k] for r in rs)
ratios = [r["ratio"] for r in rs]
print(json.dumps({"bench": "train_vs_torch", "rounds": len(rs), "ratio_median": med("ratio"),
                  "ratio_min": min(ratios), "ratio_max": max(ratios), "ratios": ratios,
                  "tokens_per_s_median": med("tokens_per_s"), "peer_tokens_per_s_median": med("peer_tokens_per_s"),
                  "mfu_median": med("mfu"), "blas_core": rs[0]["blas_core"], "threads": rs[0]["threads"]}))'
