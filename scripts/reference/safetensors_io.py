"""Minimal safetensors reader/writer (no `safetensors` package is installed).

File format (https://github.com/huggingface/safetensors):
  * 8 bytes: little-endian u64 N = length of the JSON header
  * N bytes: UTF-8 JSON {name: {"dtype": "F32"|"BF16"|"F16", "shape": [...],
             "data_offsets": [begin, end]}, "__metadata__": {...}}
             padded with spaces so that 8 + N is a multiple of 8
  * the raw little-endian tensor bytes; offsets are relative to the byte
    right after the header.

Only the dtypes the project needs are supported. Tensors are returned as torch
tensors in their stored dtype (BF16 stays bfloat16); callers upcast.
"""
import json
import os
import struct

import numpy as np
import torch

# safetensors dtype tag -> (torch dtype, bytes per element)
_DTYPES = {
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
}
_TAGS = {v[0]: k for k, v in _DTYPES.items()}


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret the 16-bit pattern as int16.
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def _build_header(entries, metadata):
    """entries: list of (name, tag, shape). Returns (header_bytes, offsets)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, tag, shape in entries:
        nbytes = _DTYPES[tag][1]
        for d in shape:
            nbytes *= int(d)
        header[name] = {"dtype": tag, "shape": [int(d) for d in shape],
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - (8 + len(raw)) % 8) % 8)  # pad so data starts 8-aligned
    return raw, offset


def save_file(tensors: dict, path: str, metadata=None):
    """Write a dict name -> tensor. Tensor order = dict insertion order."""
    if metadata is None:
        metadata = {"format": "pt"}
    entries = [(n, _TAGS[t.dtype], tuple(t.shape)) for n, t in tensors.items()]
    header, _ = _build_header(entries, metadata)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for t in tensors.values():
            f.write(_tensor_bytes(t))


def save_file_streaming(specs, make_tensor, path, metadata=None):
    """Write a file without holding all tensors in memory.

    specs: list of (name, torch dtype, shape) in file order.
    make_tensor(name, dtype, shape) -> tensor, called once per tensor, in order,
    right before its bytes are written (so peak memory ~ the largest tensor).
    """
    if metadata is None:
        metadata = {"format": "pt"}
    entries = [(n, _TAGS[dt], tuple(shape)) for n, dt, shape in specs]
    header, total = _build_header(entries, metadata)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for name, dt, shape in specs:
            t = make_tensor(name, dt, shape)
            assert t.dtype == dt and tuple(t.shape) == tuple(shape), name
            f.write(_tensor_bytes(t))
            del t
    return total


def read_header(path: str):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return n, header


def load_file(path: str, names=None) -> dict:
    """Read tensors (all, or only `names`) as torch tensors in their stored dtype."""
    n, header = read_header(path)
    base = 8 + n
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__" or (names is not None and name not in names):
                continue
            dt, size = _DTYPES[info["dtype"]]
            b, e = info["data_offsets"]
            f.seek(base + b)
            buf = f.read(e - b)
            shape = info["shape"]
            if dt == torch.bfloat16:
                arr = np.frombuffer(buf, dtype="<i2").copy()
                t = torch.from_numpy(arr).view(torch.bfloat16)
            else:
                np_dt = {torch.float32: "<f4", torch.float16: "<f2",
                         torch.int64: "<i8", torch.int32: "<i4"}[dt]
                t = torch.from_numpy(np.frombuffer(buf, dtype=np_dt).copy())
            out[name] = t.reshape(shape)
    return out


def load_hf_folder_tensors(folder: str) -> dict:
    """Load every tensor of an HF folder: model.safetensors, or the shards listed
    in model.safetensors.index.json (weight_map name -> shard file)."""
    single = os.path.join(folder, "model.safetensors")
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(single):
        return load_file(single)
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(weight_map.values())):
            wanted = {k for k, v in weight_map.items() if v == shard}
            out.update(load_file(os.path.join(folder, shard), wanted))
        missing = set(weight_map) - set(out)
        if missing:
            raise ValueError(f"tensors listed in the index but not in shards: {sorted(missing)[:5]}")
        return out
    raise FileNotFoundError(f"no model.safetensors or model.safetensors.index.json in {folder}")
