#!/usr/bin/env python3
"""torch.optim.AdamW + clip_grad_norm_ + the warmup/cosine schedule, as the
reference for skillrl's optimizer. Not a model: tensors come from the file.

Usage: ref_optim.py EXCHANGE.safetensors
Tensors: p0.<i> (initial), g<k>.<i> (gradient at step k), p<K>.<i> (skillrl's
result after K steps), decay.<i> (1 or 0), lrs (skillrl's schedule values).
Metadata "config": lr, betas, eps, weight_decay, grad_clip, warmup, total, min_ratio.
"""
import json
import math
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ref_model import read_safetensors  # noqa: E402


def main():
    meta, T = read_safetensors(sys.argv[1])
    c = json.loads(meta["config"])
    K = int(meta["B"])
    n = len([k for k in T if k.startswith("p0.")])
    params = [torch.tensor(T["p0.%d" % i], dtype=torch.float32, requires_grad=True) for i in range(n)]
    dec = [p for i, p in enumerate(params) if T["decay.%d" % i][0] > 0]
    nodec = [p for i, p in enumerate(params) if T["decay.%d" % i][0] == 0]
    opt = torch.optim.AdamW([{"params": dec, "weight_decay": c["weight_decay"]},
                             {"params": nodec, "weight_decay": 0.0}],
                            lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"])

    def lr_at(step):
        if step < c["warmup"]:
            return c["lr"] * (step + 1) / c["warmup"]
        prog = (step - c["warmup"]) / (c["total"] - c["warmup"])
        return c["lr"] * (c["min_ratio"] + (1 - c["min_ratio"]) * 0.5 * (1 + math.cos(math.pi * min(prog, 1.0))))

    fails = []
    for k in range(K):
        for i, p in enumerate(params):
            p.grad = torch.tensor(T["g%d.%d" % (k, i)], dtype=torch.float32)
        torch.nn.utils.clip_grad_norm_(params, c["grad_clip"])
        lr = lr_at(k)
        if abs(lr - T["lrs"][k]) > 1e-6 * c["lr"]:
            fails.append("lr at step %d: skillrl %.9g torch-side %.9g" % (k, T["lrs"][k], lr))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
    worst = 0.0
    for i, p in enumerate(params):
        mine = torch.tensor(T["p%d.%d" % (K, i)])
        d = (p.detach() - mine).abs().max().item()
        # parameters move by ~lr per step; fp32 rounding is far below that
        worst = max(worst, d)
        if d > 1e-6:
            fails.append("param %d after %d steps: max diff %.3g" % (i, K, d))
    print("adamw worst abs diff %.3g over %d steps (tolerance 1e-6)" % (worst, K))
    for f in fails:
        print("FAIL", f)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
