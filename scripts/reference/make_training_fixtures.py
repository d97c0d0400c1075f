"""Write reference losses and gradients for the TS training code (MNTP + LoRA, AdamW).

    /usr/bin/python3 scripts/reference/make_training_fixtures.py [--out test/fixtures/training]

Why: the TypeScript side implements backward passes, LoRA and AdamW by hand. This script
computes the same quantities with PyTorch autograd on an independent model
(scripts/reference/hf_model.py), so the TS tests can compare every gradient tensor.

MNTP (docs/llm2vec.md §1b), one fixture per tiny parity model test/fixtures/parity/<case>
(the weights are read from there, not copied):
  * batch: B=2, T=8, LEFT padded (row 1 has real length 6; pad id = eos id, mask 0 on pads).
    Row 0 has real tokens at 0..7, row 1 at 2..7; the first real token is BOS where the
    family has one (qwen2 has none). Masked positions are fixed: row 0 {1, 4, 7}, row 1
    {3, 5, 6}: never position 0, never a pad, and never a token whose predecessor is a pad
    (its prediction would come from a pad position's output, which is meaningless under
    left padding). input_ids hold MASK_ID (3) there; labels hold the original id there and
    -100 elsewhere (the collator's UNSHIFTED labels).
  * loss (what *BiForMNTP / *ForCausalLM.forward computes):
        CE(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1)), ignore_index -100,
        mean over the counted targets
    so the token at position i is predicted from the output at position i-1.
  * modes: causal and bidirectional, masks exactly as hf_model.build_attention_mask.
  * lora: rank 4, alpha 8 (scale 2) on q/k/v/o/gate/up/down of every layer, no dropout,
        y = x W^T + b + (alpha/r) * (x A^T) B^T
    with A, B ~ N(0, 0.1^2) (both non-zero, so every gradient is non-trivial). Base frozen.
  * base (f32 cases only, not llama-bf16): no LoRA, every base tensor trainable. For tied
    embeddings (qwen2, gemma) the embedding gradient includes its use as lm_head.
Compute: float64 throughout (base weights, f32 or bf16 on disk, and the f32-rounded LoRA
weights upcast exactly to double), stored as F32. RoPE cos/sin are computed in float32 as HF
does (then upcast), so the reference is "HF semantics in double".

AdamW: torch.optim.AdamW (float64 parameters, stored F32) with clip_grad_norm_(1.0) and an
HF-style linear warmup/decay LambdaLR, 6 steps on two parameters; plus a "nowd." scenario
(weight_decay 0, no clipping). See test/fixtures/training/README.md for the file layout.

Self-checks (assertions, run every time): central finite differences in float64 for LoRA A/B
elements and a few base elements, the float64 forward against hf_model's float32 forward, the
loss against a hand-written log-softmax, and AdamW against a hand-written update.
Everything is seeded; reruns give byte-identical files on the same torch build.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hf_model import HFDecoder, load_model, read_config  # noqa: E402
from safetensors_io import load_hf_folder_tensors, save_file  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PARITY = os.path.join(REPO, "test", "fixtures", "parity")

CASES = {  # case -> seed offset; base gradients only where the checkpoint is f32
    "llama": dict(seed=1, base=True),
    "llama-bf16": dict(seed=2, base=False),
    "mistral": dict(seed=3, base=True),
    "qwen2": dict(seed=4, base=True),
    "qwen3": dict(seed=6, base=True),
    "gemma": dict(seed=5, base=True),
    "phi3": dict(seed=8, base=True),
    "gemma2": dict(seed=10, base=True),
}
T = 8
REAL_LENGTHS = (8, 6)
MASKED = ((1, 4, 7), (3, 5, 6))  # per row, positions in the padded row
MASK_ID = 3  # not special in any parity family (bos/eos/pad ids are 0, 1, 2, 127)
LORA_R, LORA_ALPHA = 4, 8
PROJ = [("self_attn", p) for p in ("q_proj", "k_proj", "v_proj", "o_proj")] + \
       [("mlp", p) for p in ("gate_proj", "up_proj", "down_proj")]
# Phi-3's projections under PEFT's names for them (one LoRA on each fused weight).
PROJ_FUSED = [("self_attn", "qkv_proj"), ("self_attn", "o_proj"), ("mlp", "gate_up_proj"), ("mlp", "down_proj")]
MODES = ("causal", "bidirectional")
DT = torch.float64


class LoRADecoder(HFDecoder):
    """HFDecoder whose projections get an optional LoRA branch (no dropout).
    lora: {"layers.{i}.self_attn.q_proj": (A [r, in], B [out, r]), ...}."""

    def __init__(self, cfg, weights, dtype, lora=None, scale=0.0):
        super().__init__(cfg, weights, dtype)
        self.lora = lora or {}
        self.lora_scale = scale

    def linear(self, x, prefix, bias):
        y = super().linear(x, prefix, bias)
        ab = self.lora.get(prefix)
        if ab is not None:
            A, B = ab
            y = y + self.lora_scale * F.linear(F.linear(x, A), B)
        return y


def mntp_loss(model, ids, mask, labels, mode):
    _, logits = model.forward_grad(ids, mask, mode)
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), labels[:, 1:].reshape(-1), ignore_index=-100)


def hf_name(k):
    """Internal hf_model key (no `model.` prefix) -> checkpoint name."""
    return k if k == "lm_head.weight" else "model." + k


def make_batch(cfgj, seed):
    """The B=2, T=8 left-padded MNTP batch (see the module docstring) from config.json."""
    g = torch.Generator().manual_seed(2000 + seed)
    V, eos, bos = cfgj["vocab_size"], cfgj["eos_token_id"], cfgj.get("bos_token_id")
    special = {0, 1, 2, MASK_ID, eos} | ({bos} if bos is not None else set())
    ids, am, labels = [], [], []
    for L, masked in zip(REAL_LENGTHS, MASKED):
        toks = []
        while len(toks) < L:
            t = int(torch.randint(0, V, (1,), generator=g))
            if t not in special:
                toks.append(t)
        if bos is not None:
            toks[0] = bos
        row = [eos] * (T - L) + toks
        lab = [-100] * T
        for p in masked:
            assert p >= 1 and p >= T - L + 1, "masked position at 0, at a pad or right after one"
            lab[p] = row[p]
            row[p] = MASK_ID
        ids.append(row)
        am.append([0] * (T - L) + [1] * L)
        labels.append(lab)
    return ids, am, labels


def load_case(case):
    folder = os.path.join(PARITY, case)
    with open(os.path.join(folder, "config.json")) as f:
        cfgj = json.load(f)
    return folder, read_config(folder), cfgj


def lora_shapes(model):
    """[(module path without `model.`, in, out)] for every layer and projection."""
    out = []
    for i in range(model.cfg.num_hidden_layers):
        for blk, p in (PROJ_FUSED if model.cfg.fused else PROJ):
            k = f"layers.{i}.{blk}.{p}"
            W = model.w[k + ".weight"]
            out.append((k, W.shape[1], W.shape[0]))
    return out


def fd_check(loss_fn, leaf, idx, grad, what, h=1e-5, tol=1e-6):
    """Central finite difference of loss_fn() w.r.t. leaf[idx] vs the autograd value."""
    with torch.no_grad():
        orig = leaf[idx].item()
        leaf[idx] = orig + h
        lp = loss_fn().item()
        leaf[idx] = orig - h
        lm = loss_fn().item()
        leaf[idx] = orig
    fd = (lp - lm) / (2 * h)
    ag = grad[idx].item()
    err = abs(fd - ag) / max(abs(ag), 1e-3)
    assert err < tol, f"finite difference mismatch {what}{list(idx)}: autograd {ag:.10g} fd {fd:.10g} rel {err:.2e}"
    return err


def write_mntp_case(out_dir, case, spec):
    folder, cfg, cfgj = load_case(case)
    ids_l, am_l, lab_l = make_batch(cfgj, spec["seed"])
    ids, am, labels = torch.tensor(ids_l), torch.tensor(am_l), torch.tensor(lab_l)
    real_prev = am.bool()

    # LoRA weights: f32 random, stored as is; compute uses their exact f64 upcast.
    g = torch.Generator().manual_seed(3000 + spec["seed"])
    probe = LoRADecoder(cfg, load_hf_folder_tensors(folder), DT)
    lora32 = {}
    for k, fin, fout in lora_shapes(probe):
        lora32[k] = (torch.randn(LORA_R, fin, generator=g) * 0.1, torch.randn(fout, LORA_R, generator=g) * 0.1)

    out = {}
    for k, (A, B) in lora32.items():
        out[f"lora.model.{k}.lora_A.weight"] = A
        out[f"lora.model.{k}.lora_B.weight"] = B

    # Check: the f64 forward (no LoRA) agrees with hf_model's f32 forward on the real positions.
    ref32 = load_model(folder, torch.float32)
    for mode in MODES:
        _, lg32 = ref32.forward(ids, am, mode)
        with torch.no_grad():
            _, lg64 = probe.forward_grad(ids, am, mode)
        d = (lg32.double() - lg64)[real_prev].abs().max().item()
        assert d < 1e-4, f"{case} {mode}: f64 vs f32 forward differ by {d}"

    fd_errs = []
    stats = {}
    for mode in MODES:
        # --- LoRA attached, base frozen ---------------------------------------------
        leaves = {k: (A.to(DT).requires_grad_(True), B.to(DT).requires_grad_(True)) for k, (A, B) in lora32.items()}
        model = LoRADecoder(cfg, load_hf_folder_tensors(folder), DT, leaves, LORA_ALPHA / LORA_R)
        loss = mntp_loss(model, ids, am, labels, mode)
        flat = [t for ab in leaves.values() for t in ab]
        grads = torch.autograd.grad(loss, flat)
        gmap = dict(zip([id(t) for t in flat], grads))
        out[f"{mode}.lora.loss"] = loss.detach().float().reshape(1)
        for k, (A, B) in leaves.items():
            gA, gB = gmap[id(A)], gmap[id(B)]
            assert gA.abs().max() > 0 and gB.abs().max() > 0, (case, mode, k)
            out[f"{mode}.lora.grad.model.{k}.lora_A.weight"] = gA.float()
            out[f"{mode}.lora.grad.model.{k}.lora_B.weight"] = gB.float()
        stats[f"{mode}.lora.loss"] = loss.item()

        # Check the loss against a hand-written masked mean of -log softmax.
        with torch.no_grad():
            _, lg = model.forward_grad(ids, am, mode)
            lp = torch.log_softmax(lg[:, :-1], dim=-1)
            tgt = labels[:, 1:]
            sel = tgt != -100
            manual = -lp[sel].gather(-1, tgt[sel][:, None]).mean()
        assert abs(manual.item() - loss.item()) < 1e-12, (case, mode)

        # Finite differences on one element of the first and the last LoRA module.
        lf = lambda: mntp_loss(model, ids, am, labels, mode)  # noqa: E731
        first, last = list(leaves)[0], list(leaves)[-1]
        fd_errs.append(fd_check(lf, leaves[first][1], (1, 2), gmap[id(leaves[first][1])], f"{case} {mode} {first}.B"))
        fd_errs.append(fd_check(lf, leaves[last][0], (3, 5), gmap[id(leaves[last][0])], f"{case} {mode} {last}.A"))

        # --- Base, no LoRA, every base tensor trainable -------------------------------
        if not spec["base"]:
            continue
        model = LoRADecoder(cfg, load_hf_folder_tensors(folder), DT)
        tied = cfg.tie_word_embeddings
        params = {}
        for k in list(model.w):
            if tied and k == "lm_head.weight":
                continue
            params[k] = model.w[k] = model.w[k].detach().clone().requires_grad_(True)
        if tied:
            model.w["lm_head.weight"] = model.w["embed_tokens.weight"]
        loss = mntp_loss(model, ids, am, labels, mode)
        grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
        out[f"{mode}.base.loss"] = loss.detach().float().reshape(1)
        for k in params:
            out[f"{mode}.base.grad.{hf_name(k)}"] = grads[k].float()
        stats[f"{mode}.base.loss"] = loss.item()
        lf = lambda: mntp_loss(model, ids, am, labels, mode)  # noqa: E731
        # an embedding row of a real (masked-input) token, the last norm, a layer-1 weight,
        # and for tied models a row that only the lm_head uses (a label id)
        checks = [("embed_tokens.weight", (MASK_ID, 7)), ("norm.weight", (9,)),
                  (f"layers.{cfg.num_hidden_layers - 1}.mlp.down_proj.weight", (4, 11)),
                  ("embed_tokens.weight", (int(labels[0, 4]), 3))]
        if "layers.0.self_attn.q_proj.bias" in params:
            checks.append(("layers.0.self_attn.q_proj.bias", (5,)))
        for k, idx in checks:
            fd_errs.append(fd_check(lf, params[k], idx, grads[k], f"{case} {mode} base {k}"))

    path = os.path.join(out_dir, f"mntp-{case}.safetensors")
    save_file(out, path)
    meta = {"input_ids": ids_l, "attention_mask": am_l, "labels": lab_l, "lora": {"r": LORA_R, "alpha": LORA_ALPHA},
            "model": f"test/fixtures/parity/{case}", "mask_token_id": MASK_ID,
            "pad_token_id": cfgj["eos_token_id"]}
    with open(os.path.join(out_dir, f"mntp-{case}.json"), "w") as f:
        json.dump(meta, f)
        f.write("\n")
    print(f"mntp-{case}: {len(out)} tensors, {os.path.getsize(path) // 1024} KB, "
          + ", ".join(f"{k}={v:.4f}" for k, v in stats.items())
          + f"; finite-difference max rel err {max(fd_errs):.1e}")


# ---------------------------------------------------------------------------------- AdamW
ADAM = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, max_grad_norm=1.0,
            warmup_steps=2, total_steps=6)
GRAD_NORMS = (2.5, 0.4, 1.7, 0.3, 3.0, 0.8)  # pre-clip global norms: > 1 on steps 1, 3, 5


def lr_lambda(s, warmup=ADAM["warmup_steps"], total=ADAM["total_steps"]):
    return s / warmup if s < warmup else max(0.0, (total - s) / (total - warmup))


def adamw_inputs():
    g = torch.Generator().manual_seed(42)
    init = [torch.randn(3, 5, generator=g), torch.randn(7, generator=g)]
    grads = []
    for n in GRAD_NORMS:
        gs = [torch.randn(3, 5, generator=g), torch.randn(7, generator=g)]
        tot = math.sqrt(sum(float((x.double() ** 2).sum()) for x in gs))
        grads.append([(x.double() * (n / tot)).float() for x in gs])  # f32-rounded, used exactly
    return init, grads


def run_adamw(init, grads, weight_decay, clip):
    params = [torch.nn.Parameter(p.to(DT).clone()) for p in init]
    opt = torch.optim.AdamW(params, lr=ADAM["lr"], betas=ADAM["betas"], eps=ADAM["eps"], weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    lrs, norms, after = [], [], []
    for gs in grads:
        for p, gr in zip(params, gs):
            p.grad = gr.to(DT).clone()
        if clip:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm=ADAM["max_grad_norm"]).item()
        else:
            norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
        lrs.append(opt.param_groups[0]["lr"])
        norms.append(norm)
        opt.step()
        sched.step()
        after.append([p.detach().clone() for p in params])
    return lrs, norms, after


def manual_adamw(init, grads, lrs, weight_decay, clip):
    """The update written out, to check the torch run (and document it)."""
    b1, b2 = ADAM["betas"]
    ps = [p.to(DT).clone() for p in init]
    m = [torch.zeros_like(p) for p in ps]
    v = [torch.zeros_like(p) for p in ps]
    after = []
    for t, (gs, lr) in enumerate(zip(grads, lrs), start=1):
        gs = [x.to(DT) for x in gs]
        if clip:
            n = math.sqrt(sum(float((x ** 2).sum()) for x in gs))
            c = min(1.0, ADAM["max_grad_norm"] / (n + 1e-6))
            gs = [x * c for x in gs]
        for i in range(len(ps)):
            ps[i] = ps[i] * (1 - lr * weight_decay)
            m[i] = b1 * m[i] + (1 - b1) * gs[i]
            v[i] = b2 * v[i] + (1 - b2) * gs[i] ** 2
            ps[i] = ps[i] - (lr / (1 - b1 ** t)) * m[i] / (v[i].sqrt() / math.sqrt(1 - b2 ** t) + ADAM["eps"])
        after.append([p.clone() for p in ps])
    return after


def write_adamw(out_dir):
    init, grads = adamw_inputs()
    tensors, meta = {}, {"hyperparameters": dict(ADAM, betas=list(ADAM["betas"]), schedule=(
        "LambdaLR(lambda s: s/warmup if s < warmup else max(0, (total - s)/(total - warmup))), "
        "scheduler.step() after each optimizer.step(); lr at step k (1-based) = lr * lambda(k-1)"),
        clip="torch.nn.utils.clip_grad_norm_: coef = min(1, max_norm / (global_norm + 1e-6)), grads *= coef"),
        "update": "p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; "
                  "p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)   (torch 1.13 AdamW, g = clipped grad)",
        "steps": ADAM["total_steps"]}
    for prefix, wd, clip in (("", ADAM["weight_decay"], True), ("nowd.", 0.0, False)):
        lrs, norms, after = run_adamw(init, grads, wd, clip)
        ref = manual_adamw(init, grads, lrs, wd, clip)
        for a, b in zip(after, ref):
            for x, y in zip(a, b):
                assert (x - y).abs().max().item() < 1e-12, "AdamW differs from the hand-written update"
        assert lrs[0] == 0.0 and torch.equal(after[0][0], init[0].to(DT)), "step 1 has lr 0"
        tensors[prefix + "p0.init"], tensors[prefix + "p1.init"] = init
        for k, (gs, ps) in enumerate(zip(grads, after), start=1):
            tensors[f"{prefix}step{k}.grad.p0"], tensors[f"{prefix}step{k}.grad.p1"] = gs
            tensors[f"{prefix}step{k}.p0"], tensors[f"{prefix}step{k}.p1"] = (p.float() for p in ps)
        meta[(prefix or "default.").rstrip(".")] = {
            "prefix": prefix, "weight_decay": wd, "clip_grad_norm": ADAM["max_grad_norm"] if clip else None,
            "lr": lrs, "grad_norm": norms,
            "clip_coef": [min(1.0, ADAM["max_grad_norm"] / (n + 1e-6)) if clip else 1.0 for n in norms]}
    save_file(tensors, os.path.join(out_dir, "adamw.safetensors"))
    with open(os.path.join(out_dir, "adamw.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"adamw: {len(tensors)} tensors; lr {meta['default']['lr']}; "
          f"grad norms {[round(n, 4) for n in meta['default']['grad_norm']]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "training"))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic reductions, and we share the CPU
    os.makedirs(args.out, exist_ok=True)
    for case in args.cases.split(","):
        write_mntp_case(args.out, case, CASES[case])
    write_adamw(args.out)


if __name__ == "__main__":
    main()
