/**
 * The API key (issue 21): checked on the matched route so no spelling of a path gets past it,
 * refused when blank, compared in constant time; refused bodies are not read on; `Expect:
 * 100-continue` gets the refusal before any go-ahead. The probe (scripts/probe-security.mjs)
 * replays the attacks against a protected server and fails against an unprotected one.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { serveCommand } from "../../src/cli/commands/serve.js";
import { createEmbeddingServer } from "../../src/serve/app.js";
import { probeSecurity } from "../helpers/security-probe.js";
import { storiesFolder } from "../helpers/stories.js";
import { errorOf, rawRequest, startServer, type TestServer } from "./helpers.js";

const KEY = "sekret-123";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const embedBody = JSON.stringify({ model: "stories260K", input: "a dog" });

describe("serve: the API key on every spelling of a path", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ apiKey: KEY, generate: true });
  });
  after(() => s.close());

  it("percent-encoded paths of protected routes get 401 without the key, 200 with it", async () => {
    for (const [method, target] of [["POST", "/%761/embeddings"], ["POST", "/%76%31/embeddings"], ["GET", "/%761/models"], ["GET", "/%69nfo"], ["GET", "/v1/model%73"]] as const) {
      const body = method === "POST" ? embedBody : "";
      const head = (auth: string) => `${method} ${target} HTTP/1.1\nhost: x\nconnection: close\n${auth}${body ? `content-type: application/json\ncontent-length: ${body.length}\n` : ""}`;
      const none = await rawRequest(s.port, head(""), body);
      assert.equal(none.status, 401, `${method} ${target} without a key: ${none.status} ${none.body}`);
      assert.equal(errorOf(none).code, "invalid_api_key");
      const ok = await rawRequest(s.port, head(`authorization: Bearer ${KEY}\n`), body);
      assert.equal(ok.status, 200, `${method} ${target} with the key: ${ok.body}`);
    }
  });

  it("unknown routes: 401 without the key, 404 with it; /health stays open under any spelling", async () => {
    assert.equal((await rawRequest(s.port, "GET /v2/nothing HTTP/1.1\nhost: x\nconnection: close\n")).status, 401);
    assert.equal((await rawRequest(s.port, `GET /v2/nothing HTTP/1.1\nhost: x\nconnection: close\nauthorization: Bearer ${KEY}\n`)).status, 404);
    assert.equal((await rawRequest(s.port, "GET /%68ealth HTTP/1.1\nhost: x\nconnection: close\n")).status, 200);
    assert.equal((await rawRequest(s.port, "HEAD /health HTTP/1.1\nhost: x\nconnection: close\n")).status, 200);
  });

  it("a header of only spaces is no key", async () => {
    const r = await rawRequest(s.port, `POST /v1/embeddings HTTP/1.1\nhost: x\nconnection: close\nauthorization: Bearer      \ncontent-type: application/json\ncontent-length: ${embedBody.length}\n`, embedBody);
    assert.equal(r.status, 401);
    assert.match(errorOf(r).message, /didn't provide an API key/);
  });

  it("a refused request with its body still to come is answered and its connection closed", async () => {
    const r = await rawRequest(s.port, "POST /v1/embeddings HTTP/1.1\nhost: x\ncontent-type: application/json\ncontent-length: 100000000\n", "{");
    assert.equal(r.status, 401);
    assert.equal(r.headers["connection"], "close");
  });

  it("Expect: 100-continue: 401 or 413 first, without '100 Continue'; with the key, the go-ahead and then 200", async () => {
    const first = (headers: string, body: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = net.connect(s.port, "127.0.0.1");
        let text = "";
        sock.on("data", (c: Buffer) => {
          text += c.toString();
          if (text.startsWith("HTTP/1.1 100")) sock.write(body);
        });
        sock.on("error", reject);
        sock.on("close", () => resolve(text));
        sock.write(`POST /v1/embeddings HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\nexpect: 100-continue\r\n${headers}\r\n`);
      });
    assert.match(await first(`content-length: ${embedBody.length}\r\n`, embedBody), /^HTTP\/1\.1 401/);
    assert.match(await first(`authorization: Bearer ${KEY}\r\ncontent-length: ${100 * 1024 * 1024}\r\n`, "{"), /^HTTP\/1\.1 413/);
    const ok = await first(`authorization: Bearer ${KEY}\r\ncontent-length: ${embedBody.length}\r\n`, embedBody);
    assert.match(ok, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
  });

  it("the probe finds nothing against the protected server", async () => {
    const report = await probeSecurity({ baseUrl: s.url, apiKey: KEY });
    assert.ok(report.checked > 100, `only ${report.checked} requests`);
    assert.deepEqual(report.failures, []);
  });
});

describe("serve: the probe against an unprotected server", () => {
  let open: TestServer;
  before(async () => {
    open = await startServer();
  });
  after(() => open.close());

  it("scripts/probe-security.mjs exits 1 and names the 2xx it got", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts/probe-security.mjs"), open.url, KEY], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    assert.equal(code, 1, out);
    assert.match(out, /FAIL encoded path, no key: POST \/v1\/embeddings: 200 without a valid key/);
    // TEI's routes are in the probe's list too.
    for (const route of ["/embed", "/tokenize", "/decode"]) assert.match(out, new RegExp(`FAIL [^\n]*: POST ${route}: 200 without a valid key`));
  });
});

describe("serve: blank API keys are refused", () => {
  it("the library option", () => {
    for (const k of ["", "   ", "\t"]) assert.throws(() => createEmbeddingServer({ model: storiesFolder(), apiKey: k }), /apiKey is empty/);
    assert.throws(() => createEmbeddingServer({ model: storiesFolder(), apiKey: " key " }), /apiKey has spaces around it/);
  });

  it("--api-key '' and LLM2VEC_API_KEY= (set but empty)", async () => {
    await assert.rejects(serveCommand({ model: storiesFolder(), host: "127.0.0.1", port: "0", apiKey: "" }, () => {}), /--api-key is empty/);
    const saved = process.env.LLM2VEC_API_KEY;
    process.env.LLM2VEC_API_KEY = " ";
    try {
      await assert.rejects(serveCommand({ model: storiesFolder(), host: "127.0.0.1", port: "0" }, () => {}), /LLM2VEC_API_KEY is empty/);
    } finally {
      if (saved === undefined) delete process.env.LLM2VEC_API_KEY;
      else process.env.LLM2VEC_API_KEY = saved;
    }
  });

  it("a warning when listening beyond loopback with no key, none on loopback", async () => {
    for (const [host, warned] of [["0.0.0.0", true], ["127.0.0.1", false]] as const) {
      const lines: string[] = [];
      const server = await serveCommand({ model: storiesFolder(), host, port: "0" }, (l) => lines.push(l));
      try {
        assert.equal(lines.some((l) => /warning: listening on .* with no API key/.test(l)), warned, lines.join("\n"));
      } finally {
        await server.engine.ready.catch(() => {});
        await server.app.close();
      }
    }
  });
});
