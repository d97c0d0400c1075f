/**
 * Replays the API-key attacks against a running `llm2vec serve` started with a key (the CLI is
 * scripts/probe-security.mjs): every protected route under many spellings of its path
 * (percent-encoded characters, double slashes, case, dot segments, a query, absolute form) and
 * every method, with no key, a blank one, a wrong one and look-alikes; a large body left pending
 * after the refusal; `Expect: 100-continue` with no key and with an oversized body. Any 2xx
 * without the valid key is a failure, as is a connection left open to read a refused body or a
 * "100 Continue" sent ahead of a refusal. Requests go over raw sockets so the path reaches the
 * server byte for byte.
 */
import * as net from "node:net";

export interface ProbeOptions {
  /** http://host:port of the server. */
  baseUrl: string;
  /** The server's valid key (to build well-formed requests and read its limits). */
  apiKey: string;
  /** Per request, before it counts as hanging. */
  timeoutMs?: number;
}

export interface ProbeReport {
  /** Requests sent. */
  checked: number;
  /** One line per case that let a request through or misbehaved. */
  failures: string[];
}

/** The protected routes and a body each accepts (so a bypass would be a 200, not a 400). */
function routes(model: string): { method: string; path: string; body?: string }[] {
  return [
    { method: "POST", path: "/v1/embeddings", body: JSON.stringify({ model, input: "a dog" }) },
    { method: "POST", path: "/v1/completions", body: JSON.stringify({ model, prompt: "Once", max_tokens: 1, temperature: 0 }) },
    { method: "POST", path: "/v1/chat/completions", body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }], max_tokens: 1, temperature: 0 }) },
    { method: "GET", path: "/v1/models" },
    { method: "GET", path: "/info" },
    { method: "POST", path: "/embed", body: JSON.stringify({ inputs: "a dog" }) },
    { method: "POST", path: "/tokenize", body: JSON.stringify({ inputs: "a dog" }) },
    { method: "POST", path: "/decode", body: JSON.stringify({ ids: [1, 2] }) },
  ];
}

/** Spellings of a path that a router may take for the same route. */
export function pathSpellings(p: string, host: string): string[] {
  const hex = (c: string) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0");
  const out = new Set<string>([p]);
  for (let i = 1; i < p.length; i++) {
    if (p[i] === "/") continue;
    out.add(p.slice(0, i) + hex(p[i]!).toUpperCase() + p.slice(i + 1));
    out.add(p.slice(0, i) + hex(p[i]!) + p.slice(i + 1));
  }
  out.add("/" + [...p.slice(1)].map((c) => (c === "/" ? c : hex(c))).join(""));
  out.add(p.replace(/\//g, "%2F"));
  out.add("/" + p);
  out.add(p.replace(/\//g, "//"));
  out.add(p + "/");
  out.add(p.toUpperCase());
  out.add(p + "?x=1");
  out.add(p + "?");
  out.add(p + ";x");
  out.add(p + "#x");
  out.add("/." + p);
  out.add("/x/.." + p);
  out.add(`http://${host}${p}`);
  return [...out];
}

interface Reply {
  /** Status lines in order (a "100 Continue" before the final one). */
  statuses: number[];
  /** The server closed the connection before we sent the whole body. */
  closedEarly: boolean;
  timedOut: boolean;
}

/**
 * One request on a fresh socket; `bodyNow` is what is written at once, the rest of a declared
 * Content-Length only on "100 Continue" (when `sendOnContinue`). Resolves when the server closes
 * the connection, or after the timeout.
 */
function send(base: URL, head: string, bodyNow: string, timeoutMs: number, rest: string | null = null): Promise<Reply> {
  return new Promise((resolve) => {
    const sock = net.connect(Number(base.port || 80), base.hostname);
    let text = "";
    let sentAll = rest === null;
    let settled = false;
    const done = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ statuses: [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1])), closedEarly: !sentAll, timedOut });
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    sock.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      if (rest !== null && !sentAll && /^HTTP\/1\.1 100/m.test(text)) {
        sentAll = true;
        sock.write(rest);
      }
    });
    sock.on("error", () => done(false));
    sock.on("close", () => done(false));
    sock.write(head.replace(/\n/g, "\r\n") + "\r\n" + bodyNow);
  });
}

