#!/usr/bin/env bash
# Trainer end-to-end: determinism across thread counts (DESIGN.md §4) —
# --threads 1 and --threads 2 give the same weights, for SFT and for GRPO
# separately, so a failure names the stage. Not MPI (test_mpi.sh).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_threads.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

write_cfg "$tmp/rl.yaml" "$tmp/unused"
for th in 1 2; do
  run "$BIN" sft -c "$tmp/rl.yaml" -q --threads $th model="$FX/m0" data="$FX/data" sft.out="$tmp/sft$th"
  check "sft --threads $th exits 0" test "$rc" -eq 0
  # GRPO from the same (warm) starting model, so the two stages are judged apart
  run "$BIN" train -c "$tmp/rl.yaml" -q --threads $th out="$tmp/rl$th"
  check "train --threads $th exits 0" test "$rc" -eq 0
done
check "sft: --threads 1 and 2 give the same weights" same "$(sha "$tmp/sft1/final/model.safetensors")" \
  "$(sha "$tmp/sft2/final/model.safetensors")"
check "sft: --threads 1 and 2 give the same losses" same "$(cut -d, -f1-5 "$tmp/sft1/metrics.jsonl")" \
  "$(cut -d, -f1-5 "$tmp/sft2/metrics.jsonl")"
check "train: --threads 1 and 2 give the same rewards" same \
  "$("$PY" -c 'import json,sys; print([(r["reward"],r["accuracy"],r["groups_kept"]) for r in map(json.loads,open(sys.argv[1]))])' "$tmp/rl1/metrics.jsonl")" \
  "$("$PY" -c 'import json,sys; print([(r["reward"],r["accuracy"],r["groups_kept"]) for r in map(json.loads,open(sys.argv[1]))])' "$tmp/rl2/metrics.jsonl")"
check "train: --threads 1 and 2 give the same weights" same "$(sha "$tmp/rl1/final/model.safetensors")" \
  "$(sha "$tmp/rl2/final/model.safetensors")"
check "train: --threads 1 and 2 give the same optimizer state" same \
  "$(sha "$tmp/rl1/ckpt/step-4/optimizer.safetensors")" "$(sha "$tmp/rl2/ckpt/step-4/optimizer.safetensors")"

# a row length that is not a multiple of the attention tile (250), and fresh heap
# contents (MALLOC_PERTURB_): any read of uninitialised scratch shows up here
for v in "1 0" "2 0" "2 165" "1 90"; do
  set -- $v
  MALLOC_PERTURB_=$2 run "$BIN" sft -c "$tmp/rl.yaml" -q --threads $1 model="$FX/m0" data="$FX/data" sft.seq=250 \
    sft.out="$tmp/p$1-$2"
  check "sft seq 250 --threads $1 MALLOC_PERTURB_=$2 exits 0" test "$rc" -eq 0
done
for v in 2-0 2-165 1-90; do
  check "sft seq 250: threads/heap $v gives the same weights as 1-0" same "$(sha "$tmp/p$v/final/model.safetensors")" \
    "$(sha "$tmp/p1-0/final/model.safetensors")"
done
finish
