"""Write test/fixtures/torch-bin/: PyTorch .bin checkpoints made by torch.save, each with the same
tensors as safetensors, plus malicious and malformed files for the reader's refusals.

    /usr/bin/python3 scripts/reference/make_torch_bin_fixtures.py

Each malicious payload is checked here to really run under pickle/torch.load (it creates a
marker file, removed afterwards); the TypeScript reader must refuse it without creating it.
"""
import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save_file  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "torch-bin")
# Absolute, so the marker does not depend on the working directory of whoever opens the file.
MARKER = "/tmp/llm2vec-torch-bin-pwned-{}"


def tiny_llama(dtype, seed=0):
    """A 1-layer Llama state dict: hidden 8, intermediate 16, vocab 16."""
    g = torch.Generator().manual_seed(seed)
    shapes = {
        "model.embed_tokens.weight": (16, 8),
        "model.layers.0.self_attn.q_proj.weight": (8, 8),
        "model.layers.0.self_attn.k_proj.weight": (4, 8),
        "model.layers.0.self_attn.v_proj.weight": (4, 8),
        "model.layers.0.self_attn.o_proj.weight": (8, 8),
        "model.layers.0.mlp.gate_proj.weight": (16, 8),
        "model.layers.0.mlp.up_proj.weight": (16, 8),
        "model.layers.0.mlp.down_proj.weight": (8, 16),
        "model.layers.0.input_layernorm.weight": (8,),
        "model.layers.0.post_attention_layernorm.weight": (8,),
        "model.norm.weight": (8,),
        "lm_head.weight": (16, 8),
    }
    return OrderedDict((k, torch.randn(s, generator=g).to(dtype)) for k, s in shapes.items())


def save_pair(name, sd, bin_sd=None):
    """`name.bin` by torch.save (of `bin_sd`, default `sd`) and `name.safetensors` of `sd`."""
    torch.save(sd if bin_sd is None else bin_sd, os.path.join(OUT, name + ".bin"))
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(OUT, name + ".safetensors"))


class Reduce:
    """An object whose unpickling calls `fn(*args)`: what a malicious checkpoint holds."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def check_payload_runs(path, marker):
    """The payload is live: torch.load (a plain unpickler) creates the marker."""
    if os.path.exists(marker):
        os.remove(marker)
    try:
        torch.load(path)
    except Exception:
        pass  # Popen returns an object torch.load then rejects or not; the call already ran.
    for _ in range(50):
        if os.path.exists(marker):
            break
        import time
        time.sleep(0.05)
    assert os.path.exists(marker), f"{path}: payload did not run under torch.load"
    os.remove(marker)


def malicious(kind, payload):
    marker = MARKER.format(kind)
    sd = tiny_llama(torch.float32)
    sd = OrderedDict(list(sd.items())[:2])
    sd["evil"] = payload(marker)
    path = os.path.join(OUT, f"malicious-{kind}.bin")
    torch.save(sd, path)
    check_payload_runs(path, marker)


def hand_pickle_os_system():
    """A zip checkpoint whose data.pkl is hand-written: GLOBAL 'os system', REDUCE."""
    marker = MARKER.format("os-system")
    cmd = f"touch {marker}".encode()
    pkl = b"\x80\x02cos\nsystem\nq\x00X" + len(cmd).to_bytes(4, "little") + cmd + b"\x85R."
    path = os.path.join(OUT, "malicious-os-system.bin")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")
    if os.path.exists(marker):
        os.remove(marker)
    with zipfile.ZipFile(path) as z:
        pickle.loads(z.read("archive/data.pkl"))
    assert os.path.exists(marker), "hand-written os.system payload did not run under pickle.loads"
    os.remove(marker)


def main():
    os.makedirs(OUT, exist_ok=True)
    for tag, dt in (("f32", torch.float32), ("bf16", torch.bfloat16), ("f16", torch.float16)):
        save_pair(f"llama-{tag}", tiny_llama(dt))

    # Tied embeddings: lm_head.weight is the same tensor (one storage in the archive).
    tied = tiny_llama(torch.float32, seed=1)
    tied["lm_head.weight"] = tied["model.embed_tokens.weight"]
    save_pair("tied", tied)

    # Views of one storage: a non-zero storage offset, a transposed (non-contiguous) view, a
    # strided slice, an expanded row (stride 0), all in bf16 to exercise 2-byte elements.
    base = torch.randn(6, 8, generator=torch.Generator().manual_seed(2)).to(torch.bfloat16)
    views = OrderedDict(
        [
            ("base", base),
            ("offset", base[2:]),
            ("row", base[3]),
            ("transposed", base.t()),
            ("strided", base[1::2, ::3]),
            ("expanded", base[0:1].expand(3, 8)),
        ]
    )
    save_pair("views", views)

    # A sharded pair as transformers writes it, with the f32 llama's tensors.
    sharded = os.path.join(OUT, "sharded")
    os.makedirs(sharded, exist_ok=True)
    sd = tiny_llama(torch.float32)
    names = list(sd)
    shards = {"pytorch_model-00001-of-00002.bin": names[:6], "pytorch_model-00002-of-00002.bin": names[6:]}
    weight_map = {}
    for shard, keys in shards.items():
        torch.save({k: sd[k] for k in keys}, os.path.join(sharded, shard))
        weight_map.update({k: shard for k in keys})
    total = sum(t.numel() * t.element_size() for t in sd.values())
    import json

    with open(os.path.join(sharded, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)

    # Bad input.
    torch.save(tiny_llama(torch.float32), os.path.join(OUT, "legacy.bin"), _use_new_zipfile_serialization=False)
    sd = tiny_llama(torch.float32)
    torch.save({"model.norm.weight": sd["model.norm.weight"], "step": 3}, os.path.join(OUT, "non-tensor.bin"))
    torch.save({"model": {"model.norm.weight": sd["model.norm.weight"]}}, os.path.join(OUT, "nested.bin"))

    malicious("posix-system", lambda m: Reduce(os.system, (f"touch {m}",)))
    malicious("eval", lambda m: Reduce(eval, (f"open({m!r}, 'w').close()",)))
    malicious("popen", lambda m: Reduce(subprocess.Popen, (["touch", m],)))
    hand_pickle_os_system()

    for f in sorted(os.listdir(OUT)):
        p = os.path.join(OUT, f)
        if os.path.isfile(p):
            print(f"{os.path.getsize(p):7d}  {f}")


if __name__ == "__main__":
    main()
