#!/usr/bin/env python3
"""Differential test: python/skillrl_reward.py against `skillrl eval score`.

For every answer type and skill, thousands of seeded responses (right, wrong,
near-miss numbers, extra text, several Answer lines, boxed, empty, hedged,
unicode digits and letters, very long) are scored by the Python module and by
the C verifier through `skillrl eval score -o`; score and extracted answer must
agree exactly, and the gaming cases must score 0 in both. The verdict table of
tests/skills/test_answer.c is checked against the Python module too.
Not a test of the trainers' adapters beyond their arguments (see test_adapters).
Prints "N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.environ.get("SKL_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SKL_BIN", os.path.join(ROOT, "build", "skillrl"))
sys.path.insert(0, os.path.join(ROOT, "python"))
import skillrl_reward as R  # noqa: E402

passed = failed = 0


def check(ok, msg):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        if failed <= 25:
            print("FAIL:", msg)


# ---- the C verdict table ----------------------------------------------------

def c_string(lit):
    """Concatenated C string literals -> bytes."""
    out = bytearray()
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', lit):
        body = m.group(1)
        i = 0
        while i < len(body):
            c = body[i]
            if c != "\\":
                out += c.encode("utf-8")
                i += 1
                continue
            e = body[i + 1]
            if e == "x":
                j = i + 2
                while j < len(body) and body[j] in "0123456789abcdefABCDEF":
                    j += 1
                out.append(int(body[i + 2:j], 16) & 0xFF)
                i = j
                continue
            out += {"n": b"\n", "t": b"\t", "r": b"\r", "\\": b"\\", '"': b'"', "'": b"'"}[e]
            i += 2
    return bytes(out)


def c_table():
    src = open(os.path.join(ROOT, "tests", "skills", "test_answer.c"), encoding="utf-8").read()
    body = src[src.index("static const vcase CASES[] = {"):src.index("static void test_table")]
    types = {"N": "number", "S": "string", "C": "choice", "L": "list", "T": "set"}
    rows = []
    for m in re.finditer(r'\{([NSCLT]), ((?:"(?:[^"\\]|\\.)*"\s*)+), ((?:"(?:[^"\\]|\\.)*"\s*)+), (\d), (\d)\}', body):
        rows.append((types[m.group(1)], c_string(m.group(2)), c_string(m.group(3)), int(m.group(4)), int(m.group(5))))
    return rows


def test_c_table():
    rows = c_table()
    check(len(rows) > 200, "parsed only %d rows of test_answer.c's table" % len(rows))
    for t, gold, resp, correct, fmt in rows:
        v = R.verify(t, gold, resp)
        check(int(v.correct) == correct and int(v.has_format) == fmt,
              "C table %s gold %r response %r: python correct=%d format=%d, C wants %d %d"
              % (t, gold, resp, v.correct, v.has_format, correct, fmt))
    print("C verdict table: %d rows" % len(rows))


# ---- generated responses ----------------------------------------------------

SKILLS = sorted(R.SKILL_ANSWER_TYPES)
FILLER = ("The documents mention several entries. Document 3 lists the value 17 and "
          "entry LTUCRHGAXK; the second report gives 2,500 units. ")
UNI = ["\u00e9", "\u00df", "\uff21", "\uff15", "\u0665", "\u2212", "\u03a3", "\u4e2d", "\u2019", "\u00a0",
       "\u2260", "\u00b1", "\u2264", "\ufb01", "\u0130", "\u212a", "e\u0301", "\U0001f600"]
HEDGES = ["{a} or {b}", "{a}/{b}", "{a} | {b}", "not {b}", "either {a} or {b}", "{a}, not {b}",
          "neither {b} nor {c}", "{a} (or {b})", "it isn't {b}", "it isn\u2019t {b}", "{a} unless {b}",
          "no {a}", "x != {a}", "x \u2260 {a}", "{a} \u00b1 1", "x < {a}", "{a} or {a}", "{a} OR {b}",
          "Not {a}", "{a} except {b}", "{a} excluding {b}", "never {b}", "{a}, never {b}", "{a} nor {b}",
          "never {a}", "x > {a}", "{a} \u2264 x", "{a} \u2265 x", "{a} +/- 1", "maybe {a} or {b}", "{a}; NEITHER {b}"]
WRAP = ["Answer: {x}", "**Answer:** {x}", "Answer: **{x}**", "## Final Answer: {x}", "answer:{x}",
        "Answer:\n\n{x}", "\\boxed{{{x}}}", "Answer: \\boxed{{{x}}}", "So the answer is {x}.",
        "Answer: $\\boxed{{{x}}}$", "> Answer: `{x}`", "Answer: \"{x}\"", "{x}", "Final answer: {x}."]


def render(v):
    s = "%.2f" % (round(v * 100) / 100)
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return "0" if s in ("-0", "") else s


def number_variants(rng, g):
    x = float(g)
    near = [x + d for d in (0.004, -0.004, 0.005, -0.005, 0.0051, -0.0049, 0.00501, -0.00501, 0.006, 0.01,
                            -0.01, 1, -1)]
    forms = [g, "%.4f" % x, "%.6f" % x, "{:,.2f}".format(x), "%.3e" % x, "$" + g, g + "%", g + " units",
             "x = " + g, "6 * 7 = " + g, "100/3 = " + g, g + ".", "+" + g, "\u2212" + g.lstrip("-"),
             g + " " + g, "%.2f" % near[rng.randrange(len(near))], "%.3f" % near[rng.randrange(len(near))], "%.6f" % near[rng.randrange(len(near))],
             g.translate(str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")),
             g.translate(str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")),
             "about " + g, g + " dollars", "1,2345", "-" + g, g + "abc", "forty-two", "", " ", "1/2", "%s.%s" % (g, g),
             # digit runs past the scanner's 100/120/126-byte buffers, odd separators and exponents
             "1" + "0" * 150, g + "0" * 130 if "." in g else g + "." + "0" * 130, "0." + "0" * 118 + "1",
             "1e" + "9" * 40, "1e-" + "9" * 40, "1,234,5678", "1,234,567,", ",123", g + "e", g + "e+", "-$" + g,
             "\u20ac" + g, "\u00a3" + g, "$-" + g, "-\u2212" + g, "+-" + g, g + "%%", "x = y = " + g, "= " + g,
             g + " =", "\\boxed{\\boxed{%s}}" % g, "\\text{%s}" % g, "\\(%s\\)" % g, "__%s__" % g, "`%s`" % g]
    return forms


def string_gold(rng):
    pool = ["blue", "New York", "[ID: B-292]", "LTUCRHGAXK", "1760536321726-5em0", "Stra\u00dfe", "caf\u00e9",
            "\uff21BC", "not blue", "red or green", "Doc 3", "x/y", "\u03a3igma", "na\u00efve", "\u4e2d\u6587"]
    return rng.choice(pool)


def string_variants(rng, g):
    return [g, g.upper(), g.lower(), " " + g + " ", "'" + g + "'", "**" + g + "**", g + ".", g.replace(" ", "  "),
            g + " x", "x " + g, g[:-1], g + g, g.upper().replace("SS", "\u00df"), g.replace("\u00e9", "e\u0301"),
            g.casefold(), g.swapcase()]


def list_gold(rng, is_set):
    k = rng.randrange(0 if is_set else 1, 5)
    pool = ["a", "b", "c", "LTUCRHGAXK", "QWERTYUIOP", "1", "2.5", "3", "Doc 3", "caf\u00e9", "x/y", "B-292"]
    return ", ".join(rng.sample(pool, k))


def list_variants(rng, g):
    items = [s for s in g.split(", ") if s]
    sh = items[:]
    rng.shuffle(sh)
    return [g, ",".join(items), "; ".join(items), "[" + g + "]", "{" + ", ".join(sh) + "}", ", ".join(sh),
            ", ".join(items + items[:1]), ", ".join(items[:-1]), ", ".join(items + ["zz"]),
            " and ".join(items), ", ".join(i.upper() for i in items), "none", "empty", "",
            ", ".join((items or ["a"]) * 90), ",".join(["x"] * 300), "[" + ", ".join(items) + ",]", " , ".join(items),
            "and " + ", ".join(items), "(" + "; ".join(items) + ")", "None", "NONE",
            ", ".join(items[:-1]) + (", and " + items[-1] if items else ""), g + " or zz", g.replace(", ", "/")]


def choice_variants(rng, g):
    o = [c for c in "ABCD" if c != g]
    return [g, g.lower(), "(%s)" % g, "[%s]" % g, g + ")", g + ".", "Option " + g, "option (%s)" % g.lower(),
            g + ": Document 3", g + ". [ID: B-292]", g + " banana", g + "pple", g + o[0], "(%s" % g, "Choice " + g,
            g + " " + o[0], g + ", " + ", ".join(o), " ".join("ABCD"), " or ".join("ABCD"), g + "/" + o[0],
            g + " and (" + o[1] + ")", "\uff21", o[0], "", g + ". Document 2 (%s)" % o[2]]


def hedge_variants(rng, g, other):
    return [h.format(a=g, b=other, c=other + "0") for h in HEDGES]


def decorate(rng, x):
    """Wrap an answer into a response: reasoning, wrappers, several Answer lines, length."""
    w = rng.choice(WRAP).format(x=x)
    r = rng.random()
    if r < 0.15:
        w = "Answer: %s\nLet me recheck.\n%s" % (rng.choice(["1", "A", "zz", "none"]), w)
    elif r < 0.25:
        w = w + "\nAnswer: " + rng.choice(["", "  ", "**"])
    elif r < 0.3:
        w = w + "\n\\boxed{%s}" % rng.choice(["1", "B", x])
    pre = ""
    k = rng.random()
    if k < 0.5:
        pre = FILLER * rng.randrange(0, 4)
    elif k < 0.6:
        pre = FILLER * rng.randrange(50, 200)  # long context before the answer
    elif k < 0.7:
        pre = "".join(rng.choice(UNI) for _ in range(rng.randrange(1, 40))) + "\n"
    resp = pre + w
    if rng.random() < 0.05:  # one very long answer line, cut at 511 bytes
        resp = "Answer: " + x + " " + "".join(rng.choice(UNI + ["a", " "]) for _ in range(rng.randrange(200, 900)))
    if rng.random() < 0.05:
        resp = resp.replace("\n", "\r\n")
    if rng.random() < 0.05:
        pos = rng.randrange(len(resp) + 1)
        resp = resp[:pos] + rng.choice(UNI) + resp[pos:]
    return resp


def generate(seed, n):
    rng = random.Random(seed)
    cases = []  # (skill, type, gold, response, gaming)
    types = ["number", "string", "choice", "list", "set"]
    for i in range(n):
        t = types[i % len(types)]
        if t == "number":
            mag = 10 ** rng.randrange(-2, 9)
            g = render((rng.random() - 0.5) * mag)
            other = render(float(g) + rng.choice([1, 0.01, 7]))
            variants = number_variants(rng, g)
        elif t == "string":
            g = string_gold(rng)
            other = string_gold(rng)
            variants = string_variants(rng, g)
        elif t == "choice":
            g = rng.choice("ABCD")
            other = rng.choice([c for c in "ABCD" if c != g])
            variants = choice_variants(rng, g)
        else:
            g = list_gold(rng, t == "set")
            other = "zz"
            variants = list_variants(rng, g)
        gaming = rng.random() < 0.25
        if gaming:
            x = rng.choice(hedge_variants(rng, g, other))
            resp = "Answer: " + x if rng.random() < 0.7 else decorate(rng, x)
        else:
            resp = decorate(rng, rng.choice(variants))
        skill = rng.choice(SKILLS)
        cases.append((skill, t, g, resp, gaming))
    return cases


def gold_marker_free(g):
    """A gaming case counts only when the gold holds no hedge marker of its own."""
    return R._hedge_mask(g.encode("utf-8")) == 0


def run_c(cases, tmp):
    data = os.path.join(tmp, "data.jsonl")
    preds = os.path.join(tmp, "preds.jsonl")
    out = os.path.join(tmp, "scores.jsonl")
    with open(data, "w", encoding="utf-8") as f:
        for i, (skill, t, g, _, _) in enumerate(cases):
            f.write(json.dumps({"id": "c%d" % i, "skill": skill, "answer_type": t, "answer": g}) + "\n")
    with open(preds, "w", encoding="utf-8") as f:
        for i, c in enumerate(cases):
            f.write(json.dumps({"id": "c%d" % i, "prediction": c[3]}) + "\n")
    p = subprocess.run([BIN, "eval", "score", "--data", data, "--predictions", preds, "-o", out],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    check(p.returncode == 0, "skillrl eval score failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    res = {}
    if p.returncode == 0:
        with open(out, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                res[o["id"]] = o
    return res


def test_differential():
    cases = generate(17, 6000)
    with tempfile.TemporaryDirectory() as tmp:
        res = run_c(cases, tmp)
    check(len(res) == len(cases), "C scored %d of %d cases" % (len(res), len(cases)))
    agree = ones = gaming_zero = gaming = 0
    per_type = {}
    for i, (skill, t, g, resp, is_gaming) in enumerate(cases):
        c = res.get("c%d" % i)
        if c is None:
            continue
        v = R.verify(t, g, resp)
        ok = c["score"] == (1.0 if v.correct else 0.0) and c.get("extracted", "") == v.extracted
        check(ok, "case %d %s gold %r response %r: C score %s extracted %r, python %s extracted %r"
              % (i, t, g, resp[-300:], c["score"], c.get("extracted"), v.correct, v.extracted))
        agree += ok
        ones += v.correct
        per_type.setdefault(t, [0, 0])
        per_type[t][0] += 1
        per_type[t][1] += v.correct
        if R.SKILL_ANSWER_TYPES.get(skill) == t:  # verl's entry point, type from data_source
            check(R.compute_score("skillrl/" + skill, resp, g) == (1.0 if v.correct else 0.0),
                  "compute_score case %d" % i)
        if is_gaming and resp.startswith("Answer: ") and "\n" not in resp and gold_marker_free(g):
            gaming += 1
            gaming_zero += c["score"] == 0 and not v.correct
            check(c["score"] == 0 and not v.correct,
                  "gaming case %d %s gold %r response %r scored C %s python %s" % (i, t, g, resp, c["score"],
                                                                                  v.correct))
    print("differential: %d cases, %d agree, %d correct (%s); gaming %d, all 0: %d"
          % (len(cases), agree, ones, ", ".join("%s %d/%d" % (k, v[1], v[0]) for k, v in sorted(per_type.items())),
             gaming, gaming_zero))
    check(ones > 500, "only %d responses scored 1: the generator lost its right answers" % ones)


def test_unicode_fold():
    """STRING answers: NFKC + case folding (utf8proc in C, unicodedata here) agree
    on every 3rd code point of planes 0 and 1 against its upper, lower, swapped,
    NFD, NFKC and case-folded forms."""
    import unicodedata
    cases = []
    for cp in range(0x20, 0x20000, 3):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        g = "q" + c + "z"
        for d in sorted({c.upper(), c.lower(), c.swapcase(), c.casefold(), unicodedata.normalize("NFD", c),
                         unicodedata.normalize("NFKC", c)}):
            cases.append(("niah", "string", g, "Answer: q" + d + "z", False))
    with tempfile.TemporaryDirectory() as tmp:
        res = run_c(cases, tmp)
    check(len(res) == len(cases), "C scored %d of %d unicode cases" % (len(res), len(cases)))
    bad = ones = 0
    for i, (_, t, g, resp, _) in enumerate(cases):
        c = res.get("c%d" % i)
        if c is None:
            continue
        v = R.verify(t, g, resp)
        ones += v.correct
        ok = c["score"] == (1.0 if v.correct else 0.0)
        bad += not ok
        check(ok, "unicode: gold %r response %r: C %s, python %s" % (g, resp, c["score"], v.correct))
    print("unicode folding: %d pairs, %d match, %d disagree" % (len(cases), ones, bad))


def test_adapters():
    # verl: ground_truth as the string or the reward_model dict; type from extra_info
    check(R.compute_score("skillrl/niah", "x\nAnswer: 42", "42") == 1.0, "verl niah")
    check(R.compute_score("skillrl/logic", "Answer: A or B", "A") == 0.0, "verl hedged choice")
    check(R.compute_score("skillrl/logic", "Answer: (B)", {"style": "rule", "ground_truth": "B"}) == 1.0, "verl dict")
    check(R.compute_score("other", "Answer: a, b", "b, a", {"answer_type": "set"}) == 1.0, "verl extra_info type")
    try:
        R.compute_score("other", "Answer: 1", "1")
        check(False, "unknown data source must raise")
    except ValueError as e:
        check("answer_type" in str(e), "error names the fix: %s" % e)
    try:
        R.verify("number", "abc", "Answer: abc")
        check(False, "bad gold must raise")
    except ValueError as e:
        check("not a valid number answer" in str(e), str(e))
    # OpenRLHF: queries = prompt + response, labels as exported
    lab = json.dumps({"answer_type": "choice", "ground_truth": "C"})
    r = R.reward_func(["Q?\nAnswer: C", "Q?\nAnswer: C or D", "P\nAnswer: 7"], ["Q?", "Q?", "P"],
                      [lab, lab, "7"], datasource=["skillrl/logic", "skillrl/logic", "skillrl/niah"])
    if isinstance(r, dict):  # torch importable: OpenRLHF's {rewards, scores, extra_logs} tensors
        check(sorted(r) == ["extra_logs", "rewards", "scores"], "openrlhf dict keys %r" % sorted(r))
        r = r["rewards"].tolist()
    check(r == [1.0, 0.0, 1.0], "openrlhf rewards %r" % r)
    # TRL: plain and conversational completions, columns as keyword lists
    r = R.trl_reward(["Answer: 42", [{"role": "assistant", "content": "Answer: B"}], "Answer: not 42"],
                     solution=["42", "B", "42"], answer_type=["number", "choice", "number"],
                     data_source=["skillrl/niah", "skillrl/logic", "skillrl/niah"], prompts=["a", "b", "c"])
    check(r == [1.0, 1.0, 0.0], "trl rewards %r" % r)


def main():
    test_c_table()
    test_adapters()
    test_differential()
    test_unicode_fold()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
