"""Write tiny random HF checkpoints + reference outputs for TS parity tests.

    /usr/bin/python3 scripts/reference/make_parity_fixtures.py [--out test/fixtures/parity]

For each case, test/fixtures/parity/<case>/ gets:
  config.json                       HF config with real-looking fields for the family
  model.safetensors                 weights (or model-0000{1,2}-of-00002.safetensors +
                                    model.safetensors.index.json for the sharded case)
  inputs.json                       {"input_ids": [[...]*3], "attention_mask": [[...]*3]}
                                    3 rows, T=9, LEFT padded, real lengths 9, 5, 2, pad id = eos id
  expected.safetensors              float32 causal.hidden [B,T,C], causal.logits [B,T,V],
                                    bidirectional.hidden, bidirectional.logits; cases with
                                    pooled=True also <mode>.mean [B,C] (LLM2Vec's mean pooling
                                    over the real tokens: sum(h * mask) / sum(mask))

Expected outputs are computed by scripts/reference/hf_model.py after loading the
folder back from disk (so bf16 cases use the bf16-rounded weights, upcast to f32).
Everything is seeded: rerunning gives byte-identical files on the same torch build.
"""
import argparse
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import save_file  # noqa: E402
from hf_model import load_model  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
T = 9
REAL_LENGTHS = (9, 5, 2)

# Shared tiny shapes: hidden 64, 2 layers, FFN 128.
_BASE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, initializer_range=0.02,
             use_cache=True, attention_dropout=0.0, transformers_version="4.44.2")

_QWEN3 = dict(
    _BASE, architectures=["Qwen3ForCausalLM"], model_type="qwen3", vocab_size=128, num_attention_heads=4,
    hidden_act="silu", max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0, rope_scaling=None,
    use_sliding_window=False, sliding_window=None, max_window_layers=2, bos_token_id=None, eos_token_id=127,
    torch_dtype="float32")

def _longrope_factors(seed, n):
    """Distinct short and long per-frequency factors in [1, 4] (as Phi-3's lie between 1 and ~60)."""
    g = torch.Generator().manual_seed(500 + seed)
    return [round(1 + 3 * float(x), 4) for x in torch.rand(n, generator=g)], \
           [round(1 + 3 * float(x), 4) for x in torch.rand(n, generator=g)]


_PHI3 = dict(
    _BASE, architectures=["Phi3ForCausalLM"], model_type="phi3", vocab_size=128, num_attention_heads=4,
    hidden_act="silu", rms_norm_eps=1e-5, rope_theta=10000.0, attention_bias=False, bos_token_id=1,
    eos_token_id=2, pad_token_id=2, resid_pdrop=0.0, embd_pdrop=0.0, torch_dtype="float32")

