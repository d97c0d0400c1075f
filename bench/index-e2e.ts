/**
 * `llm2vec index` then `search` end to end, through the real CLI and model: builds a corpus of
 * 1–3-sentence passages (ids and metadata) from WikiText-2 and wiki1m text, indexes it with a child
 * `llm2vec index` that is SIGKILLed partway and then run again, checks the store holds every id
 * exactly once with its vector, and measures index throughput (passages/s, tokens/s), query latency
 * p50/p99 through the library's searchText (model encode + store scan) and a few cold `llm2vec
 * search` processes, and recall@10 of the store against an exact cosine scan of its own vectors.
 *   npm run build && node dist/bench/index-e2e.js --data ../shared/data [--passages 100000]
 *     [--queries 200] [--cli-queries 5] [--kill-at 0.3] [--model DIR] [--work DIR]
 * --data (or LLM2VEC_DATA) is the shared data folder (text/wikitext-2, text/wiki1m-head.txt);
 * --model defaults to the stories260K fixture imported into the work folder (mean pooling).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { importLlama2c } from "../src/formats/llama2c.js";
import { openVectorStore } from "../src/store/open.js";
import { loadStoreModel, searchText } from "../src/store/text.js";
import { STORE_FILE } from "../src/store/sqlite-vec.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = path.join(root, "dist/src/cli/main.js");
const { values: a } = parseArgs({
  options: {
    data: { type: "string" },
    passages: { type: "string", default: "100000" },
    queries: { type: "string", default: "200" },
    "cli-queries": { type: "string", default: "5" },
    "kill-at": { type: "string", default: "0.3" },
    "batch-size": { type: "string", default: "32" },
    model: { type: "string" },
    work: { type: "string" },
  },
});
const dataDir = a.data ?? process.env.LLM2VEC_DATA;
if (!dataDir) throw new Error("index-e2e: pass --data DIR (or set LLM2VEC_DATA): the shared data folder with text/wikitext-2 and text/wiki1m-head.txt");
const N = Number(a.passages);
const Q = Number(a.queries);
const CLIQ = Number(a["cli-queries"]);
const killAt = Math.floor(N * Number(a["kill-at"]));
for (const [flag, v] of [["--passages", N], ["--queries", Q], ["--cli-queries", CLIQ], ["--kill-at", killAt]] as const)
  if (!Number.isInteger(v) || v < 0) throw new Error(`index-e2e: ${flag} must give a non-negative integer, got ${v}`);

/** Sentences of the shared text: WikiText-2's tokenization undone (headings and sentences with <unk> dropped), wiki1m's lines as they are. */
function sentences(): { text: string; source: string }[] {
  const out: { text: string; source: string }[] = [];
  for (const split of ["valid", "test"]) {
    const file = path.join(dataDir!, "text/wikitext-2", `wiki.${split}.tokens`);
    for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("=")) continue;
      const clean = line.replace(/ @(.)@ /g, "$1").replace(/ ([.,;:!?)'])/g, "$1").replace(/\( /g, "(").replace(/ (n't|'s)\b/g, "$1");
      for (const s of clean.split(/(?<=[.!?])\s+(?=[A-Z"])/)) if (s.length >= 20 && !s.includes("<unk>")) out.push({ text: s, source: `wikitext-2 ${split}` });
    }
  }
  for (const line of fs.readFileSync(path.join(dataDir!, "text/wiki1m-head.txt"), "utf8").split("\n"))
    if (line.trim().length >= 20) out.push({ text: line.trim(), source: "wiki1m" });
  return out;
}

/**
 * N passages: sentence i alone, or with one or two of the next four sentences of the same source
 * (kept in order), so the text at hand (about 16k sentences) gives over 100k distinct passages;
 * taken in a fixed shuffled order.
 */
function corpus(sents: { text: string; source: string }[]): { id: string; text: string; metadata: Record<string, unknown> }[] {
  const runs: number[][] = [];
  for (let i = 0; i < sents.length; i++) {
    const next = [1, 2, 3, 4].map((d) => i + d).filter((j) => j < sents.length && sents[j]!.source === sents[i]!.source);
    runs.push([i]);
    for (let x = 0; x < next.length; x++) {
      runs.push([i, next[x]!]);
      for (let y = x + 1; y < next.length; y++) runs.push([i, next[x]!, next[y]!]);
    }
  }
  let seed = 25;
  const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let i = runs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [runs[i], runs[j]] = [runs[j]!, runs[i]!];
  }
  if (runs.length < N) throw new Error(`index-e2e: ${dataDir} gives only ${runs.length} passages, fewer than --passages ${N}`);
  return runs.slice(0, N).map((run, k) => ({
    id: `p${String(k).padStart(6, "0")}`,
    text: run.map((i) => sents[i]!.text).join(" "),
    metadata: { source: sents[run[0]!]!.source, sentences: run },
  }));
}

const pct = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

const work = a.work ?? fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-index-e2e-"));
fs.mkdirSync(work, { recursive: true });
const db = path.join(work, "db");
fs.rmSync(db, { recursive: true, force: true });
let modelDir = a.model;
if (!modelDir) {
  modelDir = path.join(work, "stories260K");
  const fx = path.join(root, "test/fixtures/models/stories260K");
  if (!fs.existsSync(path.join(modelDir, "config.json"))) importLlama2c({ model: path.join(fx, "stories260K.bin"), tokenizer: path.join(fx, "tok512.bin"), output: modelDir });
}

const sents = sentences();
const docs = corpus(sents);
const input = path.join(work, "passages.jsonl");
fs.writeFileSync(input, docs.map((d) => JSON.stringify(d)).join("\n") + "\n");
console.log(`corpus: ${N} passages (1–3 sentences) from ${sents.length} sentences of ${dataDir}, ${(fs.statSync(input).size / 2 ** 20).toFixed(1)} MB`);

const storedCount = (): number => {
  if (!fs.existsSync(path.join(db, STORE_FILE))) return 0;
  try {
    const c = new DatabaseSync(path.join(db, STORE_FILE), { readOnly: true });
    try {
      return Number((c.prepare("SELECT count(*) AS n FROM docs").get() as { n: number }).n);
    } finally {
      c.close();
    }
  } catch {
    return 0; // being created
  }
};

/** One `llm2vec index` child; SIGKILLed once the store holds `killWhen` passages, if given. */
function runIndex(killWhen?: number): Promise<{ seconds: number; killed: boolean; stderr: string; code: number | null }> {
  const args = [CLI, "index", "--model", modelDir!, "--pooling", "mean", "--input", input, "--db", db, "--batch-size", a["batch-size"]!, "--no-progress"];
  const t = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  let killed = false;
  const poll =
    killWhen === undefined
      ? null
      : setInterval(() => {
          if (!killed && storedCount() >= killWhen) {
            killed = child.kill("SIGKILL");
          }
        }, 500);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      if (poll) clearInterval(poll);
      resolve({ seconds: (performance.now() - t) / 1000, killed, stderr, code });
    }),
  );
}

