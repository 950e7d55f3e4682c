"""A test judge speaking skillrl's JSON-lines protocol. argv[1] picks a
behaviour: ok, crash, hang, garbage, range, flaky (crash once, then ok; needs
argv[2], a marker file), closesleep (close stdin and stdout, then sleep). Not a real judge: score 1 iff response ends with gold."""
import json
import os
import sys
import time

mode = sys.argv[1]
if mode == "closesleep":
    os.close(0)
    os.close(1)
    time.sleep(600)
if mode == "flaky":
    marker = sys.argv[2]
    if not os.path.exists(marker):
        open(marker, "w").close()
        sys.exit(3)
    mode = "ok"
for n, line in enumerate(sys.stdin):
    req = json.loads(line)
    if mode == "crash" and n == 1:
        sys.exit(7)
    if mode == "hang":
        time.sleep(60)
    if mode == "garbage":
        print("this is not json", flush=True)
        continue
    score = 1.0 if req["response"].strip().endswith(req["gold"]) else 0.0
    if mode == "range":
        score = 3.0
    print(json.dumps({"id": req["id"], "score": score}), flush=True)
