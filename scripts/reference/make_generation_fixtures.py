"""Greedy generation references: next-token logits step by step, from plain PyTorch.

    /usr/bin/python3 scripts/reference/make_generation_fixtures.py [--out test/fixtures/generation]

For each parity checkpoint (test/fixtures/parity/<case>, see its README) and for the real
stories260K (test/fixtures/models/stories260K/stories260K.bin, read here straight from the
llama2.c file, independently of the TypeScript importer), writes <case>.json:
  {"model": <folder or .bin relative to test/fixtures>, "prompts": [[ids]...],
   "tokens": [[greedy ids]...], "steps": n}
and <case>.safetensors with float32 `logits.<row>` [steps, V]: the logits of the last position
at each step. Every step re-runs the whole prefix (no cache) through scripts/reference/hf_model.py
in causal mode, one prompt at a time, unpadded: what a KV-cache decoder must reproduce, batched
or not. Deterministic (greedy, single thread).
"""
import argparse
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from safetensors_io import save_file  # noqa: E402
from hf_model import Config, HFDecoder, load_model  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(REPO, "test", "fixtures")
# phi3-long is left out: its long factors switch on mid-generation, where transformers' cached
# keys keep their short-factor rotation and this no-cache oracle would re-rotate them.
PARITY_CASES = ("llama", "llama-bf16", "mistral", "qwen2", "qwen3", "qwen3-bias", "gemma", "gemma2", "phi3")
STEPS = 8
STORIES_PROMPTS = ([1], [1, 403, 407, 261, 378], [1, 306, 422])
STORIES_STEPS = 30  # the golden greedy story from BOS is 30 tokens


def parity_prompts(folder):
    """The parity inputs' rows without their left padding (lengths 9, 5, 2)."""
    with open(os.path.join(folder, "inputs.json")) as f:
        inp = json.load(f)
    return [[t for t, m in zip(ids, mask) if m] for ids, mask in zip(inp["input_ids"], inp["attention_mask"])]


def load_stories(path):
    """llama2.c v0 file → HFDecoder (q/k rows permuted from interleaved to HF rotate-half RoPE)."""
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, L, H, KVH, vocab, seq = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // H
    flat = torch.frombuffer(bytearray(data[28:]), dtype=torch.float32)
    off = 0

    def take(*shape):
        nonlocal off
        n = 1
        for s in shape:
            n *= s
        t = flat[off:off + n].reshape(*shape).clone()
        off += n
        return t

    def permute(w, heads):
        rows = w.shape[0]
        return w.reshape(heads, hd // 2, 2, dim).transpose(1, 2).reshape(rows, dim)

    emb = take(vocab, dim)
    att_norm = take(L, dim)
    wq, wk, wv = take(L, dim, dim), take(L, KVH * hd, dim), take(L, KVH * hd, dim)
    wo = take(L, dim, dim)
    ffn_norm = take(L, dim)
    w1, w2, w3 = take(L, hidden, dim), take(L, dim, hidden), take(L, hidden, dim)
    final = take(dim)
    take(seq, hd // 2)  # legacy RoPE tables, unused
    take(seq, hd // 2)
    head = emb if shared else take(vocab, dim)
    w = {"model.embed_tokens.weight": emb, "model.norm.weight": final, "lm_head.weight": head}
    for i in range(L):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = att_norm[i]
        w[p + "post_attention_layernorm.weight"] = ffn_norm[i]
        w[p + "self_attn.q_proj.weight"] = permute(wq[i], H)
        w[p + "self_attn.k_proj.weight"] = permute(wk[i], KVH)
        w[p + "self_attn.v_proj.weight"] = wv[i]
        w[p + "self_attn.o_proj.weight"] = wo[i]
        w[p + "mlp.gate_proj.weight"] = w1[i]
        w[p + "mlp.down_proj.weight"] = w2[i]
        w[p + "mlp.up_proj.weight"] = w3[i]
    cfg = Config(dict(model_type="llama", vocab_size=vocab, hidden_size=dim, intermediate_size=hidden,
                      num_hidden_layers=L, num_attention_heads=H, num_key_value_heads=KVH,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                      hidden_act="silu", max_position_embeddings=seq))
    return HFDecoder(cfg, w, torch.float32)


def greedy(model, prompt, steps):
    ids = list(prompt)
    logits, out = [], []
    for _ in range(steps):
        _, lg = model.forward([ids], None, "causal")
        last = lg[0, -1].float()
        assert torch.isfinite(last).all()
        logits.append(last)
        nxt = int(torch.argmax(last))
        # A near-tie would make the greedy path fragile under float reordering: say so.
        top2 = torch.topk(last, 2).values
        if (top2[0] - top2[1]).item() < 1e-3:
            print(f"  warning: near-tie at step {len(out)} ({(top2[0] - top2[1]).item():.2e})")
        out.append(nxt)
        ids.append(nxt)
    return torch.stack(logits).contiguous(), out


def write(out_dir, name, model_ref, model, prompts, steps):
    tensors, tokens = {}, []
    for r, p in enumerate(prompts):
        lg, toks = greedy(model, p, steps)
        tensors[f"logits.{r}"] = lg
        tokens.append(toks)
    save_file(tensors, os.path.join(out_dir, f"{name}.safetensors"))
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump({"model": model_ref, "prompts": [list(p) for p in prompts], "tokens": tokens, "steps": steps}, f)
        f.write("\n")
    print(f"{name}: {len(prompts)} prompts × {steps} steps; first tokens {tokens[0][:8]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(FIXTURES, "generation"))
    ap.add_argument("--cases", default=",".join(PARITY_CASES + ("stories260K",)))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    cases = args.cases.split(",")
    for case in PARITY_CASES:
        if case not in cases:
            continue
        folder = os.path.join(FIXTURES, "parity", case)
        write(args.out, case, f"parity/{case}", load_model(folder, torch.float32), parity_prompts(folder), STEPS)
    if "stories260K" not in cases:
        return
    stories = load_stories(os.path.join(FIXTURES, "models", "stories260K", "stories260K.bin"))
    write(args.out, "stories260K", "models/stories260K", stories, STORIES_PROMPTS, STORIES_STEPS)


if __name__ == "__main__":
    main()
