/**
 * One llm2vec workload of the block benchmark, in its own process (clean peak RSS): the 4-layer
 * Llama stack of bench/competitors/torch_llama_block.py (batch 8, seq 128, hidden 512, 8 heads,
 * FFN 1408, RoPE, SwiGLU, RMSNorm, bidirectional, final norm, loss = mean(y²)).
 *   node dist/bench/llama-block-worker.js --mode full|lora|forward [--repeats 5] [--dtype f32|bf16]
 * --dtype bf16: every projection's products (forward and backward) in bf16 compute.
 */
import { randomDecoder } from "../src/models/build.js";
import { setComputeDtype } from "../src/models/compute-mode.js";
import { nativeInfo } from "../src/tensor/backend/native.js";
import type { ComputeDtype } from "../src/tensor/compute.js";
import { injectLora } from "../src/models/lora.js";
import { LINEAR_MODULES, type DecoderSpec } from "../src/models/spec.js";
import { backward, noGrad } from "../src/tensor/autograd.js";
import { meanSquare, rmsnorm } from "../src/tensor/ops/index.js";
import { Tensor } from "../src/tensor/tensor.js";
import { median, peakRssMb, timeIt } from "./common.js";

export const BLOCK_SPEC: DecoderSpec = {
  family: "llama", hiddenSize: 512, intermediateSize: 1408, numLayers: 4, numHeads: 8, numKvHeads: 8, headDim: 64,
  vocabSize: 32, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: { type: "none" }, maxPositions: 128, tieWordEmbeddings: true,
  qkvBias: false, oBias: false, mlpBias: false, activation: "silu", normAddOne: false, embedScale: 1, trainedAttention: "causal", slidingWindow: null,
  bosTokenId: null, eosTokenIds: [], padTokenId: null, nameOrPath: null, dtype: "float32",
};

const args = process.argv.slice(2);
const mode = args[args.indexOf("--mode") + 1] as "full" | "lora" | "forward";
const repeats = args.includes("--repeats") ? Number(args[args.indexOf("--repeats") + 1]) : 5;
const [B, T, C] = [8, 128, 512];

const dtype = (args.includes("--dtype") ? args[args.indexOf("--dtype") + 1] : "f32") as ComputeDtype;

const model = randomDecoder(BLOCK_SPEC, 1);
setComputeDtype(model, dtype, "--dtype");
const params: Tensor[] = [];
if (mode === "full") {
  for (const [, t] of model.namedWeights()) {
    t.requiresGrad = true;
    params.push(t);
  }
} else {
  for (const [, t] of model.namedWeights()) t.requiresGrad = false;
  if (mode === "lora") params.push(...injectLora(model, { r: 16, alpha: 32, dropout: 0, targets: LINEAR_MODULES, seed: 3 }).values());
}
const xData = new Float32Array(B * T * C);
for (let i = 0; i < xData.length; i++) xData[i] = Math.sin(i * 0.37) * 0.5;
const x = new Tensor(xData, [B, T, C]);
const forward = () => rmsnorm(model.runLayers(x, { mode: "bidirectional" }), model.norm, BLOCK_SPEC.rmsNormEps);

const step =
  mode === "forward"
    ? () => noGrad(forward)
    : () => {
        backward(meanSquare(forward()));
        for (const p of params) p.grad = null;
      };
const runs = await timeIt(step, { warmup: 2, repeats });
const info = nativeInfo();
const gemm = dtype === "bf16" ? info?.gemmBf16 : info?.gemm;
console.log(JSON.stringify({ mode, dtype, gemm, median_ms: median(runs), runs_ms: runs.map((r) => +r.toFixed(1)), peak_rss_mb: +peakRssMb().toFixed(0), trainable: params.reduce((s, p) => s + p.size, 0) }));
