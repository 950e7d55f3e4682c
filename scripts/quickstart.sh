#!/usr/bin/env bash
# The README's main job, end to end on the embedded defaults: install what is
# missing, build, then synthesize skill data, train a tokenizer, create a
# tiny model, SFT warm-up, GRPO, and compare held-out accuracy per skill
# after SFT and after RL. Everything lands in runs/quickstart/ (runs/demo/
# with SKL_JOB=demo).
# QUICKSTART_SCALE=small shrinks every stage and SKL_BIN=PATH uses an
# existing binary without installing or building (the slow test suite does both).
set -euo pipefail
cd "$(dirname "$0")/.."
# SKL_JOB=demo runs the same stages on the RL demonstration's configs
# (configs/*/demo.yaml, under an hour on 2 cores; README, "The RL demonstration")
job=${SKL_JOB:-quickstart}
case $job in
  quickstart) synth_cfg=configs/synth/quickstart.yaml model_cfg=configs/model/tiny.yaml
    train_cfg=configs/train/quick.yaml eval_cfg=configs/eval/quickstart.yaml ;;
  demo) synth_cfg=configs/synth/demo.yaml model_cfg=configs/model/demo.yaml
    train_cfg=configs/train/demo.yaml eval_cfg=configs/eval/demo.yaml ;;
  *) echo "quickstart.sh: SKL_JOB=$job: use quickstart (default) or demo" >&2; exit 2 ;;
esac
if [ -n "${SKL_BIN:-}" ]; then
  bin=$SKL_BIN
else
  . scripts/deps.sh
  skl_install_deps
  if [ ! -f build/build.ninja ]; then meson setup build; fi
  ninja -C build -j "$(nproc)"
  bin=build/skillrl
fi
R=${QUICKSTART_DIR:-runs/$job}
scale=${QUICKSTART_SCALE:-full}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

over=()
sft=()
rl=()
if [ "$scale" = small ]; then
  over=(count.train=60 count.test=24)
  sft=(sft.steps=4)
  rl=(steps=2 batch.prompts=2 batch.group=4)
fi

echo "== environment"
$bin doctor --no-bench
echo "== 1/6 synthesize (approximate lengths) and train a 512-token BPE on it"
$bin synth -c $synth_cfg -o "$R/data0" --overwrite "${over[@]}"
$bin tokenizer train --vocab-size 512 -o "$R/tokenizer.json" "$R"/data0/*/train-*.jsonl.zst
echo "== 2/6 synthesize again, lengths counted in that tokenizer"
$bin synth -c $synth_cfg -o "$R/data" --overwrite tokenizer="$R/tokenizer.json" "${over[@]}"
echo "== 3/6 fresh tiny model"
rm -rf "$R/model0"
$bin model init -c $model_cfg -o "$R/model0" --tokenizer "$R/tokenizer.json"
echo "== 4/6 SFT warm-up"
rm -rf "$R/sft" "$R/rl"
$bin sft -c $train_cfg -q model="$R/model0" data="$R/data" out="$R/rl" sft.out="$R/sft" "${sft[@]}"
echo "== 5/6 GRPO from the SFT model"
$bin train -c $train_cfg -q model="$R/sft/final" data="$R/data" out="$R/rl" "${rl[@]}"
echo "== 6/6 held-out accuracy per skill (greedy), after SFT and after RL"
rm -rf "$R/eval-sft" "$R/eval-rl"
$bin eval -c $eval_cfg --model "$R/sft/final" -o "$R/eval-sft" probes="$R/data"
$bin eval -c $eval_cfg --model "$R/rl/final" -o "$R/eval-rl" probes="$R/data"
python3 scripts/compare_evals.py "$R/eval-sft" "$R/eval-rl"
echo "== done in ${SECONDS} s ($R)"
