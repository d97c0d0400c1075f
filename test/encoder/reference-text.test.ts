/**
 * The text path against the reference llm2vec.py (`_convert_to_str`, `prepare_for_tokenization`):
 * its word-ratio arithmetic in float64, Python's whitespace, strip before the eos suffix, the
 * eos suffix per family; and the bounds that keep a huge text from hanging the encoder while
 * giving exactly the reference's result.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Tokenizer } from "../../src/formats/tokenizer.js";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { buildString, SEPARATOR } from "../../src/encoder/prepare.js";
import { DEFAULT_OPTIONS } from "../../src/encoder/options.js";
import { pySplit, pyStrip } from "../../src/encoder/py-str.js";
import { resetTruncationWarning, truncateText, truncateWords } from "../../src/encoder/truncate.js";
import { rng } from "../helpers/rng.js";
import { storiesFolder } from "../helpers/stories.js";

/** A tokenizer stub giving round(words · perWord) tokens. */
function stub(perWord: number): Tokenizer {
  return { encode: (s: string) => new Array(Math.round(pySplit(s).length * perWord)).fill(1) } as unknown as Tokenizer;
}

/** The reference's loop, verbatim (Python semantics spelled out), tokenising the whole text every round. */
function referenceWords(tok: Tokenizer, text: string, docMax: number, maxLength: number): string {
  let q = Math.min(tok.encode(text, { addSpecialTokens: false }).length, maxLength);
  while (q > docMax) {
    const words = pySplit(text);
    text = words.slice(0, Math.trunc(words.length * (docMax / q))).join(" ");
    q = Math.min(tok.encode(text, { addSpecialTokens: false }).length, maxLength);
  }
  return text;
}

describe("word-ratio truncation as the reference computes it", () => {
  it("keeps int(words * (400 / q)) words, not floor(words*400/q)", () => {
    // 290 words of 1.6 tokens = 464 tokens: 290·400/464 is exactly 250, but 400/464 rounds down
    // in float64 and Python's int(290 * (400/464)) is 249. The same for the other cases.
    for (const [words, perWord, want] of [
      [290, 1.6, 249],
      [145, 3.2, 124],
      [155, 3.2, 124],
      [310, 1.6, 249],
    ] as const) {
      const text = Array.from({ length: words }, (_, i) => `w${i}`).join(" ");
      const got = truncateWords(stub(perWord), text, 400, 512).text;
      assert.equal(pySplit(got).length, want, `${words} words × ${perWord}`);
    }
  });

  it("splits and strips on Python's whitespace (U+001C–U+001F, U+0085 yes; U+FEFF no)", () => {
    assert.deepEqual(pySplit("a\u001fb\u0085c\u001cd\ufeffe f\u3000g"), ["a", "b", "c", "d\ufeffe", "f", "g"]);
    assert.equal(pyStrip("\u0085\u001f hi \u001e"), "hi");
    assert.equal(pyStrip("\ufeffhi"), "\ufeffhi");
    assert.equal(buildString("\u001fQ:\u0085", "x", DEFAULT_OPTIONS, "llama"), `Q: ${SEPARATOR}x`);
    const t = "one\u001ftwo\u0085three";
    assert.equal(truncateWords(stub(200), t, 400, 512).text, "one two", "3 words × 200 tokens → int(3 · 400/512) = 2");
  });
});

describe("the eos_token suffix", () => {
  const eos = { ...DEFAULT_OPTIONS, pooling: "eos_token" as const };
  it("strips the text before appending it, as the reference does", () => {
    assert.equal(buildString("", "hello \n", eos, "llama"), `${SEPARATOR}hello </s>`);
    assert.equal(buildString("Q:", " a cat\t", eos, "mistral"), `Q: ${SEPARATOR} a cat </s>`);
  });
  it("is the reference's fixed string per family, or the option", () => {
    assert.equal(buildString("", "x", eos, "gemma"), `${SEPARATOR}x<eos>`);
    assert.equal(buildString("", "x", eos, "qwen2"), `${SEPARATOR}x<|endoftext|>`);
    assert.equal(buildString("", "x", eos, "llama"), `${SEPARATOR}x </s>`);
    assert.equal(buildString("", "x", { ...eos, eosSuffix: "<|end_of_text|>" }, "llama"), `${SEPARATOR}x<|end_of_text|>`);
  });
});

