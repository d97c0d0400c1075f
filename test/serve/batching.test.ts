/**
 * The batcher on its own (a fake model that records each batch), then the server under concurrent
 * load: requests share batches, /health answers while a batch computes, SIGTERM drains and exits 0.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Batcher } from "../../src/runtime/batcher.js";
import type { BatchResult } from "../../src/runtime/compute.js";
import { ApiError, batchApiError } from "../../src/serve/errors.js";
import { ServerMetrics } from "../../src/serve/metrics.js";
import type { PreparedRow } from "../../src/encoder/prepare.js";
import { post, spawnServe, startServer } from "./helpers.js";

const row = (len: number, tag = len): PreparedRow => ({ ids: new Int32Array(len).fill(tag), textTokens: len });

/** A model that takes `ms` per batch and returns each row's first id as its vector. */
function fakeModel(ms = 5) {
  const batches: number[][] = [];
  const run = async (rows: PreparedRow[]): Promise<BatchResult> => {
    batches.push(rows.map((r) => r.ids.length));
    await new Promise((r) => setTimeout(r, ms));
    return { vectors: rows.map((r) => Float32Array.of(r.ids[0]!)), faults: [], computeMs: ms };
  };
  return { run, batches };
}

const metrics = () => new ServerMetrics({ queueDepth: () => 0, queueTokens: () => 0, ready: () => true });

