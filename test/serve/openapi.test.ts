/**
 * /openapi.json validates as OpenAPI 3.1 and holds every route the server answers; it and /docs
 * are open with an API key set (like /health); /info carries TEI's keys beside ours.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createEmbeddingServer, type EmbeddingServer } from "../../src/serve/app.js";
import { storiesFolder } from "../helpers/stories.js";

describe("serve: /openapi.json and /docs", () => {
  let s: EmbeddingServer;
  let url: string;
  const routes: string[] = [];
  before(async () => {
    s = createEmbeddingServer({ model: storiesFolder(), modelName: "stories260K", apiKey: "k", generate: true });
    // The API's routes are added when the server starts, so this sees every one of them.
    s.app.addHook("onRoute", (r) => {
      if (!r.schema?.hide) for (const m of [r.method].flat()) if (m !== "HEAD") routes.push(`${m} ${r.url}`);
    });
    await s.app.listen({ host: "127.0.0.1", port: 0 });
    await s.engine.ready;
    url = `http://127.0.0.1:${(s.app.server.address() as net.AddressInfo).port}`;
  });
  after(() => s.app.close());

  it("validates as OpenAPI 3 and lists every route, protected ones with the bearer scheme", async () => {
    const r = await fetch(`${url}/openapi.json`);
    assert.equal(r.status, 200, "open without the key");
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>> };
    const res = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    assert.equal(res.valid, true, JSON.stringify(res.errors));
    assert.match(doc.openapi, /^3\./);
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    assert.ok(routes.length >= 10, routes.join(", "));
    for (const route of routes) assert.ok(listed.includes(route), `${route} missing from /openapi.json`);
    for (const route of ["POST /embed", "POST /tokenize", "POST /decode", "POST /v1/embeddings"]) assert.ok(routes.includes(route), route);
    assert.ok(doc.paths["/embed"]!.post!.requestBody, "request bodies come from the schemas");
    assert.deepEqual(doc.paths["/embed"]!.post!.security, [{ bearer: [] }]);
    assert.equal(doc.paths["/health"]!.get!.security, undefined);
  });

  it("/docs is a page that links the JSON and names the routes, open without the key", async () => {
    const r = await fetch(`${url}/docs`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/html/);
    const html = await r.text();
    assert.match(html, /href="openapi\.json"/);
    assert.match(html, /POST \/tokenize/);
    assert.equal((await fetch(`${url}/info`)).status, 401, "the API's routes still need the key");
  });

  it("/info carries TEI's keys beside ours", async () => {
    const info = (await (await fetch(`${url}/info`, { headers: { authorization: "Bearer k" } })).json()) as Record<string, unknown>;
    for (const k of ["model_id", "model_sha", "model_dtype", "model_type", "max_concurrent_requests", "max_input_length", "max_batch_tokens", "max_batch_requests", "max_client_batch_size", "auto_truncate", "tokenization_workers", "version", "sha", "docker_label"])
      assert.ok(k in info, `/info lacks TEI's ${k}`);
    assert.deepEqual(info.prompt_names, []);
  });
});