const first = await runIndex(killAt);
if (!first.killed) throw new Error(`index-e2e: the first index run ended (exit ${first.code}) before it was killed at ${killAt}: ${first.stderr}`);
const atKill = storedCount();
console.log(`index run 1: SIGKILLed after ${first.seconds.toFixed(1)} s, store held ${atKill} passages`);
const second = await runIndex();
if (second.code !== 0) throw new Error(`index-e2e: the resumed index run failed (exit ${second.code}): ${second.stderr}`);
console.log(`index run 2 (resume): ${second.seconds.toFixed(1)} s: ${second.stderr.trim()}`);

// The store, read directly: every expected id once, each with exactly one vector.
const sqliteVec = createRequire(import.meta.url)("sqlite-vec") as { getLoadablePath(): string };
const raw = new DatabaseSync(path.join(db, STORE_FILE), { readOnly: true, allowExtension: true });
raw.loadExtension(sqliteVec.getLoadablePath());
const idRows = raw.prepare("SELECT rowid, id FROM docs").all() as { rowid: number; id: string }[];
const vecRows = raw.prepare("SELECT rowid, embedding FROM vecs").all() as { rowid: number; embedding: Uint8Array }[];
raw.close();
const ids = new Set(idRows.map((r) => r.id));
const missing = docs.filter((d) => !ids.has(d.id)).length;
const extra = [...ids].filter((id) => !/^p\d{6}$/.test(id) || Number(id.slice(1)) >= N).length;
const vecOf = new Map(vecRows.map((r) => [Number(r.rowid), r.embedding]));
const noVec = idRows.filter((r) => !vecOf.has(Number(r.rowid))).length;
const ok = idRows.length === N && ids.size === N && missing === 0 && extra === 0 && noVec === 0 && vecRows.length === N;
console.log(`store check: ${idRows.length} rows, ${ids.size} distinct ids, ${missing} missing, ${extra} unexpected, ${vecRows.length} vectors, ${noVec} rows without one: ${ok ? "OK" : "FAILED"}`);
if (!ok) process.exitCode = 1;