describe("serve: batcher", () => {
  it("packs concurrent requests into batches of real tokens in arrival order, longest first inside, results in order", async () => {
    const m = fakeModel();
    const b = new Batcher(m.run, { maxBatchTokens: 25, maxBatchSize: 8, windowMs: 20, maxWindowMs: 20, quietMs: 0, maxQueue: 100 }, metrics());
    b.arriving = 1; // as when requests are still tokenising: the first does not leave alone
    const results = await Promise.all([b.submit([row(10), row(3)]), b.submit([row(2), row(9)]), b.submit([row(10, 7)]), b.submit([row(40, 4)])]);
    b.arriving = 0;
    assert.deepEqual(results.map((r) => r.map((v) => v[0])), [[10, 3], [2, 9], [7], [4]]);
    // Arrival order while the tokens fit 25: 10 + 3 + 2 + 9 = 24 (the next 10 would make 34);
    // then 10 (10 + 40 > 25); a row over the whole budget still runs, alone.
    assert.deepEqual(m.batches, [[10, 9, 3, 2], [10], [40]]);
  });

  it("a lone client's request runs at once; with company on its way a partial batch waits at most the window", async () => {
    // A window of 1.5 s keeps "at once" (under half of it) and "waited for it" apart even on a
    // loaded machine, where a timer can fire tens of milliseconds late.
    const window = 1500;
    const m = fakeModel(0);
    const b = new Batcher(m.run, { maxBatchTokens: 1000, maxBatchSize: 64, windowMs: window, maxWindowMs: window, quietMs: 0, maxQueue: 100 }, metrics());
    let t0 = performance.now();
    await b.submit([row(4)]);
    assert.ok(performance.now() - t0 < window / 2, `a lone request waited ${performance.now() - t0} ms`);
    b.arriving = 1; // another request is tokenising: worth waiting for, up to the window
    t0 = performance.now();
    await b.submit([row(4)]);
    const ms = performance.now() - t0;
    assert.ok(ms >= window - 5 && ms < window * 4, `waited ${ms} ms for a ${window} ms window`);
    t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, () => b.submit([row(4)])));
    assert.ok(performance.now() - t0 < window / 2, "a full batch does not wait for the window");
    b.arriving = 0;
  });

  it("while rows keep arriving the window stays open past windowMs, up to maxWindowMs; a pause closes it", async () => {
    const m = fakeModel(0);
    const b = new Batcher(m.run, { maxBatchTokens: 1000, maxBatchSize: 64, windowMs: 100, maxWindowMs: 4000, quietMs: 400, maxQueue: 1000 }, metrics());
    b.arriving = 1; // company expected: the first request does not run alone
    // A request every 150 ms for 1.5 s: every gap is under quietMs, so they all wait for one batch.
    // (Times are ten times what the batcher needs, so that a loaded machine's late timers stay inside them.)
    const t0 = performance.now();
    const pending: Promise<Float32Array[]>[] = [];
    for (let i = 0; i < 10; i++) {
      pending.push(b.submit([row(i + 1)]));
      await new Promise((r) => setTimeout(r, 150));
    }
    b.arriving = 0;
    const results = await Promise.all(pending);
    const ms = performance.now() - t0;
    assert.deepEqual(results.map((r) => r[0]![0]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "each request gets its own row back");
    assert.deepEqual(m.batches, [[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]], `one batch, longest first (got ${JSON.stringify(m.batches)})`);
    assert.ok(ms < 3900, `the batch ran ${ms.toFixed(0)} ms after the first request: a pause of quietMs must close the window before maxWindowMs`);
  });

  it("a steady stream cannot hold a batch back beyond maxWindowMs", async () => {
    const m = fakeModel(0);
    const b = new Batcher(m.run, { maxBatchTokens: 100000, maxBatchSize: 1000, windowMs: 50, maxWindowMs: 600, quietMs: 500, maxQueue: 10000 }, metrics());
    b.arriving = 1;
    const t0 = performance.now();
    const first = b.submit([row(3)]).then(() => performance.now() - t0);
    const stream: Promise<Float32Array[]>[] = [];
    while (performance.now() - t0 < 3000) {
      stream.push(b.submit([row(2)]));
      await new Promise((r) => setTimeout(r, 5));
    }
    b.arriving = 0;
    const firstMs = await first;
    await Promise.all(stream);
    assert.ok(firstMs >= 595 && firstMs < 2000, `the first request waited ${firstMs.toFixed(0)} ms with maxWindowMs 600`);
    assert.ok(m.batches.length >= 3, `a 3 s stream ran as ${m.batches.length} batches`);
    assert.equal(m.batches.flat().length, stream.length + 1, "every row ran exactly once");
  });

  it("while a batch computes, the next is sent ahead shortly before it ends, holding what came meanwhile", async () => {
    // Like the real worker: one batch at a time, in order; calls and ends recorded. Each reports
    // 30 ms but takes 40: the send-ahead timer (due 1.5 ms before the predicted end) and the
    // batch's own end are then 11.5 ms apart, more than timers drift on a loaded machine (1.5 ms
    // apart, they were once seen to fire in the other order).
    const calls: { rows: number; at: number }[] = [];
    const ends: number[] = [];
    let tail = Promise.resolve();
    const run = (rows: PreparedRow[]): Promise<BatchResult> => {
      calls.push({ rows: rows.length, at: performance.now() });
      const done = tail.then(async () => {
        await new Promise((r) => setTimeout(r, 40));
        ends.push(performance.now());
        return { vectors: rows.map((r) => Float32Array.of(r.ids[0]!)), faults: [], computeMs: 30 };
      });
      tail = done.then(() => {});
      return done;
    };
    const b = new Batcher(run, { maxBatchTokens: 1000, maxBatchSize: 64, windowMs: 0, maxWindowMs: 0, quietMs: 0, maxQueue: 100 }, metrics());
    await b.submit([row(4)]); // a first batch gives the time-per-token estimate
    const first = b.submit([row(4)]);
    await new Promise((r) => setTimeout(r, 3));
    const later = [b.submit([row(2)]), b.submit([row(2)])];
    await new Promise((r) => setTimeout(r, 5));
    const last = b.submit([row(4)]);
    await Promise.all([first, ...later, last]);
    assert.deepEqual(calls.map((c) => c.rows), [1, 1, 3], "the three rows that came while the second batch computed went as one");
    // Sent before the computing batch ended (so the worker never waited), not at once.
    assert.ok(calls[2]!.at < ends[1]!, `the third batch was sent ${(calls[2]!.at - ends[1]!).toFixed(1)} ms after the second ended`);
    assert.ok(calls[2]!.at - calls[1]!.at > 10, `the third batch was sent ${(calls[2]!.at - calls[1]!.at).toFixed(1)} ms after the second started`);
  });

  it("rows that waited through a batch that ended early go at once, not after the window", async () => {
    // The first batch takes 40 ms (the estimate), the second 2 ms: it ends long before the batch
    // sent ahead would have been closed, and the rows queued meanwhile must not wait the window.
    const durations = [40, 2, 2];
    const calls: number[] = [];
    const ends: number[] = [];
    let tail = Promise.resolve();
    const run = (rows: PreparedRow[]): Promise<BatchResult> => {
      calls.push(performance.now());
      const ms = durations[calls.length - 1] ?? 2;
      const done = tail.then(async () => {
        await new Promise((r) => setTimeout(r, ms));
        ends.push(performance.now());
        return { vectors: rows.map((r) => Float32Array.of(r.ids[0]!)), faults: [], computeMs: ms };
      });
      tail = done.then(() => {});
      return done;
    };
    const b = new Batcher(run, { maxBatchTokens: 1000, maxBatchSize: 64, windowMs: 80, maxWindowMs: 80, quietMs: 0, maxQueue: 100 }, metrics());
    await b.submit([row(4)]); // a lone client: runs at once, and gives the 10 ms/token estimate
    const second = b.submit([row(4)]);
    const queued = [b.submit([row(2)]), b.submit([row(2)])]; // two requests: company, so a window would apply
    await Promise.all([second, ...queued]);
    assert.equal(calls.length, 3);
    assert.ok(calls[2]! - ends[1]! < 40, `the rows queued during the second batch went ${(calls[2]! - ends[1]!).toFixed(1)} ms after it ended (the window is 80 ms)`);
  });

  it("an aborted request's queued rows are dropped before they compute", async () => {
    const m = fakeModel(20);
    const b = new Batcher(m.run, { maxBatchTokens: 1000, maxBatchSize: 1, windowMs: 0, maxWindowMs: 0, quietMs: 0, maxQueue: 100 }, metrics());
    const ac = new AbortController();
    const doomed = b.submit([row(1), row(2), row(3), row(4)], ac.signal);
    setTimeout(() => ac.abort(new ApiError(499, "client_closed", "gone")), 5);
    await assert.rejects(doomed, (e: unknown) => e instanceof ApiError && e.code === "client_closed");
    assert.deepEqual(await b.submit([row(5)]), [Float32Array.of(5)]);
    assert.deepEqual(m.batches, [[1], [5]], "rows 2–4 never ran");
  });

  it("refuses beyond the queue limit with 429 and Retry-After", async () => {
    const m = fakeModel(10);
    const b = new Batcher(m.run, { maxBatchTokens: 1000, maxBatchSize: 2, windowMs: 0, maxWindowMs: 0, quietMs: 0, maxQueue: 4 }, metrics(), batchApiError);
    const first = b.submit([row(1), row(1), row(1)]);
    assert.throws(() => b.submit([row(1), row(1)]), (e: unknown) => e instanceof ApiError && e.statusCode === 429 && Number(e.headers["retry-after"]) >= 1);
    await first;
    await b.submit([row(1), row(1)]);
  });
});

