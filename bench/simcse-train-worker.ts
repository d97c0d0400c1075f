/**
 * One SimCSE training benchmark in a fresh process (peak RSS is this workload's): LoRA r16/α32/
 * dropout 0.05 on all seven projections, attention dropout 0.3, two views of a batch of random
 * rows (BOS first, no padding), mean pooling, CE(cos·20), AdamW; the batch through gradient
 * caching in chunks of `--chunk` (chunk ≥ batch = one graph, as PyTorch). Prints one JSON line.
 *   node dist/bench/simcse-train-worker.js --model DIR --batch 128 --seq 64 --chunk 16 --steps 3 --warmup 1
 */
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { injectLora } from "../src/models/lora.js";
import { LINEAR_MODULES } from "../src/models/spec.js";
import { zeroGrad } from "../src/tensor/autograd.js";
import { Rng } from "../src/tensor/random.js";
import { contrastiveStep, type RepGroup } from "../src/train/contrastive/gradcache.js";
import { contrastiveLoss } from "../src/train/contrastive/loss.js";
import { AdamW } from "../src/train/optim/adamw.js";
import { median, peakRssMb } from "./common.js";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1]! : d;
};
const [B, T, chunk, steps, warmup] = ["batch", "seq", "chunk", "steps", "warmup"].map((k, i) => Number(arg(k, ["128", "64", "16", "3", "1"][i]!))) as [number, number, number, number, number];
const enc = await LLM2Vec.fromPretrained(arg("model", ""));
const model = enc.model;
const loadedRss = Math.round(process.memoryUsage().rss / 2 ** 20);
const params = injectLora(model, { r: 16, alpha: 32, dropout: 0.05, targets: LINEAR_MODULES, seed: 0 });
const opt = new AdamW(params, { weightDecay: 0 });
const V = model.spec.vocabSize;
const rng = new Rng(1);
const weights = new Float32Array(B * T).fill(1 / T);
const mask = new Uint8Array(B * T).fill(1);
const runs: number[] = [];
for (let k = 0; k < warmup + steps; k++) {
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? (model.spec.bosTokenId ?? 1) : 3 + rng.int(V - 3)));
  const groups: RepGroup[] = [2 * k + 1, 2 * k + 2].map((seed) => ({ batch: { ids, mask, B, T }, weights, seed }));
  const ts = performance.now();
  zeroGrad(params.values());
  contrastiveStep(model, groups, { mode: "bidirectional", padTokenId: 0, training: true, attentionDropout: 0.3 }, ([q, d]) => contrastiveLoss(q!, d!, 20), chunk);
  opt.step(3e-5);
  if (k >= warmup) runs.push(performance.now() - ts);
}
const med = median(runs);
console.log(JSON.stringify({ runs_ms: runs.map((r) => Math.round(r)), median_ms: med, tokens_per_s: Math.round((2 * B * T) / (med / 1000)), peak_rss_mb: Math.round(peakRssMb()), loaded_rss_mb: loadedRss }));
