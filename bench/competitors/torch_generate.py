#!/usr/bin/env python3
"""PyTorch competitor: greedy generation with a KV cache (a hand-written cached loop in torch).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/competitors/torch_generate.py --model DIR \
        --batch 1 --prompt 16 --tokens 32 [--repeats 3] [--warmup 1] [--dtype float32|bfloat16] [--threads 2]

The weights and blocks are scripts/reference/hf_model.py's (plain PyTorch); the loop is the usual
cached decoder: the prompt runs once (causal), then each step runs one token per row, appending
its keys and values to a preallocated cache [B, KVH, capacity, D] and attending over the filled
part, as transformers' DynamicCache does. Prompts are `batch` rows of `prompt` seeded random ids
(all the same length, no padding); every row generates exactly `tokens` ids (no stop id).

Output (one JSON line): median_ms / runs_ms of one whole generation (prefill + all steps),
tokens_per_s = batch*tokens / median, prefill_ms, peak_rss_mb, the generated ids' checksum.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_common  # noqa: E402

torch_common.setup_process()  # may re-exec with OpenBLAS; must run before `import torch`

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(torch_common.REPO, "scripts", "reference"))
from hf_model import HFDecoder, read_config, rope_cos_sin, rotate_half  # noqa: E402
from safetensors_io import load_hf_folder_tensors  # noqa: E402


class CachedDecoder:
    def __init__(self, m: HFDecoder, batch: int, capacity: int):
        self.m = m
        c = m.cfg
        self.cache_k = [torch.zeros(batch, c.num_key_value_heads, capacity, c.head_dim, dtype=m.dtype) for _ in range(c.num_hidden_layers)]
        self.cache_v = [torch.zeros_like(k) for k in self.cache_k]
        self.cos, self.sin = rope_cos_sin(m.inv_freq, capacity, m.dtype)
        self.length = 0

    @torch.no_grad()
    def step(self, ids):
        m, c = self.m, self.m.cfg
        B, T = ids.shape
        H, KV, D = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        s0, s1 = self.length, self.length + T
        cos, sin = self.cos[s0:s1], self.sin[s0:s1]
        h = F.embedding(ids, m.w["embed_tokens.weight"])
        if c.model_type == "gemma":
            h = h * torch.tensor(c.hidden_size ** 0.5, dtype=h.dtype)
        mask = None
        if T > 1:  # the prompt: causal over itself (the cache is empty)
            mask = torch.full((T, T), float("-inf"), dtype=m.dtype).triu(1)
        for i in range(c.num_hidden_layers):
            x = m.rms_norm(h, m.w[f"layers.{i}.input_layernorm.weight"])
            p = f"layers.{i}.self_attn"
            q = m.linear(x, p + ".q_proj", c.qkv_bias).view(B, T, H, D).transpose(1, 2)
            k = m.linear(x, p + ".k_proj", c.qkv_bias).view(B, T, KV, D).transpose(1, 2)
            v = m.linear(x, p + ".v_proj", c.qkv_bias).view(B, T, KV, D).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            self.cache_k[i][:, :, s0:s1] = k
            self.cache_v[i][:, :, s0:s1] = v
            K, V = self.cache_k[i][:, :, :s1], self.cache_v[i][:, :, :s1]
            rep = H // KV
            if rep > 1:
                K = K.repeat_interleave(rep, dim=1)
                V = V.repeat_interleave(rep, dim=1)
            scores = torch.matmul(q, K.transpose(2, 3)) / math.sqrt(D)
            if mask is not None:
                scores = scores + mask
            out = torch.matmul(torch.softmax(scores, dim=-1), V).transpose(1, 2).reshape(B, T, H * D)
            h = h + m.linear(out, p + ".o_proj", c.o_bias)
            h = h + m.mlp(m.rms_norm(h, m.w[f"layers.{i}.post_attention_layernorm.weight"]), i)
        self.length = s1
        h = m.rms_norm(h[:, -1], m.w["norm.weight"])
        return F.linear(h, m.w["lm_head.weight"]).float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    t0 = time.perf_counter()
    model = HFDecoder(read_config(args.model), load_hf_folder_tensors(args.model), dtype)
    load_s = time.perf_counter() - t0
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(3, model.cfg.vocab_size, (args.batch, args.prompt), generator=g)

    def run():
        dec = CachedDecoder(model, args.batch, args.prompt + args.tokens)
        ids, out = prompt, []
        tp = time.perf_counter()
        for n in range(args.tokens):
            nxt = torch.argmax(dec.step(ids), dim=-1)
            if n == 0:
                run.prefill_ms = (time.perf_counter() - tp) * 1000
            out.append(nxt)
            ids = nxt[:, None]
        return torch.stack(out, 1)

    for _ in range(args.warmup):
        run()
    runs, gen = [], None
    for _ in range(args.repeats):
        t = time.perf_counter()
        gen = run()
        runs.append((time.perf_counter() - t) * 1000)
    med = statistics.median(runs)
    print(json.dumps({
        "torch": torch.__version__, "blas": torch_common.blas_in_use(), "dtype": args.dtype,
        "batch": args.batch, "prompt": args.prompt, "tokens": args.tokens, "load_s": round(load_s, 2),
        "median_ms": round(med, 1), "runs_ms": [round(r, 1) for r in runs], "prefill_ms": round(run.prefill_ms, 1),
        "tokens_per_s": round(args.batch * args.tokens / (med / 1000), 2),
        "ids_checksum": int(gen.sum()), "first_ids": gen[0, :8].tolist(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
