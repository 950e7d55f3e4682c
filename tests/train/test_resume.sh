#!/usr/bin/env bash
# Trainer end-to-end: bit-exact resume of `skillrl sft` and `skillrl train`
# (--stop-after k, then --resume to S, mid-epoch and exactly at an epoch
# boundary) and the metrics.jsonl contract. Not kill/signal tests (test_kill.sh).
set -u
tmp=$(mktemp -d /tmp/skl_test_train_resume.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

# metrics_ok FILE PHASE S: one line per step 1..S of PHASE, each with FIELDS
metrics_ok() {
  "$PY" - "$@" <<'EOF'
import json, sys
path, phase, S = sys.argv[1], sys.argv[2], int(sys.argv[3])
fields = sys.argv[4].split(",") if len(sys.argv) > 4 and sys.argv[4] else []
rows = [json.loads(l) for l in open(path) if l.strip()]
rows = [r for r in rows if r.get("phase") == phase]
steps = [r["step"] for r in rows]
if steps != list(range(1, S + 1)):
    sys.exit("steps are %s, want 1..%d" % (steps, S))
for r in rows:
    miss = [f for f in fields if f not in r]
    if miss:
        sys.exit("step %d lacks %s" % (r["step"], miss))
EOF
}
# metrics_same A B FIELDS: the listed fields are equal step by step
metrics_same() {
  "$PY" - "$@" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
fs = sys.argv[3].split(",")
if len(a) != len(b):
    sys.exit("%d vs %d lines" % (len(a), len(b)))
for x, y in zip(a, b):
    for f in fs:
        if x.get(f) != y.get(f):
            sys.exit("step %s: %s %r vs %r" % (x.get("step"), f, x.get(f), y.get(f)))
EOF
}

GRPO_FIELDS=reward,accuracy,skills,groups_kept,groups_dropped,response_len,truncation_rate,clip_frac,kl,entropy,grad_norm,lr,tokens_per_s,rollout_s,update_s
SFT_FIELDS=loss,lr,grad_norm,tokens,samples

# ---- SFT: 6 steps; the data holds 8 items and a step takes 2, so step 4 ends epoch 0 ----
write_cfg "$tmp/sft.yaml" "$tmp/unused"
sft() { run "$BIN" sft -c "$tmp/sft.yaml" -q --threads 1 model="$FX/m0" data="$FX/data" "$@"; }
sft sft.out="$tmp/sA"
[ "$rc" -eq 0 ] || die "sft run A"
check "sft A: final model" test -f "$tmp/sA/final/model.safetensors"
check "sft A: checkpoint step-6" test -f "$tmp/sA/ckpt/step-6/optimizer.safetensors"
check "sft A: metrics one line per step" metrics_ok "$tmp/sA/metrics.jsonl" sft 6 "$SFT_FIELDS"
for k in 3 4; do
  sft sft.out="$tmp/sB$k" --stop-after $k
  check "sft stop-after $k exits 0" test "$rc" -eq 0
  check "sft stop-after $k: checkpoint step-$k" test -f "$tmp/sB$k/ckpt/step-$k/trainer_state.json"
  check "sft stop-after $k: no later checkpoint" test ! -e "$tmp/sB$k/ckpt/step-$((k + 1))"
  check "sft stop-after $k: no final model (run not finished)" test ! -e "$tmp/sB$k/final"
  check "sft stop-after $k: message says how to continue" has "$err" "--resume"
  if [ $k -eq 4 ]; then
    # the stop must really sit on the epoch boundary for this case to mean anything
    cur=$(state_field "$tmp/sB4/ckpt/step-4" cursor)
    ep=$(state_field "$tmp/sB4/ckpt/step-4" epoch)
    check "sft step 4 is an epoch boundary (epoch=$ep cursor=$cur)" test "$((ep * 8 + cur))" -eq 8
  fi
  sft sft.out="$tmp/sB$k" --resume
  check "sft resume after $k exits 0" test "$rc" -eq 0
  check "sft resume after $k: same final weights" same "$(sha "$tmp/sB$k/final/model.safetensors")" \
    "$(sha "$tmp/sA/final/model.safetensors")"
  check "sft resume after $k: same optimizer state" same "$(sha "$tmp/sB$k/ckpt/step-6/optimizer.safetensors")" \
    "$(sha "$tmp/sA/ckpt/step-6/optimizer.safetensors")"
  check "sft resume after $k: metrics 1..6 without duplicates" metrics_ok "$tmp/sB$k/metrics.jsonl" sft 6 "$SFT_FIELDS"
  check "sft resume after $k: same losses as run A" metrics_same "$tmp/sA/metrics.jsonl" "$tmp/sB$k/metrics.jsonl" \
    step,loss,grad_norm,lr
done
# resuming a finished run changes nothing and says so cleanly
before=$(sha "$tmp/sA/final/model.safetensors")
sft sft.out="$tmp/sA" --resume
check "sft resume of a finished run exits 0" test "$rc" -eq 0
check "sft resume of a finished run keeps the weights" same "$(sha "$tmp/sA/final/model.safetensors")" "$before"
check "sft resume of a finished run keeps metrics" metrics_ok "$tmp/sA/metrics.jsonl" sft 6 "$SFT_FIELDS"
# --resume with nothing to resume from
sft sft.out="$tmp/none" --resume
check "sft --resume without checkpoint fails" test "$rc" -eq 1
check "sft --resume without checkpoint: message" has "$err" "--resume"

# ---- GRPO: dynamic sampling on (4 steps, stop after 2) ----
write_cfg "$tmp/rl.yaml" "$tmp/unused"
grpo() { run "$BIN" train -c "$tmp/rl.yaml" -q --threads 1 "$@"; }
grpo out="$tmp/gA"
[ "$rc" -eq 0 ] || die "grpo run A"
check "grpo A: final model" test -f "$tmp/gA/final/model.safetensors"
check "grpo A: metrics with the documented fields" metrics_ok "$tmp/gA/metrics.jsonl" grpo 4 "$GRPO_FIELDS"
check "grpo A: the fixture gives a learning signal (some group kept)" \
  "$PY" -c 'import json,sys; sys.exit(not any(json.loads(l)["groups_kept"] > 0 for l in open(sys.argv[1])))' \
  "$tmp/gA/metrics.jsonl"
check "grpo A: weights moved from the start" bash -c '[ "$0" != "$1" ]' \
  "$(sha "$tmp/gA/final/model.safetensors")" "$(sha "$FX/warm/model.safetensors")"
grpo out="$tmp/gB" --stop-after 2
check "grpo stop-after 2 exits 0" test "$rc" -eq 0
check "grpo stop-after 2: checkpoint step-2" test -f "$tmp/gB/ckpt/step-2/trainer_state.json"
check "grpo stop-after 2: no final model" test ! -e "$tmp/gB/final"
grpo out="$tmp/gB" --resume
check "grpo resume exits 0" test "$rc" -eq 0
check "grpo resume: same final weights" same "$(sha "$tmp/gB/final/model.safetensors")" \
  "$(sha "$tmp/gA/final/model.safetensors")"
check "grpo resume: same optimizer state" same "$(sha "$tmp/gB/ckpt/step-4/optimizer.safetensors")" \
  "$(sha "$tmp/gA/ckpt/step-4/optimizer.safetensors")"
check "grpo resume: metrics 1..4 without duplicates" metrics_ok "$tmp/gB/metrics.jsonl" grpo 4 "$GRPO_FIELDS"
check "grpo resume: same rewards per step" metrics_same "$tmp/gA/metrics.jsonl" "$tmp/gB/metrics.jsonl" \
  step,reward,accuracy,groups_kept,groups_dropped,grad_norm
check "grpo A: checkpoint.keep=3 keeps the last 3" bash -c '[ "$(ls "$0")" = "$(printf "step-2\nstep-3\nstep-4")" ]' \
  "$tmp/gA/ckpt"
# a run with a different seed resumed: refused
grpo out="$tmp/gB" --resume seed=4
check "grpo resume with another seed refused" test "$rc" -eq 1
check "grpo resume with another seed: message names the seed" has "$err" "seed"

# ---- GRPO without dynamic sampling: 2 prompts a step, step 4 ends epoch 0 ----
grpo out="$tmp/eA" steps=6 dynamic_sampling.enabled=false
[ "$rc" -eq 0 ] || die "grpo run eA"
grpo out="$tmp/eB" steps=6 dynamic_sampling.enabled=false --stop-after 4
check "grpo epoch stop exits 0" test "$rc" -eq 0
cur=$(state_field "$tmp/eB/ckpt/step-4" cursor)
ep=$(state_field "$tmp/eB/ckpt/step-4" epoch)
check "grpo step 4 is an epoch boundary (epoch=$ep cursor=$cur)" test "$((ep * 8 + cur))" -eq 8
grpo out="$tmp/eB" steps=6 dynamic_sampling.enabled=false --resume
check "grpo epoch resume exits 0" test "$rc" -eq 0
check "grpo epoch resume: same final weights" same "$(sha "$tmp/eB/final/model.safetensors")" \
  "$(sha "$tmp/eA/final/model.safetensors")"
check "grpo epoch resume: same optimizer state" same "$(sha "$tmp/eB/ckpt/step-6/optimizer.safetensors")" \
  "$(sha "$tmp/eA/ckpt/step-6/optimizer.safetensors")"
check "grpo epoch resume: metrics 1..6" metrics_ok "$tmp/eB/metrics.jsonl" grpo 6 "$GRPO_FIELDS"

# ---- GRPO with a KL reference, 2 update epochs, cosine schedule with warm-up ----
kl=(loss.kl_coef=0.1 update.epochs=2 optim.schedule=cosine optim.warmup_steps=2)
grpo out="$tmp/kA" "${kl[@]}"
[ "$rc" -eq 0 ] || die "grpo run kA"
check "grpo+kl A: the KL term is live (some step has kl > 0)" \
  "$PY" -c 'import json,sys; sys.exit(not any(json.loads(l)["kl"] > 0 for l in open(sys.argv[1])))' "$tmp/kA/metrics.jsonl"
grpo out="$tmp/kB" "${kl[@]}" --stop-after 1
check "grpo+kl stop-after 1 exits 0" test "$rc" -eq 0
grpo out="$tmp/kB" "${kl[@]}" --resume
check "grpo+kl resume exits 0" test "$rc" -eq 0
check "grpo+kl resume: same final weights" same "$(sha "$tmp/kB/final/model.safetensors")" \
  "$(sha "$tmp/kA/final/model.safetensors")"
check "grpo+kl resume: same kl and lr per step" metrics_same "$tmp/kA/metrics.jsonl" "$tmp/kB/metrics.jsonl" step,kl,lr,reward

# ---- sft then train with one config and one `out` (as configs/train/quick.yaml) ----
# SFT runs in OUT/sft (sft.out unset); GRPO in OUT, starting from OUT/sft/final.
# Neither phase may delete, prune or overwrite the other's checkpoints or model.
run "$BIN" sft -c "$tmp/rl.yaml" -q --threads 1 model="$FX/m0" out="$tmp/both" checkpoint.keep=2
[ "$rc" -eq 0 ] || die "sft with out=both"
check "shared out: sft writes OUT/sft/final" test -f "$tmp/both/sft/final/model.safetensors"
check "shared out: sft metrics in OUT/sft" metrics_ok "$tmp/both/sft/metrics.jsonl" sft 6 "$SFT_FIELDS"
sft_final=$(sha "$tmp/both/sft/final/model.safetensors")
grpo out="$tmp/both" model="$tmp/both/sft/final" checkpoint.keep=2 --stop-after 2
check "shared out: grpo stop-after 2 exits 0" test "$rc" -eq 0
check "shared out: grpo checkpoint step-2 is grpo's" test "$(state_field "$tmp/both/ckpt/step-2" phase)" = grpo
grpo out="$tmp/both" model="$tmp/both/sft/final" checkpoint.keep=2 --resume
check "shared out: grpo --resume exits 0" test "$rc" -eq 0
check "shared out: grpo metrics 1..4 after resume" metrics_ok "$tmp/both/metrics.jsonl" grpo 4 "$GRPO_FIELDS"
check "shared out: sft's newest checkpoint survives grpo's saves" test "$(state_field "$tmp/both/sft/ckpt/step-6" phase)" = sft
check "shared out: sft's final model (grpo's start) untouched" same "$(sha "$tmp/both/sft/final/model.safetensors")" "$sft_final"
check "shared out: sft metrics untouched" metrics_ok "$tmp/both/sft/metrics.jsonl" sft 6 "$SFT_FIELDS"
sft sft.out="$tmp/both/sft" --resume
check "shared out: sft --resume of the finished sft still finds its checkpoint" test "$rc" -eq 0

# a fresh run (no --resume) in a folder with an earlier run's metrics lists
# every step once: a finished run replaced with --overwrite (without it the
# folder is refused: test_runfolder.sh), and one killed before its first
# checkpoint (metrics lines but no ckpt/ or final/), which needs no flag
grpo out="$tmp/both" model="$tmp/both/sft/final" checkpoint.keep=2 --overwrite
check "fresh grpo in a used folder (--overwrite) exits 0" test "$rc" -eq 0
check "fresh grpo in a used folder: metrics 1..4, once each" metrics_ok "$tmp/both/metrics.jsonl" grpo 4 "$GRPO_FIELDS"
check "--overwrite kept sft's run in OUT/sft" test "$(state_field "$tmp/both/sft/ckpt/step-6" phase)" = sft
rm -rf "$tmp/both/ckpt" "$tmp/both/final"
grpo out="$tmp/both" model="$tmp/both/sft/final" checkpoint.keep=2
check "fresh grpo over a run that left only metrics exits 0" test "$rc" -eq 0
check "fresh grpo over a run that left only metrics: metrics 1..4, once each" metrics_ok "$tmp/both/metrics.jsonl" \
  grpo 4 "$GRPO_FIELDS"

finish
