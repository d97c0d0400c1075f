/** Issue #2's headline: forward+backward of a 4-layer Llama block stack, full / LoRA / forward, against PyTorch. */
import { median, printTable, runTorch, runWorker, type BenchRow } from "./common.js";

/**
 * Each mode in f32 and in bf16 compute (`--dtype bf16`) beside PyTorch f32 and PyTorch under
 * bf16 autocast, all measured in this run; the bf16 rows also give their speed against our f32.
 */
export async function benchLlamaBlock(repeats = 5): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const mode of ["full", "lora", "forward"] as const) {
    const name = `llama4 ${mode === "forward" ? "forward (no grad)" : mode === "full" ? "fwd+bwd, all weights trainable" : "fwd+bwd, LoRA r16, frozen base"}`;
    const args = ["--mode", mode, "--repeats", String(repeats)];
    const ours = runWorker("llama-block-worker.js", args);
    const ours16 = runWorker("llama-block-worker.js", [...args, "--dtype", "bf16"]);
    const torch = runTorch("bench/competitors/torch_llama_block.py", [...args, "--threads", "2"]);
    const torch16 = runTorch("bench/competitors/torch_llama_block.py", [...args, "--threads", "2", "--autocast"]);
    const torchName = (t: Record<string, unknown>) => `PyTorch ${t.torch ?? "1.13"} CPU (2 threads, ${t.blas ?? "?"} BLAS)${t.autocast ? ", bf16 autocast" : ", f32"}`;
    const [o32, o16] = [ours.median_ms as number, ours16.median_ms as number];
    for (const [dt, o, t] of [
      ["f32", ours, torch],
      ["bf16", ours16, torch16],
    ] as const) {
      const oMs = o.median_ms as number,
        tMs = t.median_ms as number;
      const vsF32 = dt === "bf16" ? `; ${(o32 / o16).toFixed(2)}× our f32 speed; PyTorch f32 ${(torch.median_ms as number).toFixed(0)} ms` : "";
      rows.push({
        name: `${name}, ${dt}`,
        ours_ms: oMs,
        competitor: torchName(t),
        competitor_ms: tMs,
        ratio: tMs / oMs,
        note: `GEMM kernel ${o.gemm}${vsF32}; peak RSS ${o.peak_rss_mb} MB vs ${t.peak_rss_mb} MB`,
      });
    }
  }
  return rows;
}

if (process.argv[1]?.endsWith("llama-block.js")) printTable("Llama block stack (B8 T128 C512 H8 FFN1408 ×4 layers)", await benchLlamaBlock());
void median;
