/**
 * The sqlite-vec store and `llm2vec index` / `search`: exact search against brute force, metadata
 * filters, ids/text/metadata kept, resuming a killed run, and the bad inputs (another model or
 * dimension, duplicate ids, an empty store, a corrupted file).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { SqliteVecStore } from "../../src/store/sqlite-vec.js";
import type { StoreInfo } from "../../src/store/types.js";
import { indexCommand } from "../../src/cli/commands/index.js";
import { searchCommand } from "../../src/cli/commands/search.js";
import { indexDocuments, openStore } from "../../src/store/text.js";
import { encodeCommand } from "../../src/cli/commands/encode.js";
import { STORIES, storiesFolder, writeStoriesJsonl } from "../helpers/stories.js";
import { unitVectors } from "../helpers/rng.js";

const info = (dimension: number, model = "m"): StoreInfo => ({ model, dimension, queryInstruction: null, load: { model } });

describe("store: sqlite-vec", () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-store-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("search equals brute-force cosine; a filter searches only matching metadata; text and metadata come back", async () => {
    const dir = path.join(tmp, "exact");
    const store = await SqliteVecStore.open(dir, { create: info(16) });
    const vecs = unitVectors(200, 16, 1);
    const ids = vecs.map((_, i) => `p${i}`);
    store.add(ids, vecs, ids.map((id) => `text of ${id}`), ids.map((_, i) => ({ even: i % 2 === 0, n: i })));
    assert.equal(store.count(), 200);
    const [q] = unitVectors(1, 16, 2);
    const cos = (v: Float32Array) => v.reduce((s, x, k) => s + x * q![k]!, 0);
    const brute = (keep: (i: number) => boolean) => ids.map((id, i) => ({ id, s: cos(vecs[i]!) })).filter((_, i) => keep(i)).sort((a, b) => b.s - a.s).slice(0, 5);
    const hits = store.search(q!, 5);
    assert.deepEqual(hits.map((h) => h.id), brute(() => true).map((b) => b.id));
    hits.forEach((h, i) => assert.ok(Math.abs(h.score - brute(() => true)[i]!.s) < 1e-5));
    assert.equal(hits[0]!.text, `text of ${hits[0]!.id}`);
    const odd = store.search(q!, 5, { even: false });
    assert.deepEqual(odd.map((h) => h.id), brute((i) => i % 2 === 1).map((b) => b.id));
    assert.ok(odd.every((h) => h.metadata.even === false && typeof h.metadata.n === "number"));
    store.close();
  });

  it("refuses another model or dimension (naming both), repeated ids, and a vector of the wrong size", async () => {
    const dir = path.join(tmp, "refuse");
    const store = await SqliteVecStore.open(dir, { create: info(8, "model-A") });
    const [v] = unitVectors(1, 8, 3);
    store.add(["a"], [v!], ["x"]);
    assert.throws(() => store.add(["a"], [v!], ["x"]), /id "a" is already in .*store\.sqlite/);
    assert.throws(() => store.add(["b", "b"], [v!, v!], ["x", "y"]), /id "b" appears twice \(ids\[0\] and ids\[1\]\)/);
    assert.throws(() => store.add(["c"], [new Float32Array(4)], ["x"]), /vector 0 \(id "c"\) has dimension 4; .* holds 8 \(model-A\)/);
    assert.equal(store.count(), 1);
    store.close();
    await assert.rejects(SqliteVecStore.open(dir, { create: info(8, "model-B") }), /was built with model-A \(dimension 8\), not model-B \(dimension 8\)/);
    await assert.rejects(SqliteVecStore.open(dir, { create: info(16, "model-A") }), /was built with model-A \(dimension 8\), not model-A \(dimension 16\)/);
  });

  it("a corrupted or foreign store file, and a folder without a store, are refused by name", async () => {
    const bad = path.join(tmp, "bad");
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, "store.sqlite"), "not a database at all, just text ".repeat(200));
    await assert.rejects(SqliteVecStore.open(bad), /bad[/\\]store\.sqlite: not a readable llm2vec store \(file is not a database\)/);
    await assert.rejects(SqliteVecStore.open(path.join(tmp, "none")), /no vector store here/);
  });
});

describe("store: llm2vec index and search", () => {
  let tmp: string;
  let input: string;
  const instruction = "Given a question, retrieve the story that answers it:";
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-index-"));
    input = path.join(tmp, "docs.jsonl");
    writeStoriesJsonl(input);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const base = () => ({ model: storiesFolder(), input, progress: false, queryInstruction: instruction });

  it("a killed run, resumed, stores every passage once, with the vectors of an uninterrupted run", async () => {
    const db = path.join(tmp, "resumed");
    await assert.rejects(
      indexCommand({ ...base(), db, batchSize: "2", onBatch: (n) => {
        if (n >= 4) throw new Error("killed");
      } }),
      /killed/,
    );
    const mid = await SqliteVecStore.open(db);
    assert.equal(mid.count(), 4);
    mid.close();
    const r = await indexCommand({ ...base(), db, batchSize: "3" });
    assert.deepEqual([r.added, r.skipped, r.total], [3, 4, 7]);
    const whole = path.join(tmp, "whole");
    await indexCommand({ ...base(), db: whole });
    const a = await SqliteVecStore.open(db);
    const b = await SqliteVecStore.open(whole);
    const [q] = unitVectors(1, a.info.dimension, 5);
    const ha = a.search(q!, 7);
    const hb = b.search(q!, 7);
    assert.deepEqual(ha.map((h) => h.id).sort(), STORIES.map((_, i) => `s${i}`).sort());
    assert.deepEqual(ha.map((h) => h.id), hb.map((h) => h.id));
    ha.forEach((h, i) => assert.ok(Math.abs(h.score - hb[i]!.score) < 1e-5));
    a.close();
    b.close();
  });

  it("index encodes a window of passages in one call (so the encoder's length sort pads little), storing batch by batch", async () => {
    const model = await LLM2Vec.fromPretrained(storiesFolder(), { onNote: () => {} });
    const encode = model.encodeDocuments.bind(model);
    const calls: number[] = [];
    model.encodeDocuments = (texts, o) => (calls.push(texts.length), encode(texts, o));
    const store = await openStore(path.join(tmp, "window"), model);
    const added: number[] = [];
    const passages = STORIES.map((text, i) => ({ id: `s${i}`, text }));
    await indexDocuments(model, store, passages, { batchSize: 2, onProgress: (n) => added.push(n) });
    assert.deepEqual(calls, [7]);
    assert.deepEqual(added, [2, 4, 6, 7]);
    const want = await encode(STORIES, { normalize: true });
    for (const [i, v] of want.entries()) {
      const [hit] = await store.search(v, 1);
      assert.equal(hit!.id, `s${i}`);
      assert.ok(hit!.score > 1 - 1e-5);
    }
    await store.close();
  });

  it("search returns {id, score, text, metadata} with the query encoded by encodeQueries; a filter narrows it", async () => {
    const db = path.join(tmp, "whole");
    const hits = await searchCommand({ db, query: "What did Tom give the bird?", topK: "3" });
    assert.equal(hits.length, 3);
    assert.deepEqual(Object.keys(hits[0]!), ["id", "score", "text", "metadata"]);
    const enc = await LLM2Vec.fromPretrained(storiesFolder(), { onNote: () => {} });
    const [q] = await enc.encodeQueries(["What did Tom give the bird?"], { instruction, normalize: true });
    const docs = await enc.encodeDocuments(STORIES, { normalize: true });
    const want = docs.map((d, i) => ({ id: `s${i}`, s: d.reduce((s, x, k) => s + x * q![k]!, 0) })).sort((x, y) => y.s - x.s);
    assert.deepEqual(hits.map((h) => h.id), want.slice(0, 3).map((w) => w.id));
    const s1 = hits.find((h) => h.id === "s1");
    if (s1) assert.deepEqual([s1.text, s1.metadata], [STORIES[1], { n: 1, kind: "odd" }]);
    const odd = await searchCommand({ db, query: "What did Tom give the bird?", topK: "10", filter: '{"kind":"odd"}' });
    assert.deepEqual(odd.map((h) => h.id).sort(), ["s1", "s3", "s5"]);
  });

  it("refuses an index with another model, repeated ids in the input, and a search of an empty store", async () => {
    const db = path.join(tmp, "whole");
    const other = path.join(tmp, "other-model");
    fs.cpSync(storiesFolder(), other, { recursive: true });
    await assert.rejects(indexCommand({ ...base(), model: other, db }), (e: Error) => e.message.includes(`was built with ${storiesFolder()}`) && e.message.includes(`not ${other}`));
    const dup = path.join(tmp, "dup.jsonl");
    fs.writeFileSync(dup, `{"id":"a","text":"x"}\n{"id":"b","text":"y"}\n{"id":"a","text":"z"}\n`);
    await assert.rejects(indexCommand({ ...base(), input: dup, db: path.join(tmp, "dup") }), /dup\.jsonl:3: id "a" is already used on line 1/);
    assert.equal(fs.existsSync(path.join(tmp, "dup")), false, "nothing is created before the input is checked");
    const empty = path.join(tmp, "empty");
    (await SqliteVecStore.open(empty, { create: info(64, storiesFolder()) })).close();
    await assert.rejects(searchCommand({ db: empty, query: "hi" }), /holds no passages; add some with `llm2vec index/);
  });

  it("encode's .jsonl output keeps each input's id and metadata", async () => {
    const out = path.join(tmp, "out.jsonl");
    await encodeCommand({ model: storiesFolder(), input, output: out, progress: false });
    const rows = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { index: number; id: string; metadata: unknown });
    assert.deepEqual(rows.map((r) => [r.index, r.id, r.metadata]), STORIES.map((_, i) => [i, `s${i}`, { n: i, kind: i % 2 ? "odd" : "even" }]));
  });
});
