#!/usr/bin/env python3
"""PyTorch peer for `skillrl bench train --peer torch`: the same llama-style
model in plain float32 PyTorch (what one would write with torch 1.13: no fused
attention, a T x T causal mask), AdamW, forward+backward+step, timed.
Not a correctness reference (ref_model.py is).

Usage: torch_train_peer.py V C L NH NKV HD FF B T STEPS THREADS
Prints one JSON line: {"tokens_per_s": (median step), "seconds": ..., "steps": ...}
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.w = nn.Parameter(torch.ones(c))
        self.eps = eps

    def forward(self, x):
        return self.w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(nn.Module):
    def __init__(self, C, NH, NKV, HD, FF):
        super().__init__()
        self.NH, self.NKV, self.HD = NH, NKV, HD
        self.n1, self.n2 = RMSNorm(C), RMSNorm(C)
        self.q = nn.Linear(C, NH * HD, bias=False)
        self.k = nn.Linear(C, NKV * HD, bias=False)
        self.v = nn.Linear(C, NKV * HD, bias=False)
        self.o = nn.Linear(NH * HD, C, bias=False)
        self.g = nn.Linear(C, FF, bias=False)
        self.u = nn.Linear(C, FF, bias=False)
        self.d = nn.Linear(FF, C, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, T, self.NH, self.HD).transpose(1, 2)
        k = self.k(h).view(B, T, self.NKV, self.HD).transpose(1, 2)
        v = self.v(h).view(B, T, self.NKV, self.HD).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.NH // self.NKV
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(self.HD) + mask
        a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.o(a)
        h = self.n2(x)
        return x + self.d(F.silu(self.g(h)) * self.u(h))


class Model(nn.Module):
    def __init__(self, V, C, L, NH, NKV, HD, FF):
        super().__init__()
        self.emb = nn.Embedding(V, C)
        self.blocks = nn.ModuleList([Block(C, NH, NKV, HD, FF) for _ in range(L)])
        self.norm = RMSNorm(C)
        self.head = nn.Linear(C, V, bias=False)
        self.HD = HD

    def forward(self, idx, tgt):
        B, T = idx.shape
        inv = 1.0 / (10000 ** (torch.arange(0, self.HD, 2).float() / self.HD))
        fr = torch.arange(T).float()[:, None] * inv[None]
        emb = torch.cat([fr, fr], -1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.emb(idx)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        logits = self.head(self.norm(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), tgt.view(-1))


def main():
    V, C, L, NH, NKV, HD, FF, B, T, steps, threads = map(int, sys.argv[1:12])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = Model(V, C, L, NH, NKV, HD, FF)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.1)
    idx = torch.randint(0, V, (B, T))
    tgt = torch.randint(0, V, (B, T))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = m(idx, tgt)
        loss.backward()
        opt.step()

    step()  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[steps // 2] if steps % 2 else 0.5 * (times[steps // 2 - 1] + times[steps // 2])
    # median step, as skillrl's side: robust to load spikes of a shared machine
    print(json.dumps({"tokens_per_s": B * T / med, "seconds": sum(times), "steps": steps}))


if __name__ == "__main__":
    main()
