/**
 * Hub ids resolved through the real @huggingface/hub client against a fake Hub on loopback
 * (test/helpers/fake-hub.ts), into Python huggingface_hub's cache layout.
 */
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { isHubId, modelFiles, resolveHubRepo, selectFiles, HubError, type HubProgress, type ResolveHubOptions } from "../../src/formats/hub/index.js";
import { fakeCommit, startFakeHub, gitBlobSha1, sha256Hex, type FakeHub, type FakeHubOptions } from "../helpers/fake-hub.js";
import { tmpDir } from "./helpers.js";

const WEIGHTS = randomBytes(200_000);
const TOKEN = "hf_testtoken";

function tinyRepo(weights: Uint8Array = WEIGHTS, config = '{"model_type":"llama"}') {
  return fakeCommit(
    {
      "config.json": config,
      "tokenizer.json": '{"model":{}}',
      "model.safetensors": weights,
      "README.md": "# tiny",
      "original/consolidated.00.pth": "big",
    },
    ["model.safetensors", "original/consolidated.00.pth"],
  );
}

async function hub(extra: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  return startFakeHub({ repos: { "org/tiny": { refs: { main: tinyRepo() } } }, token: TOKEN, ...extra });
}

/** Options that ignore the environment: explicit endpoint, cache, no token, online. */
function opts(h: FakeHub | undefined, cacheDir: string, more: Partial<ResolveHubOptions> = {}): ResolveHubOptions {
  return { allow: modelFiles, endpoint: h?.url ?? "http://127.0.0.1:9", cacheDir, offline: false, token: undefined, ...more };
}

/** Where org/tiny's weights go in `cache`. */
function weightsBlob(cache: string): string {
  return path.join(cache, "models--org--tiny", "blobs", sha256Hex(WEIGHTS));
}

function resolves(h: FakeHub): number {
  return h.requests.filter((r) => r.path.includes("/resolve/") || r.path.startsWith("/cdn/")).length;
}

async function rejectsWith(p: Promise<unknown>, kind: string, ...parts: string[]): Promise<HubError> {
  const e = await p.then(
    () => assert.fail("expected an error"),
    (err: unknown) => err,
  );
  assert.ok(e instanceof HubError, `not a HubError: ${String((e as Error)?.stack ?? e)}`);
  assert.equal(e.kind, kind, e.message);
  for (const s of parts) assert.ok(e.message.includes(s), `"${e.message}" lacks "${s}"`);
  return e;
}

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) if (x === undefined) delete process.env[k];
    else process.env[k] = x;
  };
  set(vars);
  return fn().finally(() => set(saved));
}

test("isHubId follows huggingface_hub's repo id rules and leaves local paths alone", () => {
  for (const ok of ["McGill-NLP/LLM2Vec-Meta-Llama-3-8B-Instruct-mntp", "princeton-nlp/Sheared-LLaMA-1.3B", "a/b", "org_1/x.y"]) {
    assert.equal(isHubId(ok), true, ok);
  }
  for (const bad of ["gpt2", "a/b/c", "./org/name", "/abs/x", "org/na--me", "org/a..b", "org/name.git", "-org/x", "org/x-", "org/", "o rg/x", `org/${"x".repeat(97)}`]) {
    assert.equal(isHubId(bad), false, bad);
  }
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, "org", "name"), { recursive: true });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.equal(isHubId("org/name"), false, "an existing local folder is not a Hub id");
    assert.equal(isHubId("org/other"), true);
  } finally {
    process.chdir(cwd);
  }
});

test("modelFiles: safetensors over .bin, top level only, configs and tokenizer", () => {
  const st = ["config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "README.md", "original/tokenizer.model", "tokenizer.json", "adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "llm2vec_config.json"];
  assert.deepEqual(selectFiles(st, modelFiles), ["config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json", "adapter_config.json", "adapter_model.safetensors", "llm2vec_config.json"]);
  const bin = ["config.json", "pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json", "adapter_model.bin", "tokenizer.model"];
  assert.deepEqual(selectFiles(bin, modelFiles), bin);
  assert.deepEqual(selectFiles(["a/x.json", "a/b/y.json", "z.json", "c.txt"], ["a/", "*.json"]), ["a/x.json", "a/b/y.json", "z.json"]);
});

