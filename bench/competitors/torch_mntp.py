#!/usr/bin/env python3
"""PyTorch competitor: MNTP training steps with LoRA (the LLM2Vec step-1 workload).

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/competitors/torch_mntp.py --model DIR \
        [--batch 8] [--seq 128] [--steps 5] [--warmup 1] [--threads 2] [--dtype float32|bfloat16] \
        [--gather-logits] [--blas openblas|reference]

Model: an HF folder loaded through scripts/reference/hf_model.py (plain PyTorch, eager
matmul+softmax attention). Compute is float32 by default, with bf16/f16 checkpoints upcast
at load. `--dtype bfloat16` keeps bf16 weights and activations; the LoRA weights then share
that dtype.

LoRA as in llm2vec's initialize_peft: r 16, alpha 32 (scale 2), dropout 0.05 on the LoRA
input, on q/k/v/o/gate/up/down of every layer. The init is PEFT's: A is kaiming-uniform
(a = sqrt(5)) and B is zero. The base weights (embeddings, norms, projections, lm_head) are
frozen, so autograd computes no gradient for them.

Batches (made before timing, one per step, seeded):
- Token ids are random in [0, V) with BOS at position 0.
- The attention mask is all ones, with bidirectional attention and no padding.
- Masking is HF DataCollatorForLanguageModeling (mlm_probability 0.2). Every position except
  BOS/EOS is masked with p = 0.2. Of the masked positions, 80% become --mask-id, 10% become a
  random id and 10% are left unchanged.
- Labels are the original ids at masked positions and -100 elsewhere.

Loss (the reference's, *ForCausalLM.forward): CE(logits[:, :-1].float(), labels[:, 1:]),
ignore_index -100, the mean over the masked targets. `--gather-logits` applies lm_head only to
the rows h[:, :-1] whose shifted label is not -100. The loss is the same, but the [B, T, V]
logits and their backward are avoided. The default is the reference's full-logits form.

Step (timed, each of --steps after --warmup untimed steps):
- zero_grad(set_to_none)
- forward and loss
- backward
- torch.optim.AdamW step: lr 5e-5, betas (0.9, 0.999), eps 1e-8, weight_decay 0. These are
  the HF Trainer defaults that the MNTP configs leave unset.

There is no gradient checkpointing and no LR schedule (warmup 0 with linear decay over
~3 epochs is constant to within 1e-3 here).

Output (one JSON line on stdout):
- "competitor", "step_ms", "median_step_ms", "tokens_per_s" (= batch*seq / median step) and
  "peak_rss_mb" (ru_maxrss, which includes the load)
- the losses, the trainable parameter count, "load_s", the threads, the BLAS in use and the
  shapes

Uses the BLAS switch in torch_common.py (OpenBLAS when unpacked, see there). The bench sets
OPENBLAS_CORETYPE for it (bench/common.ts).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_common  # noqa: E402

torch_common.setup_process()  # may re-exec with OpenBLAS; must run before `import torch`

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(torch_common.REPO, "scripts", "reference"))
from hf_model import HFDecoder, read_config  # noqa: E402
from safetensors_io import load_hf_folder_tensors  # noqa: E402

TARGETS = [("self_attn", p) for p in ("q_proj", "k_proj", "v_proj", "o_proj")] + \
          [("mlp", p) for p in ("gate_proj", "up_proj", "down_proj")]


class LoRADecoder(HFDecoder):
    """HFDecoder with a PEFT-style LoRA branch on the target projections:
    y = base(x) + scale * B(A(dropout(x)))."""

    def __init__(self, cfg, weights, dtype, rank, alpha, dropout):
        super().__init__(cfg, weights, dtype)
        self.scale = alpha / rank
        self.dropout = dropout
        self.lora = nn.ParameterDict()  # keys: "layers_0_self_attn_q_proj" (ParameterDict forbids '.')
        self.lora_of = {}
        for i in range(cfg.num_hidden_layers):
            for blk, p in TARGETS:
                k = f"layers.{i}.{blk}.{p}"
                W = self.w[k + ".weight"]
                A = nn.Parameter(torch.empty(rank, W.shape[1], dtype=dtype))
                nn.init.kaiming_uniform_(A, a=math.sqrt(5))  # PEFT reset_lora_parameters
                B = nn.Parameter(torch.zeros(W.shape[0], rank, dtype=dtype))
                name = k.replace(".", "_")
                self.lora[name + "_A"], self.lora[name + "_B"] = A, B
                self.lora_of[k] = (A, B)

    def linear(self, x, prefix, bias):
        y = super().linear(x, prefix, bias)
        ab = self.lora_of.get(prefix)
        if ab is not None:
            A, B = ab
            xd = F.dropout(x, self.dropout, training=True) if self.dropout > 0 else x
            y = y + F.linear(F.linear(xd, A), B) * self.scale
        return y


def mntp_batch(g, B, T, V, bos, eos, mask_id, p):
    """HF DataCollatorForLanguageModeling.torch_mask_tokens on random ids."""
    ids = torch.randint(0, V, (B, T), generator=g)
    if bos is not None:
        ids[:, 0] = bos
    special = torch.zeros(B, T, dtype=torch.bool)
    for s in (bos, eos):
        if s is not None:
            special |= ids == s
    prob = torch.full((B, T), p)
    prob.masked_fill_(special, 0.0)
    masked = torch.bernoulli(prob, generator=g).bool()
    if not masked[:, 1:].any():  # never an empty loss (only possible for tiny T)
        masked[0, 1] = True
    labels = ids.clone()
    labels[~masked] = -100
    replaced = torch.bernoulli(torch.full((B, T), 0.8), generator=g).bool() & masked
    ids[replaced] = mask_id
    rnd = torch.bernoulli(torch.full((B, T), 0.5), generator=g).bool() & masked & ~replaced
    ids[rnd] = torch.randint(0, V, (B, T), generator=g)[rnd]
    return ids, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF folder (config.json + safetensors)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--lora-dropout", type=float, default=0.05)
    ap.add_argument("--mlm-probability", type=float, default=0.2)
    ap.add_argument("--mask-id", type=int, default=None,
                    help="mask token id (default: vocab_size // 2; timing does not depend on it)")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--gather-logits", action="store_true",
                    help="lm_head only on rows whose shifted label is not -100 (same loss)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--blas", default="openblas", choices=["openblas", "reference"],
                    help="see torch_common.py (handled before torch is imported)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # LoRA init and dropout masks
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]

    t0 = time.perf_counter()
    cfg = read_config(args.model)
    with open(os.path.join(args.model, "config.json")) as f:
        cfgj = json.load(f)
    model = LoRADecoder(cfg, load_hf_folder_tensors(args.model), dtype, args.rank, args.alpha, args.lora_dropout)
    load_s = time.perf_counter() - t0
    if model.w["lm_head.weight"] is None:
        sys.exit("the checkpoint has no lm_head (a bare *Model folder): MNTP needs one")
    params = list(model.lora.parameters())
    n_trainable = sum(p.numel() for p in params)
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    V, Bn, T = cfg.vocab_size, args.batch, args.seq
    mask_id = args.mask_id if args.mask_id is not None else V // 2
    g = torch.Generator().manual_seed(1234 + args.seed)
    batches = [mntp_batch(g, Bn, T, V, cfgj.get("bos_token_id"), cfgj.get("eos_token_id"), mask_id,
                          args.mlm_probability) for _ in range(args.warmup + args.steps)]
    attn = torch.ones(Bn, T, dtype=torch.long)

    def step(ids, labels):
        opt.zero_grad(set_to_none=True)
        if args.gather_logits:
            h, _ = model.forward_grad(ids, attn, mode="bidirectional", lm_head=False)
            tgt = labels[:, 1:]
            sel = tgt != -100
            logits = F.linear(h[:, :-1][sel], model.w["lm_head.weight"]).float()
            loss = F.cross_entropy(logits, tgt[sel])
        else:
            _, logits = model.forward_grad(ids, attn, mode="bidirectional")
            loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, V), labels[:, 1:].reshape(-1),
                                   ignore_index=-100)
        loss.backward()
        opt.step()
        return loss.item()

    losses, runs = [], []
    for k, (ids, labels) in enumerate(batches):
        t = time.perf_counter()
        losses.append(step(ids, labels))
        if k >= args.warmup:
            runs.append((time.perf_counter() - t) * 1000.0)
    med = statistics.median(runs)
    blas = torch_common.blas_in_use()
    print(json.dumps({
        "competitor": f"PyTorch {torch.__version__} CPU eager {args.dtype} ({blas}, {args.threads} threads)",
        "step_ms": [round(r, 2) for r in runs],
        "median_step_ms": round(med, 2),
        "min_step_ms": round(min(runs), 2),  # less sensitive to other processes on shared cores
        "tokens_per_s": round(Bn * T / (med / 1000.0), 1),
        "peak_rss_mb": torch_common.peak_rss_mb(),
        "load_s": round(load_s, 3),
        "losses": [round(x, 5) for x in losses],
        "trainable_params": n_trainable,
        "logits": "gathered" if args.gather_logits else "full",
        "threads": args.threads, "blas": blas, "torch": torch.__version__, "dtype": args.dtype,
        "shape": {"batch": Bn, "seq": T, "vocab": V, "hidden": cfg.hidden_size, "layers": cfg.num_hidden_layers,
                  "lora_rank": args.rank, "lora_alpha": args.alpha, "lora_dropout": args.lora_dropout,
                  "mlm_probability": args.mlm_probability, "mask_id": mask_id},
    }))


if __name__ == "__main__":
    main()
