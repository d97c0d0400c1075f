/**
 * Issue #4: encoding throughput (tokens/s) at batch 32 × 128 tokens, for the real stories260K model
 * (llama2.c fixture) and the Sheared-LLaMA-1.3B-shaped bf16 checkpoint (random weights, real shapes),
 * beside PyTorch in the same run (bench/competitors/torch_forward.py --pool mean: the same forward + mean pooling,
 * float32 compute, bf16 weights upcast at load).
 *
 * Ours: LLM2Vec.fromPretrained(dir) + encodeIds(32 rows × 128 random ids, batchSize 32), i.e. the
 * whole encode path, timed in a fresh process per model (bench/encode-throughput-worker.ts). The
 * 1.3B folder has the Llama-2 tokenizer copied in by bench/checkpoints.ts, because fromPretrained
 * needs a tokenizer.json; the timed call does not use it (the ids are given).
 *
 * Repeats: stories260K 2 warm-up + 10 runs. The 1.3B batch is ~11 TFLOP (minutes on 2 cores), so
 * 0 warm-up + 2 runs on each side: the first run is a cold one (first touch of the weights' pages).
 *
 * Issue #10's workload beside onnxruntime-node (benchOrtEncode below): the h512 4-layer random
 * Llama (serve-checkpoint.ts), 96 rows × 128 ids in batches of 32, bidirectional, mean pooling.
 *
 *   npm run build && node dist/bench/encode-throughput.js [--big-repeats 1] [--only-ort]
 */
import * as path from "node:path";
import { benchCacheDir, ensureOpenBlas, shearedLlamaCheckpoint, stories260KCheckpoint } from "./checkpoints.js";
import { printTable, readRowsF32, runTorch, runWorker, timedTorch, timedWorker, type BenchRow } from "./common.js";
import { ensureOnnxEncoder, ensureOnnxRuntime } from "./ort.js";
import { llama4RandomCheckpoint } from "./serve-checkpoint.js";

interface Case {
  label: string;
  dir: string;
  warmup: number;
  repeats: number;
}

export async function benchEncodeThroughput(opts: { bigRepeats?: number; bigWarmup?: number } = {}): Promise<BenchRow[]> {
  const [B, T] = [32, 128];
  const cases: Case[] = [
    { label: "stories260K (real weights, f32)", dir: stories260KCheckpoint(), warmup: 2, repeats: 10 },
    { label: "Sheared-LLaMA-1.3B shapes (random, bf16)", dir: shearedLlamaCheckpoint(), warmup: opts.bigWarmup ?? 0, repeats: opts.bigRepeats ?? 2 },
  ];
  ensureOpenBlas();
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const rep = ["--batch", String(B), "--seq", String(T), "--warmup", String(c.warmup), "--repeats", String(c.repeats)];
    const ours = runWorker("encode-throughput-worker.js", ["--model", c.dir, ...rep]);
    const torch = runTorch("bench/competitors/torch_forward.py", ["--model", c.dir, ...rep, "--threads", "2", "--dtype", "float32", "--pool", "mean"]);
    const oursMs = ours.median_ms as number;
    const tMs = torch.median_ms as number;
    rows.push({
      name: `encode ${c.label}, B${B}×T${T}, mean pooling`,
      ours_ms: oursMs,
      competitor: `PyTorch ${torch.torch} CPU (2 threads, ${torch.blas}), f32 compute, forward + mean pool`,
      competitor_ms: tMs,
      ratio: tMs / oursMs,
      note:
        `tokens/s ${ours.tokens_per_s} vs ${torch.tokens_per_s}; ${c.warmup} warm-up + ${c.repeats} runs, ` +
        `ours [${(ours.runs_ms as number[]).join(", ")}] ms, PyTorch [${(torch.runs_ms as number[]).join(", ")}] ms; ` +
        `peak RSS ${ours.peak_rss_mb} MB (weights ${ours.weight_dtype}) vs ${torch.peak_rss_mb} MB; load ${(ours.load_ms as number).toFixed(0)} ms vs ${((torch.load_s as number) * 1000).toFixed(0)} ms`,
    });
  }
  rows.push(...benchOrtEncode());
  return rows;
}

/** Max |a − b| and max |a| over two dumps of the same rows. */
function maxDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`embedding dumps differ in size (${a.length} vs ${b.length} floats)`);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return { diff, scale };
}

/**
 * Issue #10's encode workload: ours (f32, and bf16 compute) and onnxruntime-node on the same
 * weights and ids, compute only (median of the timed runs, after a warm-up) and whole process (one
 * process that loads and encodes once, timed from spawn to exit; PyTorch's too, its 96 rows as 3
 * runs of one batch of 32). The embeddings are compared
 * (max difference in the note). Skipped with a warning when onnxruntime cannot be installed or the
 * export fails.
 */
