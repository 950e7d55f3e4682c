#!/usr/bin/env python3
"""Plain-PyTorch (float64) reference of skillrl's MTP heads: K chained
DeepSeek-V3-style modules, CE + top-N self-distillation loss, autograd
gradients of every head tensor. Not transformers, not skillrl's code.

Usage: ref_mtp.py EXCHANGE.safetensors  (written by tests/mtp/test_mtp_ref.c)
Metadata: config (config.json-like JSON), B, T, K, alpha, beta, topn, tau.
Tensors: main model's embed / norm / lm_head, in.h0 [N, C] (main residual
before model.norm), batch.tokens [N], batch.len [B], the heads under their
mtp.{k}.* names, skillrl's out.loss [1], out.ce [K], out.kl [K] and
grad.<name>. Prints the worst relative error per kind; exit 1 on failure.
"""
import json
import math
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
TOL = {"loss": 1e-5, "ce": 1e-5, "kl": 1e-4, "grad": 2e-4}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(info["shape"]).copy()
    return meta, out


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def block(cfg, W, pre, x, B, T, cos, sin):
    NH, NKV, HD, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    h = rmsnorm(x, W[pre + "input_layernorm.weight"], eps)

    def proj(name):
        y = h @ W[pre + "self_attn.%s.weight" % name].T
        b = W.get(pre + "self_attn.%s.bias" % name)
        return y + b if b is not None else y

    q = proj("q_proj").view(-1, NH, HD)
    k = proj("k_proj").view(-1, NKV, HD)
    v = proj("v_proj").view(-1, NKV, HD)
    if cfg["qk_norm"]:
        q = rmsnorm(q, W[pre + "self_attn.q_norm.weight"], eps)
        k = rmsnorm(k, W[pre + "self_attn.k_norm.weight"], eps)
    q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
    k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
    rep = NH // NKV
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    q, k, v = (t.view(B, T, NH, HD).transpose(1, 2) for t in (q, k, v))
    s = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    s = s.masked_fill(~causal, float("-inf"))
    att = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B * T, NH * HD)
    x = x + att @ W[pre + "self_attn.o_proj.weight"].T
    h = rmsnorm(x, W[pre + "post_attention_layernorm.weight"], eps)
    g = h @ W[pre + "mlp.gate_proj.weight"].T
    u = h @ W[pre + "mlp.up_proj.weight"].T
    return x + (torch.nn.functional.silu(g) * u) @ W[pre + "mlp.down_proj.weight"].T


def main():
    meta, X = read_safetensors(sys.argv[1])
    cfg = json.loads(meta["config"])
    B, T, K = int(meta["B"]), int(meta["T"]), int(meta["K"])
    alpha, beta, topn, tau = float(meta["alpha"]), float(meta["beta"]), int(meta["topn"]), float(meta["tau"])
    eps, HD = cfg["rms_norm_eps"], cfg["head_dim"]
    W = {n: torch.tensor(a, dtype=torch.float64) for n, a in X.items() if n.startswith("mtp.")}
    for w in W.values():
        w.requires_grad_(True)
    E = torch.tensor(X["model.embed_tokens.weight"], dtype=torch.float64)
    fnorm = torch.tensor(X["model.norm.weight"], dtype=torch.float64)
    wout = torch.tensor(X["lm_head.weight"], dtype=torch.float64) if "lm_head.weight" in X else E
    h0 = torch.tensor(X["in.h0"], dtype=torch.float64)
    tok = torch.tensor(X["batch.tokens"]).long().view(B, T)
    lens = torch.tensor(X["batch.len"]).long()
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, HD, 2, dtype=torch.int64).to(torch.float32) / HD))
    pos = torch.arange(T).repeat(B)
    fr = pos.to(torch.float32)[:, None] * inv[None, :]
    emb_ = torch.cat([fr, fr], -1)
    cos, sin = emb_.cos().double(), emb_.sin().double()
    zt = rmsnorm(h0, fnorm, eps) @ wout.T  # teacher logits [N, V], no grad
    tl, ti = zt.topk(topn, dim=-1)
    hprev, total = h0, 0.0
    ces, kls = [], []
    for k in range(1, K + 1):
        pre = "mtp.%d." % k
        tk = torch.zeros(B, T, dtype=torch.long)
        tg = torch.full((B, T), -1, dtype=torch.long)
        for b in range(B):
            L = int(lens[b])
            for i in range(T):
                if i + k < L:
                    tk[b, i] = tok[b, i + k]
                if i + k + 1 < L:
                    tg[b, i] = tok[b, i + k + 1]
        tk, tg = tk.view(-1), tg.view(-1)
        en = rmsnorm(E[tk], W[pre + "enorm.weight"], eps)
        hn = rmsnorm(hprev, W[pre + "hnorm.weight"], eps)
        u = torch.cat([en, hn], -1) @ W[pre + "eh_proj.weight"].T
        out = block(cfg, W, pre + "block.", u, B, T, cos, sin)
        z = rmsnorm(out, fnorm, eps) @ wout.T
        valid = (tg >= 0).nonzero()[:, 0]
        zv = z[valid]
        ce = -(torch.log_softmax(zv, -1).gather(1, tg[valid][:, None])[:, 0])
        lpt = torch.log_softmax(tl[valid + k] / tau, -1)
        lq = torch.log_softmax(zv / tau, -1).gather(1, ti[valid + k])
        kl = (lpt.exp() * (lpt - lq)).sum(-1)
        total = total + (alpha * ce + beta * tau * tau * kl).mean()
        ces.append(ce.mean().item())
        kls.append(kl.mean().item())
        hprev = out
    total.backward()

    worst, failed = {}, []

    def cmp(kind, name, mine, ref):
        ref = np.asarray(ref, dtype=np.float64)
        mine = np.asarray(mine, dtype=np.float64).reshape(ref.shape)
        scale = max(np.abs(ref).max(), 1e-6)
        err = float(np.abs(mine - ref).max() / scale)
        if err > worst.get(kind, (-1, ""))[0]:
            worst[kind] = (err, name)
        if not np.isfinite(err) or err > TOL[kind]:
            failed.append("%s %s: relative error %.3g > %.1g" % (kind, name, err, TOL[kind]))

    cmp("loss", "loss", X["out.loss"], [total.item()])
    cmp("ce", "ce", X["out.ce"], ces)
    if beta > 0:
        cmp("kl", "kl", X["out.kl"], kls)
    for n, w in W.items():
        if "grad." + n not in X:
            failed.append("grad %s: missing from skillrl's output" % n)
            continue
        cmp("grad", n, X["grad." + n], w.grad.numpy())
    for kind, (err, name) in sorted(worst.items()):
        print("%-5s worst relative error %.3g (%s), tolerance %.1g" % (kind, err, name, TOL[kind]))
    for f in failed[:20]:
        print("FAIL", f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
