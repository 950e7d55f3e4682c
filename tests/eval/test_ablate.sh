#!/usr/bin/env bash
# skillrl ablate end to end (slow suite): a tiny dataset, tokenizer and model,
# the general set, then configs/ablate/tiny.yaml with its paths pointed at
# them: resumable runs (--max-runs), the report and PNGs, the same seed and
# budget in every run, eval correlate over the runs' summaries, bad input.
# SKL_SLOW_SIZE=small: two GRPO steps, no single-skill runs; else four and all.
HERE=$(dirname "$0")
# shellcheck source=ablate_lib.sh
. "$HERE/ablate_lib.sh"
[ "$fail" -eq 0 ] || finish
if [ "${SKL_SLOW_SIZE:-full}" = small ]; then steps=2; single=false; nruns=3; else steps=4; single=true; nruns=5; fi

A=(-c "$SRC/configs/ablate/tiny.yaml" "train_config=$SRC/configs/ablate/tiny_train.yaml"
  "eval_config=$SRC/configs/eval/tiny.yaml" model=m0 out=ab single_skill=$single
  "train_overrides=[data=$tmp/data, steps=$steps]"
  "eval_overrides=[probes=$tmp/data, 'benchmarks=[general=$tmp/gen/general.jsonl]']" --threads 1)
# an interrupted ablation: two runs now, the rest on the rerun
run "$BIN" ablate "${A[@]}" --max-runs 2
check "first part" [ "$rc" -eq 0 ]
check "partial message" has "$err" "2 of $nruns runs finished; rerun the same command to continue"
check "no report yet" [ ! -f ab/report.md ]
full_sha=$(sha256sum ab/runs/full/train/final/model.safetensors | cut -d' ' -f1)
run "$BIN" ablate "${A[@]}"
check "resumed" [ "$rc" -eq 0 ]
check "finished runs kept" bash -c "! grep -q 'training full' '$tmp/stderr'"
check "the rest trained" has "$err" "training minus-niah on calc_reason"
check "report written" [ -f ab/report.md ]
check "report table" has "$out" "| minus-calc_reason | niah |"
check "report change table" has "$out" "## Change when a skill is left out"
if command -v gnuplot >/dev/null; then
  check "heatmap" [ -s ab/probe_change.png ]
  check "bar chart" [ -s ab/bench_change.png ]
fi
check "ablation.json" grep -q '"skillrl.ablation"' ab/ablation.json
# same seed and budget everywhere; the skills differ
for r in full minus-niah minus-calc_reason; do
  check "$r seed" grep -q '^seed: 1$' ab/runs/$r/train/config.yaml
  check "$r steps" grep -q "^steps: $steps\$" ab/runs/$r/train/config.yaml
  check "$r evaluated" grep -q '"complete": true' ab/runs/$r/eval/stats.json
done
check "minus-niah skills" grep -qE '^skills: "?calc_reason"?$' ab/runs/minus-niah/train/config.yaml
check "full skills" grep -qE '^skills: "?calc_reason,niah"?$' ab/runs/full/train/config.yaml
if [ "$single" = true ]; then check "only-niah run" grep -qE '^skills: "?niah"?$' ab/runs/only-niah/train/config.yaml; fi
# a third launch changes nothing
run "$BIN" ablate "${A[@]}"
check "idempotent" [ "$rc" -eq 0 ]
check "nothing retrained" bash -c "! grep -q 'training' '$tmp/stderr'"
check "model kept" [ "$(sha256sum ab/runs/full/train/final/model.safetensors | cut -d' ' -f1)" = "$full_sha" ]
# the runs' summaries correlate (>= 3 result folders with probes and benchmarks)
run "$BIN" eval correlate ab/runs/full/eval ab/runs/minus-niah/eval ab/runs/minus-calc_reason/eval -o corr --no-plot
check "correlate the runs" ok_has "$out" "general"
# skillrl eval on a trained model: --limit, resume, speed line
E=(-c "$SRC/configs/eval/tiny.yaml" --model ab/runs/full/train/final -o ev "probes=$tmp/data"
  "benchmarks=[general=$tmp/gen/general.jsonl]")
run "$BIN" eval "${E[@]}" --limit 3 -q
check "eval partial" ok_has "$err" "partial (3 of 10 samples)"
check "eval partial summary" has "$out" "PARTIAL: 3 of 10"
run "$BIN" eval "${E[@]}" -q
check "eval resumed" ok_has "$out" '"new": 7'
check "eval speed line" has "$out" '"samples_per_s"'
check "results lines" [ "$(wc -l <ev/results.jsonl)" -eq 10 ]
# bad input
run "$BIN" ablate "${A[@]}" skills=niah,nosuch
check "unknown skill" fail_has "$err" "'nosuch' has no train records"
run "$BIN" ablate "${A[@]}" out=ab2 "eval_overrides=[probes=$tmp/data, 'benchmarks=[]']" --max-runs 1
check "eval config without benchmarks" fail_has "$err" "needs both probes and benchmarks"
run "$BIN" ablate "${A[@]}" skills=niah
check "one skill is not an ablation" fail_has "$err" "at least 2 skills"
run "$BIN" ablate
check "no config" fail_has "$err" "-c CONFIG is required"
finish
