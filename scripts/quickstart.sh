#!/usr/bin/env bash
# The README's main job, end to end on the embedded defaults: install what is
# missing, build, then synthesize skill data, train a tokenizer, create a
# tiny model, pretrain it to read (skillrl pretrain), SFT warm-up, GRPO, and
# compare held-out accuracy per skill after SFT and after RL, on the test
# split and on fresh probes synthesized with a seed no other stage uses. Everything lands in runs/quickstart/ (runs/demo/
# with SKL_JOB=demo).
# QUICKSTART_SCALE=small shrinks every stage, QUICKSTART_SEED=S trains with
# another seed (a check that a result holds), and SKL_BIN=PATH uses an
# existing binary without installing or building (the slow test suite does both).
set -euo pipefail
cd "$(dirname "$0")/.."
# SKL_JOB=demo runs the same stages on the RL demonstration's configs
# (configs/*/demo.yaml, under an hour on 2 cores; README, "The RL demonstration")
job=${SKL_JOB:-quickstart}
case $job in
  quickstart) synth_cfg=configs/synth/quickstart.yaml model_cfg=configs/model/quickstart.yaml
    train_cfg=configs/train/quick.yaml eval_cfg=configs/eval/quickstart.yaml ;;
  demo) synth_cfg=configs/synth/demo.yaml model_cfg=configs/model/demo.yaml
    train_cfg=configs/train/demo.yaml eval_cfg=configs/eval/demo.yaml ;;
  *) echo "quickstart.sh: SKL_JOB=$job: use quickstart (default) or demo" >&2; exit 2 ;;
esac
# QUICKSTART_SEED=S: another seed for the model's initialisation and every
# training stage (the data and probes stay the same), to check a result holds
seeds=()
init_seed=()
if [ -n "${QUICKSTART_SEED:-}" ]; then
  case $QUICKSTART_SEED in *[!0-9]*) echo "quickstart.sh: QUICKSTART_SEED=$QUICKSTART_SEED: a non-negative integer" >&2; exit 2 ;; esac
  seeds=(seed="$QUICKSTART_SEED")
  init_seed=(--seed "$QUICKSTART_SEED")
fi
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
pre=()
sft=()
rl=()
vocab=1024
if [ "$job" = demo ]; then vocab=512; fi
if [ "$scale" = small ]; then
  over=(count.train=60 count.test=24)
  pre=(pretrain.steps=4 pretrain.induction_steps=2 pretrain.lookup_steps=1 pretrain.tokens=4096 pretrain.seq=256)
  sft=(sft.steps=4)
  rl=(steps=2 batch.prompts=2 batch.group=4)
fi
t0=$SECONDS
stage() { # stage NAME: the previous stage's time, then NAME
  if [ -n "${stage_name:-}" ]; then echo "   ($stage_name: $((SECONDS - t0)) s)"; fi
  stage_name=$1
  t0=$SECONDS
  echo "== $1"
}

stage "environment"
$bin doctor --no-bench
stage "1/8 synthesize (approximate lengths) and train a $vocab-token BPE on it"
$bin synth -c $synth_cfg -o "$R/data0" --overwrite "${over[@]}"
$bin tokenizer train --vocab-size $vocab -o "$R/tokenizer.json" "$R"/data0/*/train-*.jsonl.zst
stage "2/8 synthesize again, lengths counted in that tokenizer; fresh probes with an unused seed"
$bin synth -c $synth_cfg -o "$R/data" --overwrite tokenizer="$R/tokenizer.json" "${over[@]}"
$bin synth -c $synth_cfg -o "$R/probes" --overwrite tokenizer="$R/tokenizer.json" seed=4242424242 count.train=0 \
  "${over[@]:1}"
stage "3/8 fresh model"
rm -rf "$R/model0"
$bin model init -c $model_cfg -o "$R/model0" --tokenizer "$R/tokenizer.json" "${init_seed[@]}"
start="$R/model0"
if [ "$job" = quickstart ]; then
  stage "4/8 pretrain: learn to read (induction, recall, documents)"
  rm -rf "$R/pretrain"
  $bin pretrain -c $train_cfg -q model="$R/model0" out="$R/rl" pretrain.out="$R/pretrain" "${pre[@]}" "${seeds[@]}"
  start="$R/pretrain/final"
fi
stage "5/8 SFT warm-up"
rm -rf "$R/sft" "$R/rl"
$bin sft -c $train_cfg -q model="$start" data="$R/data" out="$R/rl" sft.out="$R/sft" "${sft[@]}" "${seeds[@]}"
stage "6/8 GRPO from the SFT model"
$bin train -c $train_cfg -q model="$R/sft/final" data="$R/data" out="$R/rl" "${rl[@]}" "${seeds[@]}"
stage "7/8 held-out accuracy per skill (greedy), after SFT and after RL"
rm -rf "$R/eval-sft" "$R/eval-rl" "$R/eval-sft-fresh" "$R/eval-rl-fresh"
$bin eval -c $eval_cfg --model "$R/sft/final" -o "$R/eval-sft" probes="$R/data"
$bin eval -c $eval_cfg --model "$R/rl/final" -o "$R/eval-rl" probes="$R/data"
$bin eval -c $eval_cfg --model "$R/sft/final" -o "$R/eval-sft-fresh" probes="$R/probes"
$bin eval -c $eval_cfg --model "$R/rl/final" -o "$R/eval-rl-fresh" probes="$R/probes"
stage "8/8 tables"
echo "-- test split ($R/data, test)"
python3 scripts/compare_evals.py "$R/eval-sft" "$R/eval-rl"
echo "-- fresh probes ($R/probes: seed 4242424242, never used for training)"
python3 scripts/compare_evals.py "$R/eval-sft-fresh" "$R/eval-rl-fresh"
stage_name=""
echo "== done in ${SECONDS} s ($R)"
