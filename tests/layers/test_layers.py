#!/usr/bin/env python3
"""The layer rule, checked on the build's own compile commands: each layer's
library rejects an include of a layer it may not use, and accepts the ones it
may (docs/architecture.md). For each layer it takes the compile command of one
of its files from compile_commands.json, swaps the file for a probe that
includes one header, and runs it with -fsyntax-only. Also: no source reaches
around the include paths with "../". Not a check of what the code calls."""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

SRC = os.environ["SKL_SOURCE_ROOT"]
BUILD = os.environ["SKL_BUILD_ROOT"]

# layer: (a file of it, headers it may include, headers it may not)
ENGINE_OK = ["core/error.h", "model/model.h"]
CASES = {
    "engine": ("src/core/error.c", ENGINE_OK,
               ["rl/trainer.h", "eval/metrics.h", "synth/expr.h", "skills/registry.h", "cli/cli.h", "cli/args.h",
                "bench/bench.h"]),
    "skills": ("skills/registry.c", ENGINE_OK + ["skills/registry.h"],
               ["synth/expr.h", "rl/trainer.h", "eval/metrics.h", "cli/cli.h", "bench/bench.h"]),
    "synth": ("synth/expr.c", ENGINE_OK + ["skills/registry.h", "synth/expr.h"],
              ["rl/trainer.h", "eval/metrics.h", "cli/cli.h", "bench/bench.h"]),
    "rl": ("rl/trainer.c", ENGINE_OK + ["skills/registry.h", "rl/grpo.h"],
           ["synth/expr.h", "eval/metrics.h", "cli/cli.h", "bench/bench.h"]),
    "eval": ("eval/metrics.c", ENGINE_OK + ["skills/registry.h", "eval/metrics.h"],
             ["synth/expr.h", "rl/trainer.h", "cli/cli.h", "bench/bench.h"]),
    "bench": ("bench/train.c", ENGINE_OK + ["skills/registry.h", "synth/expr.h", "rl/grpo.h", "eval/metrics.h",
                                            "bench/bench.h", "cli/args.h"],
              ["cli/cli.h", "cli/cli_train.h"]),
}

passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s%s" % (what, ("\n  " + detail[-600:]) if detail else ""), file=sys.stderr)


def probe_cmd(entry, probe):
    """entry's compile command with its source swapped for probe, syntax only."""
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a == entry["file"] or os.path.basename(a) == os.path.basename(entry["file"]):
            continue
        out.append(a)
    return out + ["-fsyntax-only", probe]


with open(os.path.join(BUILD, "compile_commands.json")) as f:
    db = json.load(f)
by_file = {}
for e in db:
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    by_file[os.path.relpath(path, SRC)] = e

with tempfile.TemporaryDirectory() as tmp:
    probe = os.path.join(tmp, "probe.c")
    for layer, (file, ok, bad) in CASES.items():
        e = by_file.get(file)
        check("%s: %s is in compile_commands.json" % (layer, file), e is not None)
        if e is None:
            continue
        for header, want in [(h, True) for h in ok] + [(h, False) for h in bad]:
            with open(probe, "w") as f:
                f.write('#include "%s"\nint probe_layers(void);\nint probe_layers(void) { return 0; }\n' % header)
            r = subprocess.run(probe_cmd(e, probe), cwd=e["directory"], capture_output=True, text=True)
            compiled = r.returncode == 0
            check("%s %s include \"%s\"" % (layer, "may" if want else "may not", header), compiled == want,
                  r.stderr if want else "it compiled")

# "../" in an include would reach around the include paths
around = re.compile(r'^\s*#\s*include\s*"\.\./', re.M)
for top in ("src", "skills", "synth", "rl", "eval", "bench", "cli"):
    for d, _, files in os.walk(os.path.join(SRC, top)):
        for name in files:
            if name.endswith((".c", ".h")):
                p = os.path.join(d, name)
                with open(p, errors="replace") as f:
                    check("%s: no #include \"../...\"" % os.path.relpath(p, SRC), not around.search(f.read()))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
