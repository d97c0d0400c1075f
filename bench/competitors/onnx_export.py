#!/usr/bin/env python3
"""Export an HF checkpoint folder as an ONNX encoder for the onnxruntime competitor.

    /usr/bin/python3 bench/competitors/onnx_export.py --model DIR --output FILE.onnx [--opset 14]

The graph is scripts/reference/hf_model.py's forward (the project's independent PyTorch
reference), bidirectional attention (key-padding mask only), followed by masked mean pooling:
inputs input_ids int64 [batch, seq] and attention_mask int64 [batch, seq], output embedding
float32 [batch, hidden]. Both axes are dynamic. Weights become float32 initializers (bf16/f16
checkpoints are upcast at load). Exported with torch.onnx.export (tracing); the file is written
under a temporary name and renamed, so an interrupted export leaves nothing that looks complete.

Prints one JSON line: output path, opset, torch version, export seconds, file size.
"""
import argparse
import json
import os
import sys
import time

import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts", "reference"))
from hf_model import HFDecoder, build_attention_mask, read_config, rope_cos_sin, rope_inv_freq  # noqa: E402
from safetensors_io import load_hf_folder_tensors  # noqa: E402


class MeanPooledEncoder(torch.nn.Module):
    """hf_model's bidirectional forward (HFDecoder.forward_grad's loop over its blocks, without its
    torch.as_tensor conversions, which tracing would freeze into constants) + mean pooling."""

    def __init__(self, decoder):
        super().__init__()
        if decoder.cfg.model_type == "gemma":
            raise NotImplementedError("the export covers the Llama-style families (no Gemma embedding scale)")
        self.d = decoder

    def forward(self, input_ids, attention_mask):
        d, cfg = self.d, self.d.cfg
        T = input_ids.shape[1]
        h = torch.nn.functional.embedding(input_ids, d.w["embed_tokens.weight"])
        mask = build_attention_mask(attention_mask, "bidirectional", d.dtype)
        inv_freq, scaling = rope_inv_freq(cfg, T)
        cos, sin = rope_cos_sin(inv_freq, T, d.dtype, scaling)
        for i in range(cfg.num_hidden_layers):
            h = h + d.attention(d.rms_norm(h, d.w[f"layers.{i}.input_layernorm.weight"]), i, mask, cos, sin)
            h = h + d.mlp(d.rms_norm(h, d.w[f"layers.{i}.post_attention_layernorm.weight"]), i)
        h = d.rms_norm(h, d.w["norm.weight"])
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        return (h.float() * m).sum(dim=1) / m.sum(dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="HF folder (config.json + safetensors)")
    ap.add_argument("--output", required=True)
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args()

    t0 = time.perf_counter()
    cfg = read_config(args.model)
    enc = MeanPooledEncoder(HFDecoder(cfg, load_hf_folder_tensors(args.model), torch.float32)).eval()
    # A traced example with batch != seq so that no axis is confused with another.
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (2, 5), generator=g)
    mask = torch.ones_like(ids)
    tmp = f"{args.output}.partial-{os.getpid()}"
    with torch.no_grad():
        torch.onnx.export(
            enc, (ids, mask), tmp,
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "embedding": {0: "batch"}},
            opset_version=args.opset, do_constant_folding=True,
        )
    os.replace(tmp, args.output)
    print(json.dumps({
        "output": os.path.abspath(args.output), "opset": args.opset, "torch": torch.__version__,
        "export_s": round(time.perf_counter() - t0, 2), "bytes": os.path.getsize(args.output),
    }))


if __name__ == "__main__":
    main()
