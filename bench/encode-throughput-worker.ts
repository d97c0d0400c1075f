/**
 * One llm2vec workload of the encoding benchmark, in its own process (clean peak RSS):
 *   node --expose-gc dist/bench/encode-throughput-worker.js --model DIR [--rows 32 --batch 32 --seq 128
 *        --warmup 0 --repeats 2 --dtype f32|bf16 --quantize int8|int4 --dump FILE --profile]
 * Loads with LLM2Vec.fromPretrained(DIR) (default options: mean pooling, bidirectional; computeDtype
 * from --dtype, projections quantized at load with --quantize) and times LLM2Vec.encodeIds on `rows` rows of `seq` seeded random ids (benchIds) in
 * batches of `batch`: the full encode path (row checks, left-padding, forward, pooling weights,
 * weighted pool, copying out the rows). The ids are random, so the tokenizer is loaded but not used
 * by the timed call. --dump writes the last run's embeddings (rows × hidden, f32) to FILE, so the
 * caller can compare them with a competitor's. --profile times every kernel call of the timed runs
 * by op (LLM2VEC_PROFILE's mechanism, src/tensor/backend/profile.ts) and adds the table to the JSON
 * (it adds a little time per call: do not read the timings of a profiled run as the bench's).
 * Prints one JSON line.
 */
import { LLM2Vec } from "../src/encoder/llm2vec.js";
import { profileReport, startProfile } from "../src/tensor/backend/profile.js";
import { benchIds, median, peakRssMb, rssSplitMb, timeIt, writeRowsF32 } from "./common.js";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const dir = arg("--model", "");
if (!dir) throw new Error("--model DIR is required");
const B = Number(arg("--batch", "32"));
const N = Number(arg("--rows", String(B)));
const T = Number(arg("--seq", "128"));
const warmup = Number(arg("--warmup", "0"));
const repeats = Number(arg("--repeats", "2"));
const dtype = arg("--dtype", "f32");
if (dtype !== "f32" && dtype !== "bf16") throw new Error(`--dtype must be f32 or bf16, got ${dtype}`);
const quantize = arg("--quantize", "");
if (quantize !== "" && quantize !== "int8" && quantize !== "int4") throw new Error(`--quantize must be int8 or int4, got ${quantize}`);
const dump = arg("--dump", "");
const profile = args.includes("--profile");

const t0 = performance.now();
const enc = await LLM2Vec.fromPretrained(dir, { computeDtype: dtype, ...(quantize ? { quantize } : {}) });
const loadMs = performance.now() - t0;
const afterLoad = { peak_rss_mb: Math.round(peakRssMb()), ...rssSplitMb() };
const rows = benchIds(N, T, enc.model.spec.vocabSize);

let vecs: Float32Array[] = [];
for (let i = 0; i < warmup; i++) await enc.encodeIds(rows, { batchSize: B });
if (profile) startProfile();
const runs = await timeIt(
  async () => {
    vecs = await enc.encodeIds(rows, { batchSize: B });
  },
  { warmup: 0, repeats },
);
const prof = profile ? profileReport({ totalMs: runs.reduce((a, b) => a + b, 0) }) : undefined;
if (dump) writeRowsF32(dump, vecs);
const checksum = vecs.reduce((a, v) => a + v.reduce((b, x) => b + Math.abs(x), 0) / v.length, 0) / vecs.length;
const med = median(runs);
console.log(
  JSON.stringify({
    rows: N,
    batch: B,
    seq: T,
    warmup,
    compute_dtype: dtype,
    quantize: quantize || null,
    pooling: enc.options.pooling,
    bidirectional: enc.options.bidirectional,
    weight_dtype: enc.model.embedTokens.dtype,
    load_ms: +loadMs.toFixed(1),
    median_ms: +med.toFixed(1),
    runs_ms: runs.map((r) => +r.toFixed(1)),
    min_ms: +Math.min(...runs).toFixed(1),
    tokens_per_s: +((N * T) / (med / 1000)).toFixed(1),
    embedding_checksum: +checksum.toFixed(6),
    peak_rss_mb: +peakRssMb().toFixed(0),
    ...rssSplitMb(),
    after_load: afterLoad,
    ...(prof ? { profile: prof } : {}),
  }),
);
