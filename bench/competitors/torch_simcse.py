#!/usr/bin/env python3
"""PyTorch competitor: unsupervised SimCSE training steps with LoRA (LLM2Vec step 3).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/competitors/torch_simcse.py --model DIR \
        [--batch 128] [--seq 64] [--steps 3] [--warmup 1] [--threads 2] [--dtype float32] [--chunk N]

The reference's SimCSE step (experiments/run_simcse.py) in plain PyTorch: the same batch of
token rows goes through two forward passes in train mode (attention dropout 0.3 on the softmax
probabilities, LoRA dropout 0.05, LoRA r 16 / alpha 32 on all seven projections, base frozen),
mean pooling over each row, loss CE(cos(q, d) * 20, arange(B)), backward, AdamW (lr 3e-5).
The whole batch is one graph (the reference uses no gradient caching; PyTorch has none built in),
or with --chunk N < batch, gradient caching as the GradCache library does it: every chunk forward
without a graph (the CPU RNG state saved before each, as GradCache's RandContext), the loss's
gradient with respect to the pooled representations, then each chunk re-run with a graph under
its saved RNG state (so its dropout masks are the first pass's) and back-propagated with the
cached gradient. This is what a 1.3B model needs: one graph of 128 × 64 tokens × 2 views does not
fit in this machine's memory.

Rows are random ids (seeded) of length --seq, BOS first, no padding, made before timing.
Model and LoRA: bench/competitors/torch_mntp.py's LoRADecoder over scripts/reference/hf_model.py,
with dropout added on the attention probabilities. Prints one JSON line like torch_mntp.py.
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
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(torch_common.REPO, "scripts", "reference"))
from hf_model import read_config  # noqa: E402
from safetensors_io import load_hf_folder_tensors  # noqa: E402
from torch_mntp import LoRADecoder  # noqa: E402


class DropoutLoRADecoder(LoRADecoder):
    """LoRADecoder with dropout on the attention probabilities (HF's attention_dropout)."""

    attn_p = 0.3

    def attention_dropout(self, probs, i):
        return F.dropout(probs, self.attn_p, training=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--attn-dropout", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference"])
    ap.add_argument("--chunk", type=int, default=0, help="gradient caching in chunks of N rows (0: one graph)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    t0 = time.perf_counter()
    cfg = read_config(args.model)
    model = DropoutLoRADecoder(cfg, load_hf_folder_tensors(args.model), dtype, 16, 32.0, 0.05)
    model.attn_p = args.attn_dropout
    load_s = time.perf_counter() - t0
    params = list(model.lora.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    Bn, T, V = args.batch, args.seq, cfg.vocab_size
    g = torch.Generator().manual_seed(1234)
    batches = []
    for _ in range(args.warmup + args.steps):
        ids = torch.randint(3, V, (Bn, T), generator=g)
        ids[:, 0] = 1
        batches.append(ids)
    attn = torch.ones(Bn, T, dtype=torch.long)
    labels = torch.arange(Bn)

    def step(ids):
        opt.zero_grad(set_to_none=True)
        q, _ = model.forward_grad(ids, attn, mode="bidirectional", lm_head=False)
        d, _ = model.forward_grad(ids, attn, mode="bidirectional", lm_head=False)
        q, d = q.float().mean(dim=1), d.float().mean(dim=1)
        scores = F.normalize(q, dim=-1) @ F.normalize(d, dim=-1).T * 20.0
        loss = F.cross_entropy(scores, labels)
        loss.backward()
        opt.step()
        return loss.item()

    def pooled(ids_chunk):
        h, _ = model.forward_grad(ids_chunk, attn[: ids_chunk.shape[0]], mode="bidirectional", lm_head=False)
        return h.float().mean(dim=1)

    replay_err = [0.0]

    def cached_step(ids):
        opt.zero_grad(set_to_none=True)
        chunks = list(torch.split(ids, args.chunk))
        states, reps = [], []
        with torch.no_grad():  # pass 1: representations only, RNG state kept per chunk and view
            for _view in range(2):
                for c in chunks:
                    states.append(torch.get_rng_state())
                    reps.append(pooled(c))
        n = len(chunks)
        q = torch.cat(reps[:n]).requires_grad_()
        d = torch.cat(reps[n:]).requires_grad_()
        scores = F.normalize(q, dim=-1) @ F.normalize(d, dim=-1).T * 20.0
        loss = F.cross_entropy(scores, labels)
        loss.backward()
        grads = list(torch.split(q.grad, args.chunk)) + list(torch.split(d.grad, args.chunk))
        after = torch.get_rng_state()
        chunk_list = chunks + chunks
        for k, c in enumerate(chunk_list):  # pass 2: re-run each chunk with its dropout, push its gradient
            torch.set_rng_state(states[k])
            r = pooled(c)
            replay_err[0] = max(replay_err[0], (r.detach() - reps[k]).abs().max().item())  # same dropout masks?
            r.backward(grads[k])
        torch.set_rng_state(after)
        opt.step()
        return loss.item()

    if args.chunk and args.chunk < Bn:
        step = cached_step

    runs, losses = [], []
    for k, ids in enumerate(batches):
        t = time.perf_counter()
        losses.append(step(ids))
        if k >= args.warmup:
            runs.append((time.perf_counter() - t) * 1000.0)
    med = statistics.median(runs)
    blas = torch_common.blas_in_use()
    print(json.dumps({
        "competitor": f"PyTorch {torch.__version__} CPU eager {args.dtype} ({blas}, {args.threads} threads)",
        "step_ms": [round(r, 2) for r in runs], "median_step_ms": round(med, 2),
        "tokens_per_s": round(2 * Bn * T / (med / 1000.0), 1), "peak_rss_mb": torch_common.peak_rss_mb(),
        "load_s": round(load_s, 3), "chunk": args.chunk if args.chunk and args.chunk < Bn else Bn, "replay_max_abs_diff": replay_err[0], "losses": [round(x, 5) for x in losses], "torch": torch.__version__, "blas": blas,
    }))


if __name__ == "__main__":
    main()
