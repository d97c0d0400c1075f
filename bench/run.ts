/**
 * `npm run bench`: every benchmark, each beside its competitor measured in the same run, printed
 * as Markdown tables (and saved to .bench-cache/bench-results.md).
 *   node dist/bench/run.js [--only gemm,gemm-bf16,gemm-quant,block,load,encode,encode-ort,encode-quant,mntp,simcse,generate,serve,qwen3,llama3-8b] [--qwen3-8b] [--llama3-8b]
 * (`--qwen3-8b`, or LLM2VEC_BENCH_QWEN3_8B=1, adds the Qwen3-8B shapes to `qwen3`: see bench/qwen3.ts.
 * `llama3-8b`, a 16.1 GB checkpoint, runs only when named in --only or with `--llama3-8b` or
 * LLM2VEC_BENCH_LLAMA3_8B=1: see bench/llama3.ts.)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { benchCacheDir, ensureOpenBlas } from "./checkpoints.js";
import { printTable, selectSections, type BenchRow } from "./common.js";
import { benchEncodeQuant, ENCODE_QUANT_TITLE } from "./encode-quant.js";
import { benchEncodeThroughput, benchOrtEncode } from "./encode-throughput.js";
import { benchGemm } from "./gemm.js";
import { benchGemmBf16 } from "./gemm-bf16.js";
import { benchGemmQuant } from "./gemm-quant.js";
import { benchLlamaBlock } from "./llama-block.js";
import { benchModelLoad } from "./model-load.js";
import { benchMntpTrain } from "./mntp-train.js";
import { benchSimcseTrain } from "./simcse-train.js";
import { benchServeLoad } from "./serve-load.js";
import { benchGenerate } from "./generate.js";
import { benchLlama3, llama3BigRequested } from "./llama3.js";
import { benchQwen3 } from "./qwen3.js";

const SECTIONS: Record<string, [title: string, run: () => Promise<BenchRow[]>]> = {
  gemm: ["float32 GEMM (native addon vs numpy/OpenBLAS; [2T] both sides on 2 threads, [1T] on one)", () => benchGemm()],
  "gemm-bf16": ["bf16 GEMM (bf16 operands, f32 accumulation and output) vs oneDNN's bf16 matmul, 2 threads", () => benchGemmBf16()],
  "gemm-quant": ["Quantized-weight GEMM (int8 Q8_0, int4 Q4_1, Q4_0 beside it) vs our f32 GEMM and PyTorch's dynamic int8 Linear, 2 threads", () => benchGemmQuant()],
  block: ["Llama block stack: B8 T128, hidden 512, 8 heads, FFN 1408, 4 layers (vs PyTorch)", () => benchLlamaBlock()],
  load: ["Sheared-LLaMA-1.3B-shaped bf16 checkpoint: load and forward B8×T128 (vs PyTorch)", () => benchModelLoad()],
  encode: ["Encoding throughput (vs PyTorch forward + mean pooling, and vs onnxruntime-node)", () => benchEncodeThroughput()],
  "encode-ort": ["Encoding, issue #10's h512 workload (vs onnxruntime-node on the same weights and ids)", async () => benchOrtEncode()],
  "encode-quant": [ENCODE_QUANT_TITLE, async () => benchEncodeQuant()],
  mntp: ["MNTP training step, LoRA r16 on all seven projections (vs PyTorch, same masking and LoRA)", () => benchMntpTrain()],
  simcse: ["SimCSE training step, two dropout views, LoRA r16 on all seven projections (vs PyTorch)", () => benchSimcseTrain()],
  generate: ["Generation with a KV cache, batch 1 and 8 (vs PyTorch cached loop); memory of one process serving both uses vs two", () => benchGenerate()],
  serve: ["Serving: llm2vec serve under load (one text a request) vs the encoder's batch throughput", async () => (await benchServeLoad()).rows],
  qwen3: ["Qwen3-0.6B (and, opt-in, Qwen3-8B) shapes, bf16 random checkpoints: load, encode, MNTP step (vs PyTorch)", () => benchQwen3()],
  "llama3-8b": ["Llama-3.1-8B shapes, bf16 random checkpoint: encode with bf16, int8 and int4 weights, an MNTP step on the int8 base", () => benchLlama3()],
};

const only = selectSections(process.argv.slice(2), Object.keys(SECTIONS), { "llama3-8b": llama3BigRequested() });

const header = [
  `# llm2vec benchmarks`,
  ``,
  `Machine: ${os.cpus()[0]?.model ?? "?"} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at start ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}.`,
  `Ratio = competitor time / llm2vec time (above 1: llm2vec is faster). Medians after warm-up.`,
  ``,
].join("\n");
console.log(header);
ensureOpenBlas();
const parts = [header];
for (const k of only) {
  const [title, run] = SECTIONS[k]!;
  parts.push(printTable(title, await run()));
}
const out = path.join(benchCacheDir(), "bench-results.md");
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, parts.join("\n"));
console.log(`saved ${out}`);
