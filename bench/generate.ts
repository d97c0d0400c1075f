/**
 * Issue #12: generation tokens/s with the KV cache, batch 1 and 8, on stories260K (real weights)
 * and the Sheared-LLaMA-1.3B-shaped bf16 checkpoint, beside PyTorch running a cached loop in the
 * same run (competitors/torch_generate.py); then the resident memory of one process serving both
 * embeddings and generation against two processes each serving one (1.3B shapes, a random r16
 * LoRA on all seven projections as the LLM2Vec adapter).
 *
 * Workload: `batch` prompts of 16 seeded random ids, greedy, exactly N new ids per row (no stop
 * id), timed from the prompt to the last token (prefill included). Short runs (the box is shared):
 * stories260K N = 32, 1 warm-up + 3 runs; 1.3B N = 16, 0 warm-up + 1 run per side.
 * PyTorch: float32 compute for stories260K; for the 1.3B its bf16 weights stay bf16 (oneDNN bf16
 * matmuls; half the memory of an f32 upcast), as ours stay bf16 and widen inside the GEMM.
 *
 *   npm run build && node dist/bench/generate.js
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeLoraAdapter } from "../src/formats/peft.js";
import { readSpec } from "../src/models/load.js";
import { LINEAR_MODULES } from "../src/models/spec.js";
import { Rng } from "../src/tensor/random.js";
import { benchCacheDir, ensureOpenBlas, shearedLlamaCheckpoint, stories260KCheckpoint } from "./checkpoints.js";
import { printTable, runTorch, runWorker, type BenchRow } from "./common.js";

/** A random rank-16 adapter on every projection of the 1.3B shapes, made once in the bench cache. */
function randomAdapter(model: string): string {
  const dir = path.join(benchCacheDir(), "sheared-llama-1.3b-lora-r16");
  if (fs.existsSync(path.join(dir, "adapter_config.json"))) return dir;
  const s = readSpec(model);
  const r = 16;
  const rng = new Rng(12);
  const dims: Record<string, [number, number]> = {
    q_proj: [s.numHeads * s.headDim, s.hiddenSize], k_proj: [s.numKvHeads * s.headDim, s.hiddenSize], v_proj: [s.numKvHeads * s.headDim, s.hiddenSize],
    o_proj: [s.hiddenSize, s.numHeads * s.headDim], gate_proj: [s.intermediateSize, s.hiddenSize], up_proj: [s.intermediateSize, s.hiddenSize], down_proj: [s.hiddenSize, s.intermediateSize],
  };
  const rnd = (n: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 0.02);
  const layers: Parameters<typeof writeLoraAdapter>[1]["layers"] = {};
  for (let l = 0; l < s.numLayers; l++)
    for (const m of LINEAR_MODULES) {
      const [out, inp] = dims[m]!;
      layers[`layers.${l}.${["gate_proj", "up_proj", "down_proj"].includes(m) ? "mlp" : "self_attn"}.${m}`] = {
        a: { dtype: "f32", shape: [r, inp], data: rnd(r * inp) },
        b: { dtype: "f32", shape: [out, r], data: rnd(out * r) },
      };
    }
  writeLoraAdapter(dir, { r, loraAlpha: 32, targetModules: [...LINEAR_MODULES], layers });
  return dir;
}

export async function benchGenerate(): Promise<BenchRow[]> {
  ensureOpenBlas();
  const rows: BenchRow[] = [];
  const cases = [
    { label: "stories260K (real, f32)", dir: stories260KCheckpoint(), tokens: 32, warmup: 1, repeats: 3, torchDtype: "float32" },
    { label: "Sheared-LLaMA-1.3B shapes (random, bf16)", dir: shearedLlamaCheckpoint(), tokens: 16, warmup: 0, repeats: 1, torchDtype: "bfloat16" },
  ];
  for (const c of cases)
    for (const B of [1, 8]) {
      const rep = ["--batch", String(B), "--prompt", "16", "--tokens", String(c.tokens), "--warmup", String(c.warmup), "--repeats", String(c.repeats)];
      const ours = runWorker("generate-worker.js", ["--mode", "speed", "--model", c.dir, ...rep]);
      const torch = runTorch("bench/competitors/torch_generate.py", ["--model", c.dir, ...rep, "--threads", "2", "--dtype", c.torchDtype]);
      rows.push({
        name: `generate ${c.label}, batch ${B}, prompt 16 + ${c.tokens} new tokens, greedy`,
        ours_ms: ours.median_ms as number,
        competitor: `PyTorch ${torch.torch} (2 threads, ${torch.blas}), ${c.torchDtype}, cached loop`,
        competitor_ms: torch.median_ms as number,
        ratio: (torch.median_ms as number) / (ours.median_ms as number),
        note: `tokens/s ${ours.tokens_per_s} vs ${torch.tokens_per_s}; prefill ${ours.prefill_ms} vs ${torch.prefill_ms} ms; runs ours [${(ours.runs_ms as number[]).join(", ")}], PyTorch [${(torch.runs_ms as number[]).join(", ")}] ms; peak RSS ${ours.peak_rss_mb} vs ${torch.peak_rss_mb} MB`,
      });
    }
  const model = shearedLlamaCheckpoint();
  const adapter = randomAdapter(model);
  const mem = (role: string) => runWorker("generate-worker.js", ["--mode", "memory", "--role", role, "--model", model, "--adapter", adapter]);
  const both = mem("both");
  const embed = mem("embed");
  const gen = mem("generate");
  const two = (embed.peak_rss_mb as number) + (gen.peak_rss_mb as number);
  rows.push({
    name: "1.3B shapes + r16 LoRA: peak RSS (MB) of one process serving embeddings and generation",
    ours_ms: both.peak_rss_mb as number,
    competitor: "two llm2vec processes: embeddings (adapter merged) + generation (bare base)",
    competitor_ms: two,
    ratio: two / (both.peak_rss_mb as number),
    note: `one process = ${(((both.peak_rss_mb as number) / two)).toFixed(2)}× the two (${embed.peak_rss_mb} + ${gen.peak_rss_mb} MB); "ms" columns hold MB here`,
  });
  return rows;
}

if (process.argv[1]?.endsWith("bench/generate.js")) printTable("Generation with a KV cache (vs PyTorch cached loop) and one-process memory", await benchGenerate());
