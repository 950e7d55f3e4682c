#!/usr/bin/env bash
# The README's main job, end to end on the embedded defaults: install what is
# missing, build, then run the pipeline as far as it exists today.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
skl_install_deps
if [ ! -f build/build.ninja ]; then meson setup build; fi
ninja -C build -j "$(nproc)"
bin=build/skillrl
$bin doctor
