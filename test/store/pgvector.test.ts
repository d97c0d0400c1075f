/**
 * The pgvector adapter against a real PostgreSQL + pgvector on loopback (PGlite over the wire
 * protocol, test/helpers/pglite-server.ts): the same behaviours as the embedded store (exact search
 * and filters, the model record, duplicate ids, an empty store, a killed `index` resumed), and
 * selecting it with a postgres:// --db.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { importPeer, parsePostgresUrl, PgVectorStore } from "../../src/store/pgvector.js";
import { openVectorStore } from "../../src/store/open.js";
import { SqliteVecStore } from "../../src/store/sqlite-vec.js";
import type { StoreInfo } from "../../src/store/types.js";
import { indexCommand } from "../../src/cli/commands/index.js";
import { searchCommand } from "../../src/cli/commands/search.js";
import { startPgliteServer, type PgliteServer } from "../helpers/pglite-server.js";
import { STORIES, storiesFolder, writeStoriesJsonl } from "../helpers/stories.js";
import { unitVectors } from "../helpers/rng.js";

const info = (dimension: number, model = "m"): StoreInfo => ({ model, dimension, queryInstruction: "Retrieve:", load: { model } });

describe("store: pgvector adapter", () => {
  let server: PgliteServer;
  const at = (table: string) => `${server.url}?table=${table}`;
  before(async () => {
    server = await startPgliteServer();
  });
  after(async () => server.stop());

  it("search equals brute-force cosine; filters (boolean, number, null) are exact; text and metadata come back", async () => {
    const store = await PgVectorStore.open(at("exact"), { create: info(16) });
    const vecs = unitVectors(200, 16, 1);
    const ids = vecs.map((_, i) => `p${i}`);
    const meta = ids.map((_, i) => ({ even: i % 2 === 0, n: i % 7, ...(i % 3 ? { tag: "x" } : {}) }));
    for (let i = 0; i < 200; i += 64) await store.add(ids.slice(i, i + 64), vecs.slice(i, i + 64), ids.slice(i, i + 64).map((id) => `text of ${id}`), meta.slice(i, i + 64));
    assert.equal(await store.count(), 200);
    const [q] = unitVectors(1, 16, 2);
    const cos = (v: Float32Array) => v.reduce((s, x, k) => s + x * q![k]!, 0);
    const brute = (keep: (i: number) => boolean) => ids.map((id, i) => ({ id, s: cos(vecs[i]!) })).filter((_, i) => keep(i)).sort((a, b) => b.s - a.s).slice(0, 5);
    const hits = await store.search(q!, 5);
    assert.deepEqual(hits.map((h) => h.id), brute(() => true).map((b) => b.id));
    hits.forEach((h, i) => assert.ok(Math.abs(h.score - brute(() => true)[i]!.s) < 1e-5));
    assert.deepEqual([hits[0]!.text, hits[0]!.metadata], [`text of ${hits[0]!.id}`, meta[Number(hits[0]!.id.slice(1))]]);
    const odd = await store.search(q!, 5, { even: false, n: 3 });
    assert.deepEqual(odd.map((h) => h.id), brute((i) => i % 2 === 1 && i % 7 === 3).map((b) => b.id));
    const untagged = await store.search(q!, 100, { tag: null });
    assert.deepEqual(untagged.map((h) => h.id).sort(), ids.filter((_, i) => i % 3 === 0).sort());
    assert.deepEqual(await store.search(q!, 5, { even: "yes" }), []);
    await assert.rejects(store.search(q!, 5, { n: [1] as unknown as number }), /filter "n" must be a string, number, boolean or null/);
    await store.close();
  });

  it("records the model; refuses another model or dimension (naming both), repeated or stored ids, a vector of the wrong size", async () => {
    const db = at("refuse");
    const store = await PgVectorStore.open(db, { create: info(8, "model-A") });
    const [v] = unitVectors(1, 8, 3);
    await store.add(["a"], [v!], ["x"]);
    await assert.rejects(store.add(["b", "a"], [v!, v!], ["y", "x"]), /id "a" is already in postgres:\/\/.*\?table=refuse/);
    await assert.rejects(store.add(["b", "b"], [v!, v!], ["x", "y"]), /id "b" appears twice \(ids\[0\] and ids\[1\]\)/);
    await assert.rejects(store.add(["c"], [new Float32Array(4)], ["x"]), /vector 0 \(id "c"\) has dimension 4; .* holds 8 \(model-A\)/);
    assert.equal(await store.count(), 1, "a refused batch stores nothing");
    await store.close();
    const again = await PgVectorStore.open(db, { readOnly: true });
    assert.deepEqual(again.info, info(8, "model-A"));
    await assert.rejects(again.add(["d"], [v!], ["x"]), /store add: .*table=refuse was opened read-only/);
    await again.close();
    await assert.rejects(PgVectorStore.open(db, { create: info(8, "model-B") }), /table=refuse: was built with model-A \(dimension 8\), not model-B \(dimension 8\)/);
    await assert.rejects(PgVectorStore.open(db, { create: info(16, "model-A") }), /was built with model-A \(dimension 8\), not model-A \(dimension 16\)/);
  });

  it("an empty store answers []; a missing or foreign store, a bad URL, an unreachable server and a missing pg are refused by name", async () => {
    const empty = await PgVectorStore.open(at("empty"), { create: info(4) });
    assert.deepEqual(await empty.search(new Float32Array([1, 0, 0, 0]), 3), []);
    await empty.close();
    await assert.rejects(PgVectorStore.open(at("none")), /table=none: no vector store here \(no table none_meta\)/);
    const raw = await PgVectorStore.open(at("foreign"), { create: info(4) });
    await (raw as unknown as { client: { query(q: string): Promise<unknown> } }).client.query(`UPDATE "foreign_meta" SET value = 'other/2' WHERE key = 'format'`);
    await raw.close();
    await assert.rejects(PgVectorStore.open(at("foreign")), /table=foreign: not an llm2vec store \(format "other\/2", expected llm2vec-store\/1\)/);
    await assert.rejects(PgVectorStore.open(at("Bad-Name")), /table "Bad-Name" must be lowercase letters, digits and _/);
    await assert.rejects(PgVectorStore.open("postgres://u:secret@127.0.0.1:1/db"), (e: Error) => /^postgres:\/\/u@127\.0\.0\.1:1\/db\?table=llm2vec: cannot connect/.test(e.message) && !e.message.includes("secret"));
    await assert.rejects(importPeer("pg-not-installed-here", "a postgres:// store"), /a postgres:\/\/ store needs the "pg-not-installed-here" package, an optional peer dependency of llm2vec: npm install pg-not-installed-here/);
    assert.deepEqual(parsePostgresUrl("postgresql://u:pw@h:5433/d?sslmode=disable&table=t1"), { connectionString: "postgresql://u:pw@h:5433/d?sslmode=disable", table: "t1", location: "postgresql://u@h:5433/d?sslmode=disable&table=t1" });
  });

  describe("llm2vec index and search with --db postgres://…", () => {
    let tmp: string;
    let input: string;
    const instruction = "Given a question, retrieve the story that answers it:";
    before(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-pgindex-"));
      input = path.join(tmp, "docs.jsonl");
      writeStoriesJsonl(input);
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const base = () => ({ model: storiesFolder(), input, progress: false, queryInstruction: instruction });

    it("a killed run, resumed, stores every passage once; search answers as the embedded store does", async () => {
      const db = at("stories");
      await assert.rejects(
        indexCommand({ ...base(), db, batchSize: "2", onBatch: (n) => {
          if (n >= 4) throw new Error("killed");
        } }),
        /killed/,
      );
      const mid = await openVectorStore(db);
      assert.ok(mid instanceof PgVectorStore);
      assert.equal(await mid.count(), 4);
      await mid.close();
      const r = await indexCommand({ ...base(), db, batchSize: "3" });
      assert.deepEqual([r.added, r.skipped, r.total], [3, 4, 7]);
      const folder = path.join(tmp, "sqlite");
      await indexCommand({ ...base(), db: folder });
      const query = "What did Tom give the bird?";
      const pgHits = await searchCommand({ db, query, topK: "7" });
      const sqHits = await searchCommand({ db: folder, query, topK: "7" });
      assert.deepEqual(pgHits.map((h) => h.id).sort(), STORIES.map((_, i) => `s${i}`).sort(), "no passage twice, none missing");
      assert.deepEqual(pgHits.map((h) => [h.id, h.text, h.metadata]), sqHits.map((h) => [h.id, h.text, h.metadata]));
      pgHits.forEach((h, i) => assert.ok(Math.abs(h.score - sqHits[i]!.score) < 1e-5));
      const odd = await searchCommand({ db, query, topK: "10", filter: '{"kind":"odd"}' });
      assert.deepEqual(odd.map((h) => h.id).sort(), ["s1", "s3", "s5"]);
    });

    it("refuses an index with another model naming both, and a search of an empty store", async () => {
      const other = path.join(tmp, "other-model");
      fs.cpSync(storiesFolder(), other, { recursive: true });
      await assert.rejects(indexCommand({ ...base(), model: other, db: at("stories") }), (e: Error) => e.message.includes(`was built with ${storiesFolder()}`) && e.message.includes(`not ${other}`));
      await (await PgVectorStore.open(at("nothing"), { create: info(64, storiesFolder()) })).close();
      await assert.rejects(searchCommand({ db: at("nothing"), query: "hi" }), /table=nothing holds no passages; add some with `llm2vec index/);
      assert.ok((await SqliteVecStore.open(path.join(tmp, "sqlite"))).location.endsWith("store.sqlite"));
    });
  });
});
