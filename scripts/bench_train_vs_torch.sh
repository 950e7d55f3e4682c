#!/usr/bin/env bash
# bench_train_vs_torch.sh: skillrl's training step beside plain PyTorch on the
# same model (ref5m, B=4, T=1024), one JSON line with tokens/s of both and the
# ratio. Not a test: timings are noisy on a shared machine; quote the ratio.
#
# usage: scripts/bench_train_vs_torch.sh [BUILD_DIR] [extra bench flags...]
#   THREADS=2 (default) sets OpenMP/OpenBLAS/torch threads for both peers.
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
exec "$bin" bench train -m configs/model/ref5m.yaml -B 4 -T 1024 --steps 3 --threads "$threads" --peer torch "$@"