// Throughput over both runs (each includes its model load); tokens as the model's tokenizer counts them.
const store = await openVectorStore(db, { readOnly: true });
const model = await loadStoreModel(store.info);
let tokens = 0;
for (const d of docs) tokens += model.tokenizer.encode(d.text).length;
const indexS = first.seconds + second.seconds;
console.log(`index: ${(N / indexS).toFixed(0)} passages/s, ${(tokens / indexS).toFixed(0)} tokens/s (${N} passages, ${tokens} tokens, mean ${(tokens / N).toFixed(0)}, in ${indexS.toFixed(1)} s over both runs; resumed run alone ${((N - atKill) / second.seconds).toFixed(0)} passages/s)`);

// Queries: sentences of the pool (not necessarily whole passages), with the store's query instruction.
const D = store.info.dimension;
const all = new Float32Array(N * D);
const rowIds: string[] = [];
idRows.forEach((r, i) => {
  const b = vecOf.get(Number(r.rowid))!;
  all.set(new Float32Array(b.buffer, b.byteOffset, D), i * D);
  rowIds.push(r.id);
});
const exactTop10 = (q: Float32Array): Set<string> => {
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let k = 0, o = i * D; k < D; k++) s += all[o + k]! * q[k]!;
    if (best.length < 10 || s > best[9]!.s) {
      best.push({ i, s });
      best.sort((x, y) => y.s - x.s);
      if (best.length > 10) best.pop();
    }
  }
  return new Set(best.map((e) => rowIds[e.i]!));
};
const queries = Array.from({ length: Q }, (_, q) => sents[Math.floor(((q + 0.5) * sents.length) / Q)]!.text);
const instruction = model.options.queryInstruction ?? store.info.queryInstruction ?? undefined;
await searchText(model, store, queries[0]!); // warm-up
const lat: number[] = [];
const storeLat: number[] = [];
let found = 0;
for (const text of queries) {
  let t = performance.now();
  await searchText(model, store, text, { topK: 10 });
  lat.push(performance.now() - t);
  const [qv] = await model.encodeQueries([text], { instruction, normalize: true });
  t = performance.now();
  const hits = await store.search(qv!, 10);
  storeLat.push(performance.now() - t);
  const want = exactTop10(qv!);
  found += hits.filter((h) => want.has(h.id)).length;
}
console.log(`search (library searchText, k=10): p50 ${ms(pct(lat, 0.5))}, p99 ${ms(pct(lat, 0.99))} over ${Q} queries; store.search alone p50 ${ms(pct(storeLat, 0.5))}, p99 ${ms(pct(storeLat, 0.99))}`);
console.log(`recall@10 vs exact cosine over the stored vectors: ${(found / (10 * Q)).toFixed(4)}`);
await store.close();

// Cold `llm2vec search` processes: start-up, model load, query, print.
const cold: number[] = [];
for (let q = 0; q < CLIQ; q++) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, "search", "--db", db, "--query", queries[q]!, "--json"], { encoding: "utf8" });
  cold.push(performance.now() - t);
  if (r.status !== 0) throw new Error(`index-e2e: llm2vec search failed (exit ${r.status}): ${r.stderr}`);
  const hits = JSON.parse(r.stdout) as { id: string }[];
  if (hits.length !== 10) throw new Error(`index-e2e: llm2vec search --json gave ${hits.length} hits, not 10`);
}
if (CLIQ) console.log(`llm2vec search (cold process, --json): median ${ms(pct(cold, 0.5))}, max ${ms(Math.max(...cold))} over ${CLIQ} runs`);
console.log(`node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}, work folder ${work}`);
if (!a.work) fs.rmSync(work, { recursive: true, force: true });
