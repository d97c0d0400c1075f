/**
 * The onnxruntime-node side of the encoding benchmark, in its own process:
 *   node dist/bench/ort-encode-worker.js --ort DIR --model FILE.onnx --vocab V [--rows 96 --batch 32
 *        --seq 128 --warmup 1 --repeats 3 --threads 2 --dump FILE]
 * Loads onnxruntime-node from DIR/node_modules (bench/ort.ts installs it there), opens the exported
 * encoder (bench/competitors/onnx_export.py) with the CPU provider, all graph optimisations and
 * `threads` intra-op threads (one inter-op thread, sequential execution), and times encoding the
 * same `rows` × `seq` ids as our worker (benchIds: same seed) in batches of `batch`, all-ones
 * attention mask: one session.run per batch. --dump writes the embeddings (rows × hidden, f32) for
 * the comparison with ours. Prints one JSON line.
 */
import { createRequire } from "node:module";
import * as path from "node:path";
import { benchIds, median, peakRssMb, writeRowsF32 } from "./common.js";

/** The part of onnxruntime-node's API used here. */
interface OrtTensor {
  data: Float32Array;
  dims: readonly number[];
}
interface Ort {
  InferenceSession: {
    create(file: string, opts: Record<string, unknown>): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }>;
  };
  Tensor: new (type: string, data: BigInt64Array, dims: number[]) => OrtTensor;
}

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const ortDir = arg("--ort", "");
const file = arg("--model", "");
if (!ortDir || !file) throw new Error("--ort DIR and --model FILE.onnx are required");
const V = Number(arg("--vocab", "0"));
if (!(V > 0)) throw new Error("--vocab V is required");
const B = Number(arg("--batch", "32"));
const N = Number(arg("--rows", String(B)));
const T = Number(arg("--seq", "128"));
const warmup = Number(arg("--warmup", "1"));
const repeats = Number(arg("--repeats", "3"));
const threads = Number(arg("--threads", "2"));
const dump = arg("--dump", "");

const req = createRequire(path.join(path.resolve(ortDir), "package.json"));
const ort = req("onnxruntime-node") as Ort;
const version = (req("onnxruntime-node/package.json") as { version: string }).version;

const t0 = performance.now();
const session = await ort.InferenceSession.create(file, {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "all",
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: "sequential",
});
const loadMs = performance.now() - t0;

const rows = benchIds(N, T, V);
const feeds = [] as Record<string, OrtTensor>[];
for (let s = 0; s < N; s += B) {
  const part = rows.slice(s, s + B);
  const ids = BigInt64Array.from(part.flat(), (x) => BigInt(x));
  const mask = new BigInt64Array(ids.length).fill(1n);
  feeds.push({ input_ids: new ort.Tensor("int64", ids, [part.length, T]), attention_mask: new ort.Tensor("int64", mask, [part.length, T]) });
}

let vecs: Float32Array[] = [];
async function encodeAll(): Promise<void> {
  const out: Float32Array[] = [];
  for (const f of feeds) {
    const r = (await session.run(f)).embedding!;
    const C = r.dims[1]!;
    for (let b = 0; b < r.dims[0]!; b++) out.push(r.data.slice(b * C, (b + 1) * C));
  }
  vecs = out;
}

for (let i = 0; i < warmup; i++) await encodeAll();
const runs: number[] = [];
for (let i = 0; i < repeats; i++) {
  const t = performance.now();
  await encodeAll();
  runs.push(performance.now() - t);
}
if (dump) writeRowsF32(dump, vecs);
const med = median(runs);
console.log(
  JSON.stringify({
    ort: version,
    rows: N,
    batch: B,
    seq: T,
    threads,
    warmup,
    load_ms: +loadMs.toFixed(1),
    median_ms: +med.toFixed(1),
    runs_ms: runs.map((r) => +r.toFixed(1)),
    min_ms: +Math.min(...runs).toFixed(1),
    tokens_per_s: +((N * T) / (med / 1000)).toFixed(1),
    peak_rss_mb: +peakRssMb().toFixed(0),
  }),
);
