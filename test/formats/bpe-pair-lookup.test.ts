/**
 * The BPE pair lookup installed on @huggingface/tokenizers' model (src/formats/bpe-pair-lookup.ts)
 * gives the library's own tokens: the same texts through a library tokenizer left as it is and
 * through ours, for a SentencePiece-style (Llama 2, stories260K) and a byte-level (GPT-2)
 * tokenizer; and the one-text memo of Tokenizer.encode hands out copies.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { speedUpBpePairLookup } from "../../src/formats/bpe-pair-lookup.js";
import { cacheOnlyWords, WORD_CACHE_MAX_CHARS } from "../../src/formats/bpe-word-cache.js";
import { Tokenizer } from "../../src/formats/tokenizer.js";
import { FIXTURES, unpackTokenizer } from "./helpers.js";
import { storiesFolder } from "../helpers/stories.js";

const dirs = { llama2: unpackTokenizer("llama2"), gpt2: unpackTokenizer("gpt2"), stories260K: storiesFolder() };
after(() => {
  fs.rmSync(dirs.llama2, { recursive: true, force: true });
  fs.rmSync(dirs.gpt2, { recursive: true, force: true });
});

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, "utf8")) as Record<string, unknown>;
const multilingual = (readJson(path.join(FIXTURES, "tokenizers/golden/multilingual_inputs.json")).inputs as { text: string }[]).map((e) => e.text);
const wiki = fs.readFileSync(path.join(FIXTURES, "text/wiki1m-400.txt"), "utf8").split("\n").filter(Boolean).slice(0, 150);
const texts = [...multilingual, ...wiki, "", " ", "aaaaaaaaaaaaaaaa", "  leading and trailing  ", "tab\tnew\nline"];

for (const [name, dir] of Object.entries(dirs)) {
  test(`${name}: the fast pair lookup tokenises exactly as the library's own`, () => {
    const tj = readJson(path.join(dir, "tokenizer.json"));
    const cfgPath = path.join(dir, "tokenizer_config.json");
    const cfg = fs.existsSync(cfgPath) ? readJson(cfgPath) : {};
    const plain = new HfTokenizer(tj, cfg);
    const fast = new HfTokenizer(tj, cfg);
    assert.equal(speedUpBpePairLookup(fast), true, "installed on the pinned library version");
    const ours = Tokenizer.fromFolder(dir);
    for (const t of texts) {
      const want = plain.encode(t, { add_special_tokens: false }).ids;
      assert.deepEqual(fast.encode(t, { add_special_tokens: false }).ids, want, `${name}: ${JSON.stringify(t.slice(0, 60))}`);
      assert.deepEqual(ours.encode(t, { addSpecialTokens: false }), want, `${name} (Tokenizer): ${JSON.stringify(t.slice(0, 60))}`);
    }
  });
}

test("the BPE cache keeps words and leaves whole texts out", () => {
  const tok = Tokenizer.fromFolder(dirs.stories260K);
  const cache = (tok as unknown as { tok: { model: { cache: { cache: Map<string, unknown> } } } }).tok.model.cache.cache;
  assert.ok(cache instanceof Map, "the pinned library keeps its cache as a Map");
  cache.clear();
  const sentence = "the little girl ran to the park with her dog and they played with a red ball.";
  assert.ok(sentence.length > WORD_CACHE_MAX_CHARS);
  tok.encode(sentence);
  assert.equal(cache.size, 0, "a whole text is not cached");
  tok.encode("the park");
  assert.equal(cache.size, 1, "a short piece is");
  assert.equal(cacheOnlyWords({ model: {} }), false);
});

test("a model that is not the library's BPE is left alone", () => {
  assert.equal(speedUpBpePairLookup({}), false);
  assert.equal(speedUpBpePairLookup({ model: { bpe_ranks: new Map([["x", 0]]), merges: [], add_node() {} } }), false);
});

test("encode's memo of the last text hands out copies", () => {
  const tok = Tokenizer.fromFolder(dirs.llama2);
  const a = tok.encode("Hello world", { addSpecialTokens: false });
  const want = a.slice();
  a.fill(-1);
  assert.deepEqual(tok.encode("Hello world", { addSpecialTokens: false }), want);
  assert.deepEqual(tok.encodeBatch(["Hello world"]).inputIds[0]!.slice(-want.length), Int32Array.from(want));
  assert.notDeepEqual(tok.encode("Hello there", { addSpecialTokens: false }), want);
});
