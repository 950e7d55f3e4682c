#!/usr/bin/env python3
"""own_rollouts.py: a plain-text file of a model's own responses to a
dataset's training prompts, for `skillrl mtp train --data FILE`: MTP heads
self-distilled on the contexts the policy itself produces (greedy and T=1),
not only on the dataset's reference answers. Heads trained on reference text
never see the policy's own habits: a weak model's greedy output may repeat
one token, which such heads never predict (0 drafts accepted).

Each record is the last --tail characters of the rendered prompt (as the
trainer renders it with chat format plain: the turns, then "Assistant: "),
then one response, then a blank line. Per prompt: one greedy response and
--samples responses at temperature 1 (`skillrl generate -n`, prefix shared).

usage: scripts/own_rollouts.py --bin build/skillrl --model DIR --data DIR -o FILE
         [--per-skill N] [--samples S] [--max-new M] [--tail C] [--seed S]
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys


def prompts(data, per_skill):
    """The first per_skill training prompts of every skill, rendered."""
    shards = sorted(glob.glob(os.path.join(data, "*", "train-*.jsonl.zst")))
    if not shards:
        sys.exit(f"own_rollouts.py: no train-*.jsonl.zst shards under {data}/<skill>/ (a `skillrl synth` output folder?)")
    for shard in shards:
        out = subprocess.run(["zstd", "-dc", shard], capture_output=True, check=True).stdout.decode()
        for i, line in enumerate(out.splitlines()[:per_skill]):
            try:
                msgs = json.loads(line)["prompt"]
                yield "\n\n".join(("Assistant: " if m["role"] == "assistant" else "") + m["content"] for m in msgs) + \
                    "\n\nAssistant: "
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"own_rollouts.py: {shard}:{i + 1}: not a skillrl record with a 'prompt' list of turns ({e})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="build/skillrl")
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--per-skill", type=int, default=8)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--max-new", type=int, default=64)
    ap.add_argument("--tail", type=int, default=400)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    if a.per_skill < 1 or a.samples < 1 or a.max_new < 1 or a.tail < 0:
        sys.exit("own_rollouts.py: --per-skill, --samples, --max-new must be >= 1, --tail >= 0")
    tmp = a.out + ".tmp"
    n = 0
    with open(tmp, "w") as out:
        for p, text in enumerate(prompts(a.data, a.per_skill)):
            pf = tmp + ".prompt"
            with open(pf, "w") as f:
                f.write(text)
            for spec in (["-t", "0", "-n", "1"], ["-t", "1", "-n", str(a.samples), "--seed", str(a.seed + p)]):
                r = subprocess.run([a.bin, "generate", "--model", a.model, "-p", "@" + pf, "--max-new", str(a.max_new)] +
                                   spec, capture_output=True, text=True)
                if r.returncode:
                    sys.exit(f"own_rollouts.py: skillrl generate failed on prompt {p}: {r.stderr.strip()}")
                # several samples come as "--- sample i (n tokens[, stopped]) ---" then the text
                parts = re.split(r"^--- sample \d+ \([^)]*\) ---\n", r.stdout, flags=re.M)
                for s in (parts[1:] if len(parts) > 1 else parts):
                    out.write(text[-a.tail:] + s.rstrip("\n") + "\n\n")
                    n += 1
            os.remove(pf)
    os.replace(tmp, a.out)  # atomic: the final name only ever holds a whole file
    print(f"own_rollouts.py: {n} responses to {p + 1} prompts in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
