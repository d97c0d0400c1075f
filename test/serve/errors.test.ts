/**
 * Every way a client can get a request wrong, over raw HTTP: the right 4xx with an OpenAI-style
 * error naming the field, and the server still answers everyone afterwards.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { errorOf, metric, post, rawRequest, startServer, type TestServer } from "./helpers.js";

const ok = (input: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ model: "stories260K", input, ...extra });

async function assertServing(s: TestServer): Promise<void> {
  const r = await post(s.port, ok("still here"));
  assert.equal(r.status, 200, r.body);
  assert.equal((JSON.parse(r.body) as { data: unknown[] }).data.length, 1);
}

describe("serve: bad requests", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ limits: { maxBodyBytes: 64 * 1024, bodyTimeoutMs: 300, maxInputs: 64 } });
  });
  after(() => s.close());

  const cases: [name: string, body: string | Buffer, status: number, code: string, param: string | null, message?: RegExp][] = [
    ["malformed JSON", '{"model": "stories260K", "input": ', 400, "invalid_json", null, /parse the JSON/],
    ["a body that is not an object", "[1, 2]", 400, "invalid_type", null, /JSON object/],
    ["input of the wrong type", ok(5), 400, "invalid_type", "input", /must be a string, an array of strings/],
    ["input mixing strings and numbers", ok(["a", 5]), 400, "invalid_type", "input"],
    ["input mixing token ids and strings in one row", ok([[1, "a"]]), 400, "invalid_type", "input"],
    ["a fractional token id", ok([1, 2.5]), 400, "invalid_type", "input"],
    ["dimensions as a string", ok("x", { dimensions: "4" }), 400, "invalid_type", "dimensions", /must be an integer/],
    ["dimensions 0", ok("x", { dimensions: 0 }), 400, "invalid_value", "dimensions"],
    ["dimensions over the model's size", ok("x", { dimensions: 65 }), 400, "invalid_value", "dimensions", /over this model's embedding size 64/],
    ["an unknown encoding_format", ok("x", { encoding_format: "hex" }), 400, "invalid_type", "encoding_format", /"float" or "base64"/],
    ["model of the wrong type", JSON.stringify({ model: 3, input: "x" }), 400, "invalid_type", "model"],
    ["no model", JSON.stringify({ input: "x" }), 400, "missing_required_parameter", "model"],
    ["no input", JSON.stringify({ model: "stories260K" }), 400, "missing_required_parameter", "input"],
    ["an unknown parameter", ok("x", { dimension: 4 }), 400, "unknown_parameter", "dimension", /Unrecognized request argument supplied: dimension/],
    ["an empty input array", ok([]), 400, "invalid_type", "input"],
    ["an empty token-id row", ok([[]]), 400, "invalid_type", "input"],
    ["an empty string", ok(""), 400, "invalid_value", "input", /empty string/],
    ["an empty string in a batch", ok(["a", ""]), 400, "invalid_value", "input[1]"],
    ["an empty text in a pair", ok([["Retrieve:", ""]]), 400, "invalid_value", "input[0][1]"],
    ["a token id over the vocabulary", ok([1, 512]), 400, "invalid_token_id", "input[1]", /outside the model's vocabulary \[0, 512\)/],
    ["a negative token id", ok([[1, 2], [3, -1]]), 400, "invalid_token_id", "input[1][1]"],
    ["an instruction with token ids", ok([1, 2], { instruction: "Q:" }), 400, "invalid_value", "instruction"],
    ["too many inputs", ok(Array(65).fill("a")), 400, "too_many_inputs", "input", /at most 64/],
    ["an unknown model", JSON.stringify({ model: "gpt-4", input: "x" }), 404, "model_not_found", "model"],
    ["invalid UTF-8", Buffer.concat([Buffer.from('{"model": "stories260K", "input": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 400, "invalid_utf8", null],
  ];
  for (const [name, body, status, code, param, message] of cases)
    it(`${name}: ${status} ${code}`, async () => {
      const r = await post(s.port, body);
      assert.equal(r.status, status, r.body);
      const e = errorOf(r);
      assert.equal(e.code, code, r.body);
      assert.equal(e.param, param, r.body);
      assert.equal(e.type, "invalid_request_error");
      if (message) assert.match(e.message, message);
    });

  it("a body over the size limit: 413, whether announced by Content-Length or streamed chunked", async () => {
    const big = ok("word ".repeat(20_000));
    const r = await post(s.port, big);
    assert.equal(r.status, 413);
    assert.equal(errorOf(r).code, "request_too_large");
    const head = "POST /v1/embeddings HTTP/1.1\nhost: x\ncontent-type: application/json\ntransfer-encoding: chunked\nconnection: close\n";
    const chunk = Buffer.from(big);
    const chunked = Buffer.concat([Buffer.from(chunk.length.toString(16) + "\r\n"), chunk, Buffer.from("\r\n0\r\n\r\n")]);
    const r2 = await rawRequest(s.port, head, chunked);
    assert.equal(r2.status, 413);
    assert.equal(errorOf(r2).code, "request_too_large");
    await assertServing(s);
  });

  it("a client that never finishes its body: 408 after the body deadline, connection closed", async () => {
    const t0 = performance.now();
    const r = await rawRequest(s.port, "POST /v1/embeddings HTTP/1.1\nhost: x\ncontent-type: application/json\ncontent-length: 100\n", '{"model": "sto');
    const ms = performance.now() - t0;
    assert.equal(r.status, 408);
    assert.equal(errorOf(r).code, "body_timeout");
    assert.ok(ms >= 250 && ms < 5000, `answered after ${ms} ms (deadline 300 ms)`);
    await assertServing(s);
  });

  it("a body that is not JSON: 415", async () => {
    const r = await post(s.port, "input=x", { "content-type": "text/plain" });
    assert.equal(r.status, 415);
    assert.equal(errorOf(r).code, "unsupported_media_type");
  });

  it("an unknown route: 404 in the same shape", async () => {
    const r = await rawRequest(s.port, "GET /v1/completions HTTP/1.1\nhost: x\nconnection: close\n");
    assert.equal(r.status, 404);
    assert.equal(errorOf(r).code, "unknown_route");
  });

  it("after all of that the server serves, and /metrics counts the errors by type", async () => {
    await assertServing(s);
    const m = await rawRequest(s.port, "GET /metrics HTTP/1.1\nhost: x\nconnection: close\n");
    assert.equal(m.status, 200);
    assert.match(m.headers["content-type"] ?? "", /^text\/plain/);
    assert.ok(metric(m.body, 'llm2vec_errors_total{type="invalid_json"}') >= 1, m.body);
    assert.ok(metric(m.body, 'llm2vec_errors_total{type="request_too_large"}') >= 2);
    assert.ok(metric(m.body, 'llm2vec_errors_total{type="body_timeout"}') >= 1);
    assert.ok(metric(m.body, 'llm2vec_requests_total{route="/v1/embeddings",code="400"}') >= 20);
  });
});

describe("serve: limits under load", () => {
  it("a full queue: 429 with Retry-After; the queued request still completes", async () => {
    const s = await startServer({ limits: { maxQueue: 40, maxInputs: 40 }, batching: { maxBatchSize: 1 } });
    try {
      const first = post(s.port, ok(Array.from({ length: 40 }, (_, i) => `story number ${i} about a dog`)));
      await waitFor(() => s.engine.queueDepth > 0);
      // 40 queued, at most a few done: 20 more do not fit until half of the first request is computed.
      const r = await post(s.port, ok(Array(20).fill("one more")));
      assert.equal(r.status, 429, r.body);
      assert.equal(errorOf(r).code, "queue_full");
      assert.equal(errorOf(r).type, "rate_limit_error");
      assert.ok(Number(r.headers["retry-after"]) >= 1, `Retry-After: ${r.headers["retry-after"]}`);
      const done = await first;
      assert.equal(done.status, 200);
      assert.equal((JSON.parse(done.body) as { data: unknown[] }).data.length, 40);
      await assertServing(s);
    } finally {
      await s.close();
    }
  });

  it("a client that disconnects mid-batch: its queued inputs are dropped, not computed; others are served", async () => {
    const s = await startServer({ batching: { maxBatchSize: 1 } });
    try {
      const n = 200;
      const body = Buffer.from(ok(Array.from({ length: n }, (_, i) => `the little bird number ${i} sang a song in the tall green tree`)));
      const sock = net.connect(s.port, "127.0.0.1");
      sock.write(`POST /v1/embeddings HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      sock.write(body);
      await waitFor(() => s.engine.metrics.batches.get() >= 3);
      sock.destroy();
      await waitFor(() => s.engine.metrics.dropped.get({ reason: "client_closed" }) > 0);
      await assertServing(s);
      const computed = s.engine.metrics.inputs.get();
      assert.ok(computed < n, `${computed} inputs computed of the ${n} sent; the rest should have been dropped`);
      assert.equal(s.engine.metrics.dropped.get({ reason: "client_closed" }) + computed - 1, n, "every input was either computed or dropped");
    } finally {
      await s.close();
    }
  });

  it("the per-request deadline: 504, and the request's queued work is dropped", async () => {
    const s = await startServer({ limits: { requestTimeoutMs: 150 }, batching: { maxBatchSize: 1 } });
    try {
      const t0 = performance.now();
      const r = await post(s.port, ok(Array.from({ length: 300 }, (_, i) => `a long story ${i} about the sun and the moon and the stars`)));
      assert.equal(r.status, 504, r.body);
      assert.equal(errorOf(r).code, "timeout");
      assert.ok(performance.now() - t0 < 2000);
      // Whether the deadline fell during tokenising or in the queue, the rest of the work never ran.
      await assertServing(s);
      assert.ok(s.engine.metrics.inputs.get() < 300, `${s.engine.metrics.inputs.get()} inputs computed`);
    } finally {
      await s.close();
    }
  });

  it("--no-truncate: inputs over the length limits get 400 instead of being cut", async () => {
    const s = await startServer({ limits: { truncate: false }, load: { maxLength: 16, docMaxLength: 16 } });
    try {
      const long = await post(s.port, ok(["short one", "the dog ran ".repeat(20)]));
      assert.equal(long.status, 400);
      assert.equal(errorOf(long).code, "input_too_long");
      assert.equal(errorOf(long).param, "input[1]");
      const ids = await post(s.port, ok(Array.from({ length: 17 }, () => 5)));
      assert.equal(errorOf(ids).code, "input_too_long");
      assert.equal((await post(s.port, ok("short one"))).status, 200);
    } finally {
      await s.close();
    }
    const cut = await startServer({ load: { maxLength: 16, docMaxLength: 16 } });
    try {
      const r = await post(cut.port, ok(["the dog ran ".repeat(20), Array.from({ length: 40 }, () => 5)].slice(0, 1)));
      assert.equal(r.status, 200);
      assert.ok((JSON.parse(r.body) as { usage: { prompt_tokens: number } }).usage.prompt_tokens <= 16);
      const ids = await post(cut.port, ok(Array.from({ length: 40 }, () => 5)));
      assert.equal((JSON.parse(ids.body) as { usage: { prompt_tokens: number } }).usage.prompt_tokens, 16);
    } finally {
      await cut.close();
    }
  });
});

describe("serve: API key", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ apiKey: "sekret-123" });
  });
  after(() => s.close());

  it("401 without a key or with a wrong one; 200 with it; /health and /metrics stay open", async () => {
    const none = await post(s.port, ok("x"));
    assert.equal(none.status, 401);
    assert.equal(errorOf(none).code, "invalid_api_key");
    const wrong = await post(s.port, ok("x"), { authorization: "Bearer sekret-124" });
    assert.equal(wrong.status, 401);
    assert.match(errorOf(wrong).message, /Incorrect API key/);
    const models = await rawRequest(s.port, "GET /v1/models HTTP/1.1\nhost: x\nconnection: close\n");
    assert.equal(models.status, 401);
    const info = await rawRequest(s.port, "GET /info HTTP/1.1\nhost: x\nconnection: close\n");
    assert.equal(info.status, 401);
    assert.equal((await post(s.port, ok("x"), { authorization: "Bearer sekret-123" })).status, 200);
    assert.equal((await rawRequest(s.port, "GET /health HTTP/1.1\nhost: x\nconnection: close\n")).status, 200);
    assert.equal((await rawRequest(s.port, "GET /metrics HTTP/1.1\nhost: x\nconnection: close\n")).status, 200);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
