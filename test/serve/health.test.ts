/** /health, /info and /v1/embeddings before the model is loaded, and when it fails to load. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createEmbeddingServer } from "../../src/serve/app.js";
import { storiesFolder } from "../helpers/stories.js";

describe("serve: readiness", () => {
  it("503 'loading' until the worker has loaded the model, then 200", async () => {
    const { app, engine } = createEmbeddingServer({ model: storiesFolder() });
    try {
      // Starting a worker and loading a model takes tens of milliseconds; inject answers at once.
      const early = await app.inject({ method: "GET", url: "/health" });
      assert.equal(early.statusCode, 503);
      assert.equal(early.json().status, "loading");
      const emb = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "stories260K", input: "x" } });
      assert.equal(emb.statusCode, 503);
      assert.equal(emb.json().error.code, "model_loading");
      assert.equal(emb.headers["retry-after"], "1");
      await engine.ready;
      assert.equal((await app.inject({ method: "GET", url: "/health" })).statusCode, 200);
      const info = (await app.inject({ method: "GET", url: "/info" })).json();
      assert.equal(info.ready, true);
      assert.equal(info.model_type.embedding.dimension, 64);
      assert.equal(info.max_client_batch_size, 2048);
    } finally {
      await app.close();
    }
  });

  it("a model that fails to load: /health 503 'failed' with the reason, requests 503", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-serve-bad-"));
    fs.writeFileSync(path.join(dir, "config.json"), '{"model_type": "llama"');
    const { app, engine } = createEmbeddingServer({ model: dir, modelName: "bad" });
    try {
      await assert.rejects(engine.ready);
      const h = await app.inject({ method: "GET", url: "/health" });
      assert.equal(h.statusCode, 503);
      assert.equal(h.json().status, "failed");
      assert.match(h.json().error, /config\.json/);
      const emb = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "bad", input: "x" } });
      assert.equal(emb.statusCode, 503);
      assert.equal(emb.json().error.code, "model_unavailable");
    } finally {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
