#!/usr/bin/env python3
# Test helper: rewrite the records of a skillrl dataset folder in place
# (decompress each shard, apply an edit, recompress, fix the manifest's
# sha256/bytes), so tests can make bad or easy datasets. Not a synthesizer.
#
# usage: dataset_edit.py DIR EDIT [SPLIT]
#   EDIT = drop-answer     delete "answer" from the first record of SPLIT
#          const-answer=V  every record's answer and ground truth become V
#          huge-prompt=M   the first record of SPLIT gets M MiB of text in its last message
#          set-skill=S     the first record of SPLIT says skill S
#          dup-id          the second record of SPLIT takes the first one's id
#          records+1       the manifest lists one record more than SPLIT's first shard holds
import hashlib
import json
import os
import subprocess
import sys


def main():
    d, edit = sys.argv[1], sys.argv[2]
    only = sys.argv[3] if len(sys.argv) > 3 else None
    mpath = os.path.join(d, "manifest.json")
    with open(mpath) as f:
        man = json.load(f)
    for sh in man["shards"]:
        if only and sh["split"] != only:
            continue
        p = os.path.join(d, sh["path"])
        raw = subprocess.run(["zstd", "-dcq", p], check=True, capture_output=True).stdout
        recs = [json.loads(x) for x in raw.decode().splitlines() if x.strip()]
        if edit == "drop-answer":
            del recs[0]["answer"]
        elif edit.startswith("set-skill="):
            recs[0]["skill"] = edit.split("=", 1)[1]
        elif edit == "dup-id":
            recs[1]["id"] = recs[0]["id"]
        elif edit == "records+1":
            pass
        elif edit.startswith("huge-prompt="):
            recs[0]["prompt"][-1]["content"] += "a" * (int(edit.split("=", 1)[1]) << 20)
        elif edit.startswith("const-answer="):
            v = edit.split("=", 1)[1]
            for r in recs:
                r["answer"] = v
                r["reward_model"]["ground_truth"] = v
        else:
            sys.exit("unknown edit " + edit)
        text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in recs).encode()
        comp = subprocess.run(["zstd", "-q", "-3", "-c"], input=text, check=True, capture_output=True).stdout
        with open(p, "wb") as f:
            f.write(comp)
        sh["sha256"] = hashlib.sha256(comp).hexdigest()
        sh["bytes"] = len(comp)
        sh["uncompressed_bytes"] = len(text)
        if edit == "records+1":
            sh["records"] += 1
            man.get("counts", {}).get(sh["skill"], {})[sh["split"]] = sh["records"]
        if edit != "const-answer=" and not edit.startswith("const-answer="):
            break
    with open(mpath, "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
