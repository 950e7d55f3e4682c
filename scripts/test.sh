#!/usr/bin/env bash
# The README's test command: install what is missing, build (normal and
# ASan+UBSan), run the suites. Set SKL_SLOW_SIZE=small|full (default small).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
skl_install_deps

jobs=$(nproc)
if [ ! -f build/build.ninja ]; then meson setup build; fi
ninja -C build -j "$jobs"
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Dbuildtype=debugoptimized -Db_lundef=false
fi
ninja -C build-asan -j "$jobs"

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}  # tests run two at a time on 2 cores: no spinning
export SKL_SLOW_SIZE=${SKL_SLOW_SIZE:-small}
status=0
# Unit suite under the sanitizers too; slow and mpi on the normal build.
meson test -C build --suite unit --print-errorlogs --logbase unit || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --print-errorlogs --logbase unit || status=1
meson test -C build --suite slow --print-errorlogs --timeout-multiplier 3 --logbase slow || status=1
# The parser fuzzers (slow suite) also under the sanitizers: that is where they find bugs.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan fuzz_parsers fuzz_safetensors --print-errorlogs --timeout-multiplier 3 --logbase fuzz ||
  status=1
meson test -C build --suite mpi --print-errorlogs --timeout-multiplier 3 --logbase mpi || status=1

# One closing line over all runs: "N passed, N failed".
python3 scripts/test_summary.py build/meson-logs/unit.json build-asan/meson-logs/unit.json \
  build/meson-logs/slow.json build-asan/meson-logs/fuzz.json build/meson-logs/mpi.json || status=1
exit $status
