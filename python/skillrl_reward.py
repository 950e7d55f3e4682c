"""skillrl reward functions for Python RL trainers (verl, OpenRLHF, TRL).

The same verifiers as skills/answer.c (read skills/answer.h for the rules),
ported line by line and run on UTF-8 bytes so both give the same verdict for
every response: tests/skills/diff_reward.py checks thousands of responses
against `skillrl eval score`. Standard library only, Python >= 3.8.
Not a judge for free-form answers, and not a dataset loader.

    from skillrl_reward import compute_score          # verl
    compute_score("skillrl/niah", "...\\nAnswer: 42", "42")   # -> 1.0

Entry points:
    verify(answer_type, gold, response) -> Verdict   the verifier itself
    compute_score(data_source, solution_str, ground_truth, extra_info=None)
                                                     verl's custom_reward_function
    reward_func(queries, prompts, labels, **kwargs)  OpenRLHF's --remote_rm_url file
    trl_reward(completions, **kwargs)                TRL GRPOTrainer reward_funcs

Answer types: "number", "string", "choice", "list", "set". The type comes from
extra_info["answer_type"] or an answer_type column when present, else from
the skill named in data_source ("skillrl/logic" -> choice, other skills ->
number).
"""

import json
import math
import unicodedata
from collections import namedtuple

__all__ = [
    "ANSWER_TYPES", "SKILL_ANSWER_TYPES", "NUMBER_TOL", "ANSWER_MAX", "Verdict",
    "verify", "extract", "match", "parse_number", "answer_type_of",
    "compute_score", "reward_func", "trl_reward",
]

ANSWER_TYPES = ("number", "string", "choice", "list", "set")
# skills/registry.c: each skill's answer type
SKILL_ANSWER_TYPES = {
    "niah": "number", "anti_interference": "number", "multi_source": "number",
    "logic": "choice", "calc_reason": "number", "multi_hop": "number",
}
NUMBER_TOL = 0.005  # SKILL_NUMBER_TOL
ANSWER_MAX = 512    # SKILL_ANSWER_MAX: extracted answers keep 511 bytes

Verdict = namedtuple("Verdict", "correct has_format found extracted")

# ---- byte helpers (C locale ctype: ASCII only) ------------------------------

_WS = frozenset(b" \t\r\n\f\v")


def _at(s, i):
    return s[i] if i < len(s) else 0


def _ws(c):
    return c in _WS


def _digit(c):
    return 48 <= c <= 57


def _alpha(c):
    return 65 <= c <= 90 or 97 <= c <= 122


def _alnum(c):
    return _digit(c) or _alpha(c)


def _lower(c):
    return c + 32 if 65 <= c <= 90 else c


def _ci_prefix(s, i, end, lit):
    if end - i < len(lit):
        return False
    return s[i:i + len(lit)].lower() == lit


def _cut(b, cap):
    """copy_span: at most cap - 1 bytes, never splitting a UTF-8 character."""
    n = cap - 1
    if len(b) <= n:
        return b
    k = 0
    while k < 3 and n > 0 and (b[n] & 0xC0) == 0x80:
        n -= 1
        k += 1
    return b[:n]


def _trim(s):
    return s.strip(b" \t\r\n\f\v")


def _to_bytes(x):
    if x is None:
        return None
    if isinstance(x, (bytes, bytearray)):
        b = bytes(x)
    else:
        b = str(x).encode("utf-8", "surrogatepass")
    n = b.find(b"\0")  # C strings end at the first NUL
    return b if n < 0 else b[:n]


_PAIRS = ((b"\\boxed{", b"}"), (b"\\text{", b"}"), (b"\\(", b"\\)"), (b"\\[", b"\\]"),
          (b"**", b"**"), (b"__", b"__"), (b"$", b"$"), (b'"', b'"'),
          (b"'", b"'"), (b"\xe2\x80\x9c", b"\xe2\x80\x9d"))


def _clean(s):
    """clean_answer: wrappers, markdown, quotes and a final period, until stable."""
    while True:
        s = _trim(s)
        n = len(s)
        if _ci_prefix(s, 0, n, b"the answer is"):
            s = s[13:]
            if s[:1] == b":":
                s = s[1:]
            continue
        for pre, post in _PAIRS:
            if n >= len(pre) + len(post) and s.startswith(pre) and s.endswith(post):
                s = s[len(pre):n - len(post)]
                break
        else:
            if n and s[0] in b"*`":
                s = s[1:]
                continue
            if n and s[n - 1] in b"*`.":
                s = s[:n - 1]
                continue
            return s


