#!/usr/bin/env bash
# Speculative decoding with MTP heads, end to end (issue #7): a small skill
# dataset and tokenizer, a ref5m model with an SFT warm-up (answers plus,
# weighted by SPEC_PROMPT_LOSS, the prompt text, so the model also models
# the documents), then
#   ce1: 1 MTP head trained with CE only (--no-distill)
#   sd1: 1 MTP head, self-distilled (CE + KL to the main head's top-N)
#   ce4 / sd4: each looped-extended to 4 heads (mtp extend --to 4)
#   op4: self-distilled on the model's own responses to training prompts
#        (scripts/own_rollouts.py), 1 head extended to 4
# and `skillrl bench decode --speculative K` (plain decoding timed in the same
# run) on held-out skill prompts rendered as the trainer renders them (chat
# format plain: the question, then "Assistant: "), generating responses as
# GRPO rollouts do: greedy and T=1, batch 1 and batch 8 (one GRPO group,
# shared prefix). Also the verify forward alone (bench decode --verify-rows:
# exact step kernels vs the prefill kernels). Prints one JSON line per
# measurement, prefixed by its label; everything lands in $SPEC_DIR
# (default runs/bench_speculative).
#
#   scripts/bench_speculative.sh                 # build/skillrl, full sizes
#   SKL_BIN=build-x/skillrl SPEC_SCALE=small scripts/bench_speculative.sh
#   SPEC_SKIP_TRAIN=1 ...                        # reuse the trained models
#   SPEC_SKIP_BENCH=1 ...                        # train only
#   SPEC_MODEL=configs/model/deep10m.yaml ...    # another model config (default ref5m)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SKL_BIN:-build/skillrl}
R=${SPEC_DIR:-runs/bench_speculative}
scale=${SPEC_SCALE:-full}
# OpenMP's default wait policy (spin briefly, then sleep): decoding runs many
# short parallel regions, and OMP_WAIT_POLICY=passive makes every one of them
# wake its workers through the kernel (plain decoding 1.4-1.75x slower, which
# also flatters speculation). Users get the default; so does this script.
unset OMP_WAIT_POLICY
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
if [ "$scale" = small ]; then
  n_train=60 sft_steps=10 mtp_steps=40 ext_steps=20 gen=32 plen=256 repeat=1 n_prompts=1 rl_prompts=1 rl_resp=16 own_per_skill=1
else
  n_train=200 sft_steps=100 mtp_steps=150 ext_steps=80 gen=32 plen=1024 repeat=3 n_prompts=2 rl_prompts=4 rl_resp=64 own_per_skill=8
fi
sft_steps=${SPEC_SFT_STEPS:-$sft_steps}
prompt_loss=${SPEC_PROMPT_LOSS:-0.5}
model_cfg=${SPEC_MODEL:-configs/model/ref5m.yaml}
mkdir -p "$R"
if [ -z "${SPEC_SKIP_TRAIN:-}" ]; then
  echo "== data, tokenizer, $(basename "$model_cfg" .yaml) model, SFT ($scale)" >&2
  $bin synth -c configs/synth/quickstart.yaml -o "$R/data0" --overwrite count.train=$n_train count.test=20 >&2
  $bin tokenizer train --vocab-size 512 -o "$R/tokenizer.json" "$R"/data0/*/train-*.jsonl.zst >&2
  $bin synth -c configs/synth/quickstart.yaml -o "$R/data" --overwrite tokenizer="$R/tokenizer.json" \
    count.train=$n_train count.test=20 >&2
  rm -rf "$R/model0" "$R/sft" "$R/rl"
  $bin model init -c "$model_cfg" -o "$R/model0" --tokenizer "$R/tokenizer.json" >&2
  $bin sft -c configs/train/quick.yaml -q model="$R/model0" data="$R/data" out="$R/rl" sft.out="$R/sft" \
    sft.steps=$sft_steps sft.seq=1024 sft.batch=4 sft.prompt_loss=$prompt_loss >&2
  echo "== MTP heads: CE-only vs self-distilled, 1 head, then extended to 4" >&2
  rm -rf "$R/ce1" "$R/sd1" "$R/ce4" "$R/sd4"
  $bin mtp train --model "$R/sft/final" --data "$R/data" --heads 1 -o "$R/ce1" --no-distill --steps $mtp_steps
  $bin mtp train --model "$R/sft/final" --data "$R/data" --heads 1 -o "$R/sd1" --steps $mtp_steps
  cp -r "$R/ce1" "$R/ce4"
  cp -r "$R/sd1" "$R/sd4"
  $bin mtp extend --model "$R/ce4" --data "$R/data" --to 4 --no-distill --steps $ext_steps
  $bin mtp extend --model "$R/sd4" --data "$R/data" --to 4 --steps $ext_steps
  echo "== MTP heads self-distilled on the policy's own responses (scripts/own_rollouts.py: greedy and 8 at T=1 per train prompt), 1 head extended to 4" >&2
  rm -rf "$R/op4"
  python3 scripts/own_rollouts.py --bin "$bin" --model "$R/sft/final" --data "$R/data" -o "$R/own_rollouts.txt" \
    --per-skill $own_per_skill
  $bin mtp train --model "$R/sft/final" --data "$R/own_rollouts.txt" --heads 1 -o "$R/op4" --steps $mtp_steps
  $bin mtp extend --model "$R/op4" --data "$R/own_rollouts.txt" --to 4 --steps $ext_steps
fi
[ -n "${SPEC_SKIP_BENCH:-}" ] && exit 0
# held-out skill prompts (test split, one per skill), rendered as the trainer
# renders them for rollouts (chat format plain, generation prompt)
for i in $(seq 0 $((n_prompts - 1))); do
  shard=$(ls "$R"/data/*/test-*.jsonl.zst | sed -n "$((i + 1))p")
  # zstd gets SIGPIPE when head exits early: not an error (pipefail)
  { zstd -dc "$shard" || true; } | head -1 | python3 -c '
