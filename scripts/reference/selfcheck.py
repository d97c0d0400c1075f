"""Sanity checks for the reference itself (no transformers available to diff against).

    /usr/bin/python3 scripts/reference/selfcheck.py [--fixtures test/fixtures/parity]

1. safetensors round trip (F32/F16/BF16, 8-byte aligned data start).
2. llama3 inv_freq equals Meta's original per-frequency `apply_scaling` loop.
3. Per fixture: RoPE only sees relative positions and pads are masked as keys, so the
   real tokens of a left-padded row must equal the same tokens run alone (T = L),
   in both modes. This checks masks and positions together.
4. Causal mode: changing the last token leaves earlier outputs unchanged.
5. expected.safetensors reproduces from the folder (loader incl. shards/bf16).
"""
import argparse
import json
import math
import os
import struct
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import save_file, load_file  # noqa: E402
from hf_model import load_model, rope_inv_freq, Config  # noqa: E402


def check_io():
    g = torch.Generator().manual_seed(0)
    ts = {"a": torch.randn(3, 5, generator=g), "b": torch.randn(7, generator=g).to(torch.bfloat16),
          "c": torch.randn(2, 2, 2, generator=g).half()}
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "x.safetensors")
        save_file(ts, p)
        with open(p, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
        assert (8 + n) % 8 == 0
        back = load_file(p)
        for k in ts:
            assert back[k].dtype == ts[k].dtype and torch.equal(back[k], ts[k]), k
    print("io: ok")


def check_llama3():
    cfg = Config(dict(model_type="llama", vocab_size=8, hidden_size=256, intermediate_size=8,
                      num_hidden_layers=1, num_attention_heads=2, rope_theta=500000.0,
                      rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                        high_freq_factor=4.0, original_max_position_embeddings=8192)))
    ours, _ = rope_inv_freq(cfg)
    base = 1.0 / (500000.0 ** (torch.arange(0, 128, 2).float() / 128))
    ref = []
    for f in base.tolist():  # Meta llama3 reference code, per frequency
        wavelen = 2 * math.pi / f
        if wavelen < 8192 / 4.0:
            ref.append(f)
        elif wavelen > 8192 / 1.0:
            ref.append(f / 8.0)
        else:
            s = (8192 / wavelen - 1.0) / (4.0 - 1.0)
            ref.append((1 - s) * f / 8.0 + s * f)
    err = (ours - torch.tensor(ref)).abs().max().item()
    assert err < 1e-9, err
    print(f"llama3 rope: ok (max err {err:.1e})")


def check_fixture(d):
    name = os.path.basename(d)
    m = load_model(d)
    inp = json.load(open(os.path.join(d, "inputs.json")))
    ids = torch.tensor(inp["input_ids"])
    am = torch.tensor(inp["attention_mask"])
    exp = load_file(os.path.join(d, "expected.safetensors"))
    worst = 0.0
    for mode in ("causal", "bidirectional"):
        h, lg = m.forward(ids, am, mode)
        assert torch.equal(h, exp[f"{mode}.hidden"]) and torch.equal(lg, exp[f"{mode}.logits"]), (name, mode)
        for b in range(ids.shape[0]):
            L = int(am[b].sum())
            h1, _ = m.forward(ids[b:b + 1, -L:], am[b:b + 1, -L:], mode)
            worst = max(worst, (h1[0] - h[b, -L:]).abs().max().item())
        if mode == "causal":
            ids2 = ids.clone()
            ids2[:, -1] = (ids2[:, -1] + 1) % m.cfg.vocab_size
            h2, _ = m.forward(ids2, am, mode)
            # Only real query rows: fully masked pad rows get a uniform softmax over
            # ALL keys (every score is finfo.min, as in HF), so they do see the future.
            real = am[:, :-1].bool()
            assert torch.equal(h2[:, :-1][real], h[:, :-1][real]), "causal leak"
            assert not torch.equal(h2[:, -1], h[:, -1])
        else:
            ids2 = ids.clone()
            ids2[:, -1] = (ids2[:, -1] + 1) % m.cfg.vocab_size
            h2, _ = m.forward(ids2, am, mode)
            assert not torch.equal(h2[0, 0], h[0, 0]), "bidirectional should see the future"
    assert worst < 1e-4, (name, worst)
    print(f"{name}: ok (padded vs unpadded max diff {worst:.2e})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default=os.path.join(HERE, "..", "..", "test", "fixtures", "parity"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    check_io()
    check_llama3()
    for n in sorted(os.listdir(args.fixtures)):
        d = os.path.join(args.fixtures, n)
        if os.path.isfile(os.path.join(d, "config.json")):
            check_fixture(d)


if __name__ == "__main__":
    main()