# ---- hedges -----------------------------------------------------------------

_HEDGE_WORDS = (b"or", b"nor", b"not", b"no", b"never", b"neither", b"either",
                b"except", b"unless", b"excluding")
_NW = len(_HEDGE_WORDS)
_H_NT = 1 << _NW
_H_SLASH = _H_NT << 1
_H_BAR = _H_NT << 2
_H_NE = _H_NT << 3
_H_CMP = _H_NT << 4


def _apos(s, i):
    return s[i] == 39 or s[i:i + 3] == b"\xe2\x80\x99"


def _hedge_mask(s):
    m = 0
    i, n = 0, len(s)
    while i < n:
        if _alnum(s[i]) or _apos(s, i):
            w = bytearray()
            length = 0
            while i < n and (_alnum(s[i]) or _apos(s, i)):
                step = 1 if s[i] == 39 or _alnum(s[i]) else 3
                if len(w) < 15:
                    w.append(39 if step == 3 else _lower(s[i]))
                i += step
                length += 1
            if length < 15:
                w = bytes(w)
                for k, hw in enumerate(_HEDGE_WORDS):
                    if w == hw:
                        m |= 1 << k
                if len(w) >= 3 and w.endswith(b"n't"):
                    m |= _H_NT
            continue
        c = s[i]
        if c == 47:
            m |= _H_SLASH
        elif c == 124:
            m |= _H_BAR
        elif (c == 33 and _at(s, i + 1) == 61) or s[i:i + 3] == b"\xe2\x89\xa0" or s[i:i + 2] == b"\xc2\xb1":
            m |= _H_NE
        elif c in b"<>" or s[i:i + 3] in (b"\xe2\x89\xa4", b"\xe2\x89\xa5"):
            m |= _H_CMP
        i += 1
    return m


def _hedged(gold, answer, ignore=0):
    return (_hedge_mask(answer) & ~_hedge_mask(gold) & ~ignore) != 0


# ---- numbers ----------------------------------------------------------------

def _scan_number(s, i0):
    """scan_number at s[i0:]: (value, length) or None."""
    buf = bytearray()
    i = i0
    c = _at(s, i)
    if c in (45, 43):
        buf.append(c)
        i += 1
    elif s[i:i + 3] == b"\xe2\x88\x92":
        buf.append(45)
        i += 3
    int_digits = frac_digits = 0
    while _digit(_at(s, i)):
        if len(buf) < 100:
            buf.append(s[i])
        i += 1
        int_digits += 1
    if 1 <= int_digits <= 3:
        while (_at(s, i) == 44 and _digit(_at(s, i + 1)) and _digit(_at(s, i + 2)) and _digit(_at(s, i + 3))
               and not _digit(_at(s, i + 4))):
            for k in (1, 2, 3):
                if len(buf) < 100:
                    buf.append(s[i + k])
            i += 4
            int_digits += 3
    if _at(s, i) == 46 and _digit(_at(s, i + 1)):
        buf.append(46)
        i += 1
        while _digit(_at(s, i)):
            if len(buf) < 120:
                buf.append(s[i])
            i += 1
            frac_digits += 1
    if int_digits + frac_digits == 0:
        return None
    if _at(s, i) in (101, 69):
        j = i + 1
        if _at(s, j) in (43, 45):
            j += 1
        if _digit(_at(s, j)) and len(buf) < 120:
            buf.append(101)
            if _at(s, i + 1) in (45, 43):
                buf.append(s[i + 1])
            while _digit(_at(s, j)):
                if len(buf) < 126:
                    buf.append(s[j])
                j += 1
            i = j
    x = float(buf.decode("ascii"))
    if not math.isfinite(x):
        return None
    return x, i - i0


def _currency(s, i):
    if s[i:i + 1] == b"$":
        return 1
    if s[i:i + 3] == b"\xe2\x82\xac":
        return 3
    if s[i:i + 2] == b"\xc2\xa3":
        return 2
    return 0


def _parse_number_b(s):
    i = 0
    while i < len(s) and _ws(s[i]):
        i += 1
    c = _currency(s, i)
    p = i + c
    neg_before = False
    if c == 0 and _at(s, i) in (45, 43) and _currency(s, i + 1):
        neg_before = s[i] == 45
        p = i + 1 + _currency(s, i + 1)
    r = _scan_number(s, p)
    if r is None:
        return None
    v, length = r
    if neg_before:
        v = -v
    q = p + length
    if _at(s, q) == 37:
        q += 1
    elif q < len(s) and not _ws(s[q]):
        return None
    if any(_digit(ch) for ch in s[q:]):
        return None
    return v


