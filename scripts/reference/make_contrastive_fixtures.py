"""Write reference losses and LoRA gradients for the TS contrastive training (SimCSE, supervised).

    /usr/bin/python3 scripts/reference/make_contrastive_fixtures.py [--out test/fixtures/training]

Why: the TypeScript side implements the contrastive losses, mean pooling, LoRA with dropout and
attention dropout (driven by a counter-based hash, so that a pass can be replayed bit for bit)
and their backward passes by hand. This script computes the same quantities with PyTorch
autograd on the independent model scripts/reference/hf_model.py, with the SAME dropout masks
(the hash is reimplemented here bit-exactly), so the TS tests can compare every gradient.

One fixture per tiny parity model test/fixtures/parity/<case> (weights read from there):
  * forward: bidirectional attention (key-padding mask only), LEFT padded rows (pad id = eos id,
    mask 0 on pads), positions 0..T-1 over the padded row, last hidden state after the final
    norm, pooled with given per-position weights: pooled[b] = sum_t w[b, t] * h[b, t, :].
    The weights are mean weights 1/L_b on the last L_b positions (f32-rounded, so the JSON
    value is exactly what is used); L_b < real length on some rows (an excluded instruction).
  * LoRA r=4, alpha=8 on q/k/v/o/gate/up/down of every layer (Phi-3: qkv/o/gate_up/down, its
    fused projections), A, B ~ N(0, 0.1^2), base frozen:
        y = x W^T + b + (alpha/r) * (drop(x) A^T) B^T       (only the LoRA branch sees drop(x))
  * dropout (see keep() below): for a pass with seed s, in layer i (0-based)
        LoRA input of projection k (0..6 = q,k,v,o,gate,up,down; 9, 10 = qkv, gate_up), x viewed as [B*T, in]
        row-major, index = flat element index, layer seed fmix32(s ^ fmix32(i*16 + k + 1));
        attention probabilities P[b, h, iq, j] after softmax, before P.V,
        index ((b*H + h)*T + iq)*S + j (H query heads, T = S), layer seed fmix32(s ^ fmix32(i*16 + 9));
    kept elements are multiplied by float32(1/(1-p)), dropped ones are 0.
  * loss (HardNegativeNLLLoss): scores = cos_sim(q, d) * scale, CE(scores, arange(Bq)), mean.
      simcse:     one batch through two passes (seeds s1, s2), q = pass s1, d = pass s2, scale 20
      supervised: q = pooled(query, s1), d = cat(pooled(positive, s2), pooled(negative, s3)), scale 50
    plus *_nodrop variants (attn_p = lora_p = 0, same batches and seeds).
Compute: float64 throughout (base weights and the f32 LoRA weights upcast exactly; RoPE cos/sin
in float32 as HF does), stored as F32. See test/fixtures/training/README.md for the layout.

Self-checks (assertions, every run): the hash against values printed by a Node one-liner, the
vectorised hash against a scalar one, keep rate ~ 1-p, the dropout-free forward against
hf_model's own float64/float32 forwards, the loss against a hand-written log-softmax, and
central finite differences in float64 on LoRA A/B elements (with dropout on: the masks do not
depend on the weights, so the loss is smooth in them). Deterministic, byte-identical reruns.
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
from hf_model import HFDecoder, load_model  # noqa: E402
from make_training_fixtures import (DT, LORA_ALPHA, LORA_R, PROJ, fd_check, load_case,  # noqa: E402
                                    lora_shapes)
from safetensors_io import load_hf_folder_tensors, save_file  # noqa: E402

CASES = {"llama": 1, "llama-bf16": 2, "mistral": 3, "qwen2": 4, "gemma": 5, "qwen3": 6, "gemma2": 7, "phi3": 8}  # case -> seed offset
# q_proj 0 ... down_proj 6; Phi-3's fused qkv_proj 9, gate_up_proj 10 (streams 10, 11 in blocks/call.ts)
PROJ_INDEX = {**{p: k for k, (_, p) in enumerate(PROJ)}, "qkv_proj": 9, "gate_up_proj": 10}
ATTN_SLOT = 9  # attention dropout uses fmix32(i*16 + 9)

# (T, real lengths, pooled lengths) per batch; pooled < real where an instruction is excluded.
SIMCSE_BATCH = (8, (8, 6, 5), (8, 4, 5))
SUP_BATCHES = {"query": (8, (8, 7, 5), (5, 5, 3)),  # instruction prefix of 3, 2, 2 tokens
               "positive": (7, (7, 5, 4), (7, 5, 4)),
               "negative": (6, (6, 6, 3), (6, 6, 3))}
SIMCSE = dict(attn_p=0.3, lora_p=0.05, scale=20.0)
SUPERVISED = dict(attn_p=0.1, lora_p=0.05, scale=50.0)
BASE_SEEDS = (0x9E3779B9, 0xDEADBEEF, 0xFFFFFFFF)  # xor'ed with the case offset; all >= 2^31

M32 = 0xFFFFFFFF


# ------------------------------------------------------------------------ counter-based hash
def fmix32(h):
    """MurmurHash3 finaliser on a Python int (uint32 semantics)."""
    h &= M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def keep_scalar(seed, index, p):
    return ((fmix32((index & M32) ^ fmix32(seed)) >> 8) / 16777216.0) >= p


def _mul32(h, c):
    """(h * c) mod 2^32 for an int64 tensor h in [0, 2^32) without int64 overflow."""
    lo, hi = h & 0xFFFF, h >> 16
    return (lo * c + (((hi * c) & 0xFFFF) << 16)) & M32


def fmix32_t(h):
    h = h & M32
    h = h ^ (h >> 16)
    h = _mul32(h, 0x85EBCA6B)
    h = h ^ (h >> 13)
    h = _mul32(h, 0xC2B2AE35)
    return h ^ (h >> 16)


def uniform_t(seed, n):
    """u[index] = (fmix32(index ^ fmix32(seed)) >> 8) / 2^24 for index 0..n-1 (float64)."""
    idx = torch.arange(n, dtype=torch.int64) & M32
    return (fmix32_t(idx ^ fmix32(seed)) >> 8).to(torch.float64) / 16777216.0


def dropout_mask(seed, shape, p, dtype):
    """Multiplier tensor of `shape` (flat row-major index): float32(1/(1-p)) where kept, 0 where dropped."""
    n = math.prod(shape)
    keep = uniform_t(seed, n) >= p
    scale = float(torch.tensor(1.0 / (1.0 - p), dtype=torch.float32))
    return (keep.to(dtype) * scale).reshape(shape)


def layer_seed(s, i, slot):
    """slot = k + 1 for LoRA projection k, ATTN_SLOT for attention."""
    return fmix32((s ^ fmix32(i * 16 + slot)) & M32)


def check_hash():
    # Values printed by Node (Math.imul arithmetic, see the README):
    #   f(12345) = 1011272156, f((7 ^ f(3)) >>> 0) = 2568047810; with s = 0x9e3779b9:
    #   LoRA seed (layer 1, o_proj k=3) 2240867214, attention seed layer 1 1816387568,
    #   u(that LoRA seed, 12345) 0.9525764584541321, u(0xffffffff, 0xffffffff) 0.8053783178329468,
    #   u(LoRA seed layer 0 q_proj, 0) 0.13655847311019897
    assert fmix32(12345) == 1011272156 and fmix32(7 ^ fmix32(3)) == 2568047810, "fmix32 differs from Node"
    s = 0x9E3779B9
    ls = layer_seed(s, 1, 3 + 1)
    assert ls == 2240867214 and layer_seed(s, 1, ATTN_SLOT) == 1816387568, "layer seed differs from Node"
    u = lambda seed, i: (fmix32((i & M32) ^ fmix32(seed)) >> 8) / 16777216.0  # noqa: E731
    assert u(ls, 12345) == 0.9525764584541321 and u(M32, M32) == 0.8053783178329468
    assert u(layer_seed(s, 0, 1), 0) == 0.13655847311019897
    # vectorised == scalar on the first 4096 indices, for a few seeds
    for seed in (0, 1, ls, M32, 0x80000000):
        ut = uniform_t(seed, 4096)
        for i in (0, 1, 2, 255, 4095) + tuple(range(100, 140)):
            assert ut[i].item() == u(seed, i), (seed, i)
        assert all(bool(ut[i] >= 0.3) == keep_scalar(seed, i, 0.3) for i in range(4096))
    # keep rate ~ 1 - p over 2^20 indices (binomial sd < 5e-4)
    rates = {}
    for p in (0.05, 0.1, 0.3, 0.5):
        r = (uniform_t(layer_seed(s, 0, ATTN_SLOT), 1 << 20) >= p).double().mean().item()
        assert abs(r - (1 - p)) < 3e-3, f"keep rate {r} for p={p}"
        rates[p] = r
    return rates


# ------------------------------------------------------------------------------- the model
class DropoutLoRADecoder(HFDecoder):
    """HFDecoder with LoRA (r, alpha) on the seven projections and hash-driven LoRA-input and
    attention-probability dropout. Set .pass_seed, .attn_p, .lora_p before forward_grad()."""

    def __init__(self, cfg, weights, dtype, lora, scale):
        super().__init__(cfg, weights, dtype)
        self.lora = lora  # "layers.{i}.{blk}.{proj}" -> (A [r, in], B [out, r])
        self.lora_scale = scale
        self.pass_seed, self.attn_p, self.lora_p = 0, 0.0, 0.0

    def linear(self, x, prefix, bias):
        y = super().linear(x, prefix, bias)
        ab = self.lora.get(prefix)
        if ab is None:  # o_proj of an attention with no LoRA entry cannot happen here
            return y
        A, B = ab
        if self.lora_p > 0:
            _, i, _, proj = prefix.split(".")
            seed = layer_seed(self.pass_seed, int(i), PROJ_INDEX[proj] + 1)
            x = x * dropout_mask(seed, tuple(x.shape), self.lora_p, x.dtype)  # [B, T, in] == [B*T, in] flat
        return y + self.lora_scale * F.linear(F.linear(x, A), B)

    def attention_dropout(self, probs, i):
        if self.attn_p <= 0:
            return probs
        # probs is [B, H, T, S] contiguous: flat index ((b*H + h)*T + iq)*S + j
        return probs * dropout_mask(layer_seed(self.pass_seed, i, ATTN_SLOT), tuple(probs.shape), self.attn_p, probs.dtype)


def pooled(model, batch, seed, attn_p, lora_p):
    model.pass_seed, model.attn_p, model.lora_p = seed, attn_p, lora_p
    h, _ = model.forward_grad(batch["input_ids"], batch["attention_mask"], "bidirectional", lm_head=False)
    w = torch.tensor(batch["pool_weights"], dtype=h.dtype)
    return torch.einsum("bt,btc->bc", w, h)


def hn_nll_loss(q, d, scale):
    """HardNegativeNLLLoss: CE(cos_sim(q, d) * scale, arange(len(q)))."""
    scores = torch.mm(F.normalize(q, p=2, dim=1), F.normalize(d, p=2, dim=1).t()) * scale
    return F.cross_entropy(scores, torch.arange(q.shape[0]))


def objective(model, obj, spec):
    """(loss, q, d) for obj in simcse / supervised with spec's seeds and dropout."""
    ap, lp, s = spec["attn_p"], spec["lora_p"], spec["seeds"]
    if obj.startswith("simcse"):
        q = pooled(model, spec, s[0], ap, lp)
        d = pooled(model, spec, s[1], ap, lp)
    else:
        q = pooled(model, spec["query"], s[0], ap, lp)
        d = torch.cat([pooled(model, spec["positive"], s[1], ap, lp),
                       pooled(model, spec["negative"], s[2], ap, lp)])
    return hn_nll_loss(q, d, spec["scale"]), q, d


