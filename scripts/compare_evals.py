"""Side-by-side held-out accuracy of two `skillrl eval` runs (e.g. after SFT
and after RL): per skill and overall, mean +- standard error, and the paired
difference with its standard error. Reads each run's results.jsonl.
Not an evaluator: scores come from skillrl."""
import json
import math
import sys


def load(run_dir):
    rows = {}
    with open(f"{run_dir}/results.jsonl") as f:
        for line in f:
            r = json.loads(line)
            if r.get("set") == "probe":
                rows[r["id"]] = (r["group"], float(r["score"]))
    return rows


def mean_se(xs):
    n = len(xs)
    if n == 0:
        return float("nan"), float("nan")
    m = sum(xs) / n
    if n < 2:
        return m, float("nan")
    var = sum((x - m) ** 2 for x in xs) / (n - 1)
    return m, math.sqrt(var / n)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare_evals.py BEFORE_DIR AFTER_DIR")
    a, b = load(sys.argv[1]), load(sys.argv[2])
    ids = sorted(set(a) & set(b))
    if not ids:
        sys.exit("compare_evals.py: the two runs share no probe ids")
    groups = sorted({a[i][0] for i in ids})
    print(f"{'skill':<20} {'n':>4}  {'after SFT':>14}  {'after RL':>14}  {'RL - SFT':>16}")
    rows = [(g, [i for i in ids if a[i][0] == g]) for g in groups] + [("mean (all items)", ids)]
    for g, sel in rows:
        ma, sa = mean_se([100 * a[i][1] for i in sel])
        mb, sb = mean_se([100 * b[i][1] for i in sel])
        md, sd = mean_se([100 * (b[i][1] - a[i][1]) for i in sel])
        print(f"{g:<20} {len(sel):>4}  {ma:6.1f} +- {sa:4.1f}  {mb:6.1f} +- {sb:4.1f}  {md:+7.1f} +- {sd:4.1f}")
    md, sd = mean_se([b[i][1] - a[i][1] for i in ids])
    verdict = "larger" if sd == sd and md > 2 * sd else "not larger"
    print(f"\nRL's gain over SFT on the held-out mean is {verdict} than twice its standard error.")


if __name__ == "__main__":
    main()
