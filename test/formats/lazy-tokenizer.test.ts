/** A tokenizer folder's summary read from its files equals the built tokenizer's, for every model layout. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { LazyTokenizer, summarizeTokenizerFolder, summaryOf } from "../../src/formats/lazy-tokenizer.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { storiesFolder } from "../helpers/stories.js";
import { tmpDir, unpackTokenizer } from "./helpers.js";

const dir = tmpDir("lazy-tok-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const folders: Record<string, () => string> = {
  "llama2 (BPE, byte fallback)": () => unpackTokenizer("llama2"),
  "gpt2 (byte-level BPE)": () => unpackTokenizer("gpt2"),
  "stories260K (imported sentencepiece)": () => storiesFolder(),
};

for (const [name, folder] of Object.entries(folders)) {
  test(`${name}: the summary from the files is the built tokenizer's`, () => {
    const d = folder();
    const s = summarizeTokenizerFolder(d);
    assert.ok(s, "the files tell");
    assert.deepEqual(s, summaryOf(Tokenizer.fromFolder(d)));
  });
}

test("a pad token given in tokenizer_config.json, and none (pad = eos), as the built tokenizer sees them", () => {
  const src = unpackTokenizer("llama2");
  for (const pad of ["<unk>", null]) {
    const d = path.join(dir, `pad-${pad ?? "none"}`);
    fs.cpSync(src, d, { recursive: true });
    const cfgPath = path.join(d, "tokenizer_config.json");
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    cfg.pad_token = pad;
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
    const built = summaryOf(Tokenizer.fromFolder(d));
    assert.deepEqual(summarizeTokenizerFolder(d), built);
    assert.equal(built.padTokenId, pad === null ? 2 : 0);
  }
});

test("LazyTokenizer builds on get() only, once", () => {
  const lazy = new LazyTokenizer(unpackTokenizer("gpt2"));
  lazy.summary();
  assert.equal(lazy.isBuilt, false);
  const t = lazy.get();
  assert.equal(lazy.isBuilt, true);
  assert.equal(lazy.get(), t);
});