# ------------------------------------------------------------------------------- the inputs
def _token_sampler(cfgj, g):
    V, eos, bos = cfgj["vocab_size"], cfgj["eos_token_id"], cfgj.get("bos_token_id")
    special = {0, 1, 2, 3, eos} | ({bos} if bos is not None else set())

    def tok():
        while True:
            t = int(torch.randint(0, V, (1,), generator=g))
            if t not in special:
                return t
    return tok


def _mutate(g, tok, text, n):
    """text with n random positions replaced by fresh random tokens."""
    text = list(text)
    for j in torch.randperm(len(text), generator=g)[:n].tolist():
        text[j] = tok()
    return text


def make_rows(cfgj, T, real, pool, texts):
    """Left-padded rows: [BOS] + texts[b] (its last real-1 or real tokens), pad id = eos, mask 0
    on pads, and f32-rounded mean weights 1/P over the last P positions."""
    eos, bos = cfgj["eos_token_id"], cfgj.get("bos_token_id")
    ids, am, pw = [], [], []
    for L, P, text in zip(real, pool, texts):
        assert 1 <= P <= L <= T
        toks = ([bos] + text[len(text) - (L - 1):]) if bos is not None else text[len(text) - L:]
        assert len(toks) == L
        ids.append([eos] * (T - L) + toks)
        am.append([0] * (T - L) + [1] * L)
        w = float(torch.tensor(1.0 / P, dtype=torch.float32))
        pw.append([0.0] * (T - P) + [w] * P)
    return {"input_ids": ids, "attention_mask": am, "pool_weights": pw}


