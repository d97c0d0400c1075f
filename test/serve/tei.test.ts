/**
 * TEI's routes beside OpenAI's: /embed gives the vectors /v1/embeddings gives, /tokenize the ids
 * the encoder runs (LLM2Vec.prepare's), /decode inverts it; named prompts, TEI's error shape and
 * status codes (413 for an input over the limits with truncate false, 400 "empty").
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { readPrompts } from "../../src/encoder/prompts.js";
import { storiesFolder } from "../helpers/stories.js";
import { startServer, type TestServer } from "./helpers.js";

const PROMPTS = { query: "Retrieve stories about: ", passage: "" };

/** stories260K with named prompts beside it. */
function modelWithPrompts(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-prompts-"));
  fs.cpSync(storiesFolder(), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config_sentence_transformers.json"), JSON.stringify({ prompts: PROMPTS, default_prompt_name: null }));
  return dir;
}

async function call(s: TestServer, route: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(s.url + route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

const openai = async (s: TestServer, input: unknown, extra = {}) => (await call(s, "/v1/embeddings", { model: "stories260K", input, ...extra })).json.data.map((d: { embedding: number[] }) => d.embedding);

describe("serve: TEI routes", () => {
  let s: TestServer;
  let model: string;
  before(async () => {
    model = modelWithPrompts();
    s = await startServer({ model });
  });
  after(async () => {
    await s.close();
    fs.rmSync(model, { recursive: true, force: true });
  });

  it("/embed returns the vectors /v1/embeddings returns, as a bare array", async () => {
    const texts = ["a dog ran", "Once upon a time, there was a cat"];
    const tei = await call(s, "/embed", { inputs: texts });
    assert.equal(tei.status, 200);
    assert.deepEqual(tei.json, await openai(s, texts));
    assert.deepEqual((await call(s, "/embed", { inputs: "a dog ran" })).json, await openai(s, "a dog ran"));
    const raw = (await call(s, "/embed", { inputs: "a dog ran", normalize: false })).json[0] as number[];
    assert.ok(Math.abs(Math.hypot(...raw) - 1) > 1e-3, "normalize: false leaves the norm");
  });

  it("prompt_name: its text is the instruction; an unknown one is 400 naming the known ones", async () => {
    assert.deepEqual((await call(s, "/embed", { inputs: ["a dog"], prompt_name: "query" })).json, await openai(s, ["a dog"], { instruction: PROMPTS.query }));
    const bad = await call(s, "/embed", { inputs: "a dog", prompt_name: "quary" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error_type, "validation");
    assert.match(bad.json.error, /prompt_name "quary".*known: "query", "passage"/);
    assert.equal((await call(s, "/tokenize", { inputs: "a dog", prompt_name: "quary" })).status, 400);
  });

  it("/tokenize gives the ids the encoder runs (LLM2Vec.prepare), with text and spans", async () => {
    const enc = await LLM2Vec.fromPretrained(model, { onNote: () => {} });
    const texts = ["Once upon a time, there was", "a dog"];
    const r = await call(s, "/tokenize", { inputs: texts });
    assert.equal(r.status, 200);
    const want = enc.prepare(texts).map((row) => Array.from(row.ids));
    assert.deepEqual(r.json.map((toks: { id: number }[]) => toks.map((t) => t.id)), want);
    assert.deepEqual(r.json[1], [
      { id: want[1]![0], text: "<s>", special: true, start: null, stop: null },
      ...r.json[1].slice(1).map((t: { text: string }) => ({ ...t, special: false })),
    ]);
    assert.equal(r.json[0].filter((t: { special: boolean }) => !t.special).map((t: { text: string }) => t.text).join(""), texts[0]);
    const withPrompt = await call(s, "/tokenize", { inputs: "a dog", prompt_name: "query" });
    assert.deepEqual(withPrompt.json[0].map((t: { id: number }) => t.id), Array.from(enc.prepare([[PROMPTS.query, "a dog"]])[0]!.ids));
    const plain = await call(s, "/tokenize", { inputs: "a dog", add_special_tokens: false });
    assert.deepEqual(plain.json[0].map((t: { id: number }) => t.id), want[1]!.slice(1));
  });

  it("/tokenize of an empty string: the special tokens the encoder puts around a text (BOS here), none without them", async () => {
    const r = await call(s, "/tokenize", { inputs: "" });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, [[{ id: 1, text: "<s>", special: true, start: null, stop: null }]]);
    assert.deepEqual((await call(s, "/tokenize", { inputs: [""], add_special_tokens: false })).json, [[]]);
    // /embed still refuses it: there is nothing to pool.
    assert.equal((await call(s, "/embed", { inputs: "" })).status, 400);
  });

  it("/decode inverts /tokenize, one row or a batch", async () => {
    const texts = ["Once upon a time, there was", "a dog ran."];
    const toks = (await call(s, "/tokenize", { inputs: texts })).json as { id: number }[][];
    const ids = toks.map((t) => t.map((x) => x.id));
    assert.deepEqual((await call(s, "/decode", { ids })).json, texts);
    assert.deepEqual((await call(s, "/decode", { ids: ids[0] })).json, [texts[0]]);
    assert.deepEqual((await call(s, "/decode", { ids: ids[0], skip_special_tokens: false })).json, ["<s> " + texts[0]]);
    assert.deepEqual((await call(s, "/decode", { ids: [] })).json, [""]);
    const bad = await call(s, "/decode", { ids: [[1, 2], [3, 512]] });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /'ids\[1\]\[1\]' is token id 512/);
  });

  it("errors in TEI's shape: empty batch 400 'empty', wrong types 400 'validation'", async () => {
    const empty = await call(s, "/embed", { inputs: [] });
    assert.deepEqual([empty.status, empty.json.error_type], [400, "empty"]);
    const typed = await call(s, "/embed", { inputs: 5 });
    assert.deepEqual(Object.keys(typed.json).sort(), ["error", "error_type"]);
    assert.match(typed.json.error, /'inputs' must be a string or an array of strings/);
    const unknown = await call(s, "/embed", { inputs: "a", dimensions: 3 });
    assert.equal(unknown.status, 400);
    const left = await call(s, "/embed", { inputs: "a", truncation_direction: "left" });
    assert.equal(left.status, 400);
    assert.match(left.json.error, /truncation_direction/);
    assert.equal((await call(s, "/embed", { inputs: "a", truncation_direction: "Right" })).status, 200);
  });
});

describe("serve: TEI's truncate", () => {
  it("an input over the limits: 413 'validation' with truncate false, cut with truncate true, whatever the server's default", async () => {
    const s = await startServer({ limits: { truncate: false }, load: { maxLength: 16, docMaxLength: 16 } });
    try {
      const long = "the dog ran ".repeat(20);
      const refused = await call(s, "/embed", { inputs: ["short", long] });
      assert.equal(refused.status, 413);
      assert.equal(refused.json.error_type, "validation");
      assert.match(refused.json.error, /'inputs\[1\]' has \d+ tokens/);
      assert.equal((await call(s, "/embed", { inputs: long, truncate: true })).status, 200);
      assert.equal((await call(s, "/embed", { inputs: ["a", "b", "c"].concat(Array(3000).fill("x")) })).status, 413);
    } finally {
      await s.close();
    }
  });
});

describe("named prompts (encoder/prompts.ts)", () => {
  const dir = (files: Record<string, unknown>) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-prompts-"));
    for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(d, f), typeof v === "string" ? v : JSON.stringify(v));
    return d;
  };
  it("llm2vec_config.json's prompts and default win over config_sentence_transformers.json's, adapters' over the base's", () => {
    const base = dir({ "config_sentence_transformers.json": { prompts: { query: "q: ", doc: "d: " }, default_prompt_name: "doc" }, "llm2vec_config.json": { prompts: { query: "Query: " } } });
    const adapter = dir({ "llm2vec_config.json": { prompts: { extra: "x" }, default_prompt_name: "query" } });
    assert.deepEqual(readPrompts([base]), { prompts: { query: "Query: ", doc: "d: " }, defaultPromptName: "doc" });
    assert.deepEqual(readPrompts([base, adapter]), { prompts: { query: "Query: ", doc: "d: ", extra: "x" }, defaultPromptName: "query" });
    assert.deepEqual(readPrompts([dir({})]), { prompts: {}, defaultPromptName: null });
  });
  it("bad files name the file and field", () => {
    assert.throws(() => readPrompts([dir({ "config_sentence_transformers.json": { prompts: { q: 3 } } })]), /config_sentence_transformers\.json: prompts\.q must be a string/);
    assert.throws(() => readPrompts([dir({ "config_sentence_transformers.json": { prompts: ["q"] } })]), /prompts must be an object/);
    assert.throws(() => readPrompts([dir({ "llm2vec_config.json": { prompts: { q: "" }, default_prompt_name: "z" } })]), /llm2vec_config\.json: default_prompt_name "z" is not one of the prompts \(known: "q"\)/);
    assert.throws(() => readPrompts([dir({ "config_sentence_transformers.json": "{" })]), /config_sentence_transformers\.json: not valid JSON/);
  });
});
