/**
 * A fake Hugging Face Hub on 127.0.0.1 that answers the routes @huggingface/hub calls, with the
 * headers it reads, so the real client can be pointed at it through its endpoint option:
 *
 *   GET /api/models/{org}/{name}/revision/{rev}   model info with the commit `sha`
 *   GET /api/models/{org}/{name}/tree/{rev}       recursive listing: oid, size, lfs {oid, size}
 *   GET /{org}/{name}/resolve/{rev}/{file}        small files served with ETag = git blob sha1;
 *                                                 LFS files 302 to /cdn/{sha256} with
 *                                                 X-Linked-Etag / X-Linked-Size, as the Hub does
 *
 * Range requests get 206 + Content-Range. Errors carry the Hub's X-Error-Code (RepoNotFound,
 * RevisionNotFound, EntryNotFound, GatedRepo) and status (401 without a token, 403 or 404 with
 * one). Hooks drop the connection after some bytes or corrupt a body. Every request is recorded.
 * The server holds no reference on the event loop and closes itself after `lifetimeMs`.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";

export interface FakeFile {
  data: Uint8Array;
  /** Stored in LFS: listed with an `lfs` block and served through the CDN redirect. */
  lfs: boolean;
  oid: string;
  sha256: string;
}

export interface FakeCommit {
  sha: string;
  files: Map<string, FakeFile>;
}

export interface FakeRepo {
  /** Branch and tag names to commits. */
  refs: Record<string, FakeCommit>;
  /** Requests need `Authorization: Bearer <FakeHubOptions.token>`. */
  gated?: boolean;
}

export interface BodyRequest {
  repo: string;
  file: string;
  /** 1 for the first request of this file's bytes (the size probe excluded), 2 for the next, … */
  attempt: number;
  start: number;
}

export interface FakeHubOptions {
  repos: Record<string, FakeRepo>;
  token?: string;
  /** Bytes of the body to send before dropping the connection, or undefined to send it all. */
  dropAfter?: (r: BodyRequest) => number | undefined;
  /** Flip a byte of the body. */
  corrupt?: (r: BodyRequest) => boolean;
  lifetimeMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  url: string;
  requests: RecordedRequest[];
  options: FakeHubOptions;
  close(): Promise<void>;
}

export function gitBlobSha1(data: Uint8Array): string {
  return createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A commit holding `files`; names in `lfs` are LFS files. The sha is derived from the contents. */
export function fakeCommit(files: Record<string, string | Uint8Array>, lfs: readonly string[] = []): FakeCommit {
  const map = new Map<string, FakeFile>();
  const h = createHash("sha1");
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    const f = { data, lfs: lfs.includes(name), oid: gitBlobSha1(data), sha256: sha256Hex(data) };
    map.set(name, f);
    h.update(`${name}\0${f.oid}\0`);
  }
  return { sha: h.digest("hex"), files: map };
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "Content-Type": "application/json", "X-Error-Code": code });
  res.end(JSON.stringify({ error: message }));
}

