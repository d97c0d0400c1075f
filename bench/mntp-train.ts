/**
 * Issue #7: MNTP training speed and memory, LoRA r16 on all seven projections, beside PyTorch
 * doing the same steps (bench/competitors/torch_mntp.py: same masking, same LoRA, AdamW, f32
 * compute with bf16 weights upcast at load) in the same run. PyTorch runs with
 * `--gather-logits` (lm_head only at the masked rows, as we do): the stronger competitor; the
 * reference's full-logits form is also measured on stories260K.
 *
 *   npm run build && node dist/bench/mntp-train.js [--skip-big]
 */
import { ensureOpenBlas, shearedLlamaCheckpoint, stories260KCheckpoint } from "./checkpoints.js";
import { printTable, runTorch, runWorker, type BenchRow } from "./common.js";

interface Case {
  label: string;
  dir: string;
  B: number;
  T: number;
  steps: number;
  warmup: number;
  torchVariants: string[][];
}

export async function benchMntpTrain(opts: { skipBig?: boolean } = {}): Promise<BenchRow[]> {
  const cases: Case[] = [{ label: "stories260K (real weights, f32)", dir: stories260KCheckpoint(), B: 8, T: 128, steps: 8, warmup: 2, torchVariants: [["--gather-logits"], []] }];
  if (!opts.skipBig) cases.push({ label: "Sheared-LLaMA-1.3B shapes (random, bf16 file)", dir: shearedLlamaCheckpoint(), B: 2, T: 512, steps: 2, warmup: 1, torchVariants: [["--gather-logits"]] });
  ensureOpenBlas();
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const rep = ["--batch", String(c.B), "--seq", String(c.T), "--steps", String(c.steps), "--warmup", String(c.warmup)];
    const ours = runWorker("mntp-train-worker.js", ["--model", c.dir, ...rep]);
    for (const v of c.torchVariants) {
      const torch = runTorch("bench/competitors/torch_mntp.py", ["--model", c.dir, ...rep, "--threads", "2", "--dtype", "float32", ...v]);
      const oursMs = ours.median_ms as number;
      const tMs = torch.median_step_ms as number;
      rows.push({
        name: `MNTP step ${c.label}, B${c.B}×T${c.T}, LoRA r16 ×7, AdamW`,
        ours_ms: oursMs,
        competitor: `PyTorch ${torch.torch ?? ""} CPU (2 threads), f32 compute, ${v.includes("--gather-logits") ? "logits at masked rows" : "full logits (the reference's form)"}`,
        competitor_ms: tMs,
        ratio: tMs / oursMs,
        note:
          `tokens/s ${ours.tokens_per_s} vs ${Math.round(torch.tokens_per_s as number)}; ${c.warmup} warm-up + ${c.steps} steps, ours [${(ours.runs_ms as number[]).join(", ")}] ms, ` +
          `PyTorch [${(torch.step_ms as number[]).map((x) => Math.round(x)).join(", ")}] ms; peak RSS ${ours.peak_rss_mb} MB (weights ${ours.weight_dtype}) vs ${Math.round(torch.peak_rss_mb as number)} MB`,
      });
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith("mntp-train.js")) {
  printTable("MNTP training step (vs PyTorch, same masking and LoRA)", await benchMntpTrain({ skipBig: process.argv.includes("--skip-big") }));
}
