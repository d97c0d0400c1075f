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
 *   npm run build && node dist/bench/encode-throughput.js [--big-repeats 1]
 */
import { ensureOpenBlas, shearedLlamaCheckpoint, stories260KCheckpoint } from "./checkpoints.js";
import { printTable, runTorch, runWorker, type BenchRow } from "./common.js";

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
  return rows;
}

if (process.argv[1]?.endsWith("encode-throughput.js")) {
  // `--big-repeats N`: timed runs for the 1.3B model (default 2; 1 when the box is busy).
  const i = process.argv.indexOf("--big-repeats");
  const bigRepeats = i > 0 ? Number(process.argv[i + 1]) : undefined;
  printTable("Encoding throughput (LLM2Vec.encodeIds vs PyTorch forward + mean pooling)", await benchEncodeThroughput({ bigRepeats }));
}
