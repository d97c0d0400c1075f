#!/usr/bin/env python3
"""PyTorch competitor: load an HF checkpoint and run the encoder forward (LLM2Vec-style).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/competitors/torch_forward.py --model DIR \
        --batch 8 --seq 128 [--repeats 3] [--warmup 1] [--dtype float32|bfloat16] [--threads 2]
        [--quantize int8] [--bench-ids] [--dump FILE]

Model: scripts/reference/hf_model.py (plain PyTorch, eager matmul+softmax attention).
Input: random token ids [batch, seq] (seeded), all real (attention_mask all ones),
bidirectional attention; output: the final hidden states after the last norm. The
lm_head is NOT applied (an encoder does not need it).

Compute dtype: float32 by default. bf16/f16 checkpoints are upcast at load time, tensor by
tensor. That is the fair comparison with a float32 engine. `--dtype bfloat16` keeps bf16
weights and activations (oneDNN bf16 GEMM). On the 2-core AVX-512 (no avx512_bf16) dev box
it ran at about the same speed as f32 for Sheared-LLaMA-1.3B, with half the RSS and a much
faster load (no upcast), so report both.

`--quantize int8`: PyTorch's dynamic int8 quantization (torch.ao.quantization.quantize_dynamic,
int8 weights with per-tensor scales, activations quantized per call) of every projection, as
nn.Linear modules that replace HFDecoder.linear; the engine is fbgemm where the build has it
(Debian's has onednn only). Timed as part of load. `--bench-ids`: bench/common.ts benchIds'
ids (same seed) instead of torch.randint, so the output can be compared with our worker's;
`--dump FILE` (with --pool mean) writes the last run's pooled rows (batch x hidden, f32).

Output (one JSON line): load_s (read safetensors + convert + build), forward median_ms /
runs_ms, tokens_per_s = batch*seq / median, peak_rss_mb (includes load), blas in use.
Uses the BLAS switch in torch_common.py (OpenBLAS when unpacked, see there).
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_common  # noqa: E402

torch_common.setup_process()  # may re-exec with OpenBLAS; must run before `import torch`

import torch  # noqa: E402

sys.path.insert(0, os.path.join(torch_common.REPO, "scripts", "reference"))
from hf_model import HFDecoder, read_config  # noqa: E402
from safetensors_io import load_hf_folder_tensors  # noqa: E402


def quantize_dynamic_int8(model):
    """Replaces HFDecoder.linear by dynamically quantized nn.Linear modules, one per projection
    (every 2-D `layers.*.weight`), and drops the f32 copies. Returns the quantized engine's name."""
    engine = torch_common.select_quantized_engine()
    names = [k[: -len(".weight")] for k, v in model.w.items() if k.startswith("layers.") and k.endswith(".weight") and v is not None and v.dim() == 2]
    linears = torch.nn.ModuleDict()
    for n in names:
        w, b = model.w.pop(n + ".weight"), model.w.pop(n + ".bias", None)
        lin = torch.nn.utils.skip_init(torch.nn.Linear, w.shape[1], w.shape[0], bias=b is not None)
        lin.weight = torch.nn.Parameter(w, requires_grad=False)
        if b is not None:
            lin.bias = torch.nn.Parameter(b, requires_grad=False)
        linears[n.replace(".", "__")] = lin
        del w, b
    q = torch.ao.quantization.quantize_dynamic(linears, {torch.nn.Linear}, dtype=torch.qint8)
    model.linear = lambda x, prefix, bias: q[prefix.replace(".", "__")](x)
    return engine


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF folder (config.json + safetensors)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--pool", default="none", choices=["none", "mean"],
                    help="mean: masked mean pooling after the forward (the encoder's workload)")
    ap.add_argument("--quantize", default="none", choices=["none", "int8"])
    ap.add_argument("--bench-ids", action="store_true")
    ap.add_argument("--dump", default="")
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference"],
                    help="see torch_common.py (handled before torch is imported)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]

    # Same steps as hf_model.load_model, timed separately: read (file -> tensors in
    # the stored dtype) and convert (-> compute dtype, tensor by tensor).
    t0 = time.perf_counter()
    cfg = read_config(args.model)
    weights = load_hf_folder_tensors(args.model)
    t1 = time.perf_counter()
    model = HFDecoder(cfg, weights, dtype)
    engine = quantize_dynamic_int8(model) if args.quantize == "int8" else None
    t2 = time.perf_counter()
    load_s = t2 - t0

    g = torch.Generator().manual_seed(0)
    if args.bench_ids:
        ids = torch.tensor(torch_common.bench_ids(args.batch, args.seq, model.cfg.vocab_size), dtype=torch.long)
    else:
        ids = torch.randint(0, model.cfg.vocab_size, (args.batch, args.seq), generator=g)
    mask = torch.ones_like(ids)

    @torch.no_grad()
    def fwd():
        h, _ = model.forward(ids, mask, mode="bidirectional", lm_head=False)
        if args.pool == "mean":
            m = mask.unsqueeze(-1).to(torch.float32)
            return (h.float() * m).sum(dim=1) / m.sum(dim=1)
        return h

    for _ in range(args.warmup):
        fwd()
    runs = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        h = fwd()
        runs.append((time.perf_counter() - t) * 1000.0)
    med = statistics.median(runs)
    if args.dump:
        with open(args.dump, "wb") as f:
            f.write(h.float().contiguous().numpy().tobytes())
    print(json.dumps({
        "model": os.path.abspath(args.model),
        "model_type": model.cfg.model_type,
        "compute_dtype": args.dtype, "pool": args.pool, "quantize": args.quantize, "quantized_engine": engine,
        "batch": args.batch, "seq": args.seq, "warmup": args.warmup,
        "load_s": round(load_s, 3), "load_read_s": round(t1 - t0, 3), "load_convert_s": round(t2 - t1, 3),
        "median_ms": round(med, 2),
        "runs_ms": [round(r, 2) for r in runs],
        "min_ms": round(min(runs), 2),  # less sensitive to other processes on shared cores
        "tokens_per_s": round(args.batch * args.seq / (med / 1000.0), 1),
        "peak_rss_mb": torch_common.peak_rss_mb(),
        "hidden_checksum": round(h.float().abs().mean().item(), 6),
        "threads": args.threads, "blas": torch_common.blas_in_use(), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
