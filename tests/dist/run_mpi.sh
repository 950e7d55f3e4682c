#!/usr/bin/env bash
# Runs the dist test under mpirun with 2 ranks (suite mpi). The stall case
# must end with rank 0's deliberate abort code 42, quickly, not hang.
set -u
log=$(mktemp)
trap 'rm -f "$log"' EXIT
bin=$1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
timeout 120 mpirun -np 2 "$bin" basic || { echo "basic 2-rank run failed"; exit 1; }
start=$(date +%s)
timeout 60 mpirun -np 2 "$bin" stall >"$log" 2>&1
rc=$?
cat "$log"
took=$(( $(date +%s) - start ))
if [ $rc -eq 42 ] && grep -q "0 failed" "$log"; then
  echo "stall detected and job ended in ${took}s (rc $rc)"
  exit 0
fi
echo "stall case did not end as expected (rc $rc after ${took}s)"
exit 1
