/**
 * One llm2vec workload of issue #3's benchmark, in its own process (so its peak RSS is its own):
 *   node --expose-gc dist/bench/model-load-worker.js --model DIR --mode load
 *       one loadModelFolder(DIR): load_ms and the peak RSS right after it
 *   node --expose-gc dist/bench/model-load-worker.js --model DIR --mode forward [--batch 8 --seq 128 --warmup 1 --repeats 2]
 *       load, then the bidirectional forward (no grad) of random ids [batch, seq], all real tokens
 * Prints one JSON line.
 */
import { setComputeDtype } from "../src/models/compute-mode.js";
import { nativeInfo } from "../src/tensor/backend/native.js";
import type { ComputeDtype } from "../src/tensor/compute.js";
import { loadModelFolder } from "../src/models/load.js";
import { noGrad } from "../src/tensor/autograd.js";
import { checkpointBytes } from "./checkpoints.js";
import { median, peakRssMb, timeIt } from "./common.js";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const dir = arg("--model", "");
if (!dir) throw new Error("--model DIR is required");
const mode = arg("--mode", "load") as "load" | "forward";
const B = Number(arg("--batch", "8"));
const T = Number(arg("--seq", "128"));
const warmup = Number(arg("--warmup", "1"));
const repeats = Number(arg("--repeats", "2"));
const dtype = arg("--dtype", "f32") as ComputeDtype;

const bytes = checkpointBytes(dir);
const t0 = performance.now();
const model = loadModelFolder(dir);
setComputeDtype(model, dtype, "--dtype");
const loadMs = performance.now() - t0;
const loadRss = peakRssMb();
const out: Record<string, unknown> = {
  mode,
  load_ms: +loadMs.toFixed(1),
  load_peak_rss_mb: +loadRss.toFixed(0),
  checkpoint_bytes: bytes,
  rss_over_checkpoint: +((loadRss * 1024 * 1024) / bytes).toFixed(3),
  weight_dtype: model.embedTokens.dtype,
  compute_dtype: dtype,
  gemm: dtype === "bf16" ? nativeInfo()?.gemmBf16 : nativeInfo()?.gemm,
};

if (mode === "forward") {
  // Seeded random ids in [0, V): the speed does not depend on them (no padding, no early exit).
  let s = 12345;
  const ids = new Int32Array(B * T).map(() => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % model.spec.vocabSize));
  let checksum = 0;
  const step = () =>
    noGrad(() => {
      const h = model.forward(ids, B, T, { mode: "bidirectional" }).f32;
      let a = 0;
      for (let i = 0; i < h.length; i += 97) a += Math.abs(h[i]!);
      checksum = a;
    });
  const runs = await timeIt(step, { warmup, repeats });
  const med = median(runs);
  Object.assign(out, {
    batch: B,
    seq: T,
    warmup,
    median_ms: +med.toFixed(1),
    runs_ms: runs.map((r) => +r.toFixed(1)),
    min_ms: +Math.min(...runs).toFixed(1),
    tokens_per_s: +((B * T) / (med / 1000)).toFixed(1),
    checksum: +checksum.toFixed(4),
  });
}
out.peak_rss_mb = +peakRssMb().toFixed(0);
console.log(JSON.stringify(out));