def parse_number(text):
    """One number with optional currency, percent and unit words (answer.h); None if not exactly one."""
    b = _to_bytes(text)
    return None if b is None else _parse_number_b(b)


def _read_number_answer(s):
    if b"/" not in s:
        v = _parse_number_b(s)
        if v is not None:
            return v
    eq = s.rfind(b"=")
    if eq >= 0 and b"/" not in s[eq + 1:]:
        v = _parse_number_b(s[eq + 1:])
        if v is not None:
            return v
    if b"/" in s:
        return None
    n = 0
    first = 0.0
    i = 0
    while i < len(s):
        prev = s[i - 1] if i else 32
        r = None
        if not _alnum(prev) and prev not in (46, 44):
            r = _scan_number(s, i)
            if r is not None and _alnum(_at(s, i + r[1])):
                r = None
        if r is not None:
            v, length = r
            if n == 0:
                first = v
            elif v != first:
                return None
            n += 1
            i += length
        else:
            i += 1
    return first if n else None


def _numbers_match(x, gold):
    return abs(x - gold) <= NUMBER_TOL + 1e-12 * max(1.0, abs(gold))


# ---- strings ----------------------------------------------------------------

def _fold(b):
    """utf8proc_map(NFKC | CASEFOLD | STABLE): None for invalid UTF-8."""
    try:
        t = b.decode("utf-8")
    except UnicodeDecodeError:
        return None
    t = unicodedata.normalize("NFKC", unicodedata.normalize("NFKD", t).casefold())
    return t.encode("utf-8", "surrogatepass")


def _normalise(b, cap=ANSWER_MAX):
    tmp = _clean(_cut(b, ANSWER_MAX))
    folded = _fold(tmp)
    src = folded if folded is not None else tmp
    out = bytearray()
    space = False
    for ch in src:
        if len(out) + 1 >= cap:
            break
        if _ws(ch):
            space = len(out) > 0
            continue
        if space and len(out) + 2 < cap:
            out.append(32)
        space = False
        out.append(ch if folded is not None else _lower(ch))
    return bytes(out)


# ---- choices ----------------------------------------------------------------

def _read_choice(b):
    s = _clean(_cut(b, ANSWER_MAX))
    end = len(s)
    p = 0
    if _ci_prefix(s, p, end, b"option") or _ci_prefix(s, p, end, b"choice"):
        p += 6
    while p < end and _ws(s[p]):
        p += 1
    opened = 0
    if _at(s, p) in (40, 91):
        opened = s[p]
        p += 1
    if not _alpha(_at(s, p)):
        return 0
    letter = s[p]
    p += 1
    if opened:
        if _at(s, p) != (41 if opened == 40 else 93):
            return 0
        p += 1
    elif _at(s, p) in (41, 46, 58):
        p += 1
    elif p < end and not _ws(s[p]):
        return 0
    while p < end and _ws(s[p]):
        p += 1
    if 97 <= letter <= 122 and p < end:
        return 0
    for q in range(p, end):
        before = q == p or _ws(s[q - 1]) or s[q - 1] in (40, 91)
        nxt = _at(s, q + 1)
        if before and _alpha(s[q]) and (nxt == 0 or _ws(nxt) or nxt in b")].:,;"):
            return 0
    return letter - 32 if letter >= 97 else letter


# ---- lists and sets ---------------------------------------------------------

_MAX_ITEMS = 256


def _split_items(s):
    s = _clean(s)
    n = len(s)
    if n >= 2 and ((s[0] == 91 and s[n - 1] == 93) or (s[0] == 40 and s[n - 1] == 41) or
                   (s[0] == 123 and s[n - 1] == 125)):
        s = s[1:n - 1]
    s = _trim(s)
    if not s or s in (b"none", b"None", b"empty"):
        return []
    items = []
    p = 0
    while True:
        while p < len(s) and _ws(s[p]):
            p += 1
        sep, seplen = -1, 0
        for q in range(p, len(s)):
            if s[q] in (44, 59):
                sep, seplen = q, 1
                break
            if s[q:q + 5] == b" and ":
                sep, seplen = q, 5
                break
        if len(items) == _MAX_ITEMS:
            return None
        item = _clean(s[p:sep] if sep >= 0 else s[p:])
        if item.startswith(b"and "):
            item = item[4:]
        items.append(item)
        if sep < 0:
            break
        p = sep + seplen
    return items


