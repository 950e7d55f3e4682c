#!/usr/bin/env bash
# `skillrl pretrain` end to end on the tiny fixture: the run folder and its
# metrics (per-kind loss and accuracy, the length curriculum), bit-exact
# resume after --stop-after and after SIGTERM, the same weights on 1 and 2
# threads, and clear errors for bad pretrain.* settings. With `learn` (the
# slow suite) a short run must lower the induction loss below a bound.
set -u
tmp=$(mktemp -d /tmp/skl_test_pretrain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
fixture

cat >"$tmp/pt.yaml" <<EOF
kind: train
model: $FX/m0
out: $tmp/unused
seed: 5
pretrain: {steps: 6, tokens: 1024, seq_start: 192, seq: 256, curriculum: 0.5, lr: 3.0e-3, warmup: 1}
checkpoint: {every: 2, keep: 4}
EOF
pt() { run "$BIN" pretrain -c "$tmp/pt.yaml" -q "$@"; }

if [ "${1:-}" = learn ]; then
  # random-token induction rows only, 8k tokens a step: the copying circuit
  # needs two layers (the fixture's model has one), so a 2-layer model on the
  # fixture's tokenizer
  run "$BIN" model init -c "$SRC/configs/model/quickstart.yaml" -o "$tmp/m2" --tokenizer "$FX/tok.json" \
    num_hidden_layers=2 vocab_size=400
  check "2-layer model" [ "$rc" -eq 0 ]
  # small (CI): 500 steps, the loss must leave chance for the plateau every run
  # reaches by ~200 steps (a partial solution: which tokens repeat; with the
  # random tokens drawn from all 400 of the vocabulary it went 5.95 -> 5.58,
  # from the 224 of genre text it went lower); full:
  # 1000 steps, and the phase change itself (repeat accuracy > 0.5), which came
  # at 330-470 steps in runs here and can come later on another CPU or seed
  full=0
  [ "${SKL_SLOW_SIZE:-small}" = full ] && full=1
  steps=${PT_LEARN_STEPS:-$([ $full = 1 ] && echo 1000 || echo 500)}
  # the induction-first stage with its flat learning rate, ended by the phase change
  pt model="$tmp/m2" pretrain.out="$tmp/L" pretrain.steps=$steps pretrain.induction_steps=$steps \
    pretrain.induction_until=0.6 pretrain.tokens=8192 pretrain.seq_start=128 pretrain.seq=128 \
    'pretrain.mixture={induction: 1}' pretrain.induction_text=0 checkpoint.every=0
  check "learning run exits 0" [ "$rc" -eq 0 ]
  "$PY" - "$tmp/L/metrics.jsonl" "$full" <<'EOF' >"$tmp/learn.txt" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
full = sys.argv[2] == "1"
first = sum(r["loss_induction_random"] for r in rows[:10]) / 10
last = [r for r in rows[-10:] if r["acc_induction_random"] is not None]
loss = sum(r["loss_induction_random"] for r in last) / len(last)
acc = sum(r["acc_induction_random"] for r in last) / len(last)
stage = [r for r in rows if r["stage"] == "induction"]
print(f"stage ended at step {len(stage)} of {len(rows)}; induction loss {first:.2f} -> {loss:.2f}, "
      f"repeat accuracy {acc:.2f}")
ok = loss < 0.5 * first and acc > 0.5 and len(stage) < len(rows) if full else loss < 0.95 * first
sys.exit(0 if ok else 1)
EOF
  lrc=$?
  cat "$tmp/learn.txt"
  check "induction loss below its bound ($(cat "$tmp/learn.txt"))" [ $lrc -eq 0 ]
  finish
fi

# ---- a run: folder, metrics, curriculum, curves ----
pt pretrain.out="$tmp/A"
check "pretrain exits 0" [ "$rc" -eq 0 ]
check "final model" [ -f "$tmp/A/final/model.safetensors" ]
check "resolved config" [ -f "$tmp/A/config.yaml" ]
"$PY" - "$tmp/A/metrics.jsonl" <<'EOF' >"$tmp/m.txt" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["step"] for r in rows] == list(range(1, 7)), [r["step"] for r in rows]
assert all(r["phase"] == "pretrain" for r in rows)
for r in rows:
    for k in ("loss", "lr", "grad_norm", "tokens", "tokens_per_s", "seq", "rows"):
        assert k in r, k
    for kind in ("induction_random", "induction_text", "recall", "recall_random", "documents"):
        assert "loss_" + kind in r and "acc_" + kind in r, kind
