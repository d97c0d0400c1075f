"""Reference outputs of the parity models in bf16 compute, for test/models/parity-bf16.test.ts.

    /usr/bin/python3 scripts/reference/make_bf16_fixtures.py [--dir test/fixtures/parity]

The semantics are PyTorch's bf16 autocast with float32 GEMM outputs, which is what llm2vec's
`computeDtype: "bf16"` does: both operands of every Linear (and of the LM head) are rounded to
bfloat16 (round to nearest even, torch's cast), multiplied with float32 accumulation, and the
result stays float32; biases are added in float32; embeddings, RMSNorm, RoPE, attention
(QKᵀ, softmax, PV) and activations stay float32. (Autocast proper would also round every Linear
output to bf16; llm2vec keeps its f32 accumulators, as oneDNN's bf16 matmul with f32 dst does.)

For each case folder made by make_parity_fixtures.py this writes expected-bf16.safetensors:
float32 causal.hidden, causal.logits, bidirectional.hidden, bidirectional.logits.
"""
import argparse
import os
import sys
import types

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import save_file  # noqa: E402
from hf_model import load_model  # noqa: E402
import json  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CASES = ["llama", "llama-bf16", "mistral", "qwen2", "qwen3", "qwen3-bias", "gemma", "gemma2", "phi3", "phi3-long"]


def bf16(t):
    return t.to(torch.bfloat16).to(torch.float32)


def linear_bf16(self, x, prefix, bias):
    b = self.w.get(prefix + ".bias") if bias else None
    return F.linear(bf16(x), bf16(self.w[prefix + ".weight"]), b)


def linear_bf16_f64(self, x, prefix, bias):
    b = self.w.get(prefix + ".bias") if bias else None
    y = F.linear(bf16(x).double(), bf16(self.w[prefix + ".weight"]).double(), None if b is None else b.double())
    return y.float()


def write_case(d):
    model = load_model(d, torch.float32)
    model.linear = types.MethodType(linear_bf16, model)
    with open(os.path.join(d, "inputs.json")) as f:
        inputs = json.load(f)
    out = {}
    for mode in ("causal", "bidirectional"):
        with torch.no_grad():
            h, _ = model.forward(inputs["input_ids"], inputs["attention_mask"], mode, lm_head=False)
            logits = F.linear(bf16(h), bf16(model.w["lm_head.weight"]))
            if model.cfg.final_softcap is not None:  # Gemma 2's final-logit soft-cap, in f32
                logits = torch.tanh(logits / model.cfg.final_softcap) * model.cfg.final_softcap
        assert torch.isfinite(h).all() and torch.isfinite(logits).all(), (d, mode)
        out[f"{mode}.hidden"] = h.float().contiguous()
        out[f"{mode}.logits"] = logits.float().contiguous()
    save_file(out, os.path.join(d, "expected-bf16.safetensors"))
    # How far bf16 compute moves the outputs from the f32 reference (real positions only).
    ref = load_model(d, torch.float32)
    real = torch.tensor(inputs["attention_mask"]).bool()
    rel, noise = 0.0, 0.0
    m64 = load_model(d, torch.float32)
    m64.linear = types.MethodType(linear_bf16_f64, m64)
    for mode in ("causal", "bidirectional"):
        h32, _ = ref.forward(inputs["input_ids"], inputs["attention_mask"], mode, lm_head=False)
        rel = max(rel, ((h32 - out[f"{mode}.hidden"])[real].abs().max() / h32[real].abs().max()).item())
        # PyTorch's own sensitivity: the same bf16 forward with f64 accumulation. A last-bit change
        # of an activation can flip its bf16 rounding, so this is the noise floor of any comparison.
        h64, _ = m64.forward(inputs["input_ids"], inputs["attention_mask"], mode, lm_head=False)
        noise = max(noise, ((h64 - out[f"{mode}.hidden"])[real].abs().max() / h64[real].abs().max()).item())
    print(f"{d}: wrote expected-bf16.safetensors; hidden (max over modes): bf16 vs f32 max rel diff {rel:.2e}, "
          f"bf16 with f32 vs f64 accumulation {noise:.2e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.join(REPO, "test", "fixtures", "parity"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name in CASES:
        write_case(os.path.join(args.dir, name))


if __name__ == "__main__":
    main()