def _items_equal(a, b):
    x, y = _parse_number_b(a), _parse_number_b(b)
    if x is not None and y is not None:
        return _numbers_match(x, y)
    return _normalise(a) == _normalise(b)


def _dedupe(items):
    out = []
    for it in items:
        if not any(_items_equal(it, o) for o in out):
            out.append(it)
    return out


def _match_items(is_set, gold, answer):
    gi = _split_items(_cut(gold, 2 * ANSWER_MAX))
    ai = _split_items(_cut(answer, ANSWER_MAX))
    if gi is None:
        return -1
    if any(not g for g in gi):
        return -1
    if ai is None:
        return 0
    if is_set:
        gi, ai = _dedupe(gi), _dedupe(ai)
    if len(gi) != len(ai):
        return 0
    if not is_set:
        return int(all(_items_equal(g, a) for g, a in zip(gi, ai)))
    return int(all(any(_items_equal(g, a) for a in ai) for g in gi))


# ---- extraction -------------------------------------------------------------

def _answer_line(s, b, e):
    q = b
    while q < e and (_ws(s[q]) or s[q] in b"*_#>-`"):
        q += 1
    if _ci_prefix(s, q, e, b"final answer"):
        q += 12
    elif _ci_prefix(s, q, e, b"answer"):
        q += 6
    else:
        return -1
    while q < e and s[q] in b"*_ ":
        q += 1
    if q >= e or s[q] != 58:
        return -1
    return q + 1


def _line_end(s, p):
    e = s.find(b"\n", p)
    return len(s) if e < 0 else e


def _extract_b(s):
    """skill_answer_extract on bytes: (found, extracted, has_format)."""
    n = len(s)
    has_format = False
    out = b""
    found = False
    p = 0
    while p < n:
        e = _line_end(s, p)
        a = _answer_line(s, p, e)
        if a >= 0:
            has_format = True
            while a < e and _ws(s[a]):
                a += 1
            tmp = _clean(_cut(s[a:e], ANSWER_MAX))
            q = e + 1 if e < n else e
            while not tmp and q < n:
                qe = _line_end(s, q)
                while q < qe and _ws(s[q]):
                    q += 1
                tmp = _clean(_cut(s[q:qe], ANSWER_MAX))
                q = qe + 1 if qe < n else qe
            if tmp:
                out, found = tmp, True
        p = e + 1 if e < n else e
    if found:
        return True, out, has_format
    box = None
    p = s.find(b"\\boxed{")
    while p >= 0:
        q = p + 7
        depth = 1
        while q < n and depth:
            if s[q] == 123:
                depth += 1
            elif s[q] == 125:
                depth -= 1
            q += 1
        if not depth:
            box = (p + 7, q - 1)
        p = s.find(b"\\boxed{", p + 1)
    if box:
        out = _clean(_cut(s[box[0]:box[1]], ANSWER_MAX))
        if out:
            return True, out, has_format
    t = s.lower().rfind(b"the answer is")
    if t >= 0:
        b = t + 13
        e = _line_end(s, b)
        while b < e and (_ws(s[b]) or s[b] == 58):
            b += 1
        for q in range(b, e - 1):
            if s[q] == 46 and _ws(s[q + 1]):
                e = q
                break
        out = _clean(_cut(s[b:e], ANSWER_MAX))
        if out:
            return True, out, has_format
    return False, b"", has_format


def _dec(b):
    return b.decode("utf-8", "replace")


def extract(response):
    """The final answer of a response (answer.h, Extraction): (found, text, has_format)."""
    b = _to_bytes(response)
    if b is None:
        return False, "", False
    found, out, fmt = _extract_b(b)
    return found, _dec(out), fmt


def _match_b(t, gold, answer):
    if t == "number":
        g = _parse_number_b(gold)
        if g is None:
            return -1
        if _hedged(gold, answer, _H_SLASH):
            return 0
        x = _read_number_answer(answer)
        return int(x is not None and _numbers_match(x, g))
    if t == "string":
        ng = _normalise(gold)
        if not ng:
            return -1
        if _hedged(gold, answer):
            return 0
        return int(_normalise(answer) == ng)
    if t == "choice":
        g = _read_choice(gold)
        if not g:
            return -1
        if _hedged(gold, answer):
            return 0
        return int(_read_choice(answer) == g)
    if t in ("list", "set"):
        m = _match_items(t == "set", gold, answer)
        return 0 if m == 1 and _hedged(gold, answer) else m
    return -1