# curriculum: 192 at step 1, growing (quadratically) to 256 by half-way, rows = tokens / seq
seqs = [r["seq"] for r in rows]
assert seqs == [192, 192, 192, 256, 256, 256], seqs
assert all(r["rows"] == 1024 // r["seq"] for r in rows), [r["rows"] for r in rows]
EOF
check "metrics: steps, per-kind loss/accuracy, curriculum ($(tail -1 "$tmp/m.txt"))" [ $? -eq 0 ]
if command -v gnuplot >/dev/null; then check "curves.png" [ -s "$tmp/A/curves.png" ]; fi

# ---- induction-first steps: only random-token induction rows, at seq_start ----
pt pretrain.out="$tmp/I" pretrain.induction_steps=3 pretrain.induction_until=0
check "induction_steps exits 0" [ "$rc" -eq 0 ]
"$PY" - "$tmp/I/metrics.jsonl" <<'EOF' >"$tmp/i.txt" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows[:3]:
    assert r["seq"] == 128, r["seq"]
    for kind in ("induction_text", "recall", "recall_random", "documents"):
        assert r["loss_" + kind] is None, (r["step"], kind)
    assert r["loss_induction_random"] is not None
# the length curriculum runs over the 3 steps after them: 192, then quadratically up to 256
assert [r["seq"] for r in rows[3:]] == [192, 192, 256], [r["seq"] for r in rows]
EOF
check "induction-first steps: random induction only, at seq_start ($(tail -1 "$tmp/i.txt"))" [ $? -eq 0 ]
# the stage is in the checkpoint: stopped inside it and resumed, the same run
pt pretrain.out="$tmp/I2" pretrain.induction_steps=3 pretrain.induction_until=0 --stop-after 2
pt pretrain.out="$tmp/I2" pretrain.induction_steps=3 pretrain.induction_until=0 --resume
check "resume inside the induction stage: same weights" same "$(sha "$tmp/I2/final/model.safetensors")" "$(sha "$tmp/I/final/model.safetensors")"
# induction_until: the stage ends at the first step whose repeat accuracy reaches it
pt pretrain.out="$tmp/I3" pretrain.induction_steps=5 pretrain.induction_until=0.000001
"$PY" - "$tmp/I3/metrics.jsonl" <<'EOF' >"$tmp/i3.txt" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
first = [r for r in rows if r["stage"] == "induction"]
assert first and all(r["acc_induction_random"] is not None for r in first), first
# every induction step but the last is below the bar; the last reaches it (or is the cap)
assert all(r["acc_induction_random"] < 1e-6 for r in first[:-1]), [r["acc_induction_random"] for r in first]
assert first[-1]["acc_induction_random"] >= 1e-6 or len(first) == 5
assert all(r["stage"] == "mixture" for r in rows[len(first):])
EOF
check "induction_until ends the stage on the step that reaches it ($(tail -1 "$tmp/i3.txt"))" [ $? -eq 0 ]

# ---- the lookup stage: recall rows only at lookup_seq, between the induction stage and the mixture ----
kk=(pretrain.steps=8 pretrain.induction_steps=2 pretrain.induction_until=0 pretrain.lookup_steps=3
  pretrain.lookup_until=0 pretrain.lookup_seq=224)
pt pretrain.out="$tmp/K" "${kk[@]}"
check "lookup stage exits 0" [ "$rc" -eq 0 ]
"$PY" - "$tmp/K/metrics.jsonl" <<'EOF' >"$tmp/k.txt" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["stage"] for r in rows] == ["induction"] * 2 + ["lookup"] * 3 + ["mixture"] * 3, [r["stage"] for r in rows]
for r in rows[2:5]:
    assert r["seq"] == 224, r["seq"]
    for kind in ("induction_random", "induction_text", "documents"):
        assert r["loss_" + kind] is None, (r["step"], kind)
    assert r["loss_recall"] is not None or r["loss_recall_random"] is not None
