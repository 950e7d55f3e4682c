#!/usr/bin/env python3
"""Plain-PyTorch reference of skillrl's decoder (llama, qwen2, qwen3) for the
model tests. Not transformers: the same formulas, written out, in float64.

Usage: ref_model.py EXCHANGE.safetensors...
The file (written by tests/model/test_model_ref.c) holds the config as JSON in
__metadata__["config"], the weights under their Hugging Face names, the batch
(batch.tokens, batch.targets, batch.pos, batch.doc as F32-coded ints,
batch.coef) and skillrl's results (out.logp, out.entropy, out.loss,
out.logits when small, grad.<name> for every parameter). Prints the worst
relative error per quantity and exits 1 if any exceeds its tolerance.
"""
import json
import math
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

# Tolerances: skillrl computes in fp32, this reference in fp64. Errors are
# measured relative to the largest magnitude of the reference tensor.
TOL = {"logits": 2e-5, "logp": 2e-5, "entropy": 2e-5, "loss": 1e-5, "grad": 1e-4}


def read_safetensors(path):
    """Minimal reader (the `safetensors` package is not installed here)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        arr = np.frombuffer(raw[base + a:base + b], dtype="<f4").reshape(info["shape"])
        out[name] = arr.copy()
    return meta, out


def rope_inv_freq(cfg):
    """transformers' ROPE_INIT_FUNCTIONS: default, linear, llama3, yarn."""
    HD, base = cfg["head_dim"], cfg["rope_theta"]
    kind = cfg.get("rope_type", "default")
    f32 = torch.float32
    inv = 1.0 / (base ** (torch.arange(0, HD, 2, dtype=torch.int64).to(f32) / HD))
    attn = 1.0
    if kind == "linear":
        inv = inv / cfg["factor"]
    elif kind == "llama3":
        factor, lo, hi = cfg["factor"], cfg["low_freq_factor"], cfg["high_freq_factor"]
        old = cfg["original_max_position_embeddings"]
        lo_wl, hi_wl = old / lo, old / hi
        wl = 2 * math.pi / inv
        inv_l = torch.where(wl > lo_wl, inv / factor, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wl < hi_wl) * ~(wl > lo_wl)
        inv = torch.where(medium, smoothed, inv_l)
    elif kind == "yarn":
        factor = cfg["factor"]
        orig = cfg.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        bf, bs = cfg.get("beta_fast", 32), cfg.get("beta_slow", 1)
        attn = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0

        def corr_dim(rot):
            return (HD * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low, high = max(math.floor(corr_dim(bf)), 0), min(math.ceil(corr_dim(bs)), HD - 1)
        if low == high:
            high += 0.001
        pos_freqs = base ** (torch.arange(0, HD, 2).to(f32) / HD)
        extra, inter = 1.0 / pos_freqs, 1.0 / (factor * pos_freqs)
        ramp = torch.clamp((torch.arange(HD // 2, dtype=f32) - low) / (high - low), 0, 1)
        ef = 1 - ramp
        inv = inter * (1 - ef) + extra * ef
    return inv.to(torch.float32), attn


def rope_cos_sin(pos, cfg):
    inv, attn = rope_inv_freq(cfg)
    freqs = pos.to(torch.float32)[:, None] * inv[None, :]  # float32 like HF
    emb = torch.cat([freqs, freqs], dim=-1)
    return (emb.cos() * attn).double(), (emb.sin() * attn).double()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def forward(cfg, W, tokens, pos, doc, B, T):
    """Per-token logits [B*T, V] of the reference decoder."""
    C, NH, NKV, HD = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, L = cfg["rms_norm_eps"], cfg["num_hidden_layers"]
    x = W["model.embed_tokens.weight"][tokens]  # [N, C]
    cos, sin = rope_cos_sin(pos, cfg)  # [N, HD]
    # mask[b, i, j]: same row, j <= i, same document
    idx = torch.arange(T)
    dd = doc.view(B, T)
    allowed = (idx[None, :, None] >= idx[None, None, :]) & (dd[:, :, None] == dd[:, None, :])
    for l in range(L):
        pre = "model.layers.%d." % l
        h = rmsnorm(x, W[pre + "input_layernorm.weight"], eps)

        def proj(name):
            y = h @ W[pre + "self_attn.%s.weight" % name].T
            b = W.get(pre + "self_attn.%s.bias" % name)
            return y + b if b is not None else y

        q = proj("q_proj").view(-1, NH, HD)
        k = proj("k_proj").view(-1, NKV, HD)
        v = proj("v_proj").view(-1, NKV, HD)
        if cfg.get("qk_norm"):
            q = rmsnorm(q, W[pre + "self_attn.q_norm.weight"], eps)
            k = rmsnorm(k, W[pre + "self_attn.k_norm.weight"], eps)
        q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
        k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
        rep = NH // NKV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        q = q.view(B, T, NH, HD).transpose(1, 2)
        k = k.view(B, T, NH, HD).transpose(1, 2)
        v = v.view(B, T, NH, HD).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
        s = s.masked_fill(~allowed[:, None], float("-inf"))
        p = torch.softmax(s, dim=-1)
        att = (p @ v).transpose(1, 2).reshape(B * T, NH * HD)
        x = x + att @ W[pre + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, W[pre + "post_attention_layernorm.weight"], eps)
        g = h @ W[pre + "mlp.gate_proj.weight"].T
        u = h @ W[pre + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[pre + "mlp.down_proj.weight"].T
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["lm_head.weight"] if "lm_head.weight" in W else W["model.embed_tokens.weight"]
    return x @ head.T


def check_file(path):
    """@return True if skillrl's results in PATH match the reference."""
    meta, T_ = read_safetensors(path)
    cfg = json.loads(meta["config"])
    B, T = int(meta["B"]), int(meta["T"])
    W = {n: torch.tensor(a, dtype=torch.float64, requires_grad=True)
         for n, a in T_.items() if not n.startswith(("batch.", "out.", "grad."))}
    tokens = torch.tensor(T_["batch.tokens"]).long()
    targets = torch.tensor(T_["batch.targets"]).long()
    pos = torch.tensor(T_["batch.pos"]).long()
    doc = torch.tensor(T_["batch.doc"]).long()
    coef = torch.tensor(T_["batch.coef"]).double()
    logits = forward(cfg, W, tokens, pos, doc, B, T)
    lsm = torch.log_softmax(logits, dim=-1)
    valid = targets >= 0
    logp = torch.where(valid, lsm.gather(1, targets.clamp(min=0)[:, None])[:, 0], torch.zeros(()))
    ent = torch.where(valid, -(lsm.exp() * lsm).sum(-1), torch.zeros(()))
    loss = (coef * -logp).sum()
    loss.backward()

    worst = {}
    failed = []

    def cmp(kind, name, mine, ref):
        ref = np.asarray(ref, dtype=np.float64)
        mine = np.asarray(mine, dtype=np.float64).reshape(ref.shape)
        scale = max(np.abs(ref).max(), 1e-6)
        err = float(np.abs(mine - ref).max() / scale)
        if err > worst.get(kind, (-1, ""))[0]:
            worst[kind] = (err, name)
        if not np.isfinite(err) or err > TOL[kind]:
            failed.append("%s %s: relative error %.3g > %.1g" % (kind, name, err, TOL[kind]))

    if "out.logits" in T_:
        cmp("logits", "logits", T_["out.logits"], logits.detach().numpy())
    cmp("logp", "logp", T_["out.logp"], logp.detach().numpy())
    cmp("entropy", "entropy", T_["out.entropy"], ent.detach().numpy())
    cmp("loss", "loss", T_["out.loss"], [loss.item()])
    for n, w in W.items():
        if "grad." + n not in T_:
            failed.append("grad %s: missing from skillrl's output" % n)
            continue
        cmp("grad", n, T_["grad." + n], w.grad.numpy())
    for n in T_:
        if n.startswith("grad.") and n[5:] not in W:
            failed.append("grad %s: skillrl has a gradient for an unknown tensor" % n)
    print("== %s (B=%d T=%d)" % (meta.get("label", path), B, T))
    for kind, (err, name) in sorted(worst.items()):
        print("%-8s worst relative error %.3g (%s), tolerance %.1g" % (kind, err, name, TOL[kind]))
    for f in failed[:20]:
        print("FAIL", f)
    return not failed


def main():
    ok = [check_file(p) for p in sys.argv[1:]]
    sys.exit(0 if ok and all(ok) else 1)


if __name__ == "__main__":
    main()