test("download into an empty cache writes Python's layout: blobs, relative snapshot links, refs", async () => {
  const h = await hub();
  const cache = tmpDir();
  const commit = h.options.repos["org/tiny"]!.refs.main!;
  const events: HubProgress[] = [];
  try {
    const dir = await resolveHubRepo("org/tiny", opts(h, cache, { onProgress: (p) => events.push(p) }));
    const repoDir = path.join(cache, "models--org--tiny");
    assert.equal(dir, path.join(repoDir, "snapshots", commit.sha));
    assert.deepEqual(fs.readdirSync(dir).sort(), ["config.json", "model.safetensors", "tokenizer.json"]);
    for (const name of ["config.json", "model.safetensors", "tokenizer.json"]) {
      const f = commit.files.get(name)!;
      const etag = f.lfs ? f.sha256 : f.oid;
      assert.equal(fs.readlinkSync(path.join(dir, name)), `../../blobs/${etag}`, name);
      assert.deepEqual(fs.readFileSync(path.join(repoDir, "blobs", etag)), Buffer.from(f.data), name);
    }
    assert.equal(fs.readFileSync(path.join(repoDir, "refs", "main"), "utf8"), commit.sha);
    assert.deepEqual(fs.readdirSync(path.join(repoDir, "blobs")).filter((b) => b.includes(".")), []);
    const last = events.at(-1)!;
    assert.equal(last.bytes, last.totalBytes);
    assert.ok(last.totalBytes > WEIGHTS.length);

    // Everything is cached now: a second call only asks for the commit and the listing.
    const before = resolves(h);
    assert.equal(await resolveHubRepo("org/tiny", opts(h, cache)), dir);
    assert.equal(resolves(h), before);
  } finally {
    await h.close();
  }
});

test("offline: the cached snapshot is used with the server gone; a miss names id, revision and offline mode", async () => {
  const h = await hub();
  const cache = tmpDir();
  const dir = await resolveHubRepo("org/tiny", opts(h, cache));
  await h.close();
  await withEnv({ HF_HUB_OFFLINE: "1", HF_HUB_CACHE: cache, HF_ENDPOINT: h.url }, async () => {
    assert.equal(await resolveHubRepo("org/tiny", { allow: modelFiles }), dir);
    await rejectsWith(resolveHubRepo("org/other", { allow: modelFiles }), "offline", "org/other", `"main"`, "HF_HUB_OFFLINE", "offline");
    await rejectsWith(resolveHubRepo("org/tiny", { allow: modelFiles, revision: "v2" }), "offline", "org/tiny", `"v2"`);
  });
  // Online but unreachable: the cached revision is used with a warning; an uncached one says why.
  const warnings: string[] = [];
  assert.equal(await resolveHubRepo("org/tiny", opts(h, cache, { onWarning: (w) => warnings.push(w) })), dir);
  assert.match(warnings.join(), /cannot reach .* using the cached snapshot/);
  await rejectsWith(resolveHubRepo("org/other", opts(h, cache)), "network", "cannot reach", h.url, "HF_HUB_OFFLINE", "local folder");
});

test("a revision pin gets the old commit's files; tags are recorded in refs", async () => {
  const oldWeights = randomBytes(5000);
  const v1 = tinyRepo(oldWeights, '{"v":1}');
  const v2 = tinyRepo(WEIGHTS, '{"v":2}');
  const h = await startFakeHub({ repos: { "org/tiny": { refs: { main: v2, v1 } } } });
  const cache = tmpDir();
  try {
    const byTag = await resolveHubRepo("org/tiny", opts(h, cache, { revision: "v1" }));
    const bySha = await resolveHubRepo("org/tiny", opts(h, cache, { revision: v1.sha }));
    const main = await resolveHubRepo("org/tiny", opts(h, cache));
    assert.equal(byTag, bySha);
    assert.equal(path.basename(byTag), v1.sha);
    assert.equal(fs.readFileSync(path.join(byTag, "config.json"), "utf8"), '{"v":1}');
    assert.deepEqual(fs.readFileSync(path.join(byTag, "model.safetensors")), oldWeights);
    assert.equal(fs.readFileSync(path.join(main, "config.json"), "utf8"), '{"v":2}');
    assert.equal(fs.readFileSync(path.join(cache, "models--org--tiny", "refs", "v1"), "utf8"), v1.sha);
    await rejectsWith(resolveHubRepo("org/tiny", opts(h, cache, { revision: "v3" })), "not-found", `revision "v3"`, "org/tiny");
  } finally {
    await h.close();
  }
});