CASES = {
    # GQA 4q/2kv, llama3 rope scaling with original_max_position_embeddings=64 so that,
    # with head_dim 16 and theta 5e5, the three frequency bands (kept / smoothed /
    # divided by factor) all occur.
    "llama": dict(seed=1, dtype="float32", shards=1, config=dict(
        _BASE, architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=256,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, hidden_act="silu",
        max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=500000.0,
        rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_position_embeddings=64),
        attention_bias=False, mlp_bias=False, pretraining_tp=1, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2, torch_dtype="float32")),
    # Llama-2 style (default RoPE, MHA) with weights stored as BF16.
    "llama-bf16": dict(seed=2, dtype="bfloat16", shards=1, config=dict(
        _BASE, architectures=["LlamaForCausalLM"], model_type="llama", vocab_size=256,
        num_attention_heads=4, num_key_value_heads=4, hidden_act="silu",
        max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None,
        attention_bias=False, mlp_bias=False, pretraining_tp=1, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2, torch_dtype="bfloat16")),
    # Sharded into 2 files; sliding_window (16) > T so it never bites even in causal mode.
    "mistral": dict(seed=3, dtype="float32", shards=2, config=dict(
        _BASE, architectures=["MistralForCausalLM"], model_type="mistral", vocab_size=128,
        num_attention_heads=4, num_key_value_heads=2, hidden_act="silu",
        max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=16,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, torch_dtype="float32")),
    # q/k/v biases, tied embeddings, no BOS token (Qwen2 tokenizers add none).
    "qwen2": dict(seed=4, dtype="float32", shards=1, config=dict(
        _BASE, architectures=["Qwen2ForCausalLM"], model_type="qwen2", vocab_size=128,
        num_attention_heads=4, num_key_value_heads=2, hidden_act="silu",
        max_position_embeddings=512, rms_norm_eps=1e-6, rope_theta=1000000.0,
        use_sliding_window=False, sliding_window=512, max_window_layers=2,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=127, torch_dtype="float32")),
    # Qwen3 (Qwen3-0.6B's config fields, transformers 4.51): q_norm/k_norm, explicit head_dim
    # 32 != 64/4, no biases, tied embeddings (as 0.6B-4B are), no BOS token.
    "qwen3": dict(seed=6, dtype="float32", shards=1, pooled=True, config=dict(
        _QWEN3, num_key_value_heads=2, head_dim=32, attention_bias=False, tie_word_embeddings=True)),
    # Qwen3 with attention_bias (q/k/v/o biases) and an untied LM head (as Qwen3-8B is).
    "qwen3-bias": dict(seed=7, dtype="float32", shards=1, pooled=True, config=dict(
        _QWEN3, num_key_value_heads=4, head_dim=16, attention_bias=True, tie_word_embeddings=False)),
    # Phi-3: fused qkv_proj / gate_up_proj, GQA 4/2, untied, LongRoPE (type "longrope") with
    # original_max_position_embeddings 32 > every position here, so the short factors and the
    # attention factor √(1 + ln 4 / ln 32) apply; sliding_window 64 never bites.
    "phi3": dict(seed=8, dtype="float32", shards=1, pooled=True, config=dict(
        _PHI3, num_key_value_heads=2, max_position_embeddings=128, original_max_position_embeddings=32,
        sliding_window=64, tie_word_embeddings=False,
        rope_scaling=dict(type="longrope", short_factor=_longrope_factors(8, 8)[0],
                          long_factor=_longrope_factors(8, 8)[1]))),
    # Phi-3 with the older rope type name "su", original_max_position_embeddings 4 < T = 9 so the
    # long factors apply (factor 16), MHA, tied embeddings.
    "phi3-long": dict(seed=9, dtype="float32", shards=1, pooled=True, config=dict(
        _PHI3, num_key_value_heads=4, max_position_embeddings=64, original_max_position_embeddings=4,
        sliding_window=None, tie_word_embeddings=True,
        rope_scaling=dict(type="su", short_factor=_longrope_factors(9, 8)[0],
                          long_factor=_longrope_factors(9, 8)[1]))),
    # head_dim 32 != 64/4, MQA (1 kv head) like gemma-2b, tied, gelu tanh, (1+w) norms.
    "gemma": dict(seed=5, dtype="float32", shards=1, config=dict(
        _BASE, architectures=["GemmaForCausalLM"], model_type="gemma", vocab_size=128,
        num_attention_heads=4, num_key_value_heads=1, head_dim=32, hidden_act="gelu",
        hidden_activation="gelu_pytorch_tanh", max_position_embeddings=256, rms_norm_eps=1e-6,
        rope_theta=10000.0, attention_bias=False, tie_word_embeddings=True,
        bos_token_id=2, eos_token_id=1, pad_token_id=0, torch_dtype="float32")),
    # Gemma 2: query_pre_attn_scalar 24 (scale 24^-0.5, not head_dim 32's), attention and final
    # logit soft-caps small enough to bite on these scores and logits, four norms per layer, GQA
    # 4/2, tied; sliding_window 4 < T on layer 0 (local), layer 1 global, so causal runs (and
    # generation, training) see the alternation.
    "gemma2": dict(seed=10, dtype="float32", shards=1, pooled=True, config=dict(
        _BASE, architectures=["Gemma2ForCausalLM"], model_type="gemma2", vocab_size=128,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, hidden_act="gelu_pytorch_tanh",
        hidden_activation="gelu_pytorch_tanh", max_position_embeddings=256, rms_norm_eps=1e-6,
        rope_theta=10000.0, attention_bias=False, tie_word_embeddings=True, query_pre_attn_scalar=24,
        attn_logit_softcapping=1.5, final_logit_softcapping=2.5, sliding_window=4,
        cache_implementation="hybrid", bos_token_id=2, eos_token_id=1, pad_token_id=0, torch_dtype="float32")),
}


