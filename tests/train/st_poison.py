#!/usr/bin/env python3
# Test helper: copy a model directory, setting every element of one tensor
# of model.safetensors (F32) to a value (inf, nan, 1e30...), to provoke
# non-finite steps. Not a converter. usage: st_poison.py SRC DST TENSOR VALUE
import json
import os
import shutil
import struct
import sys

src, dst, name, val = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
shutil.copytree(src, dst)
p = os.path.join(dst, "model.safetensors")
b = bytearray(open(p, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
t = h[name]
assert t["dtype"] == "F32", t
a, e = t["data_offsets"]
b[8 + n + a:8 + n + e] = struct.pack("<f", val) * ((e - a) // 4)
open(p, "wb").write(bytes(b))