test("a gated repo: 401 without a token names HF_TOKEN; with it the Authorization header is sent", async () => {
  const h = await startFakeHub({ repos: { "meta/gated": { refs: { main: tinyRepo() }, gated: true } }, token: TOKEN });
  const cache = tmpDir();
  try {
    await rejectsWith(resolveHubRepo("meta/gated", opts(h, cache)), "auth", "HTTP 401", "meta/gated", "HF_TOKEN");
    await rejectsWith(resolveHubRepo("meta/gated", opts(h, cache, { token: "hf_wrong" })), "auth", "HTTP 403", "HF_TOKEN");
    const tokenFile = path.join(tmpDir(), "token");
    fs.writeFileSync(tokenFile, `${TOKEN}\n`);
    // The token file Python's login writes, found through HF_TOKEN_PATH.
    await withEnv({ HF_TOKEN: undefined, HUGGING_FACE_HUB_TOKEN: undefined, HF_TOKEN_PATH: tokenFile }, async () => {
      const { token: _, ...noToken } = opts(h, cache);
      const dir = await resolveHubRepo("meta/gated", noToken);
      assert.ok(fs.existsSync(path.join(dir, "model.safetensors")));
    });
    const authed = h.requests.filter((r) => r.authorization !== undefined);
    assert.ok(authed.some((r) => r.path.includes("/resolve/")));
    assert.ok(authed.every((r) => r.authorization === `Bearer ${TOKEN}` || r.authorization === "Bearer hf_wrong"));
  } finally {
    await h.close();
  }
});

test("a Hub id with a typo: 'not found on <endpoint> (or it is private: set HF_TOKEN)'", async () => {
  const h = await hub();
  try {
    const e = await rejectsWith(resolveHubRepo("org/tinyy", opts(h, tmpDir())), "not-found");
    assert.equal(e.message, `repository org/tinyy not found on ${h.url} (or it is private: set HF_TOKEN)`);
    await rejectsWith(resolveHubRepo("org/tinyy", opts(h, tmpDir(), { token: TOKEN })), "not-found", "HF_TOKEN has no access");
    await rejectsWith(resolveHubRepo("org/a/b", opts(h, tmpDir())), "invalid", "not a Hub id");
  } finally {
    await h.close();
  }
});

test("a connection dropped midway is resumed with a Range request within the call", async () => {
  const h = await hub({ dropAfter: (r) => (r.file === "model.safetensors" && r.attempt === 1 ? 70_000 : undefined) });
  const cache = tmpDir();
  try {
    const dir = await resolveHubRepo("org/tiny", opts(h, cache));
    assert.deepEqual(fs.readFileSync(path.join(dir, "model.safetensors")), WEIGHTS);
    const ranges = h.requests.filter((r) => r.path.startsWith("/cdn/") && r.range && r.range !== "bytes=0-0");
    assert.equal(ranges.length, 1);
    const start = Number(/bytes=(\d+)-/.exec(ranges[0]!.range!)![1]);
    assert.ok(start > 0 && start <= 70_000, ranges[0]!.range);
  } finally {
    await h.close();
  }
});

test("a download killed every time leaves no blob or link, only a part that the next run resumes", async () => {
  const h = await hub({ dropAfter: (r) => (r.file === "model.safetensors" ? 10_000 : undefined) });
  const cache = tmpDir();
  const repoDir = path.join(cache, "models--org--tiny");
  const commit = h.options.repos["org/tiny"]!.refs.main!;
  const blob = weightsBlob(cache);
  try {
    await rejectsWith(resolveHubRepo("org/tiny", opts(h, cache)), "network", "model.safetensors", "broke off 5 times", ".incomplete");
    assert.equal(fs.existsSync(blob), false);
    assert.equal(fs.existsSync(path.join(repoDir, "snapshots", commit.sha, "model.safetensors")), false);
    const partSize = fs.statSync(`${blob}.incomplete`).size;
    assert.ok(partSize > 0 && partSize < WEIGHTS.length);

    h.options.dropAfter = undefined;
    const n = h.requests.length;
    const dir = await resolveHubRepo("org/tiny", opts(h, cache));
    assert.deepEqual(fs.readFileSync(path.join(dir, "model.safetensors")), WEIGHTS);
    assert.equal(fs.existsSync(`${blob}.incomplete`), false);
    const resumed = h.requests.slice(n).filter((r) => r.path.startsWith("/cdn/") && r.range !== "bytes=0-0");
    assert.deepEqual(resumed.map((r) => r.range), [`bytes=${partSize}-${WEIGHTS.length - 1}`]);
  } finally {
    await h.close();
  }
});