def make_specs(cfgj, off):
    """The batches. Random token rows give nearly orthogonal pooled reps, so cos*scale would
    saturate the softmax (loss ~ 0, gradients ~ 0: useless for an f32 comparison). The rows are
    therefore variations of one base text, and the documents variations of their query's
    text, which keeps the losses O(1)."""
    g = torch.Generator().manual_seed(4000 + off)
    tok = _token_sampler(cfgj, g)
    seeds = [s ^ off for s in BASE_SEEDS]
    base = [tok() for _ in range(8)]
    T, real, pool = SIMCSE_BATCH
    simcse = dict(make_rows(cfgj, T, real, pool, [_mutate(g, tok, base, 0) for _ in real]),
                  seeds=seeds[:2], **SIMCSE)
    # supervised: query = [BOS] + instruction (the first tokens of the base text: 2, 1, 1 tokens
    # with BOS, 3, 2, 2 without) + text; the pool weights skip BOS and the instruction
    T, real, pool = SUP_BATCHES["query"]
    texts = [_mutate(g, tok, base, 1) for _ in real]
    queries = []
    for L, P, text in zip(real, pool, texts):
        n_instr = L - P - (1 if cfgj.get("bos_token_id") is not None else 0)
        queries.append(base[:n_instr] + text[len(text) - P:])  # instruction = first tokens of base
    sup = {"query": make_rows(cfgj, T, real, pool, queries)}
    for name, n in (("positive", 1), ("negative", 2)):
        T, real, pool = SUP_BATCHES[name]
        sup[name] = make_rows(cfgj, T, real, pool, [_mutate(g, tok, t, n) for t in texts])
    sup = dict(sup, seeds=seeds, **SUPERVISED)
    nodrop = dict(attn_p=0.0, lora_p=0.0)
    return {"simcse": simcse, "supervised": sup,
            "simcse_nodrop": dict(simcse, **nodrop), "supervised_nodrop": dict(sup, **nodrop)}