describe("texts without spaces and huge texts", () => {
  it("the word rule cuts a long unspaced text to nothing, with one warning; truncation 'tokens' keeps its first tokens", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === "LLM2VEC_TEXT_CUT_TO_NOTHING") warnings.push(w.message);
    };
    process.on("warning", onWarning);
    resetTruncationWarning();
    const long = "onceuponatimetherewasalittlegirl".repeat(100);
    const words = await LLM2Vec.fromPretrained(storiesFolder());
    const rows = words.prepare([long, long + "x"]);
    assert.equal(rows[0]!.ids.length, 1, "BOS only, as the reference");
    await new Promise((r) => setImmediate(r));
    assert.equal(warnings.length, 1, "warned once for two texts");
    process.off("warning", onWarning);

    const tokens = await LLM2Vec.fromPretrained(storiesFolder(), { truncation: "tokens" });
    const [row] = tokens.prepare([long]);
    assert.ok(row!.textTokens > 390 && row!.textTokens <= 400, `kept ${row!.textTokens} text tokens`);
    assert.equal(row!.ids.length, row!.textTokens + 1);
    const prefix = tokens.tokenizer.encode(long, { addSpecialTokens: false }).slice(0, 380);
    assert.deepEqual(Array.from(row!.ids.slice(1, 381)), prefix, "the text's first tokens");
    const [vec] = await tokens.encode([long]);
    assert.ok(vec!.every(Number.isFinite));
  });

  it("a text cut to nothing pools its real tokens (BOS), not an empty set: the issue's cases give unit vectors", async () => {
    const url = "https://example.com/" + "a".repeat(2980);
    const cjk = "漢字".repeat(250);
    const word = "onceuponatimetherewasalittlegirl".repeat(100);
    // The first round of the word rule already keeps no word: its empty prefix must count 0, not the -1 placeholder.
    for (const [opts, texts] of [
      [{}, [url, cjk, word]],
      [{ docMaxLength: 1 }, ["hello world", "Lily saw a big dog.", url]],
    ] as const) {
      for (const pooling of ["mean", "weighted_mean"] as const) {
        const enc = await LLM2Vec.fromPretrained(storiesFolder(), { ...opts, pooling });
        const rows = enc.prepare([...texts]);
        for (const r of rows) assert.deepEqual([Array.from(r.ids), r.textTokens], [[enc.tokenizer.bosTokenId], 0], "BOS only, no text token");
        const [empty] = await enc.encode([""], { normalize: true });
        const vecs = await enc.encode([...texts], { normalize: true });
        for (const v of vecs) {
          assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, `${pooling}: a unit vector, got norm ${Math.hypot(...v)}`);
          for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i]! - empty![i]!) < 1e-5, "pooled as the empty text: its real tokens");
        }
      }
    }
  });

  it("encode refuses an all-zero embedding, naming the input", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    // A zero final norm makes every hidden state, so every pooled vector, zero.
    for (const [name, t] of enc.model.namedWeights()) if (name === "model.norm.weight") t.f32.fill(0);
    await assert.rejects(enc.encode(["Lily saw a big dog."], { normalize: true }), /input 0 produced an all-zero embedding/);
  });

  it("bounded work gives exactly the reference's result (random texts past the window)", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const tok = enc.tokenizer;
    const r = rng(7);
    const vocab = ["the", "little", "dog", "ran", "to", "see", "a", "big", "tree", "and", "sun", "Lily", "happy", "onceuponatime"];
    for (let c = 0; c < 6; c++) {
      const maxLength = 40 + Math.floor(r() * 40);
      const docMax = 10 + Math.floor(r() * 30);
      const n = 2000 + Math.floor(r() * 3000); // 10k–25k characters: past the window of 64 · maxLength
      const sep = ["  ", " ", "\n", "\u0085"];
      const text = Array.from({ length: n }, () => vocab[Math.floor(r() * vocab.length)]! + sep[Math.floor(r() * sep.length)]!).join("");
      assert.equal(truncateText(tok, text, "words", docMax, maxLength).text, referenceWords(tok, text, docMax, maxLength), `case ${c}`);
      // Tokens: the first docMax tokens, as the whole text gives them.
      const cut = truncateText(tok, text, "tokens", docMax, maxLength).text;
      const whole = tok.encode(text, { addSpecialTokens: false }).slice(0, docMax - 2);
      assert.deepEqual(tok.encode(cut, { addSpecialTokens: false }).slice(0, docMax - 2), whole, `tokens case ${c}`);
    }
  });

  it("a 10 MB single-line text is prepared in seconds, not minutes", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const big = "The little dog ran to see the big tree. ".repeat(250_000); // 10 MB, 2.25M words
    const t0 = performance.now();
    const [row] = enc.prepare([big]);
    const ms = performance.now() - t0;
    // The reference rule's answer, computed arithmetically: q stays capped at maxLength = 512
    // while the kept prefix is long, so the word count shrinks by 400/512 per round.
    assert.ok(row!.textTokens <= 400 && row!.textTokens > 300, `${row!.textTokens} text tokens`);
    assert.ok(ms < 15_000, `prepared in ${ms.toFixed(0)} ms (276 s before)`);
  });
});

describe("the truncation option's three spellings", () => {
  it("library option, llm2vec_config.json key and CLI flag", async () => {
    const { readConfigFile } = await import("../../src/encoder/options.js");
    const { encoderOptionsFromFlags } = await import("../../src/cli/encoder-flags.js");
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "llm2vec-trunc-"));
    try {
      fs.writeFileSync(path.join(d, "llm2vec_config.json"), JSON.stringify({ truncation: "tokens", eos_suffix: "<|end_of_text|>" }));
      assert.deepEqual(readConfigFile(d), { truncation: "tokens", eosSuffix: "<|end_of_text|>" });
      fs.writeFileSync(path.join(d, "llm2vec_config.json"), JSON.stringify({ truncation: "chars" }));
      assert.throws(() => readConfigFile(d), /llm2vec_config\.json: truncation must be one of words, tokens, got "chars"/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
    assert.equal(encoderOptionsFromFlags({ model: "m", truncation: "tokens" }).truncation, "tokens");
    assert.equal(encoderOptionsFromFlags({ model: "m", eosSuffix: "<eos>" }).eosSuffix, "<eos>");
    await assert.rejects(LLM2Vec.fromPretrained(storiesFolder(), { truncation: "chars" as "words" }), /truncation must be one of/);
  });
});
