#!/usr/bin/env python3
# Test helper: run a training command and signal it at a chosen moment —
# SIGKILL while a checkpoint's temporary folder exists, or SIGTERM once the
# run has completed some steps. Not a test by itself; prints one JSON line.
#
# usage: killer.py tmp SKIP RUN_DIR -- CMD...   SIGKILL when the (SKIP+1)-th
#            distinct RUN_DIR/ckpt/*.tmp.* folder is seen (while it exists)
#        killer.py term STEPS RUN_DIR -- CMD... SIGTERM once RUN_DIR/metrics.jsonl
#            has STEPS lines
#        killer.py rand SEED RUN_DIR -- CMD...  SIGKILL at a random moment (seeded),
#            0-$KILL_MAX_S (default 2) seconds after the first metrics line
# output: {"rc": exit code or -signal, "killed": bool, "tmp_seen": [names],
#          "tmp_at_kill": [names present right after the kill]}
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time


def tmp_names(ck):
    try:
        return [n for n in os.listdir(ck) if ".tmp" in n]
    except OSError:
        return []


def lines(p):
    try:
        with open(p) as f:
            return sum(1 for l in f if l.strip())
    except OSError:
        return 0


def main():
    mode, n, run = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    ck = os.path.join(run, "ckpt")
    # ignore pre-existing leftovers from earlier killed attempts
    old = set(tmp_names(ck))
    errf = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child never blocks
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf)
    seen, killed, at_kill = [], False, []
    rng = random.Random(n)
    delay, t0 = rng.uniform(0.0, float(os.environ.get("KILL_MAX_S", "2"))), None
    while p.poll() is None:
        if mode == "tmp":
            for t in tmp_names(ck):
                if t not in old and t not in seen:
                    seen.append(t)
                    if len(seen) > n:
                        os.kill(p.pid, signal.SIGKILL)
                        killed = True
                        p.wait()
                        at_kill = [x for x in tmp_names(ck) if x not in old]
                        break
            if killed:
                break
        elif mode == "term":
            if lines(os.path.join(run, "metrics.jsonl")) >= n:
                os.kill(p.pid, signal.SIGTERM)
                killed = True
                break
        elif mode == "rand":
            if t0 is None and lines(os.path.join(run, "metrics.jsonl")) >= 1:
                t0 = time.monotonic()
            if t0 is not None and time.monotonic() - t0 >= delay:
                os.kill(p.pid, signal.SIGKILL)
                killed = True
                p.wait()
                at_kill = [x for x in tmp_names(ck) if x not in old]
                break
        time.sleep(0.0002)
    p.wait()
    errf.seek(0)
    errtxt = errf.read().decode(errors="replace")
    print(json.dumps({"rc": p.returncode, "killed": killed, "tmp_seen": seen, "tmp_at_kill": at_kill,
                      "stderr": errtxt[-600:]}))


if __name__ == "__main__":
    main()
