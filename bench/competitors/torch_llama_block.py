#!/usr/bin/env python3
"""PyTorch competitor: a 4-layer Llama block stack, forward / full training / LoRA training.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/competitors/torch_llama_block.py --mode full|lora|forward \
        [--repeats 5] [--warmup 2] [--threads 2] [--blas openblas|reference]

BLAS: Debian's torch links netlib reference BLAS here; torch_common.py switches to an
unpacked OpenBLAS when scripts/reference/fetch_openblas.sh has been run (see there).

Workload (same as the TS benchmark): batch 8, seq 128, hidden 512, 8 heads (head_dim 64),
FFN 1408, RoPE (theta 1e4, positions 0..127), SwiGLU, RMSNorm (eps 1e-5), bidirectional
attention without padding (so no mask), input = random hidden states [8,128,512] (no
embedding), final RMSNorm, loss = mean(y^2).
  forward  torch.no_grad() forward only
  full     forward + backward, every weight trainable (norm weights included)
  lora     forward + backward, rank-16 LoRA (alpha 32, scale 2, no dropout) on q,k,v,o,gate,up,down;
           base weights frozen (requires_grad=False, so no weight grads are computed for them)
The optimizer step is not timed (it is not part of the workload).

Attention is explicit matmul + softmax: torch 1.13 has no
torch.nn.functional.scaled_dot_product_attention (added in 2.0). On torch >= 2.0 pass
--sdpa to use it instead (it uses the math/flash CPU kernel; without a mask it is exact).

Prints one JSON line: {"mode", "median_ms", "runs_ms", "peak_rss_mb", ...}.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402

torch_common.setup_process()  # may re-exec with OpenBLAS; must run before `import torch`

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

B, T, C, H, FFN, LAYERS = 8, 128, 512, 8, 1408, 4
D = C // H
EPS, THETA = 1e-5, 10000.0
RANK, ALPHA = 16, 32


class Linear(nn.Module):
    """Bias-free linear with an optional LoRA branch: y = x W^T + scale * (x A^T) B^T."""

    def __init__(self, fin, fout, lora):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fout, fin) * 0.02)
        self.lora = lora
        if lora:
            self.weight.requires_grad_(False)
            # PEFT init: A ~ kaiming-uniform(a=sqrt(5)), B = 0. B = 0 makes the update
            # zero at start but every gradient is still computed, so timing is the same.
            self.lora_A = nn.Parameter(torch.empty(RANK, fin))
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            self.lora_B = nn.Parameter(torch.zeros(fout, RANK))
            self.scale = ALPHA / RANK

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora:
            y = y + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale
        return y


class RMSNorm(nn.Module):
    def __init__(self, n, trainable):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n), requires_grad=trainable)

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


def rotate_half(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), dim=-1)


class Block(nn.Module):
    def __init__(self, lora, sdpa):
        super().__init__()
        full = not lora
        self.ln1, self.ln2 = RMSNorm(C, full), RMSNorm(C, full)
        self.q, self.k, self.v, self.o = (Linear(C, C, lora) for _ in range(4))
        self.gate, self.up = Linear(C, FFN, lora), Linear(C, FFN, lora)
        self.down = Linear(FFN, C, lora)
        self.sdpa = sdpa

    def attn(self, x, cos, sin):
        q = self.q(x).view(B, T, H, D).transpose(1, 2)
        k = self.k(x).view(B, T, H, D).transpose(1, 2)
        v = self.v(x).view(B, T, H, D).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.sdpa:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=False)
        else:
            # Bidirectional, no padding -> no mask at all.
            p = torch.softmax(torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(D)), dim=-1)
            o = torch.matmul(p, v)
        return self.o(o.transpose(1, 2).reshape(B, T, C))

    def forward(self, x, cos, sin):
        x = x + self.attn(self.ln1(x), cos, sin)
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Stack(nn.Module):
    def __init__(self, lora, sdpa):
        super().__init__()
        self.blocks = nn.ModuleList(Block(lora, sdpa) for _ in range(LAYERS))
        self.norm = RMSNorm(C, not lora)
        inv_freq = 1.0 / (THETA ** (torch.arange(0, D, 2).float() / D))
        freqs = torch.arange(T).float()[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())

    def forward(self, x):
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        return self.norm(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["full", "lora", "forward"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference"],
                    help="see torch_common.py (handled before torch is imported)")
    ap.add_argument("--sdpa", action="store_true", help="use F.scaled_dot_product_attention (torch>=2.0)")
    ap.add_argument("--autocast", action="store_true", help="run the step under torch.autocast('cpu', dtype=torch.bfloat16)")
    args = ap.parse_args()
    if args.sdpa and not hasattr(F, "scaled_dot_product_attention"):
        sys.exit("--sdpa needs torch >= 2.0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Stack(lora=args.mode == "lora", sdpa=args.sdpa)
    x = torch.randn(B, T, C)
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    def step():
        if args.autocast:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return step32()
        return step32()

    def step32():
        if args.mode == "forward":
            with torch.no_grad():
                model(x)
            return
        for p in model.parameters():
            p.grad = None  # like optimizer.zero_grad(set_to_none=True)
        loss = model(x).pow(2).mean()
        loss.backward()

    for _ in range(args.warmup):
        step()
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        runs.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({
        "mode": args.mode,
        "median_ms": round(statistics.median(runs), 2),
        "runs_ms": [round(r, 2) for r in runs],
        "min_ms": round(min(runs), 2),  # less sensitive to other processes on shared cores
        "peak_rss_mb": torch_common.peak_rss_mb(),
        "trainable_params": n_trainable,
        "attention": "sdpa" if args.sdpa else "matmul+softmax",
        "autocast": "bfloat16" if args.autocast else None,
        "threads": args.threads, "blas": torch_common.blas_in_use(), "torch": torch.__version__,
        "shape": {"batch": B, "seq": T, "hidden": C, "heads": H, "ffn": FFN, "layers": LAYERS},
    }))


if __name__ == "__main__":
    main()