# the curriculum starts after it, at seq_start
assert rows[5]["seq"] == 192, rows[5]["seq"]
EOF
check "lookup stage: recall rows only, at lookup_seq, then the mixture ($(tail -1 "$tmp/k.txt"))" [ $? -eq 0 ]
pt pretrain.out="$tmp/K2" "${kk[@]}" --stop-after 4
pt pretrain.out="$tmp/K2" "${kk[@]}" --resume
check "resume inside the lookup stage: same weights" same "$(sha "$tmp/K2/final/model.safetensors")" "$(sha "$tmp/K/final/model.safetensors")"
# lookup_until ends it on the first step whose recall accuracy reaches the bar
pt pretrain.out="$tmp/K3" pretrain.steps=8 pretrain.lookup_steps=5 pretrain.lookup_until=0.000001
"$PY" - "$tmp/K3/metrics.jsonl" <<'EOF' >"$tmp/k3.txt" 2>&1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
look = [r for r in rows if r["stage"] == "lookup"]
assert look and rows[0]["stage"] == "lookup", [r["stage"] for r in rows]
acc = [r["acc_recall"] or 0 for r in look]
assert all(a < 1e-6 for a in acc[:-1]) and (acc[-1] >= 1e-6 or len(look) == 5), acc
assert all(r["stage"] == "mixture" for r in rows[len(look):])
EOF
check "lookup_until ends the stage on the step that reaches it ($(tail -1 "$tmp/k3.txt"))" [ $? -eq 0 ]
pt pretrain.out="$tmp/E8" pretrain.lookup_steps=2 pretrain.lookup_seq=100000
check "lookup_seq past the window refused" [ "$rc" -ne 0 ]
check "names pretrain.lookup_seq" has "$err" "pretrain.lookup_seq"

# ---- bit-exact resume: --stop-after 3 then --resume; SIGTERM mid-run ----
pt pretrain.out="$tmp/B" --stop-after 3
check "stop-after exits 0" [ "$rc" -eq 0 ]
check "stopped early says so" has "$err" "--resume"
pt pretrain.out="$tmp/B" --resume
check "resume exits 0" [ "$rc" -eq 0 ]
check "resume: same final weights" same "$(sha "$tmp/B/final/model.safetensors")" "$(sha "$tmp/A/final/model.safetensors")"
check "resume: metrics steps 1..6 once" same "$(grep -c '"phase":"pretrain"' "$tmp/B/metrics.jsonl")" 6

# ---- issue 18: pretrain owns its run folder as sft and train do ----
pt pretrain.out="$tmp/A"
check "pretrain into a finished run without --resume: refused" [ "$rc" -eq 1 ]
check "pretrain refusal names the folder and the fix" has "$err" "$tmp/A already holds a run"

# ---- thread count: same weights on 1 and 2 threads ----
pt pretrain.out="$tmp/T1" --threads 1
check "1 thread exits 0" [ "$rc" -eq 0 ]
check "1 vs 2 threads: same weights" same "$(sha "$tmp/T1/final/model.safetensors")" "$(sha "$tmp/A/final/model.safetensors")"

# ---- the model SFT starts from: a HF model dir with the tokenizer ----
check "final has config.json and tokenizer.json" [ -f "$tmp/A/final/config.json" -a -f "$tmp/A/final/tokenizer.json" ]

# ---- a start length off the multiples of 32 (buffers sized for every length) ----
pt pretrain.out="$tmp/S" pretrain.seq_start=200 pretrain.tokens=4096
check "seq_start 200 runs" [ "$rc" -eq 0 ]

# ---- bad settings: clear errors naming the key ----
pt pretrain.out="$tmp/E1" 'pretrain.mixture={induction: 0, recall: 0, documents: 0}'
check "zero-weight mixture refused" [ "$rc" -ne 0 ]
check "zero-weight mixture names the key" has "$err" "pretrain.mixture"
pt pretrain.out="$tmp/E2" 'pretrain.mixture={induction: 1, reading: 2}'
check "unknown component refused" [ "$rc" -ne 0 ]
check "unknown component named" has "$err" "reading"
pt pretrain.out="$tmp/E3" pretrain.seq=100000
check "curriculum past the window refused" [ "$rc" -ne 0 ]
check "names pretrain.seq and the window" has "$err" "max_position_embeddings"
pt pretrain.out="$tmp/E4" pretrain.seq_start=64
check "rows too short for recall refused" [ "$rc" -ne 0 ]
check "names pretrain.seq_start" has "$err" "pretrain.seq_start"
pt pretrain.out="$tmp/E5" 'pretrain.span=[9, 3]'
check "span min > max refused" [ "$rc" -ne 0 ]
check "names pretrain.span" has "$err" "pretrain.span"
pt pretrain.out="$tmp/E6" 'pretrain.genres=[poetry]'
check "unknown genre refused" [ "$rc" -ne 0 ]
check "names the genre and the known ones" has "$err" "financial_report"
pt pretrain.out="$tmp/E7" model="$tmp/nowhere"
check "missing model refused" [ "$rc" -ne 0 ]
finish
