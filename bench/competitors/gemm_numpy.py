"""numpy (OpenBLAS) sgemm timings for bench/gemm.ts.

Reads a JSON list of cases on stdin: {"name", "M", "N", "K", "transA", "transB", "warmup", "reps"};
prints a JSON list of {"name", "ms"} (median of reps, after warmup) on stdout. op(A) is M×K and
op(B) is K×N; a transposed operand is a transposed view of a contiguous array, which numpy hands
to BLAS as a transpose flag (no copy), like the addon's transA/transB. Threads come from the
environment (the caller sets OPENBLAS_NUM_THREADS=2).
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
import numpy as np  # noqa: E402


def main() -> None:
    cases = json.load(sys.stdin)
    rng = np.random.default_rng(0)
    out = []
    for c in cases:
        M, N, K = c["M"], c["N"], c["K"]
        a = rng.standard_normal((K, M) if c["transA"] else (M, K), dtype=np.float32)
        b = rng.standard_normal((N, K) if c["transB"] else (K, N), dtype=np.float32)
        A = a.T if c["transA"] else a
        B = b.T if c["transB"] else b
        C = np.empty((M, N), dtype=np.float32)
        for _ in range(c.get("warmup", 2)):
            np.matmul(A, B, out=C)
        ts = []
        for _ in range(c.get("reps", 7)):
            t0 = time.perf_counter()
            np.matmul(A, B, out=C)
            ts.append((time.perf_counter() - t0) * 1e3)
        ts.sort()
        out.append({"name": c["name"], "ms": ts[len(ts) // 2]})
    info = {"numpy": np.__version__}
    try:
        cfg = np.show_config(mode="dicts")  # numpy ≥ 1.26
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["blas"] = f'{blas.get("name", "?")} {blas.get("version", "")}'.strip()
    except Exception:  # noqa: BLE001
        pass
    json.dump({"results": out, "info": info}, sys.stdout)


if __name__ == "__main__":
    main()