function headOf(method: string, target: string, host: string, headers: Record<string, string>): string {
  return `${method} ${target} HTTP/1.1\nhost: ${host}\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join("")}connection: close\n`;
}

export async function probeSecurity(o: ProbeOptions): Promise<ProbeReport> {
  const base = new URL(o.baseUrl);
  const host = base.host;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const auth = { authorization: `Bearer ${o.apiKey}` };
  const failures: string[] = [];
  let checked = 0;

  // What the server serves and accepts, asked with the key.
  const info = (await (await fetch(new URL("/info", base), { headers: auth })).json()) as { model_id?: string; limits?: { max_body_bytes?: number } };
  const model = info.model_id ?? "model";
  const maxBody = info.limits?.max_body_bytes ?? 4 * 1024 * 1024;

  const request = async (what: string, method: string, target: string, headers: Record<string, string>, body = "") => {
    checked++;
    const h = body !== "" || method === "POST" ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers } : headers;
    const r = await send(base, headOf(method, target, host, h), body, timeoutMs);
    const status = r.statuses.at(-1);
    if (status === undefined) failures.push(`${what}: ${method} ${target}: no reply${r.timedOut ? ` within ${timeoutMs} ms` : ""}`);
    else if (status >= 200 && status < 300) failures.push(`${what}: ${method} ${target}: ${status} without a valid key`);
  };

  const badKeys: [string, Record<string, string>][] = [
    ["no key", {}],
    ["empty bearer", { authorization: "Bearer " }],
    ["blank bearer", { authorization: "Bearer      " }],
    ["bare 'Bearer'", { authorization: "Bearer" }],
    ["wrong key", { authorization: "Bearer not-the-key" }],
    ["key prefix", { authorization: `Bearer ${o.apiKey.slice(0, -1)}` }],
    ["key plus a character", { authorization: `Bearer ${o.apiKey}x` }],
    ["key in another scheme", { authorization: `Basic ${o.apiKey}` }],
    ["key without a scheme", { authorization: o.apiKey }],
    ["key in x-api-key", { "x-api-key": o.apiKey }],
  ];

  for (const r of routes(model)) {
    for (const target of pathSpellings(r.path, host)) await request("encoded path, no key", r.method, target, {}, r.body);
    for (const [what, headers] of badKeys) await request(what, r.method, r.path, headers, r.body);
    for (const m of ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) if (m !== r.method) await request("other method, no key", m, r.path, {}, m === "POST" ? r.body : "");
  }

  // A refused request whose body is still coming: the server must answer and close, not read on.
  const big = 64 * 1024 * 1024;
  checked++;
  const pending = await send(base, headOf("POST", "/v1/embeddings", host, { "content-type": "application/json", "content-length": String(big) }), "{", timeoutMs, "");
  if (pending.statuses.some((s) => s >= 200 && s < 300)) failures.push("pending body, no key: a 2xx");
  if (pending.timedOut) failures.push(`pending body, no key: the connection stayed open ${timeoutMs} ms waiting for the refused body`);

  // Expect: 100-continue: the refusal comes first, with no invitation to send the body.
  const continueCases: [string, Record<string, string>, number][] = [
    ["100-continue, no key", {}, 100],
    ["100-continue, wrong key", { authorization: "Bearer not-the-key" }, 100],
    ["100-continue, body over the limit", auth, maxBody + 1],
  ];
  for (const [what, headers, length] of continueCases) {
    checked++;
    const r = await send(base, headOf("POST", "/v1/embeddings", host, { "content-type": "application/json", "content-length": String(length), expect: "100-continue", ...headers }), "", timeoutMs, "x".repeat(Math.min(length, 1024)));
    if (r.statuses[0] === 100) failures.push(`${what}: the server sent "100 Continue" before refusing (${r.statuses.join(", ")})`);
    if (r.statuses.some((s) => s >= 200 && s < 300)) failures.push(`${what}: a 2xx`);
    if (r.statuses.length === 0) failures.push(`${what}: no reply${r.timedOut ? ` within ${timeoutMs} ms` : ""}`);
  }
  return { checked, failures };
}