test("a body that does not match its sha256 is deleted, not cached", async () => {
  const h = await hub({ corrupt: (r) => r.file === "model.safetensors" });
  const cache = tmpDir();
  const blob = weightsBlob(cache);
  try {
    await rejectsWith(resolveHubRepo("org/tiny", opts(h, cache)), "corrupt", "model.safetensors", "sha256");
    assert.equal(fs.existsSync(blob), false);
    assert.equal(fs.existsSync(`${blob}.incomplete`), false);
  } finally {
    await h.close();
  }
});

test("a cache written by Python is used without downloading; offline without any request", async () => {
  const commit = fakeCommit({ "config.json": '{"py":true}', "model.safetensors": WEIGHTS }, ["model.safetensors"]);
  const cache = tmpDir();
  const repoDir = path.join(cache, "models--McGill-NLP--LLM2Vec-tiny");
  // As huggingface_hub writes it: blobs by etag, relative links, the ref without a newline.
  fs.mkdirSync(path.join(repoDir, "blobs"), { recursive: true });
  fs.mkdirSync(path.join(repoDir, "snapshots", commit.sha), { recursive: true });
  fs.mkdirSync(path.join(repoDir, "refs"));
  for (const [name, f] of commit.files) {
    const etag = f.lfs ? f.sha256 : gitBlobSha1(f.data);
    fs.writeFileSync(path.join(repoDir, "blobs", etag), f.data);
    fs.symlinkSync(`../../blobs/${etag}`, path.join(repoDir, "snapshots", commit.sha, name));
  }
  fs.writeFileSync(path.join(repoDir, "refs", "main"), commit.sha);
  const want = path.join(repoDir, "snapshots", commit.sha);

  const h = await startFakeHub({ repos: { "McGill-NLP/LLM2Vec-tiny": { refs: { main: commit } } } });
  try {
    assert.equal(await resolveHubRepo("McGill-NLP/LLM2Vec-tiny", opts(h, cache)), want);
    assert.equal(resolves(h), 0);
    const n = h.requests.length;
    assert.equal(await resolveHubRepo("McGill-NLP/LLM2Vec-tiny", opts(h, cache, { offline: true })), want);
    assert.equal(await resolveHubRepo("McGill-NLP/LLM2Vec-tiny", opts(h, cache, { offline: true, revision: commit.sha })), want);
    assert.equal(h.requests.length, n);
  } finally {
    await h.close();
  }
});

test("a listing with an unsafe file name is refused before anything is written", async () => {
  const h = await startFakeHub({ repos: { "org/evil": { refs: { main: fakeCommit({ "config.json": "{}", "../../../escape.json": "{}" }) } } } });
  const cache = tmpDir();
  try {
    await rejectsWith(resolveHubRepo("org/evil", opts(h, cache, { allow: ["*.json"] })), "invalid", "unsafe name", "escape.json");
    assert.equal(fs.existsSync(path.join(cache, "escape.json")), false);
  } finally {
    await h.close();
  }
});

test("a part claimed by a live process is refused; a dead process's claim is taken over", async () => {
  const h = await hub();
  const cache = tmpDir();
  const blob = weightsBlob(cache);
  fs.mkdirSync(path.dirname(blob), { recursive: true });
  try {
    fs.writeFileSync(`${blob}.incomplete.lock`, String(process.ppid));
    await rejectsWith(resolveHubRepo("org/tiny", opts(h, cache)), "busy", `pid ${process.ppid}`, "model.safetensors");
    fs.writeFileSync(`${blob}.incomplete.lock`, "999999999");
    const dir = await resolveHubRepo("org/tiny", opts(h, cache));
    assert.deepEqual(fs.readFileSync(path.join(dir, "model.safetensors")), WEIGHTS);
    assert.equal(fs.existsSync(`${blob}.incomplete.lock`), false);
  } finally {
    await h.close();
  }
});

test("an abort stops the download and keeps the part for the next run", async () => {
  const h = await hub();
  const cache = tmpDir();
  const blob = weightsBlob(cache);
  const ac = new AbortController();
  const onProgress = (p: HubProgress) => {
    if (p.file === "model.safetensors" && p.fileBytes > 0) ac.abort(new Error("stopped by the test"));
  };
  try {
    await assert.rejects(resolveHubRepo("org/tiny", opts(h, cache, { onProgress, signal: ac.signal })), /stopped by the test/);
    assert.equal(fs.existsSync(blob), false);
    assert.ok(fs.statSync(`${blob}.incomplete`).size > 0);
    assert.equal(fs.existsSync(`${blob}.incomplete.lock`), false);
    const dir = await resolveHubRepo("org/tiny", opts(h, cache));
    assert.deepEqual(fs.readFileSync(path.join(dir, "model.safetensors")), WEIGHTS);
  } finally {
    await h.close();
  }
});
