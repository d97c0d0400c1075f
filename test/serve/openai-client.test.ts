/**
 * The official `openai` client against the server on loopback: every input shape and output
 * option, with the vectors compared to the library's own `encode` / `encodeIds` on the same model.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { storiesFolder } from "../helpers/stories.js";
import { maxDiff, startServer, type TestServer } from "./helpers.js";

const TOL = 1e-6;

describe("serve: the openai client", () => {
  let server: TestServer;
  let client: OpenAI;
  let enc: LLM2Vec;
  before(async () => {
    server = await startServer();
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    enc = await LLM2Vec.fromPretrained(storiesFolder());
  });
  after(() => server.close());

  const normalized = (v: Float32Array) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };

  it("lists the model", async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => [m.id, m.object]), [["stories260K", "model"]]);
  });

  it("a string (the client asks for base64 by default and decodes it) equals encode(), normalised", async () => {
    const text = "Lily and her dog played in the park.";
    const r = await client.embeddings.create({ model: "stories260K", input: text });
    assert.equal(r.object, "list");
    assert.equal(r.model, "stories260K");
    assert.equal(r.data.length, 1);
    assert.equal(r.data[0]!.index, 0);
    const [want] = await enc.encode([text], { normalize: true });
    assert.ok(maxDiff(r.data[0]!.embedding, want!) < TOL, `differs by ${maxDiff(r.data[0]!.embedding, want!)}`);
    assert.equal(r.usage.prompt_tokens, enc.prepare([text])[0]!.ids.length);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens);
  });

  it("a batch of strings, as floats, in input order", async () => {
    const texts = ["Tom ran.", "The little bird ate seeds from the garden, then it flew away.", "A big red ball."];
    const r = await client.embeddings.create({ model: "stories260K", input: texts, encoding_format: "float" });
    const want = await enc.encode(texts, { normalize: true });
    assert.deepEqual(r.data.map((d) => d.index), [0, 1, 2]);
    r.data.forEach((d, i) => assert.ok(maxDiff(d.embedding, want[i]!) < TOL, `input ${i} differs by ${maxDiff(d.embedding, want[i]!)}`));
    assert.equal(r.usage.prompt_tokens, enc.prepare(texts).reduce((s, x) => s + x.ids.length, 0));
    // Distinct inputs give distinct vectors (the comparison above is not between constants).
    assert.ok(maxDiff(r.data[0]!.embedding, r.data[1]!.embedding) > 1e-3);
  });

  it("token ids: one row and several, equal to encodeIds()", async () => {
    const one = await client.embeddings.create({ model: "stories260K", input: [1, 403, 407, 261], encoding_format: "float" });
    const [w1] = await enc.encodeIds([[1, 403, 407, 261]], { normalize: true });
    assert.ok(maxDiff(one.data[0]!.embedding, w1!) < TOL);
    assert.equal(one.usage.prompt_tokens, 4);
    const rows = [[1, 5, 9], [1, 300, 301, 302, 303]];
    const many = await client.embeddings.create({ model: "stories260K", input: rows, encoding_format: "float" });
    const want = await enc.encodeIds(rows, { normalize: true });
    many.data.forEach((d, i) => assert.ok(maxDiff(d.embedding, want[i]!) < TOL));
    assert.equal(many.usage.prompt_tokens, 8);
  });

  it("base64 asked for explicitly is the float32 bytes of the same vector", async () => {
    const text = "The sun was warm.";
    const r = await client.embeddings.create({ model: "stories260K", input: text, encoding_format: "base64" });
    const b64 = r.data[0]!.embedding as unknown as string;
    assert.equal(typeof b64, "string");
    const buf = Buffer.from(b64, "base64");
    const got = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const [want] = await enc.encode([text], { normalize: true });
    assert.equal(got.length, enc.dimension);
    assert.ok(maxDiff(got, want!) < TOL);
  });

  it("dimensions: the first d values, re-normalised", async () => {
    const text = "A happy girl.";
    const r = await client.embeddings.create({ model: "stories260K", input: text, dimensions: 16, encoding_format: "float" });
    const [raw] = await enc.encode([text]);
    const want = normalized(raw!.slice(0, 16));
    assert.equal(r.data[0]!.embedding.length, 16);
    assert.ok(maxDiff(r.data[0]!.embedding, want) < TOL);
    assert.ok(Math.abs(Math.hypot(...r.data[0]!.embedding) - 1) < 1e-6);
  });

  it("instructions: [instruction, text] pairs and the `instruction` field equal encode() of pairs", async () => {
    const instruction = "Retrieve the story:";
    const texts = ["a dog in the park", "a bird in the tree"];
    const want = await enc.encode(texts.map((t) => [instruction, t] as [string, string]), { normalize: true });
    const pairs = await client.embeddings.create({
      model: "stories260K",
      input: texts.map((t) => [instruction, t]) as unknown as string[],
      encoding_format: "float",
    });
    const field = await client.embeddings.create({ model: "stories260K", input: texts, encoding_format: "float", instruction } as OpenAI.EmbeddingCreateParams);
    for (const r of [pairs, field]) r.data.forEach((d, i) => assert.ok(maxDiff(d.embedding, want[i]!) < TOL));
    const plain = await enc.encode(texts, { normalize: true });
    assert.ok(maxDiff(field.data[0]!.embedding, plain[0]!) > 1e-4, "the instruction changes the vector");
  });

  it("a request too large for one batch is split over batches and still equals encode()", async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `Story ${i}: ${"the cat sat on the mat ".repeat(1 + (i % 5))}`);
    const small = await startServer({ batching: { maxBatchSize: 8 } });
    try {
      const c = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const before = small.engine.metrics.batches.get();
      const r = await c.embeddings.create({ model: "stories260K", input: texts, encoding_format: "float" });
      assert.ok(small.engine.metrics.batches.get() - before >= 5, "40 inputs at 8 a batch take at least 5 batches");
      // Batched differently from encode's 32 a batch: equal within the library's batching tolerance.
      const want = await enc.encode(texts, { normalize: true });
      r.data.forEach((d, i) => assert.ok(maxDiff(d.embedding, want[i]!) < 1e-5, `input ${i} differs by ${maxDiff(d.embedding, want[i]!)}`));
    } finally {
      await small.close();
    }
  });

  it("maps HTTP errors to the client's error classes", async () => {
    await assert.rejects(client.embeddings.create({ model: "stories260K", input: "" }), (e: unknown) => e instanceof OpenAI.BadRequestError && /empty string/.test(e.message));
    await assert.rejects(client.embeddings.create({ model: "nope", input: "x" }), (e: unknown) => e instanceof OpenAI.NotFoundError);
  });
});
