/** /health, /info and /v1/embeddings before the model is loaded, and when it fails to load. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createEmbeddingServer } from "../../src/serve/app.js";
import { storiesFolder } from "../helpers/stories.js";
import { fakeCommit, startFakeHub } from "../helpers/fake-hub.js";

/**
 * A Hub endpoint that holds every request until `release()`, then passes it on to `target`: a
 * model given as a Hub id stays loading for exactly as long as the test wants.
 */
async function gatedEndpoint(target: string): Promise<{ url: string; release: () => void; close: () => Promise<void> }> {
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  const server = http.createServer(async (req, res) => {
    await open;
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host")) as Record<string, string>;
    const r = await fetch(target + req.url, { method: req.method, headers, redirect: "manual" });
    res.writeHead(r.status, Object.fromEntries(r.headers));
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, release, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("serve: readiness", () => {
  it("503 'loading' until the worker has loaded the model, then 200", async () => {
    // The model is a Hub id whose endpoint holds the download until the early requests are answered.
    const files = Object.fromEntries(fs.readdirSync(storiesFolder()).map((f) => [f, fs.readFileSync(path.join(storiesFolder(), f))]));
    const hub = await startFakeHub({ repos: { "karpathy/stories260K": { refs: { main: fakeCommit(files, ["model.safetensors"]) } } } });
    const gate = await gatedEndpoint(hub.url);
    const env = { HF_ENDPOINT: process.env.HF_ENDPOINT, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-serve-gate-"));
    Object.assign(process.env, { HF_ENDPOINT: gate.url, HF_HUB_CACHE: cache });
    delete process.env.HF_HUB_OFFLINE;
    const { app, engine } = createEmbeddingServer({ model: "karpathy/stories260K", modelName: "stories260K" });
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    try {
      const early = await app.inject({ method: "GET", url: "/health" });
      assert.equal(early.statusCode, 503);
      assert.equal(early.json().status, "loading");
      const emb = await app.inject({ method: "POST", url: "/v1/embeddings", payload: { model: "stories260K", input: "x" } });
      assert.equal(emb.statusCode, 503);
      assert.equal(emb.json().error.code, "model_loading");
      assert.equal(emb.headers["retry-after"], "1");
      gate.release();
      await engine.ready;
      assert.equal((await app.inject({ method: "GET", url: "/health" })).statusCode, 200);
      const info = (await app.inject({ method: "GET", url: "/info" })).json();
      assert.equal(info.ready, true);
      assert.equal(info.model_type.embedding.dimension, 64);
      assert.equal(info.max_client_batch_size, 2048);
    } finally {
      gate.release();
      await app.close();
      await gate.close();
      await hub.close();
      fs.rmSync(cache, { recursive: true, force: true });
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
