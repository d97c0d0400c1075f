"""PyTorch dynamic int8 Linear timings for bench/gemm-quant.ts.

Arguments: M,N,K,warmup,reps per shape. For each, an nn.Linear(K, N, bias=False) quantized by
torch.ao.quantization.quantize_dynamic (int8 weights with per-tensor scales, activations
quantized per call) is timed on x [M, K] (median ms of reps after warmup). The quantized engine is fbgemm where this torch build has it, else whichever x86
engine it has (Debian's 1.13 ships onednn). Two threads. One JSON line on stdout.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import select_quantized_engine, setup_process  # noqa: E402

setup_process()
import torch  # noqa: E402

torch.set_num_threads(2)
engine = select_quantized_engine()


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return sorted(ts)[len(ts) // 2]


out = []
torch.manual_seed(0)
with torch.no_grad():
    for arg in sys.argv[1:]:
        if arg.startswith("--"):
            continue
        M, N, K, warmup, reps = (int(v) for v in arg.split(","))
        lin = torch.nn.Linear(K, N, bias=False)
        q = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(lin), {torch.nn.Linear}, dtype=torch.qint8)
        x = torch.randn(M, K)
        out.append({"q8": median_ms(lambda: q(x), warmup, reps)})
print(json.dumps({"engine": engine, "torch": torch.__version__, "results": out}))
