"""Shared setup for the PyTorch competitors (import this BEFORE importing torch).

BLAS: Debian's torch 1.13 calls whatever `libblas.so.3` resolves to. On these boxes
that is netlib reference BLAS (unoptimised, ~10x slower than OpenBLAS), which would
make PyTorch look far worse than it is. If an unpacked OpenBLAS is available
(scripts/reference/fetch_openblas.sh puts one in .bench-cache/openblas; or set
TORCH_COMPETITOR_BLAS_DIR), we re-exec the script with LD_LIBRARY_PATH pointing at it,
so torch links OpenBLAS instead. `--blas reference` (or TORCH_COMPETITOR_BLAS=reference)
keeps the system BLAS. The JSON output reports which one was actually loaded.

Threads: OpenBLAS's pthread pool ignores torch.set_num_threads, so OPENBLAS_NUM_THREADS
is set to the same count.
"""
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
_DEFAULT_BLAS_DIR = os.path.join(REPO, ".bench-cache", "openblas", "usr", "lib", "x86_64-linux-gnu",
                                 "openblas-pthread")


def _arg(name, default):
    argv = sys.argv
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def setup_process():
    """Call at the top of a competitor script, before `import torch`."""
    threads = _arg("--threads", "2")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", threads)
    want = _arg("--blas", os.environ.get("TORCH_COMPETITOR_BLAS", "openblas"))
    if want != "openblas":
        return
    blas_dir = os.environ.get("TORCH_COMPETITOR_BLAS_DIR", _DEFAULT_BLAS_DIR)
    if not os.path.exists(os.path.join(blas_dir, "libblas.so.3")):
        return  # nothing to switch to; blas_in_use() will report "reference"
    ld = os.environ.get("LD_LIBRARY_PATH", "")
    if blas_dir in ld.split(":"):
        return  # already re-executed
    env = dict(os.environ, LD_LIBRARY_PATH=blas_dir + (":" + ld if ld else ""))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_in_use():
    """Which BLAS shared object is mapped into this process (after torch is imported)."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    if "libopenblas" in maps:
        return "openblas"
    if "/blas/libblas.so" in maps:
        return "reference"
    return "other"


def peak_rss_mb():
    import resource
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def select_quantized_engine():
    """The x86 quantized engine this torch build has: fbgemm where present, else x86 or onednn
    (Debian's 1.13 ships onednn only). Sets it and returns its name. Call after importing torch."""
    import torch
    engines = torch.backends.quantized.supported_engines
    engine = next((e for e in ("fbgemm", "x86", "onednn") if e in engines), engines[0])
    torch.backends.quantized.engine = engine
    return engine


def bench_ids(rows, seq, vocab, seed=4242):
    """bench/common.ts benchIds: the same seeded LCG, so both sides encode the same token ids."""
    s, out = seed, []
    for _ in range(rows):
        row = []
        for _ in range(seq):
            s = (s * 1103515245 + 12345) % 4294967296
            row.append(s % vocab)
        out.append(row)
    return out
