"""PyTorch reference for rl/grpo's policy loss: the verl/DAPO formulas with
autograd for dLoss/dlogp. Reads a JSON batch, prints {"loss":..,"grad":[..]}.
Not used at run time; only tests call it."""
import json
import sys

import torch

b = json.load(open(sys.argv[1]))
lp = torch.tensor(b["logp"], dtype=torch.float64, requires_grad=True)
lpo = torch.tensor(b["logp_old"], dtype=torch.float64)
lpr = torch.tensor(b["logp_ref"], dtype=torch.float64)
mask = torch.tensor(b["mask"], dtype=torch.float64)
starts = b["seq_start"]
adv_seq = b["adv"]
adv = torch.zeros_like(lp)
seq_id = torch.zeros(len(b["logp"]), dtype=torch.long)
for s in range(len(adv_seq)):
    adv[starts[s]:starts[s + 1]] = adv_seq[s]
    seq_id[starts[s]:starts[s + 1]] = s

# verl core_algos.compute_policy_loss (vanilla, clip-higher, no dual clip)
ratio = torch.exp(lp - lpo)
pg1 = -adv * ratio
pg2 = -adv * torch.clamp(ratio, 1 - b["clip_low"], 1 + b["clip_high"])
pg = torch.maximum(pg1, pg2)
# k3 ("low_var_kl") per token
kl = torch.exp(lpr - lp) - (lpr - lp) - 1
per_tok = pg + b["kl_coef"] * kl

def agg(x):
    mode = b["agg"]
    if mode == "token-mean":
        return (x * mask).sum() / mask.sum()
    seqs = []
    for s in range(len(adv_seq)):
        m = mask[starts[s]:starts[s + 1]]
        if m.sum() == 0:
            continue
        v = (x[starts[s]:starts[s + 1]] * m).sum()
        seqs.append(v / m.sum() if mode == "seq-mean-token-mean" else v)
    return torch.stack(seqs).mean()

loss = agg(per_tok)
loss.backward()
print(json.dumps({"loss": loss.item(), "grad": lp.grad.tolist()}))
