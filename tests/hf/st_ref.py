"""Reference safetensors files for test_safetensors, written the way HF's
serializer does (no `safetensors` package needed); values converted by torch.

usage: st_ref.py OUTDIR
writes OUTDIR/ref.safetensors  tensors a (F32 [2,3]), b (BF16 [5]),
                               c (F16 [2,2]), d (I64 [2]), e (F32 [], scalar)
       OUTDIR/ref_inputs.f32   the f32 inputs of a, b, c concatenated
       OUTDIR/ref_values.f32   what a, b, c read back as f32 (torch's rounding)
       OUTDIR/conv_in.f32      N test floats (edge cases + random)
       OUTDIR/conv_bf16.u16    torch's bf16 bits for each
       OUTDIR/conv_f16.u16     torch's f16 bits for each
"""
import json
import struct
import sys

import numpy as np
import torch

# HF's Dtype order (increasing alignment); the serializer sorts descending.
ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
         "I32", "U32", "F32", "F64", "I64", "U64"]


def raw(t):
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def serialize(tensors, metadata):
    """tensors: dict name -> (dtype name, shape, bytes). HF layout."""
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(kv[1][0]), kv[0]))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    off = 0
    for name, (dt, shape, data) in items:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(data)]}
        off += len(data)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(d for _, (_, _, d) in items)


def main():
    out = sys.argv[1]
    a = torch.tensor([[1.0, -2.5, 3.25], [1e-8, 65504.0, -0.0]], dtype=torch.float32)
    b_in = torch.tensor([1.00390625, 1.01171875, -3.14159265, 1e-40, 3.0e38], dtype=torch.float32)
    c_in = torch.tensor([[0.1, -65519.0], [6.0e-8, 1234.5678]], dtype=torch.float32)
    b = b_in.to(torch.bfloat16)
    c = c_in.to(torch.float16)
    d = torch.tensor([7, -9], dtype=torch.int64)
    e = torch.tensor(2.5, dtype=torch.float32)
    tensors = {
        "a": ("F32", a.shape, raw(a)),
        "b": ("BF16", b.shape, raw(b)),
        "c": ("F16", c.shape, raw(c)),
        "d": ("I64", d.shape, raw(d)),
        "e": ("F32", e.shape, raw(e)),
    }
    with open(f"{out}/ref.safetensors", "wb") as f:
        f.write(serialize(tensors, {"format": "pt"}))
    # What the C writer must reproduce byte for byte from the same f32 inputs:
    # a, b (stored BF16), c (stored F16), e; no integer tensor.
    w = {k: tensors[k] for k in ("a", "b", "c", "e")}
    with open(f"{out}/ref_writer.safetensors", "wb") as f:
        f.write(serialize(w, {"format": "pt", "note": "x\"y\\z\n"}))
    with open(f"{out}/ref_inputs.f32", "wb") as f:
        f.write(torch.cat([a.flatten(), b_in, c_in.flatten()]).numpy().astype("<f4").tobytes())
    with open(f"{out}/ref_values.f32", "wb") as f:
        f.write(torch.cat([a.flatten(), b.float(), c.float().flatten()]).numpy().astype("<f4").tobytes())

    # Conversion cross-check: edge cases, ties, subnormals, overflow, random.
    edge = [0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"), 65504.0, 65519.99, 65520.0, 65536.0,
            1e-5, 6.1e-5, 6.0e-8, 5.96e-8, 2.98e-8, 2.9802322387695312e-08, 1e-45, 1e-38, 3.4e38,
            1.00390625, 1.01171875, 1.0078125, 1.0234375, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26,
            2.0 ** -14, 2.0 ** -14 * (1 - 2.0 ** -11), 0.333333343]
    rng = np.random.default_rng(1234)
    bits = rng.integers(0, 2 ** 32, size=20000, dtype=np.uint64).astype(np.uint32)
    rnd = bits.view(np.float32)
    rnd = rnd[np.isfinite(rnd)]
    scaled = (rng.standard_normal(20000) * np.exp(rng.uniform(-20, 12, 20000))).astype(np.float32)
    x = np.concatenate([np.array(edge, dtype=np.float32), rnd, scaled]).astype("<f4")
    t = torch.from_numpy(x.copy())
    with open(f"{out}/conv_in.f32", "wb") as f:
        f.write(x.tobytes())
    with open(f"{out}/conv_bf16.u16", "wb") as f:
        f.write(t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes())
    with open(f"{out}/conv_f16.u16", "wb") as f:
        f.write(t.to(torch.float16).view(torch.int16).numpy().astype("<i2").tobytes())


if __name__ == "__main__":
    main()
