/**
 * LLM2Vec.fromPretrained(dir, { worker: true }): the model runs in a worker thread, so an encode
 * leaves the event loop free (a 10 ms timer measured against the in-thread encoder, which holds
 * it for whole batches); the embeddings are the in-thread encoder's; concurrent callers share
 * batches; queries, documents and generation give the in-thread model's results; a worker that
 * dies fails its call clearly and the next call starts a new one.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { WorkerLLM2Vec } from "../../src/encoder/worker-llm2vec.js";
import type { ModelWorker } from "../../src/runtime/compute.js";
import { relErr } from "../helpers/compare.js";
import { storiesFolder } from "../helpers/stories.js";

const WORDS = "the girl ran to the big tree and saw a bird that sang a happy song for her mom".split(" ");
/** Texts of 40–99 words: 512 of them take stories260K a few seconds. */
const texts = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: 40 + (i % 60) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(" "));

/** The most a 10 ms interval timer fires late while `work` runs. */
async function maxLag<T>(work: () => Promise<T>): Promise<{ value: T; lagMs: number; ms: number }> {
  let last = performance.now();
  let lagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 10);
    last = now;
  }, 10);
  const t0 = performance.now();
  try {
    const value = await work();
    const ms = performance.now() - t0;
    // A stall that ends with the work shows at the next tick.
    await new Promise((r) => setTimeout(r, 15));
    return { value, lagMs, ms };
  } finally {
    clearInterval(timer);
  }
}

function assertSameRows(got: Float32Array[], want: Float32Array[], what: string): void {
  assert.equal(got.length, want.length, what);
  // Packed batches (the worker) and left-padded ones (in-thread) sum in different orders.
  got.forEach((v, i) => assert.ok(relErr(v, want[i]!) <= 1e-5, `${what}: row ${i} differs by ${relErr(v, want[i]!)}`));
}

/** The worker handle inside a WorkerLLM2Vec, to kill it as a crash would. */
const modelWorker = (m: WorkerLLM2Vec) => Reflect.get(m, "worker") as ModelWorker;

