/**
 * The sqlite-vec store at scale, on random unit vectors (the store's part of index/search; the
 * model's encoding throughput is bench/encode-throughput.ts): add throughput in batches as
 * `llm2vec index` stores them, query latency p50/p99, and recall@10 against brute force.
 *   npm run build && node dist/bench/vector-store.js [passages=100000] [dim=384] [queries=100]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SqliteVecStore } from "../src/store/sqlite-vec.js";

const [N = 100_000, D = 384, Q = 100] = process.argv.slice(2).map(Number);
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const unit = (): Float32Array => {
  const v = Float32Array.from({ length: D }, rand);
  const s = Math.hypot(...v);
  return v.map((x) => x / s);
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-bench-store-"));
try {
  const store = await SqliteVecStore.open(dir, { create: { model: "random", dimension: D, queryInstruction: null, load: { model: "random" } } });
  const all: Float32Array[] = [];
  const BATCH = 256;
  let t = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const vecs = Array.from({ length: Math.min(BATCH, N - i) }, unit);
    all.push(...vecs);
    store.add(vecs.map((_, j) => `p${i + j}`), vecs, vecs.map((_, j) => `passage ${i + j}`), vecs.map((_, j) => ({ shard: (i + j) % 10 })));
  }
  const addS = (performance.now() - t) / 1000;
  const lat: number[] = [];
  const latF: number[] = [];
  let found = 0;
  for (let q = 0; q < Q; q++) {
    const v = unit();
    t = performance.now();
    const hits = store.search(v, 10);
    lat.push(performance.now() - t);
    t = performance.now();
    store.search(v, 10, { shard: 3 });
    latF.push(performance.now() - t);
    const exact = all.map((d, i) => ({ i, s: d.reduce((s, x, k) => s + x * v[k]!, 0) })).sort((a, b) => b.s - a.s).slice(0, 10);
    const want = new Set(exact.map((e) => `p${e.i}`));
    found += hits.filter((h) => want.has(h.id)).length;
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!.toFixed(1);
  const size = fs.statSync(path.join(dir, "store.sqlite")).size + (fs.existsSync(path.join(dir, "store.sqlite-wal")) ? fs.statSync(path.join(dir, "store.sqlite-wal")).size : 0);
  console.log(`sqlite-vec store, ${N} passages × ${D} dims (${(size / 2 ** 20).toFixed(0)} MB on disk), node ${process.version}`);
  console.log(`  add:            ${(N / addS).toFixed(0)} passages/s (${addS.toFixed(1)} s, batches of ${BATCH})`);
  console.log(`  search k=10:    p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms over ${Q} queries`);
  console.log(`  + filter (10%): p50 ${pct(latF, 0.5)} ms, p99 ${pct(latF, 0.99)} ms`);
  console.log(`  recall@10 vs brute force: ${(found / (10 * Q)).toFixed(4)}`);
  store.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
