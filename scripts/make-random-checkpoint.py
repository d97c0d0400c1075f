#!/usr/bin/env python3
"""Write an HF checkpoint folder with random weights at a real model's exact shapes.

    /usr/bin/python3 scripts/make-random-checkpoint.py --preset sheared-llama-1.3b --dtype bf16 --output DIR
    /usr/bin/python3 scripts/make-random-checkpoint.py --preset llama4-bench --dtype f32 --output DIR
    /usr/bin/python3 scripts/make-random-checkpoint.py --config test/fixtures/configs/Qwen3-0.6B/config.json --dtype bf16 --output DIR

Used for load/forward benchmarks where only shapes and dtypes matter (ids are random,
so no tokenizer is written). Tensors are generated and written one at a time
(safetensors_io.save_file_streaming), so peak memory is about one tensor
(the 32000x2048 embedding, 262 MB in f32) rather than the whole model.
sheared-llama-1.3b in bf16 is ~2.7 GB: write it outside the repo (or under an
ignored path) and never commit it.

Presets:
  sheared-llama-1.3b  princeton-nlp/Sheared-LLaMA-1.3B shapes: llama, hidden 2048,
                      intermediate 5504, 24 layers, 16 heads, 16 kv heads, vocab 32000,
                      untied lm_head, rms eps 1e-5, rope theta 10000, max pos 4096
  llama-3.1-8b        meta-llama/Llama-3.1-8B shapes: hidden 4096, intermediate 14336, 32 layers,
                      32 heads, 8 kv heads, vocab 128256, untied lm_head, rope theta 500000 with
                      llama3 rope scaling (factor 8, original max pos 8192), ~16.1 GB in bf16
  llama4-bench        the 4-layer block stack of bench/competitors/torch_llama_block.py
                      (hidden 512, 8 heads, FFN 1408) + a 32000 vocab, ~46M params
Or `--config FILE`: a published config.json (llama or qwen3; e.g. the golden ones under
test/fixtures/configs/), written back with torch_dtype set to --dtype.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
from safetensors_io import save_file_streaming  # noqa: E402

PRESETS = {
    "sheared-llama-1.3b": dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=2048, intermediate_size=5504,
        num_hidden_layers=24, num_attention_heads=16, num_key_value_heads=16, vocab_size=32000,
        max_position_embeddings=4096, rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None,
        hidden_act="silu", tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        initializer_range=0.02, pretraining_tp=1, bos_token_id=1, eos_token_id=2, pad_token_id=0,
        use_cache=True, transformers_version="4.44.2"),
    "llama4-bench": dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=512, intermediate_size=1408,
        num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=8, vocab_size=32000,
        max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None,
        hidden_act="silu", tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        initializer_range=0.02, pretraining_tp=1, bos_token_id=1, eos_token_id=2,
        use_cache=True, transformers_version="4.44.2"),
    # meta-llama/Llama-3.1-8B's config.json (Llama-3-8B's shapes, with Llama 3.1's rope scaling).
    "llama-3.1-8b": dict(
        architectures=["LlamaForCausalLM"], model_type="llama", hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
        max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
        rope_scaling=dict(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_position_embeddings=8192, rope_type="llama3"),
        hidden_act="silu", tie_word_embeddings=False, attention_bias=False, attention_dropout=0.0,
        mlp_bias=False, initializer_range=0.02, pretraining_tp=1, bos_token_id=128000,
        eos_token_id=128001, use_cache=True, transformers_version="4.43.0.dev0"),
}

DTYPES = {"bf16": (torch.bfloat16, "bfloat16"), "f16": (torch.float16, "float16"),
          "f32": (torch.float32, "float32")}


def tensor_specs(cfg, dtype):
    """(name, dtype, shape) in HF's usual order."""
    C, F, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or C // H
    qwen3 = cfg["model_type"] == "qwen3"
    if cfg["model_type"] not in ("llama", "qwen3"):
        sys.exit(f"model_type {cfg['model_type']!r}: only llama and qwen3 shapes are written")
    bias = bool(cfg.get("attention_bias"))
    specs = [("model.embed_tokens.weight", dtype, (V, C))]
    for i in range(L):
        p = f"model.layers.{i}."
        specs += [
            (p + "input_layernorm.weight", dtype, (C,)),
            (p + "self_attn.q_proj.weight", dtype, (H * D, C)),
            (p + "self_attn.k_proj.weight", dtype, (KV * D, C)),
            (p + "self_attn.v_proj.weight", dtype, (KV * D, C)),
            (p + "self_attn.o_proj.weight", dtype, (C, H * D)),
        ]
        if bias:
            specs += [(p + f"self_attn.{n}_proj.bias", dtype, (m * D,)) for n, m in (("q", H), ("k", KV), ("v", KV))]
            specs.append((p + "self_attn.o_proj.bias", dtype, (C,)))
        if qwen3:
            # Qwen3Attention's per-head RMSNorms: q_norm / k_norm over head_dim.
            specs += [(p + "self_attn.q_norm.weight", dtype, (D,)), (p + "self_attn.k_norm.weight", dtype, (D,))]
        specs += [
            (p + "post_attention_layernorm.weight", dtype, (C,)),
            (p + "mlp.gate_proj.weight", dtype, (F, C)),
            (p + "mlp.up_proj.weight", dtype, (F, C)),
            (p + "mlp.down_proj.weight", dtype, (C, F)),
        ]
    specs.append(("model.norm.weight", dtype, (C,)))
    if not cfg["tie_word_embeddings"]:
        specs.append(("lm_head.weight", dtype, (V, C)))
    return specs


def main():
    ap = argparse.ArgumentParser(description="random-weight HF checkpoint at real shapes")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=sorted(PRESETS))
    which.add_argument("--config", help="a published config.json to take the shapes from")
    ap.add_argument("--dtype", default="bf16", choices=sorted(DTYPES))
    ap.add_argument("--output", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    dtype, dtype_name = DTYPES[args.dtype]
    if args.config:
        with open(args.config) as f:
            cfg = dict(json.load(f), torch_dtype=dtype_name)
    else:
        cfg = dict(PRESETS[args.preset], torch_dtype=dtype_name)
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")

    g = torch.Generator().manual_seed(args.seed)
    std = cfg["initializer_range"]

    def make(name, dt, shape):
        if name.endswith(".bias"):
            t = torch.zeros(shape)
        elif name.endswith("norm.weight"):
            # Norm weights near 1 (as trained models have) keep activations O(1).
            t = 1.0 + 0.02 * torch.randn(shape, generator=g)
        else:
            t = std * torch.randn(shape, generator=g)
        return t.to(dt)

    t0 = time.time()
    specs = tensor_specs(cfg, dtype)
    total = save_file_streaming(specs, make, os.path.join(args.output, "model.safetensors"))
    n_params = sum(torch.Size(s).numel() for _, _, s in specs)
    print(json.dumps({"output": args.output, "preset": args.preset or args.config, "dtype": dtype_name,
                      "params": n_params, "bytes": total, "seconds": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