describe("serve: under concurrent load", () => {
  it("concurrent requests share batches; /health answers while the model computes", async () => {
    const s = await startServer({ batching: { windowMs: 5 } });
    try {
      const texts = Array.from({ length: 24 }, (_, i) => `the girl ${i} ran to the big tree and saw a bird`);
      const before = s.engine.metrics.batches.get();
      const replies = await Promise.all(texts.map((t) => post(s.port, JSON.stringify({ model: "stories260K", input: t }))));
      assert.ok(replies.every((r) => r.status === 200));
      const batches = s.engine.metrics.batches.get() - before;
      assert.ok(batches < texts.length / 2, `${texts.length} concurrent requests took ${batches} batches`);

      // One request large enough to keep the worker busy for a while; /health must not wait for it.
      const big = post(s.port, JSON.stringify({ model: "stories260K", input: Array.from({ length: 256 }, (_, i) => `story ${i}: ` + "the cat sat on the mat and looked at the sun. ".repeat(8)) }));
      const computing = s.engine.metrics.batches.get();
      while (s.engine.metrics.batches.get() === computing) await new Promise((r) => setTimeout(r, 2));
      const lat: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const r = await fetch(`${s.url}/health`);
        lat.push(performance.now() - t0);
        assert.equal(r.status, 200);
      }
      assert.equal((await big).status, 200);
      lat.sort((a, b) => a - b);
      assert.ok(lat[5]! < 100, `/health median ${lat[5]} ms while batches computed`);
    } finally {
      await s.close();
    }
  });

  it("llm2vec serve: SIGTERM finishes the queued request, answers it, exits 0", async () => {
    const { child, port, exited, stderr } = await spawnServe(["--max-batch-size", "4"]);
    const reply = post(port, JSON.stringify({ model: "stories260K", input: Array.from({ length: 64 }, (_, i) => `a story ${i} about a dog and a cat`) }));
    await new Promise((r) => setTimeout(r, 30));
    child.kill("SIGTERM");
    const r = await reply;
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as { data: unknown[] }).data.length, 64);
    assert.equal(await exited, 0, stderr());
    assert.match(stderr(), /SIGTERM: finishing queued requests/);
  });
});