def dropout_check(seed):
    """Small test vector for the JSON: derived seeds and the first keep bits of layer 0."""
    lq, la = layer_seed(seed, 0, 1), layer_seed(seed, 0, ATTN_SLOT)
    return {"pass_seed": seed, "layer": 0,
            "lora_q_proj_seed": lq, "lora_q_proj_keep_p0.05_first32": [int(keep_scalar(lq, i, 0.05)) for i in range(32)],
            "attn_seed": la, "attn_keep_p0.3_first32": [int(keep_scalar(la, i, 0.3)) for i in range(32)],
            "attn_u_first4": [(fmix32(i ^ fmix32(la)) >> 8) / 16777216.0 for i in range(4)]}


# ------------------------------------------------------------------------------- the writer
def write_case(out_dir, case, off):
    folder, cfg, cfgj = load_case(case)
    specs = make_specs(cfgj, off)

    g = torch.Generator().manual_seed(5000 + off)
    probe = HFDecoder(cfg, load_hf_folder_tensors(folder), DT)
    lora32 = {}
    for k, fin, fout in lora_shapes(probe):
        lora32[k] = (torch.randn(LORA_R, fin, generator=g) * 0.1, torch.randn(fout, LORA_R, generator=g) * 0.1)
    out = {}
    for k, (A, B) in lora32.items():
        out[f"lora.model.{k}.lora_A.weight"] = A
        out[f"lora.model.{k}.lora_B.weight"] = B

    leaves = {k: (A.to(DT).requires_grad_(True), B.to(DT).requires_grad_(True)) for k, (A, B) in lora32.items()}
    model = DropoutLoRADecoder(cfg, load_hf_folder_tensors(folder), DT, leaves, LORA_ALPHA / LORA_R)
    flat = [t for ab in leaves.values() for t in ab]

    # Check: without LoRA and dropout this model is hf_model's forward (f64 exactly, f32 closely).
    b = specs["supervised"]["query"]
    ref32 = load_model(folder, torch.float32)
    with torch.no_grad():
        saved, model.lora = model.lora, {}
        h64, _ = model.forward_grad(b["input_ids"], b["attention_mask"], "bidirectional", lm_head=False)
        model.lora = saved
        r64, _ = probe.forward_grad(b["input_ids"], b["attention_mask"], "bidirectional", lm_head=False)
        r32, _ = ref32.forward(b["input_ids"], b["attention_mask"], "bidirectional", lm_head=False)
    real = torch.tensor(b["attention_mask"]).bool()
    assert torch.equal(h64, r64), f"{case}: override differs from hf_model in f64"
    d32 = (r32.double() - h64)[real].abs().max().item()
    assert d32 < 1e-4, f"{case}: f64 vs f32 forward differ by {d32}"

    fd_errs, stats = [], {}
    for obj, spec in specs.items():
        loss, q, d = objective(model, obj, spec)
        grads = torch.autograd.grad(loss, flat)
        gmap = dict(zip([id(t) for t in flat], grads))
        out[f"{obj}.loss"] = loss.detach().float().reshape(1)
        out[f"{obj}.q"] = q.detach().float()
        out[f"{obj}.d"] = d.detach().float()
        for k, (A, B) in leaves.items():
            gA, gB = gmap[id(A)], gmap[id(B)]
            assert gA.abs().max() > 0 and gB.abs().max() > 0, (case, obj, k)
            out[f"{obj}.grad.model.{k}.lora_A.weight"] = gA.float()
            out[f"{obj}.grad.model.{k}.lora_B.weight"] = gB.float()
        stats[obj] = loss.item()

        with torch.no_grad():
            # the loss written out: -log softmax of the diagonal of scale * cos
            qn = q / q.norm(dim=1, keepdim=True)
            dn = d / d.norm(dim=1, keepdim=True)
            sc = spec["scale"] * qn @ dn.t()
            manual = -(sc.diagonal() - torch.logsumexp(sc, dim=1)).mean()
            assert abs(manual.item() - loss.item()) < 1e-12, (case, obj)
            if obj.endswith("_nodrop"):
                # no dropout: every pass of the same batch is identical
                if obj == "simcse_nodrop":
                    assert torch.equal(q, d), case
            else:
                # dropout is on and matters: the pooled reps differ from the no-dropout ones
                _, qn0, _ = objective(model, obj, specs[obj + "_nodrop"])
                assert (q - qn0).abs().max() > 1e-3, (case, obj)

        lf = lambda: objective(model, obj, spec)[0]  # noqa: E731
        ks = list(leaves)
        last = cfg.num_hidden_layers - 1
        # first (q) B, last (down) A, the last layer's o_proj A (its input went through
        # attention dropout) and the first layer's v_proj B
        for k, which, idx in ((ks[0], 1, (1, 2)), (ks[-1], 0, (3, 5)),
                              (f"layers.{last}.self_attn.o_proj", 0, (2, 7)), (ks[2], 1, (4, 1))):
            t = leaves[k][which]
            fd_errs.append(fd_check(lf, t, idx, gmap[id(t)], f"{case} {obj} {k}.{'AB'[which]}"))

    path = os.path.join(out_dir, f"contrastive-{case}.safetensors")
    save_file(out, path)
    meta = {"model": f"test/fixtures/parity/{case}", "lora": {"r": LORA_R, "alpha": LORA_ALPHA},
            "pad_token_id": cfgj["eos_token_id"], **specs,
            "dropout_check": dropout_check(specs["simcse"]["seeds"][0])}
    with open(os.path.join(out_dir, f"contrastive-{case}.json"), "w") as f:
        json.dump(meta, f)
        f.write("\n")
    print(f"contrastive-{case}: {len(out)} tensors, {os.path.getsize(path) // 1024} KB, "
          + ", ".join(f"{k}={v:.4f}" for k, v in stats.items())
          + f"; finite-difference max rel err {max(fd_errs):.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "test", "fixtures",
                                                  "training"))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rates = check_hash()
    print("hash: matches Node; keep rates " + ", ".join(f"p={p}: {r:.4f}" for p, r in rates.items()))
    os.makedirs(args.out, exist_ok=True)
    for case in args.cases.split(","):
        write_case(args.out, case, CASES[case])


if __name__ == "__main__":
    main()
