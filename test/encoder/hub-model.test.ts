/**
 * Hub ids where a folder is expected: fromPretrained("org/name") and an adapter's Hub id are
 * fetched from a fake Hub on loopback through the real client into a Python-layout cache, load
 * and encode exactly as the local folders do, and load again offline from the cache alone.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { fakeCommit, startFakeHub } from "../helpers/fake-hub.js";
import { storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-hub-model-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function folderFiles(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const f of fs.readdirSync(dir)) if (fs.statSync(path.join(dir, f)).isFile()) out[f] = fs.readFileSync(path.join(dir, f));
  return out;
}

async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) if (x === undefined) delete process.env[k];
    else process.env[k] = x;
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

test("a Hub id loads through the shared cache, equal to the local folder, and again offline", async () => {
  const local = storiesFolder();
  const model = folderFiles(local);
  const hub = await startFakeHub({ repos: { "karpathy/stories260K": { refs: { main: fakeCommit(model, ["model.safetensors"]) } } } });
  const cache = path.join(tmp, "hub-cache");
  const texts = ["Lily saw a dog.", "The bird ate seeds."];
  const want = await (await LLM2Vec.fromPretrained(local)).encode(texts);
  const lines: string[] = [];
  try {
    await withEnv({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined, HF_TOKEN_PATH: path.join(tmp, "no-token") }, async () => {
      const enc = await LLM2Vec.fromPretrained("karpathy/stories260K", { onNote: (l) => lines.push(l) });
      assert.deepEqual(await enc.encode(texts), want);
    });
  } finally {
    await hub.close();
  }
  const snap = path.join(cache, "models--karpathy--stories260K", "snapshots");
  assert.equal(fs.readdirSync(snap).length, 1, "one snapshot in Python's layout");
  // Server gone, offline: the cached snapshot alone.
  await withEnv({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: "1" }, async () => {
    const enc = await LLM2Vec.fromPretrained("karpathy/stories260K");
    assert.deepEqual(await enc.encode(texts), want);
    await assert.rejects(LLM2Vec.fromPretrained("karpathy/not-cached"), (e: Error) => /--model karpathy\/not-cached/.test(e.message) && /offline/i.test(e.message));
  });
});

test("a Hub id that does not exist is named as such, with the flag it came from", async () => {
  const hub = await startFakeHub({ repos: {} });
  try {
    await withEnv({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: path.join(tmp, "c2"), HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined, HF_TOKEN_PATH: path.join(tmp, "no-token") }, async () => {
      await assert.rejects(LLM2Vec.fromPretrained(storiesFolder(), { adapter: "McGill-NLP/no-such-adapter" }), (e: Error) => /--adapter McGill-NLP\/no-such-adapter/.test(e.message) && /not found/.test(e.message));
    });
  } finally {
    await hub.close();
  }
});
