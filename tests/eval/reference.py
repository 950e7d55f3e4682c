"""Reference values for tests/eval: the benchmark definitions written out in
Python (difflib, SQuAD normalisation, RULER, LongBench v2, BABILong, scipy's
spearmanr). Reads JSON lines {"fn": NAME, ...} on stdin, writes one JSON value
per line. Not used by skillrl itself."""
import difflib
import json
import math
import re
import string
import sys


def normalize(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1(pred, gold):
    p, g = normalize(pred).split(), normalize(gold).split()
    common = {}
    for t in p:
        common[t] = common.get(t, 0) + 1
    same = 0
    for t in g:
        if common.get(t, 0) > 0:
            common[t] -= 1
            same += 1
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)


def ruler(pred, refs, all_):
    pred = pred.strip()
    pred = re.sub(r"[\x00-\x1f]", "\n", pred).strip()
    hits = [1.0 if r.lower() in pred.lower() else 0.0 for r in refs]
    return sum(hits) / len(refs) if all_ else max(hits)


def lbv2(resp):
    resp = resp.replace("*", "")
    m = re.search(r"The correct answer is \(([A-D])\)", resp)
    if m:
        return m.group(1)
    m = re.search(r"The correct answer is ([A-D])", resp)
    return m.group(1) if m else ""


LABELS = {
    "qa1": {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"},
    "qa5": {"Bill", "Fred", "Jeff", "Mary", "apple", "football", "milk"},
    "qa6": {"no", "yes"},
    "qa7": {"two", "one", "none"},
    "qa10": {"maybe", "no", "yes"},
}


def babilong(target, output, question, task):
    output = output.lower().split(".")[0].split("<context>")[0].split("<example>")[0]
    labels = {x.lower() for x in LABELS[task]}
    in_q = {x for x in labels if x in question.lower()}
    in_o = {x for x in labels if x in output} - in_q
    return target.lower() in in_o and len(in_o) == 1


def mrcr(resp, ans, prefix):
    if not resp.startswith(prefix):
        return 0.0
    return difflib.SequenceMatcher(None, resp.removeprefix(prefix), ans.removeprefix(prefix)).ratio()


def t_sf_int(t, nu):
    """Student t survival function for integer dof (Abramowitz-Stegun 26.7.3/4)."""
    th = math.atan(t / math.sqrt(nu))
    c, s = math.cos(th), math.sin(th)
    if nu % 2 == 1:
        tot, term = 0.0, c
        if nu > 1:
            tot = term
            for k in range(3, nu - 1, 2):
                term *= c * c * (k - 1) / k
                tot += term
        a = 2 / math.pi * (th + s * tot)
    else:
        tot, term = 1.0, 1.0
        for k in range(2, nu - 1, 2):
            term *= c * c * (k - 1) / k
            tot += term
        a = s * tot
    return 0.5 * (1 - a)


def rank(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    try:
        import warnings
        from scipy import stats
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.spearmanr(x, y)
        rho, p = float(res.statistic), float(res.pvalue)
        src = "scipy"
    except ImportError:
        n = len(x)
        rx, ry = rank(x), rank(y)
        mx, my = sum(rx) / n, sum(ry) / n
        sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
        sxx = sum((a - mx) ** 2 for a in rx)
        syy = sum((b - my) ** 2 for b in ry)
        if sxx == 0 or syy == 0:
            return {"rho": None, "p": None, "src": "formula"}
        rho = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
        if abs(rho) == 1.0:
            p = 0.0
        else:
            t = rho * math.sqrt((n - 2) / ((rho + 1) * (1 - rho)))
            p = 2 * t_sf_int(abs(t), n - 2)
        src = "formula"
    if math.isnan(rho):
        return {"rho": None, "p": None, "src": src}
    return {"rho": rho, "p": p, "src": src}


for line in sys.stdin:
    q = json.loads(line)
    fn = q["fn"]
    if fn == "ratio":
        out = difflib.SequenceMatcher(None, q["a"], q["b"]).ratio()
    elif fn == "mrcr":
        out = mrcr(q["a"], q["b"], q["prefix"])
    elif fn == "normalize":
        out = normalize(q["a"])
    elif fn == "em":
        out = max([float(normalize(q["a"]) == normalize(g)) for g in q["gold"]] + [0.0])
    elif fn == "f1":
        out = max([f1(q["a"], g) for g in q["gold"]] + [0.0])
    elif fn == "ruler":
        out = ruler(q["a"], q["gold"], q["all"])
    elif fn == "lbv2":
        out = lbv2(q["a"])
    elif fn == "babilong":
        out = babilong(q["target"], q["a"], q["question"], q["task"])
    elif fn == "spearman":
        out = spearman(q["x"], q["y"])
    else:
        raise SystemExit("unknown fn " + fn)
    print(json.dumps(out))
