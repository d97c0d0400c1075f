/**
 * A vector store at scale, on random unit vectors (the store's part of index/search; the model's
 * encoding throughput is bench/encode-throughput.ts): adds in batches as `llm2vec index` stores
 * them (the stored-ids check that makes a run resumable, then one transaction), query latency
 * p50/p99 unfiltered and with a 10% metadata filter, and recall@10 against brute force.
 *   npm run build && node dist/bench/vector-store.js [passages=100000] [dim=384] [queries=100] [store=sqlite]
 * store: `sqlite` (the embedded store in a temp folder), `pglite` (the pgvector adapter against
 * PGlite, Postgres in WASM on loopback: one thread, a floor rather than a server's figure), or a
 * postgres:// URL (a fresh ?table= there, dropped afterwards is up to you).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openVectorStore } from "../src/store/open.js";
import type { StoreInfo, VectorStore } from "../src/store/types.js";
import { startPgliteServer, type PgliteServer } from "../test/helpers/pglite-server.js";

const args = process.argv.slice(2);
const [N = 100_000, D = 384, Q = 100] = args.slice(0, 3).map(Number);
const which = args[3] ?? "sqlite";
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const unit = (): Float32Array => {
  const v = Float32Array.from({ length: D }, rand);
  const s = Math.hypot(...v);
  return v.map((x) => x / s);
};

/** The ids of the 10 stored vectors nearest q, by a full scan. */
function bruteTop10(all: Float32Array[], q: Float32Array): Set<string> {
  const scored = all.map((d, i) => {
    let s = 0;
    for (let k = 0; k < D; k++) s += d[k]! * q[k]!;
    return { i, s };
  });
  return new Set(scored.sort((a, b) => b.s - a.s).slice(0, 10).map((e) => `p${e.i}`));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-bench-store-"));
let server: PgliteServer | null = null;
try {
  const db = which === "sqlite" ? dir : which === "pglite" ? `${(server = await startPgliteServer()).url}?table=bench` : which;
  const info: StoreInfo = { model: "random", dimension: D, queryInstruction: null, load: { model: "random" } };
  const store: VectorStore = await openVectorStore(db, { create: info });
  const all: Float32Array[] = [];
  const BATCH = 256;
  let t = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const vecs = Array.from({ length: Math.min(BATCH, N - i) }, unit);
    all.push(...vecs);
    const ids = vecs.map((_, j) => `p${i + j}`);
    if ((await store.storedIds(ids)).size) throw new Error(`${store.location} already holds some of ${ids[0]}…; give a fresh ?table=`);
    await store.add(ids, vecs, vecs.map((_, j) => `passage ${i + j}`), vecs.map((_, j) => ({ shard: (i + j) % 10 })));
  }
  const addS = (performance.now() - t) / 1000;
  const stored = await store.count();
  const lat: number[] = [];
  const latF: number[] = [];
  let found = 0;
  for (let q = 0; q < Q; q++) {
    const v = unit();
    t = performance.now();
    const hits = await store.search(v, 10);
    lat.push(performance.now() - t);
    t = performance.now();
    await store.search(v, 10, { shard: 3 });
    latF.push(performance.now() - t);
    const want = bruteTop10(all, v);
    found += hits.filter((h) => want.has(h.id)).length;
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!.toFixed(1);
  const onDisk = fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
  console.log(`${which === "sqlite" ? "sqlite-vec store" : `pgvector adapter (${which})`}, ${N} passages × ${D} dims${onDisk ? ` (${(onDisk / 2 ** 20).toFixed(0)} MB on disk)` : ""}, node ${process.version}`);
  console.log(`  add:            ${(N / addS).toFixed(0)} passages/s (${addS.toFixed(1)} s, batches of ${BATCH}, stored ${stored})`);
  console.log(`  search k=10:    p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms over ${Q} queries`);
  console.log(`  + filter (10%): p50 ${pct(latF, 0.5)} ms, p99 ${pct(latF, 0.99)} ms`);
  console.log(`  recall@10 vs brute force: ${(found / (10 * Q)).toFixed(4)}`);
  await store.close();
} finally {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
