#!/usr/bin/env bash
# skillrl ablate under mpirun -np 2 (mpi suite): one launch trains every run
# data-parallel (MPI starts once per process), rank 0 evaluates and reports;
# a second launch finds everything finished and only reports.
HERE=$(dirname "$0")
# shellcheck source=ablate_lib.sh
. "$HERE/ablate_lib.sh"
[ "$fail" -eq 0 ] || finish
MPIRUN=$(command -v mpirun) || { echo "mpirun not found (apt-get install openmpi-bin)" >&2; fail=1; finish; }
# in a sanitizer build, OpenMPI's own never-freed allocations read as leaks;
# ours are caught by the single-process tests (test_ablate.sh, test_run.c)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
A=(-c "$SRC/configs/ablate/tiny.yaml" "train_config=$SRC/configs/ablate/tiny_train.yaml"
  "eval_config=$SRC/configs/eval/tiny.yaml" model=m0 out=ab single_skill=false
  "train_overrides=[data=$tmp/data]"
  "eval_overrides=[probes=$tmp/data, 'benchmarks=[general=$tmp/gen/general.jsonl]']" --threads 1 -q)
run "$MPIRUN" -np 2 "$BIN" ablate "${A[@]}"
check "one launch finishes" ok_has "$out" "report: ab/report.md"
check "report once (rank 0)" [ "$(grep -c '^# Skill ablation' <<<"$out")" -eq 1 ]
run "$MPIRUN" -np 2 "$BIN" ablate "${A[@]}"
check "relaunch only reports" ok_has "$out" "report: ab/report.md"
check "report once (rank 0)" [ "$(grep -c '^# Skill ablation' <<<"$out")" -eq 1 ]
check "all runs evaluated" [ "$(ls ab/runs/*/eval/summary.json | wc -l)" -eq 3 ]
finish