def match(answer_type, gold, answer):
    """skill_answer_match: 1 match, 0 no match, -1 when the gold is not valid for the type."""
    g = _to_bytes(gold)
    if g is None:
        return -1
    return _match_b(answer_type, g, _to_bytes(answer) or b"")


def verify(answer_type, gold, response):
    """skill_verify: extract, normalise, compare. Raises ValueError for an unknown
    answer type or a gold that is not valid for it (fix the dataset)."""
    if answer_type not in ANSWER_TYPES:
        raise ValueError("unknown answer type %r: use number, string, choice, list or set" % (answer_type,))
    r = _to_bytes(response)
    found, out, fmt = _extract_b(r) if r is not None else (False, b"", False)
    g = _to_bytes(gold)
    m = _match_b(answer_type, g, out) if g is not None else -1
    if m < 0:
        raise ValueError("gold answer %r is not a valid %s answer: fix the dataset's answer or answer_type"
                         % (_dec(g[:200]) if g is not None else None, answer_type))
    return Verdict(bool(found and m == 1), fmt, found, _dec(out))


# ---- trainer entry points ---------------------------------------------------

def answer_type_of(data_source=None, extra_info=None, answer_type=None):
    """The answer type from an explicit value, extra_info["answer_type"], or the
    skill in data_source ("skillrl/<skill>")."""
    if answer_type:
        return answer_type
    if isinstance(extra_info, dict) and extra_info.get("answer_type"):
        return extra_info["answer_type"]
    ds = data_source or ""
    skill = ds.split("/", 1)[1] if ds.startswith("skillrl/") else ds
    if skill in SKILL_ANSWER_TYPES:
        return SKILL_ANSWER_TYPES[skill]
    raise ValueError("cannot tell the answer type of data source %r: pass extra_info['answer_type'] "
                     "(skillrl export writes it) or use a skillrl/<skill> data source" % (data_source,))


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl: custom_reward_function.path=python/skillrl_reward.py, name=compute_score.
    @return 1.0 when the response's final answer is right, else 0.0"""
    if isinstance(ground_truth, dict):  # a whole reward_model entry
        ground_truth = ground_truth.get("ground_truth")
    t = answer_type_of(data_source, extra_info)
    return 1.0 if verify(t, ground_truth, solution_str).correct else 0.0


def _label(label, datasource=None):
    """OpenRLHF label: skillrl export writes a JSON string {answer_type, ground_truth}."""
    if isinstance(label, dict):
        return label.get("answer_type") or answer_type_of(datasource), label["ground_truth"]
    if isinstance(label, str) and label.startswith("{"):
        try:
            d = json.loads(label)
        except ValueError:
            d = None
        if isinstance(d, dict) and "ground_truth" in d:
            return d.get("answer_type") or answer_type_of(datasource), d["ground_truth"]
    return answer_type_of(datasource), label


def reward_func(queries, prompts, labels, **kwargs):
    """OpenRLHF: --remote_rm_url python/skillrl_reward.py (label_key label).
    queries are prompt + response; the response is what follows the prompt.
    @return {"rewards", "scores", "extra_logs"} with torch tensors when torch
    can be imported (OpenRLHF >= 0.8), else a list of floats"""
    sources = kwargs.get("datasource") or [None] * len(queries)
    out = []
    for i, q in enumerate(queries):
        p = prompts[i] if prompts is not None else ""
        resp = q[len(p):] if p and q.startswith(p) else q
        t, gold = _label(labels[i], sources[i])
        out.append(1.0 if verify(t, gold, resp).correct else 0.0)
    try:
        import torch  # optional: only inside OpenRLHF's process
    except ImportError:
        return out
    r = torch.tensor(out, dtype=torch.float32)
    return {"rewards": r, "scores": r, "extra_logs": {"skillrl_accuracy": r}}


def trl_reward(completions, solution=None, answer_type=None, data_source=None, **kwargs):
    """TRL GRPOTrainer(reward_funcs=[trl_reward]): columns arrive as keyword lists.
    completions: strings, or conversations (lists of {role, content}) whose last
    message is the model's."""
    n = len(completions)
    solution = solution if solution is not None else kwargs.get("ground_truth")
    if solution is None:
        raise ValueError("trl_reward needs a 'solution' column (skillrl export --for trl writes it)")
    types = answer_type or [None] * n
    sources = data_source or kwargs.get("datasource") or [None] * n
    out = []
    for i, c in enumerate(completions):
        if isinstance(c, list):
            c = c[-1]["content"] if c else ""
        t = answer_type_of(sources[i], None, types[i])
        out.append(1.0 if verify(t, solution[i], c).correct else 0.0)
    return out
