/** Starting the embedding server on loopback for a test file, and raw HTTP for what clients should not send. */
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createEmbeddingServer, type EmbeddingServer, type ServeOptions } from "../../src/serve/app.js";
import { storiesFolder } from "../helpers/stories.js";

export interface TestServer extends EmbeddingServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The stories260K server on 127.0.0.1 (a free port), its model loaded. */
export async function startServer(opts: Partial<ServeOptions> = {}): Promise<TestServer> {
  const server = createEmbeddingServer({ model: storiesFolder(), modelName: "stories260K", ...opts });
  await server.app.listen({ host: "127.0.0.1", port: 0 });
  await server.engine.ready;
  const port = (server.app.server.address() as net.AddressInfo).port;
  return { ...server, port, url: `http://127.0.0.1:${port}`, close: () => server.app.close() };
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** The exit code, once it exits. */
  exited: Promise<number | null>;
  /** Its stderr so far. */
  stderr(): string;
}

/** `llm2vec serve` on stories260K in a child process (a free port), resolved once it says ready. */
export async function spawnServe(args: string[] = []): Promise<ServeProcess> {
  const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.js");
  const child = spawn(process.execPath, [main, "serve", "--model", storiesFolder(), "--port", "0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      err += c.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*ready/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`serve exited (${code}) early: ${err}`)));
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, port, exited, stderr: () => err };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request written byte for byte on a fresh socket; resolves with the parsed reply once the server closes it. */
export function rawRequest(port: number, head: string, body: Buffer | string = ""): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", reject);
    sock.on("close", () => resolve(parseResponse(Buffer.concat(chunks).toString("utf8"))));
    sock.write(head.replace(/\n/g, "\r\n") + "\r\n");
    // No end(): half-closing the socket reads as a client that left, and the server drops its request.
    sock.write(body);
  });
}

export function post(port: number, body: Buffer | string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const buf = typeof body === "string" ? Buffer.from(body) : body;
  const h = { "content-type": "application/json", "content-length": String(buf.length), connection: "close", ...headers };
  const head = `POST /v1/embeddings HTTP/1.1\nhost: 127.0.0.1\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n`;
  return rawRequest(port, head, buf);
}

function parseResponse(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  const [status, ...lines] = text.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers["transfer-encoding"] === "chunked") body = unchunk(body);
  return { status: Number(status?.split(" ")[1]), headers, body };
}

function unchunk(s: string): string {
  let out = "";
  for (let at = 0; ; ) {
    const nl = s.indexOf("\r\n", at);
    const n = parseInt(s.slice(at, nl), 16);
    if (!n) return out;
    out += s.slice(nl + 2, nl + 2 + n);
    at = nl + 2 + n + 2;
  }
}

/** Asserts an OpenAI-style error body and returns its error object. */
export function errorOf(r: RawResponse): { message: string; type: string; param: string | null; code: string | null } {
  const parsed = JSON.parse(r.body) as { error?: { message: string; type: string; param: string | null; code: string | null } };
  if (!parsed.error || typeof parsed.error.message !== "string" || typeof parsed.error.type !== "string" || !("param" in parsed.error) || !("code" in parsed.error))
    throw new Error(`not an OpenAI error body: ${r.body}`);
  return parsed.error;
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{") && l.split(" ")[0] === name);
  return line ? Number(line.split(" ").pop()) : NaN;
}
