/** Checks made where the encoder brings a model and a tokenizer together. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { storiesFolder } from "../helpers/stories.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-load-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("a tokenizer whose ids exceed the embedding table is refused at load, naming both", async () => {
  const dir = path.join(tmp, "big-tokenizer");
  fs.cpSync(storiesFolder(), dir, { recursive: true });
  const tjPath = path.join(dir, "tokenizer.json");
  const tj = JSON.parse(fs.readFileSync(tjPath, "utf8"));
  const vocabSize = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).vocab_size as number;
  tj.added_tokens.push({ id: vocabSize + 7, content: "<extra>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  fs.writeFileSync(tjPath, JSON.stringify(tj));
  await assert.rejects(LLM2Vec.fromPretrained(dir), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, new RegExp(`ids up to ${vocabSize + 7} but .*config\\.json vocab_size is ${vocabSize}`));
    assert.ok(e.message.includes(dir));
    return true;
  });
  // The shipped model's own tokenizer fits.
  await LLM2Vec.fromPretrained(storiesFolder());
});

test("token-id inputs never build the tokenizer; text builds it once, and the ids agree with it", async () => {
  const { Tokenizer } = await import("../../src/formats/tokenizer.js");
  const build = Tokenizer.fromFolder;
  let builds = 0;
  Tokenizer.fromFolder = (d: string) => (builds++, build.call(Tokenizer, d));
  try {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const ids = [[1, 5, 9, 12], [1, 7]];
    const fromIds = await enc.encodeIds(ids);
    assert.equal(builds, 0, "loading and encoding ids built no tokenizer");
    await enc.encode(["once upon a time"]);
    await enc.encode(["twice"]);
    assert.equal(builds, 1, "text built it, once");
    // Padding and BOS ids taken before the build are the built tokenizer's.
    assert.deepEqual(await enc.encodeIds(ids), fromIds);
  } finally {
    Tokenizer.fromFolder = build;
  }
});