describe("encoder: worker mode", () => {
  const dir = storiesFolder();

  it("leaves the event loop free during an encode and gives the in-thread encoder's embeddings", async (t) => {
    const input = texts(512);
    const inThread = await LLM2Vec.fromPretrained(dir, { onNote: () => {} });
    const worker = await LLM2Vec.fromPretrained(dir, { worker: true });
    try {
      assert.ok(worker instanceof WorkerLLM2Vec);
      assert.equal(worker.dimension, inThread.dimension);
      // Warm both (code compiled, buffers pooled) so that the measured calls are steady state.
      await inThread.encode(input.slice(0, 8));
      await worker.encode(input.slice(0, 8));
      const a = await maxLag(() => inThread.encode(input));
      const b = await maxLag(() => worker.encode(input));
      t.diagnostic(`512 texts: in-thread ${a.ms.toFixed(0)} ms, timer late up to ${a.lagMs.toFixed(0)} ms; worker ${b.ms.toFixed(0)} ms, timer late up to ${b.lagMs.toFixed(0)} ms`);
      // The bound is loose for a loaded machine; the in-thread encoder misses it by whole batches.
      assert.ok(a.lagMs > 200, `the in-thread encode held the loop for only ${a.lagMs.toFixed(0)} ms: this measure cannot tell the modes apart`);
      assert.ok(b.lagMs < 200, `a 10 ms timer fired ${b.lagMs.toFixed(0)} ms late during a worker-backed encode`);
      assertSameRows(b.value, a.value, "worker vs in-thread");
      const ids = inThread.prepare(input.slice(0, 5)).map((r) => [...r.ids]);
      assertSameRows(await worker.encodeIds(ids, { normalize: true }), await inThread.encodeIds(ids, { normalize: true }), "encodeIds, normalized");
      assert.deepEqual(worker.prepare(input.slice(0, 5)), inThread.prepare(input.slice(0, 5)));
    } finally {
      await worker.close();
    }
  });

  it("batches concurrent callers together", async (t) => {
    const input = texts(128);
    const calls = Array.from({ length: 8 }, (_, c) => input.slice(c * 16, c * 16 + 16));
    const inThread = await LLM2Vec.fromPretrained(dir, { onNote: () => {} });
    const worker = await LLM2Vec.fromPretrained(dir, { worker: true });
    try {
      await worker.encode(input.slice(0, 4));
      await inThread.encode(input.slice(0, 4));
      const before = worker.stats.batches;
      let t0 = performance.now();
      const got = await Promise.all(calls.map((c) => worker.encode(c)));
      const workerMs = performance.now() - t0;
      const batches = worker.stats.batches - before;
      t0 = performance.now();
      const want = await Promise.all(calls.map((c) => inThread.encode(c)));
      const inThreadMs = performance.now() - t0;
      t.diagnostic(`8 concurrent callers × 16 texts: worker ${workerMs.toFixed(0)} ms in ${batches} batches, in-thread ${inThreadMs.toFixed(0)} ms`);
      assert.ok(batches < calls.length, `the worker ran ${batches} batches for ${calls.length} calls`);
      got.forEach((g, c) => assertSameRows(g, want[c]!, `caller ${c}`));
    } finally {
      await worker.close();
    }
  });

  it("a worker that dies mid-encode fails that call clearly; the next call starts a new worker", async () => {
    const inThread = await LLM2Vec.fromPretrained(dir, { onNote: () => {} });
    const worker = await LLM2Vec.fromPretrained(dir, { worker: true });
    try {
      const ids = inThread.prepare(texts(256)).map((r) => [...r.ids]);
      const doomed = worker.encodeIds(ids);
      await new Promise((r) => setTimeout(r, 30)); // the batch is on the worker
      const dying = modelWorker(worker);
      await dying.terminate();
      await assert.rejects(doomed, /the model worker stopped while computing this call .*the next call starts a new one/);
      assertSameRows(await worker.encode(texts(3)), await inThread.encode(texts(3)), "after the restart");
      assert.notEqual(modelWorker(worker), dying, "a new worker runs");
    } finally {
      await worker.close();
    }
  });

  it("encodeQueries, encodeDocuments and a lone string give the in-thread encoder's vectors", async () => {
    const load = { queryInstruction: "Given a question, retrieve passages that answer it", onNote: () => {} };
    const inThread = await LLM2Vec.fromPretrained(dir, load);
    const worker = await LLM2Vec.fromPretrained(dir, { ...load, worker: true });
    try {
      const qs = texts(6).map((t) => t.slice(0, 60));
      assertSameRows(await worker.encodeQueries(qs), await inThread.encodeQueries(qs), "queries, the model's instruction");
      assertSameRows(await worker.encodeQueries(qs, { instruction: "Find the story", normalize: true }), await inThread.encodeQueries(qs, { instruction: "Find the story", normalize: true }), "queries, an instruction given");
      assertSameRows(await worker.encodeQueries("a bird sang"), await inThread.encodeQueries("a bird sang"), "one query");
      assertSameRows(await worker.encodeDocuments(qs), await inThread.encodeDocuments(qs), "documents");
      assertSameRows(await worker.encode("a bird sang"), await inThread.encode("a bird sang"), "a lone string");
      // The instruction conditions the query: with and without it differ, so the comparison above tells.
      assert.ok(relErr((await worker.encodeQueries(qs))[0]!, (await worker.encodeDocuments(qs))[0]!) > 1e-3);
      assert.deepEqual(worker.prompts, inThread.prompts);
      await assert.rejects(worker.encodeDocuments([1 as unknown as string]), /encodeDocuments: texts\[0\] must be a string, got number/);
    } finally {
      await worker.close();
    }
  });

  it("generate gives the in-thread model's tokens: greedy, seeded sampling, batches, chat, deltas and abort", async () => {
    const load = { chatTemplateJinja: "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:", onNote: () => {} };
    const inThread = await LLM2Vec.fromPretrained(dir, load);
    const worker = await LLM2Vec.fromPretrained(dir, { ...load, worker: true });
    try {
      // A seed even for greedy decoding: a call without one reports the seed it drew, which differs.
      const greedy = { maxTokens: 12, temperature: 0, seed: 3 };
      const g = await worker.generate("Once upon a time", greedy);
      assert.deepEqual(g, await inThread.generate("Once upon a time", greedy));
      assert.equal(g.ids.length, 12);
      assert.ok(Number.isInteger((await worker.generate("Once", { maxTokens: 1 })).seed), "an unseeded call reports its drawn seed");
      const sampled = { maxTokens: 10, temperature: 1, topK: 20, seed: 7 };
      assert.deepEqual(await worker.generateBatch(["The girl", "A big tree"], sampled), await inThread.generateBatch(["The girl", "A big tree"], sampled));
      const chat = [{ role: "user", content: "Tell me about the bird" }];
      assert.deepEqual(await worker.generate(chat, greedy), await inThread.generate(chat, greedy));
      const deltas: string[] = [];
      const streamed = await worker.generate("The bird", { ...greedy, onDelta: (d) => deltas.push(d.text) });
      assert.equal(deltas.join(""), streamed.text);
      // Aborted before the first step: every row ends at once with no text, as in-thread.
      const ac = new AbortController();
      ac.abort();
      const stopped = await worker.generate("The bird", { ...greedy, signal: ac.signal });
      assert.deepEqual(stopped, await inThread.generate("The bird", { ...greedy, signal: ac.signal }));
      assert.equal(stopped.finishReason, "stop");
      await assert.rejects(worker.generate("x", { ...greedy, adapter: "a" }), /adapter option \("a"\) needs the in-thread model/);
      await assert.rejects(worker.generate("x", { maxTokens: -1 }), /maxTokens must be an integer ≥ 0, got -1/);
    } finally {
      await worker.close();
    }
  });

  it("refuses per-call adapters and calls after close; asyncDispose closes", async () => {
    const worker = await LLM2Vec.fromPretrained(dir, { worker: true });
    await assert.rejects(worker.encode(["a"], { adapter: "x" }), /adapter option \("x"\) needs the in-thread encoder/);
    await assert.rejects(worker.encodeIds([[1, 99999]]), /input 0 holds token id 99999, outside \[0, 512\)/);
    assert.deepEqual(await worker.encode([]), []);
    await worker[Symbol.asyncDispose]();
    await assert.rejects(worker.encode(["a"]), /this model was closed/);
  });

  it("a script that never closes the model still exits", () => {
    const index = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/index.js")).href;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-worker-exit-"));
    const script = path.join(tmp, "script.mjs");
    fs.writeFileSync(script, `import { LLM2Vec } from ${JSON.stringify(index)};\nconst m = await LLM2Vec.fromPretrained(${JSON.stringify(dir)}, { worker: true });\nconsole.log((await m.encode(["a bird"]))[0].length);\nconsole.log((await m.generate("Once upon", { maxTokens: 3, temperature: 0 })).ids.length);\n`);
    const r = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 60_000 });
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "64\n3", "an encode, then a generation the script awaits");
  });
});