function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  const m = header && /^bytes=(\d+)-(\d*)$/.exec(header);
  if (!m) return undefined;
  return [Number(m[1]), m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)];
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  const blobsBySha = (): Map<string, { repo: string; file: string; f: FakeFile }> => {
    const m = new Map<string, { repo: string; file: string; f: FakeFile }>();
    for (const [repo, r] of Object.entries(options.repos)) {
      for (const c of Object.values(r.refs)) for (const [file, f] of c.files) m.set(f.sha256, { repo, file, f });
    }
    return m;
  };

  function findCommit(repo: FakeRepo, rev: string): FakeCommit | undefined {
    if (rev === "HEAD") rev = "main";
    return repo.refs[rev] ?? Object.values(repo.refs).find((c) => c.sha === rev);
  }

  /** The repository, or undefined after answering with the Hub's error. */
  function authorize(req: http.IncomingMessage, res: http.ServerResponse, id: string): FakeRepo | undefined {
    const auth = req.headers.authorization;
    const repo = options.repos[id];
    if (!repo) {
      sendError(res, auth ? 404 : 401, "RepoNotFound", "Repository not found");
      return undefined;
    }
    if (repo.gated && auth !== `Bearer ${options.token}`) {
      sendError(res, auth ? 403 : 401, "GatedRepo", `Access to model ${id} is restricted.`);
      return undefined;
    }
    return repo;
  }

  function sendBody(req: http.IncomingMessage, res: http.ServerResponse, repo: string, file: string, f: FakeFile, headers: Record<string, string>): void {
    const size = f.data.length;
    const range = parseRange(req.headers.range, size);
    const [start, end] = range ?? [0, size - 1];
    let body = Buffer.from(f.data.subarray(start, end + 1));
    const probe = start === 0 && end === 0 && range !== undefined;
    res.setHeader("Accept-Ranges", "bytes");
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.setHeader("Content-Type", "application/octet-stream");
    res.setHeader("Content-Length", String(body.length));
    if (range) res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    res.writeHead(range ? 206 : 200);
    if (probe) {
      res.end(body);
      return;
    }
    const key = `${repo}/${file}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const r: BodyRequest = { repo, file, attempt, start };
    if (options.corrupt?.(r)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const drop = options.dropAfter?.(r);
    if (drop !== undefined && drop < body.length) {
      res.write(body.subarray(0, drop), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push({ method: req.method ?? "", path: url.pathname, range: req.headers.range, authorization: req.headers.authorization });
    const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (parts[0] === "cdn" && parts.length === 2) {
      const hit = blobsBySha().get(parts[1]!);
      if (!hit) return sendError(res, 404, "EntryNotFound", "no such blob");
      return sendBody(req, res, hit.repo, hit.file, hit.f, { ETag: `"${hit.f.sha256}"` });
    }
    const api = parts[0] === "api" && parts[1] === "models";
    const [org, name, route, rev, ...rest] = api ? parts.slice(2) : parts;
    const id = `${org}/${name}`;
    const repo = authorize(req, res, id);
    if (!repo) return;
    const commit = rev === undefined ? undefined : findCommit(repo, rev);
    if (!commit) return sendError(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    if (api && route === "revision") {
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end(
        JSON.stringify({
          _id: id,
          id,
          sha: commit.sha,
          private: false,
          gated: repo.gated ? "manual" : false,
          downloads: 0,
          likes: 0,
          lastModified: "2024-01-01T00:00:00.000Z",
          siblings: [...commit.files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
    }
    if (api && route === "tree") {
      const dirs = new Set<string>();
      const entries: object[] = [];
      for (const [p, f] of commit.files) {
        const segs = p.split("/");
        for (let i = 1; i < segs.length; i++) dirs.add(segs.slice(0, i).join("/"));
        entries.push({
          type: "file",
          oid: f.oid,
          size: f.data.length,
          path: p,
          ...(f.lfs && { lfs: { oid: f.sha256, size: f.data.length, pointerSize: 134 } }),
        });
      }
      for (const d of dirs) entries.push({ type: "directory", oid: "0".repeat(40), size: 0, path: d });
      res.writeHead(200, { "Content-Type": "application/json" });
      return void res.end(JSON.stringify(entries));
    }
    if (!api && route === "resolve") {
      const file = rest.join("/");
      const f = commit.files.get(file);
      if (!f) return sendError(res, 404, "EntryNotFound", `${file} does not exist`);
      if (f.lfs) {
        res.writeHead(302, {
          Location: `/cdn/${f.sha256}`,
          "X-Repo-Commit": commit.sha,
          "X-Linked-Etag": `"${f.sha256}"`,
          "X-Linked-Size": String(f.data.length),
          ETag: `"${f.oid}"`,
        });
        return void res.end();
      }
      return sendBody(req, res, id, file, f, { ETag: `"${f.oid}"`, "X-Repo-Commit": commit.sha });
    }
    sendError(res, 404, "", "no such route");
  }

  const server = http.createServer(handle);
  server.on("connection", (s) => s.unref());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  setTimeout(close, options.lifetimeMs ?? 120_000).unref();
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, options, close };
}
