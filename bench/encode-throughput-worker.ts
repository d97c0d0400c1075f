/**
 * One llm2vec workload of issue #4's benchmark, in its own process (clean peak RSS):
 *   node --expose-gc dist/bench/encode-throughput-worker.js --model DIR [--batch 32 --seq 128 --warmup 0 --repeats 2]
 * Loads with LLM2Vec.fromPretrained(DIR) (default options: mean pooling, bidirectional) and times
 * LLM2Vec.encodeIds on `batch` rows of `seq` seeded random ids, in one batch (batchSize = batch):
 * the full encode path (row checks, left-padding, forward, pooling weights, weighted pool, copying
 * out the rows). The ids are random, so the tokenizer is loaded but not used by the timed call.
 * Prints one JSON line.
 */
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { median, peakRssMb, timeIt } from "./common.js";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const dir = arg("--model", "");
if (!dir) throw new Error("--model DIR is required");
const B = Number(arg("--batch", "32"));
const T = Number(arg("--seq", "128"));
const warmup = Number(arg("--warmup", "0"));
const repeats = Number(arg("--repeats", "2"));

const t0 = performance.now();
const enc = await LLM2Vec.fromPretrained(dir);
const loadMs = performance.now() - t0;
const V = enc.model.spec.vocabSize;
let s = 4242;
const rows = Array.from({ length: B }, () => Array.from({ length: T }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s % V)));

let checksum = 0;
const runs = await timeIt(
  async () => {
    const vecs = await enc.encodeIds(rows, { batchSize: B });
    checksum = vecs.reduce((a, v) => a + v.reduce((b, x) => b + Math.abs(x), 0) / v.length, 0) / vecs.length;
  },
  { warmup, repeats },
);
const med = median(runs);
console.log(
  JSON.stringify({
    batch: B,
    seq: T,
    warmup,
    pooling: enc.options.pooling,
    bidirectional: enc.options.bidirectional,
    weight_dtype: enc.model.embedTokens.dtype,
    load_ms: +loadMs.toFixed(1),
    median_ms: +med.toFixed(1),
    runs_ms: runs.map((r) => +r.toFixed(1)),
    min_ms: +Math.min(...runs).toFixed(1),
    tokens_per_s: +((B * T) / (med / 1000)).toFixed(1),
    embedding_checksum: +checksum.toFixed(6),
    peak_rss_mb: +peakRssMb().toFixed(0),
  }),
);