export function benchOrtEncode(opts: { warmup?: number; repeats?: number } = {}): BenchRow[] {
  const [N, B, T] = [96, 32, 128];
  const dir = llama4RandomCheckpoint();
  let ortDir: string, onnx: string;
  try {
    ortDir = ensureOnnxRuntime();
    onnx = ensureOnnxEncoder(dir);
  } catch (e) {
    process.stderr.write(`[encode] WARNING: onnxruntime competitor skipped: ${e instanceof Error ? e.message : String(e)}\n`);
    return [];
  }
  const rep = ["--rows", String(N), "--batch", String(B), "--seq", String(T)];
  const timing = ["--warmup", String(opts.warmup ?? 1), "--repeats", String(opts.repeats ?? 3)];
  const once = ["--warmup", "0", "--repeats", "1"];
  const dumps = { ours: path.join(benchCacheDir(), "encode-ours.f32"), bf16: path.join(benchCacheDir(), "encode-ours-bf16.f32"), ort: path.join(benchCacheDir(), "encode-ort.f32") };
  const ortArgs = ["--ort", ortDir, "--model", onnx, "--vocab", "32000", "--threads", "2", ...rep];
  const ort = runWorker("ort-encode-worker.js", [...ortArgs, ...timing, "--dump", dumps.ort]);
  const ours = runWorker("encode-throughput-worker.js", ["--model", dir, ...rep, ...timing, "--dump", dumps.ours]);
  const bf16 = runWorker("encode-throughput-worker.js", ["--model", dir, ...rep, ...timing, "--dtype", "bf16", "--dump", dumps.bf16]);
  const [ortOnce, ortWall] = timedWorker("ort-encode-worker.js", [...ortArgs, ...once]);
  const [oursOnce, oursWall] = timedWorker("encode-throughput-worker.js", ["--model", dir, ...rep, ...once]);
  ensureOpenBlas();
  const [torchOnce, torchWall] = timedTorch("bench/competitors/torch_forward.py", ["--model", dir, "--batch", String(B), "--seq", String(T), "--warmup", "0", "--repeats", String(N / B), "--threads", "2", "--dtype", "float32", "--pool", "mean"]);
  const ref = readRowsF32(dumps.ort);
  const d32 = maxDiff(ref, readRowsF32(dumps.ours));
  const d16 = maxDiff(ref, readRowsF32(dumps.bf16));
  // Tolerances relative to the largest |embedding|: f32 sums in another order (1e-3 is far above
  // what that gives); bf16 rounds every GEMM operand to 8 significant bits (5e-2).
  const agree = (d: { diff: number; scale: number }, tol: number): string =>
    `max |ours − ort| ${d.diff.toExponential(2)} (max |embedding| ${d.scale.toFixed(2)})${d.diff > tol * d.scale ? ` MISMATCH: above ${tol} of the scale` : ""}`;
  const what = `h512 4-layer Llama (random f32), ${N}×${T} ids in batches of ${B}, bidirectional, mean pooling`;
  const comp = `onnxruntime-node ${ort.ort} CPU (2 intra-op threads), PyTorch ONNX export`;
  const runsOf = (r: Record<string, unknown>): string => `[${(r.runs_ms as number[]).join(", ")}]`;
  const oMs = ours.median_ms as number,
    bMs = bf16.median_ms as number,
    rMs = ort.median_ms as number;
  return [
    {
      name: `encode ${what}, compute, f32`,
      ours_ms: oMs,
      competitor: comp,
      competitor_ms: rMs,
      ratio: rMs / oMs,
      note: `ours / ort = ${(oMs / rMs).toFixed(2)}× the time (target ≤ 1.0); runs ours ${runsOf(ours)} ms, ort ${runsOf(ort)} ms; ${agree(d32, 1e-3)}; peak RSS ${ours.peak_rss_mb} vs ${ort.peak_rss_mb} MB`,
    },
    {
      name: `encode ${what}, compute, bf16 (ours) vs f32 (ort)`,
      ours_ms: bMs,
      competitor: comp,
      competitor_ms: rMs,
      ratio: rMs / bMs,
      note: `ours / ort = ${(bMs / rMs).toFixed(2)}×; runs ours ${runsOf(bf16)} ms; bf16 vs ort f32 ${agree(d16, 5e-2)}`,
    },
    {
      name: `encode ${what}, whole process (start, load, one encode, exit), f32`,
      ours_ms: oursWall,
      competitor: comp,
      competitor_ms: ortWall,
      ratio: ortWall / oursWall,
      note: `ours / ort = ${(oursWall / ortWall).toFixed(2)}×; load ${(oursOnce.load_ms as number).toFixed(0)} vs ${(ortOnce.load_ms as number).toFixed(0)} ms (ort: session create), encode ${oursOnce.median_ms} vs ${ortOnce.median_ms} ms (cold)`,
    },
    {
      name: `encode ${what}, whole process (start, load, one encode, exit), f32`,
      ours_ms: oursWall,
      competitor: `PyTorch ${torchOnce.torch} CPU (2 threads, ${torchOnce.blas}), f32, forward + mean pool`,
      competitor_ms: torchWall,
      ratio: torchWall / oursWall,
      note: `ours / PyTorch = ${(oursWall / torchWall).toFixed(2)}×; load ${(oursOnce.load_ms as number).toFixed(0)} vs ${((torchOnce.load_s as number) * 1000).toFixed(0)} ms`,
    },
  ];
}

if (process.argv[1]?.endsWith("encode-throughput.js")) {
  // `--big-repeats N`: timed runs for the 1.3B model (default 2; 1 when the box is busy).
  // `--only-ort`: just issue #10's workload beside onnxruntime.
  const i = process.argv.indexOf("--big-repeats");
  const bigRepeats = i > 0 ? Number(process.argv[i + 1]) : undefined;
  const rows = process.argv.includes("--only-ort") ? benchOrtEncode() : await benchEncodeThroughput({ bigRepeats });
  printTable("Encoding throughput (LLM2Vec.encodeIds vs PyTorch forward + mean pooling, and vs onnxruntime-node)", rows);
}
