#!/bin/sh
# Install the pinned Parquet reference reader (package-lock.json) into this folder.
# Idempotent, and safe when two builds run it at once (flock). Not a test.
set -eu
cd "$(dirname "$0")"
exec 9<package.json   # the lock: no extra file in the tree
flock 9
want=$(sed -n 's/.*"hyparquet": *"\([^"]*\)".*/\1/p' package.json)
have=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' node_modules/hyparquet/package.json 2>/dev/null || true)
if [ "$have" = "$want" ] && [ -f node_modules/hyparquet-compressors/package.json ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm is not on PATH; install Node.js 20 + npm (scripts/deps.sh)" >&2
  exit 1
fi
log=$(mktemp /tmp/skl-npm-ci.XXXXXX)
if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
  echo "install.sh: 'npm ci --no-audit --no-fund' failed in $(pwd) (no registry access?); its last lines:" >&2
  tail -n 15 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