import json, sys
msgs = json.loads(sys.stdin.readline())["prompt"]
sys.stdout.write("\n\n".join(("Assistant: " if m["role"] == "assistant" else "") + m["content"] for m in msgs)
                 + "\n\nAssistant: ")' > "$R/prompt$i.txt"
done
run() { # label, model, K, temperature, batch, [extra flags]; once per prompt
  local b=(-B "$5")
  [ "$5" -gt 1 ] && b+=(--shared-prefix)
  for i in $(seq 0 $((n_prompts - 1))); do
    printf '%s-p%d ' "$1" "$i"
    $bin bench decode --model "$R/$2" --speculative "$3" --temperature "$4" "${b[@]}" --prompt "@$R/prompt$i.txt" \
      --prompt-len $plen --gen $gen --repeat $repeat --seed 1 "${@:6}"
  done
}
echo "== the verify forward alone: 1 step row vs K+1 rows (exact step kernels; peer: prefill kernels)" >&2
for rows in 2 5; do
  printf 'verify-%d-B1 ' $rows
  $bin bench decode --model "$R/sd4" --verify-rows $rows -B 1 --prompt-len $plen --repeat 21
  printf 'verify-%d-B8 ' $rows
  $bin bench decode --model "$R/sd4" --verify-rows $rows -B 8 --shared-prefix --prompt-len $plen --repeat 21
done
echo "== acceptance: CE-only vs self-distilled heads (K=1 and K=4; batch 8: 8 samples per prompt)" >&2
for t in 0 1; do
  for m in ce1 sd1; do run "$m-K1-T$t-B8" $m 1 $t 8; done
  for m in ce4 sd4; do run "$m-K4-T$t-B8" $m 4 $t 8; done
done
echo "== speed: 1 head vs 4 (looped extension), greedy and T=1, batch 1 and 8" >&2
for t in 0 1; do
  for b in 1 8; do
    for k in 1 2 3 4; do run "sd4-K$k-T$t-B$b" sd4 $k $t $b; done
  done
done
echo "== draft window: heads over the whole prompt vs its last 128 rows (the default), T=1, batch 1" >&2
for k in 1 3; do
  for w in 0 128; do run "sd4-K$k-T1-B1-window$w" sd4 $k 1 1 --draft-window $w; done
done
if [ -d "$R/op4" ]; then
  echo "== heads distilled on the policy's own responses (op4) vs on the data (sd4 above): K=3, greedy and T=1, batch 1 and 8" >&2
  for t in 0 1; do
    for b in 1 8; do run "op4-K3-T$t-B$b" op4 3 $t $b; done
  done
else
  echo "== no $R/op4 (made before own-rollout heads existed; rerun without SPEC_SKIP_TRAIN): own-rollout comparison not run" >&2
fi
echo "== rollouts as GRPO makes them: skillrl train, one step of $rl_prompts groups of 8 at T=1 (stop tokens, prompts of 1536-1792 tokens, responses up to $rl_resp), plain vs speculative heads; lr 0 and no dynamic sampling, so only the sampling differs" >&2
for k in 0 2 3; do
  rm -rf "$R/rollouts-K$k"
  $bin train -c configs/train/quick.yaml -q model="$R/sd4" data="$R/data" out="$R/rollouts-K$k" steps=1 \
    batch.prompts=$rl_prompts batch.group=8 batch.micro=8 rollout.max_response=$rl_resp rollout.temperature=1 \
    dynamic_sampling.enabled=false optim.lr=0 rollout.speculative.heads=$k >&2
done
python3 - "$R" $rl_prompts <<'PY'
import json, sys
R, prompts = sys.argv[1], int(sys.argv[2])
base = None
for k in (0, 2, 3):
    m = [json.loads(l) for l in open(f"{R}/rollouts-K{k}/metrics.jsonl") if '"grpo"' in l][-1]
    tokens = m["response_len"] * prompts * 8
    tps = tokens / m["rollout_s"]
    base = tps if k == 0 else base
    print(f"rollouts-K{k} " + json.dumps({"bench": "rollouts", "heads": k, "groups": prompts, "group": 8,
          "rollout_s": m["rollout_s"], "response_tokens": tokens, "mean_response_len": m["response_len"],
          "tokens_per_s": tps, "speedup": tps / base}))
PY
