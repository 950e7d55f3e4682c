#!/usr/bin/env python3
"""Write a minimal byte-level BPE tokenizer.json (256 byte tokens, a few
merges) for the MTP CLI tests. Not a real tokenizer. Usage: PATH"""
import json
import sys


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


m = bytes_to_unicode()
vocab = {m[b]: b for b in range(256)}
merges = []
for a, b in [("t", "h"), ("th", "e"), ("Ġ", "t"), ("e", "r"), ("i", "n")]:
    vocab[a + b] = len(vocab)
    merges.append(a + " " + b)
tok = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": None,
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(tok, f, ensure_ascii=False)
