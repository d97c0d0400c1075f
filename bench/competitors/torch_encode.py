#!/usr/bin/env python3
"""PyTorch competitor for encoding throughput: forward + mean pooling (LLM2Vec's default).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/competitors/torch_encode.py --model DIR \
        --batch 32 --seq 128 [--repeats 2] [--warmup 0] [--dtype float32|bfloat16] [--threads 2]

Same model and loading as torch_forward.py (scripts/reference/hf_model.py, plain PyTorch, eager
attention, bidirectional, no lm_head; bf16/f16 checkpoints upcast to float32 by default). One
"encode" = the forward of [batch, seq] random ids (seeded; attention_mask all ones, i.e. rows of
equal length, no padding) + masked mean pooling over the sequence (as LLM2Vec's "mean" with every
token counted as text, which is what llm2vec's encodeIds pools), in float32 -> [batch, hidden].

Output (one JSON line): load_s, median_ms / runs_ms / min_ms per batch, tokens_per_s =
batch*seq / median, peak_rss_mb, blas in use.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF folder (config.json + safetensors)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference"],
                    help="see torch_common.py (handled before torch is imported)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]

    t0 = time.perf_counter()
    model = HFDecoder(read_config(args.model), load_hf_folder_tensors(args.model), dtype)
    load_s = time.perf_counter() - t0

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, model.cfg.vocab_size, (args.batch, args.seq), generator=g)
    mask = torch.ones_like(ids)

    @torch.no_grad()
    def encode():
        h, _ = model.forward(ids, mask, mode="bidirectional", lm_head=False)
        m = mask.unsqueeze(-1).to(torch.float32)
        return (h.float() * m).sum(dim=1) / m.sum(dim=1)

    for _ in range(args.warmup):
        encode()
    runs = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        e = encode()
        runs.append((time.perf_counter() - t) * 1000.0)
    med = statistics.median(runs)
    print(json.dumps({
        "model": os.path.abspath(args.model),
        "compute_dtype": args.dtype,
        "batch": args.batch, "seq": args.seq, "warmup": args.warmup,
        "load_s": round(load_s, 3),
        "median_ms": round(med, 2),
        "runs_ms": [round(r, 2) for r in runs],
        "min_ms": round(min(runs), 2),
        "tokens_per_s": round(args.batch * args.seq / (med / 1000.0), 1),
        "peak_rss_mb": torch_common.peak_rss_mb(),
        "embedding_checksum": round(e.abs().mean().item(), 6),
        "threads": args.threads, "blas": torch_common.blas_in_use(), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
