/**
 * Issue #3: loading the Sheared-LLaMA-1.3B-shaped bf16 checkpoint (random weights, real shapes) —
 * load time, peak RSS against the checkpoint's bytes (target: at most 1.3×), and the bidirectional
 * forward at batch 8 × 128 tokens (no grad) — beside PyTorch on the same folder in the same run
 * (bench/competitors/torch_forward.py: once keeping bf16, once upcasting to float32 at load).
 *
 * Ours run in fresh processes (bench/model-load-worker.ts): `loads` separate load-only processes
 * (median load time, max peak RSS), then one process that loads and runs the forward. The forward
 * is ~2.7 TFLOP (~30 s on the 2-core box), so it uses 1 warm-up + 2 timed runs on each side.
 *
 *   npm run build && node dist/bench/model-load.js
 */
import { shearedLlamaCheckpoint, ensureOpenBlas, checkpointBytes } from "./checkpoints.js";
import { median, printTable, runTorch, runWorker, type BenchRow } from "./common.js";

export interface ModelLoadOptions {
  loads?: number;
  warmup?: number;
  repeats?: number;
}

const mb = (x: unknown) => `${Math.round(x as number)} MB`;

export async function benchModelLoad(opts: ModelLoadOptions = {}): Promise<BenchRow[]> {
  const { loads = 3, warmup = 1, repeats = 2 } = opts;
  const dir = shearedLlamaCheckpoint();
  ensureOpenBlas();
  const bytes = checkpointBytes(dir);
  const ckptMb = bytes / (1024 * 1024);
  const [B, T] = [8, 128];

  const loadRuns = Array.from({ length: loads }, () => runWorker("model-load-worker.js", ["--model", dir, "--mode", "load"]));
  const loadMs = median(loadRuns.map((r) => r.load_ms as number));
  const loadRss = Math.max(...loadRuns.map((r) => r.load_peak_rss_mb as number));
  const fwdArgs = ["--model", dir, "--mode", "forward", "--batch", String(B), "--seq", String(T), "--warmup", String(warmup), "--repeats", String(repeats)];
  const fwd = runWorker("model-load-worker.js", fwdArgs);
  const fwd16 = runWorker("model-load-worker.js", [...fwdArgs, "--dtype", "bf16"]);
  const torchArgs = (dtype: string) => ["--model", dir, "--batch", String(B), "--seq", String(T), "--warmup", String(warmup), "--repeats", String(repeats), "--threads", "2", "--dtype", dtype];
  const tBf16 = runTorch("bench/competitors/torch_forward.py", torchArgs("bfloat16"));
  const tF32 = runTorch("bench/competitors/torch_forward.py", torchArgs("float32"));
  const torchName = (t: Record<string, unknown>) => `PyTorch ${t.torch} CPU (2 threads, ${t.blas}), bf16 file → ${t.compute_dtype === "bfloat16" ? "bf16 compute" : "f32 (upcast at load)"}`;
  const ratio = (x: number) => `${x.toFixed(2)}× checkpoint`;

  const rows: BenchRow[] = [];
  for (const t of [tBf16, tF32]) {
    const tMs = (t.load_s as number) * 1000;
    rows.push({
      name: `Sheared-LLaMA-1.3B bf16 (${(bytes / 1e9).toFixed(2)} GB): load`,
      ours_ms: loadMs,
      competitor: torchName(t),
      competitor_ms: tMs,
      ratio: tMs / loadMs,
      note:
        `ours: loadModelFolder, median of ${loads} processes [${loadRuns.map((r) => Math.round(r.load_ms as number)).join(", ")}] ms, weights kept ${loadRuns[0]!.weight_dtype}; ` +
        `peak RSS ${mb(loadRss)} = ${ratio((loadRss * 1024 * 1024) / bytes)} (target ≤ 1.30×) vs PyTorch ${mb(t.peak_rss_mb)} = ${ratio((t.peak_rss_mb as number) / ckptMb)} (its RSS includes the forward); ` +
        `PyTorch load = read ${t.load_read_s} s + convert ${t.load_convert_s} s`,
    });
  }
  for (const [f, t] of [
    [fwd, tBf16],
    [fwd, tF32],
    [fwd16, tBf16],
    [fwd16, tF32],
  ] as const) {
    const oursMs = f.median_ms as number;
    const tMs = t.median_ms as number;
    const vsF32 = f === fwd16 ? `; ${((fwd.median_ms as number) / oursMs).toFixed(2)}× our f32 compute's speed` : "";
    rows.push({
      name: `Sheared-LLaMA-1.3B forward, bidirectional, no grad, B${B}×T${T}, ours in ${f.compute_dtype} compute (GEMM ${f.gemm})`,
      ours_ms: oursMs,
      competitor: torchName(t),
      competitor_ms: tMs,
      ratio: tMs / oursMs,
      note:
        `tokens/s ${f.tokens_per_s} vs ${t.tokens_per_s}${vsF32}; ${warmup} warm-up + ${repeats} runs each: ours [${(f.runs_ms as number[]).join(", ")}] ms, PyTorch [${(t.runs_ms as number[]).join(", ")}] ms; ` +
        `peak RSS (load + forward) ${mb(f.peak_rss_mb)} = ${ratio((f.peak_rss_mb as number) / ckptMb)} vs ${mb(t.peak_rss_mb)}`,
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith("model-load.js")) printTable("Model load + forward: Sheared-LLaMA-1.3B shapes, bf16 checkpoint (random weights)", await benchModelLoad());
