/**
 * Issue #8: SimCSE training speed and memory (two dropout views, LoRA r16 on all seven
 * projections, attention dropout 0.3), beside PyTorch doing the same steps in the same run
 * (bench/competitors/torch_simcse.py).
 *
 * - stories260K, B128×T64: ours as one graph and through gradient caching, PyTorch as one graph.
 * - Sheared-LLaMA-1.3B shapes, B128×T64 through gradient caching in chunks of 8 (--big-chunk N),
 *   the same on both sides (one graph of that batch does not fit in 24 GiB; PyTorch at chunks of
 *   16 was killed for memory here), plus our step on one chunk alone (one graph) so the cached
 *   run's peak RSS can be read against "one chunk plus the weights".
 *   A step is minutes long here, so this case runs one timed step and no warm-up.
 *
 *   npm run build && node dist/bench/simcse-train.js [--skip-big] [--big-chunk 8]
 */
import { ensureOpenBlas, shearedLlamaCheckpoint, stories260KCheckpoint } from "./checkpoints.js";
import { printTable, runTorch, runWorker, type BenchRow } from "./common.js";

const HOUR = 60 * 60_000;

function fmtRuns(xs: unknown): string {
  return (xs as number[]).map((x) => Math.round(x)).join(", ");
}

export async function benchSimcseTrain(opts: { skipBig?: boolean; bigChunk?: number } = {}): Promise<BenchRow[]> {
  ensureOpenBlas();
  const rows: BenchRow[] = [];
  {
    const dir = stories260KCheckpoint();
    const [B, T, steps, warmup] = [128, 64, 5, 1];
    const rep = ["--batch", String(B), "--seq", String(T), "--steps", String(steps), "--warmup", String(warmup)];
    const torch = runTorch("bench/competitors/torch_simcse.py", ["--model", dir, ...rep, "--threads", "2"]);
    for (const chunk of [B, 16]) {
      const ours = runWorker("simcse-train-worker.js", ["--model", dir, ...rep, "--chunk", String(chunk)]);
      rows.push({
        name: `SimCSE step stories260K, B${B}×T${T} ×2 views, LoRA r16 ×7, ${chunk >= B ? "one graph" : `gradient cache, chunks of ${chunk}`}`,
        ours_ms: ours.median_ms as number,
        competitor: `PyTorch ${torch.torch} CPU (2 threads), f32, one graph`,
        competitor_ms: torch.median_step_ms as number,
        ratio: (torch.median_step_ms as number) / (ours.median_ms as number),
        note: `tokens/s ${ours.tokens_per_s} vs ${Math.round(torch.tokens_per_s as number)}; ours [${fmtRuns(ours.runs_ms)}] ms, PyTorch [${fmtRuns(torch.step_ms)}] ms; peak RSS ${ours.peak_rss_mb} MB vs ${Math.round(torch.peak_rss_mb as number)} MB`,
      });
    }
  }
  if (!opts.skipBig) {
    const dir = shearedLlamaCheckpoint();
    const [B, T, chunk] = [128, 64, opts.bigChunk ?? 8];
    const rep = ["--batch", String(B), "--seq", String(T), "--steps", "1", "--warmup", "0"];
    const oneChunk = runWorker("simcse-train-worker.js", ["--model", dir, "--batch", String(chunk), "--seq", String(T), "--steps", "1", "--warmup", "0", "--chunk", String(chunk)], HOUR);
    const ours = runWorker("simcse-train-worker.js", ["--model", dir, ...rep, "--chunk", String(chunk)], 2 * HOUR);
    // Minutes of work each: keep ours on record even if the competitor then fails.
    console.error(`simcse 1.3B: one chunk ${JSON.stringify(oneChunk)}; B${B} cached ${JSON.stringify(ours)}`);
    const torch = runTorch("bench/competitors/torch_simcse.py", ["--model", dir, ...rep, "--threads", "2", "--chunk", String(chunk)], 2 * HOUR);
    rows.push({
      name: `SimCSE step Sheared-LLaMA-1.3B shapes (random, bf16 file), B${B}×T${T} ×2 views, LoRA r16 ×7, gradient cache, chunks of ${chunk}`,
      ours_ms: ours.median_ms as number,
      competitor: `PyTorch ${torch.torch} CPU (2 threads), f32 compute, gradient cache (chunks of ${chunk}, RNG state replayed)`,
      competitor_ms: torch.median_step_ms as number,
      ratio: (torch.median_step_ms as number) / (ours.median_ms as number),
      note:
        `one timed step each; tokens/s ${ours.tokens_per_s} vs ${Math.round(torch.tokens_per_s as number)}; peak RSS ${ours.peak_rss_mb} MB ` +
        `(one chunk alone, B${chunk} one graph: ${oneChunk.peak_rss_mb} MB; weights loaded: ${ours.loaded_rss_mb} MB) vs PyTorch ${Math.round(torch.peak_rss_mb as number)} MB`,
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith("simcse-train.js")) {
  const at = process.argv.indexOf("--big-chunk");
  const bigChunk = at > 0 ? Number(process.argv[at + 1]) : undefined;
  if (bigChunk !== undefined && !(Number.isInteger(bigChunk) && bigChunk > 0)) throw new Error(`--big-chunk: expected a positive integer, got ${process.argv[at + 1]}`);
  printTable("SimCSE training step (vs PyTorch)", await benchSimcseTrain({ skipBig: process.argv.includes("--skip-big"), bigChunk }));
}
