/** Issue #2's headline: forward+backward of a 4-layer Llama block stack, full / LoRA / forward, against PyTorch. */
import { median, printTable, runTorch, runWorker, type BenchRow } from "./common.js";

export async function benchLlamaBlock(repeats = 5): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const mode of ["full", "lora", "forward"] as const) {
    const ours = runWorker("llama-block-worker.js", ["--mode", mode, "--repeats", String(repeats)]);
    const torch = runTorch("bench/competitors/torch_llama_block.py", ["--mode", mode, "--repeats", String(repeats), "--threads", "2"]);
    const oursMs = ours.median_ms as number;
    const torchMs = torch.median_ms as number;
    rows.push({
      name: `llama4 ${mode === "forward" ? "forward (no grad)" : mode === "full" ? "fwd+bwd, all weights trainable" : "fwd+bwd, LoRA r16, frozen base"}`,
      ours_ms: oursMs,
      competitor: `PyTorch ${torch.torch ?? "1.13"} CPU (2 threads, ${torch.blas ?? "?"} BLAS)`,
      competitor_ms: torchMs,
      ratio: torchMs / oursMs,
      note: `peak RSS ${ours.peak_rss_mb} MB vs ${torch.peak_rss_mb} MB`,
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith("llama-block.js")) printTable("Llama block stack (B8 T128 C512 H8 FFN1408 ×4 layers)", await benchLlamaBlock());
void median;
