/**
 * One MNTP training benchmark in a fresh process (so peak RSS is this workload's): load the
 * folder, LoRA r16/α32/dropout 0.05 on all seven projections, then `--warmup` + `--steps` steps
 * of mask → forward (bidirectional, logits at the masked rows only) → backward → AdamW, on random
 * ids with BOS first, masked as the reference's collator does (p 0.2, BERT 80/10/10). Prints one
 * JSON line.
 *   node dist/bench/mntp-train-worker.js --model DIR --batch 8 --seq 128 --steps 5 --warmup 1 [--checkpointing] [--quantize int8|int4]
 * (--quantize: the frozen base's projections quantized at load, LoRA in f32 — QLoRA-style.)
 */
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { injectLora } from "../src/models/lora.js";
import { LINEAR_MODULES } from "../src/models/spec.js";
import { backward, zeroGrad } from "../src/tensor/autograd.js";
import { Rng } from "../src/tensor/random.js";
import { maskTokens } from "../src/train/mntp/masking.js";
import { mntpLoss } from "../src/train/mntp/objective.js";
import { AdamW } from "../src/train/optim/adamw.js";
import { median, peakRssMb, rssSplitMb } from "./common.js";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? process.argv[i + 1]! : d;
};
const dir = arg("model", "");
const [B, T, steps, warmup] = [Number(arg("batch", "8")), Number(arg("seq", "128")), Number(arg("steps", "5")), Number(arg("warmup", "1"))];
const checkpointLayers = process.argv.includes("--checkpointing");
const quantize = arg("quantize", "");
if (quantize !== "" && quantize !== "int8" && quantize !== "int4") throw new Error(`--quantize must be int8 or int4, got ${quantize}`);

const t0 = performance.now();
const enc = await LLM2Vec.fromPretrained(dir, quantize ? { quantize } : {});
const loadMs = performance.now() - t0;
const model = enc.model;
const params = injectLora(model, { r: 16, alpha: 32, dropout: 0.05, targets: LINEAR_MODULES, seed: 0 });
const opt = new AdamW(params, { weightDecay: 0 });
const afterLoad = { peak_rss_mb: Math.round(peakRssMb()), ...rssSplitMb() };
const V = model.spec.vocabSize;
const rng = new Rng(1);
const batches = Array.from({ length: warmup + steps }, () => {
  const ids = new Int32Array(B * T);
  const special = new Uint8Array(B * T);
  for (let i = 0; i < ids.length; i++) ids[i] = i % T === 0 ? (model.spec.bosTokenId ?? 1) : 3 + rng.int(V - 3);
  for (let b = 0; b < B; b++) special[b * T] = 1;
  return maskTokens(ids, special, { probability: 0.2, strategy: "bert", maskTokenId: V >> 1, randomVocab: V }, rng);
});
const runs: number[] = [];
batches.forEach((m, k) => {
  const ts = performance.now();
  zeroGrad(params.values());
  const out = mntpLoss(model, { inputIds: m.inputIds, labels: m.labels, B, T }, { mode: "bidirectional", padTokenId: 0, training: true, seed: k, checkpointLayers });
  backward(out.loss);
  opt.step(5e-5);
  if (k >= warmup) runs.push(performance.now() - ts);
});
const med = median(runs);
console.log(JSON.stringify({ runs_ms: runs.map((r) => Math.round(r)), median_ms: med, tokens_per_s: Math.round((B * T) / (med / 1000)), peak_rss_mb: Math.round(peakRssMb()), ...rssSplitMb(), after_load: afterLoad, load_ms: loadMs, weight_dtype: model.layers[0]!.linears.q_proj!.weight.dtype, quantize: quantize || null }));