def make_weights(cfg, seed):
    """Random weights with HF names. std 0.1 for matrices/biases so attention is far
    from uniform and the outputs are non-trivial; norm weights are perturbed too."""
    g = torch.Generator().manual_seed(seed)
    C, F_, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or C // H
    gemma = cfg["model_type"] in ("gemma", "gemma2")
    gemma2 = cfg["model_type"] == "gemma2"
    qkv_bias = cfg["model_type"] == "qwen2"
    qwen3 = cfg["model_type"] == "qwen3"
    qwen3_bias = qwen3 and cfg.get("attention_bias", False)

    def rnd(*shape, std=0.1):
        return torch.randn(*shape, generator=g) * std

    def norm(n):
        # HF stores gemma norm weights as an offset from 1 ((1 + w) scaling).
        return rnd(n) if gemma else 1.0 + rnd(n)

    w = {"model.embed_tokens.weight": rnd(V, C, std=0.5 if not gemma else 0.1)}
    if cfg["model_type"] == "phi3":
        # Phi3Attention / Phi3MLP: one qkv_proj [(H + 2 KV) D, C], one gate_up_proj [2 F, C].
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            w[p + "input_layernorm.weight"] = norm(C)
            w[p + "self_attn.qkv_proj.weight"] = rnd((H + 2 * KV) * D, C)
            w[p + "self_attn.o_proj.weight"] = rnd(C, H * D)
            w[p + "post_attention_layernorm.weight"] = norm(C)
            w[p + "mlp.gate_up_proj.weight"] = rnd(2 * F_, C)
            w[p + "mlp.down_proj.weight"] = rnd(C, F_)
        w["model.norm.weight"] = norm(C)
        if not cfg["tie_word_embeddings"]:
            w["lm_head.weight"] = rnd(V, C)
        return w
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(C)
        for name, rows in (("q_proj", H * D), ("k_proj", KV * D), ("v_proj", KV * D)):
            w[p + f"self_attn.{name}.weight"] = rnd(rows, C)
            if qkv_bias or qwen3_bias:
                w[p + f"self_attn.{name}.bias"] = rnd(rows)
        w[p + "self_attn.o_proj.weight"] = rnd(C, H * D)
        if qwen3_bias:
            w[p + "self_attn.o_proj.bias"] = rnd(C)
        if qwen3:
            w[p + "self_attn.q_norm.weight"] = norm(D)
            w[p + "self_attn.k_norm.weight"] = norm(D)
        w[p + "post_attention_layernorm.weight"] = norm(C)
        if gemma2:
            w[p + "pre_feedforward_layernorm.weight"] = norm(C)
            w[p + "post_feedforward_layernorm.weight"] = norm(C)
        w[p + "mlp.gate_proj.weight"] = rnd(F_, C)
        w[p + "mlp.up_proj.weight"] = rnd(F_, C)
        w[p + "mlp.down_proj.weight"] = rnd(C, F_)
    w["model.norm.weight"] = norm(C)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rnd(V, C)
    return w


def make_inputs(cfg, seed):
    """Ragged LEFT-padded batch: pads (= eos id) first, then BOS (if the family has
    one) and random ids that avoid the special ids 0..2 and the eos id."""
    g = torch.Generator().manual_seed(1000 + seed)
    V, eos, bos = cfg["vocab_size"], cfg["eos_token_id"], cfg.get("bos_token_id")
    ids, mask = [], []
    for L in REAL_LENGTHS:
        toks = torch.randint(3, V, (L,), generator=g).tolist()
        toks = [t if t != eos else 3 for t in toks]
        if bos is not None:
            toks[0] = bos
        ids.append([eos] * (T - L) + toks)
        mask.append([0] * (T - L) + [1] * L)
    return {"input_ids": ids, "attention_mask": mask}


def write_case(out_dir, name, spec):
    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    cfg = spec["config"]
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    dt = {"float32": torch.float32, "bfloat16": torch.bfloat16}[spec["dtype"]]
    w = {k: v.to(dt) for k, v in make_weights(cfg, spec["seed"]).items()}
    if spec["shards"] == 1:
        save_file(w, os.path.join(d, "model.safetensors"))
    else:
        # Split the tensor list in two halves (layer 0 + embeddings | the rest), the
        # way HF's max_shard_size splitting produces contiguous groups.
        names = list(w)
        half = len(names) // 2
        n = spec["shards"]
        groups = [names[:half], names[half:]]
        weight_map, total = {}, 0
        for si, group in enumerate(groups):
            fname = f"model-{si + 1:05d}-of-{n:05d}.safetensors"
            save_file({k: w[k] for k in group}, os.path.join(d, fname))
            for k in group:
                weight_map[k] = fname
                total += w[k].numel() * w[k].element_size()
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
                      f, indent=2)
            f.write("\n")
    inputs = make_inputs(cfg, spec["seed"])
    with open(os.path.join(d, "inputs.json"), "w") as f:
        json.dump(inputs, f)
        f.write("\n")

    # Reload from disk, exactly as a consumer would, and compute the references.
    model = load_model(d, torch.float32)
    expected = {}
    for mode in ("causal", "bidirectional"):
        h, lg = model.forward(inputs["input_ids"], inputs["attention_mask"], mode)
        assert torch.isfinite(h).all() and torch.isfinite(lg).all(), (name, mode)
        expected[f"{mode}.hidden"] = h.float().contiguous()
        expected[f"{mode}.logits"] = lg.float().contiguous()
        if spec.get("pooled"):
            m = torch.tensor(inputs["attention_mask"], dtype=h.dtype)[:, :, None]
            expected[f"{mode}.mean"] = ((h * m).sum(1) / m.sum(1)).float().contiguous()
    save_file(expected, os.path.join(d, "expected.safetensors"))
    real = torch.tensor(inputs["attention_mask"]).bool()
    diff = (expected["causal.hidden"] - expected["bidirectional.hidden"])[real].abs().max().item()
    print(f"{name}: wrote {d}  |hidden|max={expected['bidirectional.hidden'].abs().max():.3f} "
          f"logit std={expected['bidirectional.logits'][real].std():.3f} causal-vs-bi max diff={diff:.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "parity"))
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic reductions, and we share the CPU
    for name in args.cases.split(","):
        write_case(args.out, name, CASES[name])


if __name__ == "__main__":
    main()
