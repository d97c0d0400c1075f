/**
 * Issue #8: SimCSE training speed and memory (two dropout views, LoRA r16 on all seven
 * projections, attention dropout 0.3), ours with and without gradient caching, beside PyTorch
 * doing the same steps as one graph (bench/competitors/torch_simcse.py) in the same run.
 *
 *   npm run build && node dist/bench/simcse-train.js
 */
import { ensureOpenBlas, stories260KCheckpoint } from "./checkpoints.js";
import { printTable, runTorch, runWorker, type BenchRow } from "./common.js";

export async function benchSimcseTrain(): Promise<BenchRow[]> {
  ensureOpenBlas();
  const dir = stories260KCheckpoint();
  const [B, T, steps, warmup] = [128, 64, 5, 1];
  const rep = ["--batch", String(B), "--seq", String(T), "--steps", String(steps), "--warmup", String(warmup)];
  const torch = runTorch("bench/competitors/torch_simcse.py", ["--model", dir, ...rep, "--threads", "2"]);
  const rows: BenchRow[] = [];
  for (const chunk of [B, 16]) {
    const ours = runWorker("simcse-train-worker.js", ["--model", dir, ...rep, "--chunk", String(chunk)]);
    rows.push({
      name: `SimCSE step stories260K, B${B}×T${T} ×2 views, LoRA r16 ×7, ${chunk >= B ? "one graph" : `gradient cache, chunks of ${chunk}`}`,
      ours_ms: ours.median_ms as number,
      competitor: `PyTorch ${torch.torch} CPU (2 threads), f32, one graph`,
      competitor_ms: torch.median_step_ms as number,
      ratio: (torch.median_step_ms as number) / (ours.median_ms as number),
      note: `tokens/s ${ours.tokens_per_s} vs ${Math.round(torch.tokens_per_s as number)}; ours [${(ours.runs_ms as number[]).join(", ")}] ms, PyTorch [${(torch.step_ms as number[]).map(Math.round).join(", ")}] ms; peak RSS ${ours.peak_rss_mb} MB vs ${Math.round(torch.peak_rss_mb as number)} MB`,
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith("simcse-train.js")) printTable("SimCSE training step (vs PyTorch)", await benchSimcseTrain());
