/**
 * Pins the reference's instruction and pooling semantics (llm2vec.md §2) on the real stories260K
 * model: which positions are pooled for a given instruction, template and padding, and that an
 * embedding does not depend on what it was batched with.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { poolingWeights } from "../../src/encoder/pooling.js";
import { buildString, SEPARATOR } from "../../src/encoder/prepare.js";
import { DEFAULT_OPTIONS } from "../../src/encoder/options.js";
import { storiesFolder } from "../helpers/stories.js";

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("input preparation", () => {
  it("joins instruction and text with the separator, wraps the whole string in the template", () => {
    assert.equal(buildString("Retrieve similar text:  ", "a cat", DEFAULT_OPTIONS, "llama"), `Retrieve similar text: ${SEPARATOR}a cat`);
    assert.equal(buildString("", "a cat", DEFAULT_OPTIONS, "llama"), `${SEPARATOR}a cat`);
    const mistral = { ...DEFAULT_OPTIONS, chatTemplate: "mistral-instruct" as const };
    assert.equal(buildString("Q:", "a cat ", mistral, "mistral"), `[INST] Q: ${SEPARATOR}a cat [/INST]`);
    const eos = { ...mistral, pooling: "eos_token" as const };
    assert.equal(buildString("Q:", "a cat", eos, "mistral"), `[INST] Q: ${SEPARATOR}a cat [/INST] </s>`);
    const llama3 = { ...DEFAULT_OPTIONS, chatTemplate: "llama3-instruct" as const, pooling: "eos_token" as const };
    assert.equal(buildString("Q:", "hi", llama3, "llama"), `<|start_header_id|>user<|end_header_id|>\n\nQ: ${SEPARATOR}hi<|eot_id|>`);
  });

  it("pools the text's last tokens: BOS and instruction excluded, left padding respected", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const tok = enc.tokenizer;
    const text = "Lily saw a big dog.";
    const [row] = enc.prepare([["Find the story:", text]]);
    const textIds = tok.encode(text, { addSpecialTokens: false });
    const allIds = tok.encode("Find the story: " + text);
    assert.deepEqual(Array.from(row!.ids), allIds, "the separator is deleted; BOS is added once");
    assert.equal(allIds[0], tok.bosTokenId);
    assert.equal(row!.textTokens, textIds.length);
    // Pad to T = len + 3 on the left: the pooled positions are the last textTokens ones.
    const T = row!.ids.length + 3;
    const padded = new Int32Array(T).fill(tok.padTokenId!);
    padded.set(row!.ids, 3);
    const w = poolingWeights("mean", [{ length: row!.ids.length, textTokens: row!.textTokens, ids: padded }], T, true, tok.bosTokenId);
    const pooled = [...w].map((x, t) => (x > 0 ? t : -1)).filter((t) => t >= 0);
    assert.deepEqual(pooled, Array.from({ length: textIds.length }, (_, i) => T - textIds.length + i));
    // Without skipInstruction every real token (BOS and instruction too) is pooled.
    const all = poolingWeights("mean", [{ length: row!.ids.length, textTokens: row!.textTokens, ids: padded }], T, false, tok.bosTokenId);
    assert.equal([...all].filter((x) => x > 0).length, row!.ids.length);
    // weighted_mean: 1..L normalised, growing towards the end; last_token: the last position.
    const wm = poolingWeights("weighted_mean", [{ length: 5, textTokens: 3, ids: padded }], T, true, null);
    assert.deepEqual([...wm.slice(T - 3)].map((x) => +x.toFixed(4)), [1 / 6, 2 / 6, 3 / 6].map((x) => +x.toFixed(4)));
    const lt = poolingWeights("last_token", [{ length: 5, textTokens: 3, ids: padded }], T, true, null);
    assert.equal(lt[T - 1], 1);
    const bos = poolingWeights("bos_token", [{ length: row!.ids.length, textTokens: 0, ids: padded }], T, true, tok.bosTokenId);
    assert.equal(bos[3], 1);
  });

  it("word-ratio truncation keeps a proportional share of words until the text fits docMaxLength", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder(), { docMaxLength: 8 });
    const [row] = enc.prepare(["one two three four five six seven eight nine ten eleven twelve"]);
    assert.ok(row!.textTokens <= 8, `text tokens ${row!.textTokens}`);
  });
});

describe("batch invariance", () => {
  it("the same text gives the same embedding alone, in any batch, in any order", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const texts: [string, string][] = [
      ["Retrieve a story:", "The little girl played in the park with her dog."],
      ["", "Tom had a red ball."],
      ["Classify:", "Once upon a time there was a big tree that was very old and very tall."],
      ["", "Sun."],
    ];
    const together = await enc.encode(texts, { batchSize: 4 });
    const reversed = (await enc.encode([...texts].reverse(), { batchSize: 3 })).reverse();
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await enc.encode([texts[i]!], { batchSize: 1 });
      assert.ok(maxDiff(alone!, together[i]!) < 1e-5, `text ${i}: alone vs batch ${maxDiff(alone!, together[i]!)}`);
      assert.ok(maxDiff(reversed[i]!, together[i]!) < 1e-5, `text ${i}: order ${maxDiff(reversed[i]!, together[i]!)}`);
    }
    // And the instruction really conditions the text through attention.
    const [withInstr] = await enc.encode([["Retrieve a story:", "Tom had a red ball."]]);
    assert.ok(maxDiff(withInstr!, together[1]!) > 1e-4);
  });

  it("causal and bidirectional encoders differ; normalize gives unit rows", async () => {
    const bi = await LLM2Vec.fromPretrained(storiesFolder());
    const causal = await LLM2Vec.fromPretrained(storiesFolder(), { bidirectional: false });
    const [a] = await bi.encode(["Tom had a red ball."], { normalize: true });
    const [b] = await causal.encode(["Tom had a red ball."], { normalize: true });
    assert.ok(Math.abs(Math.hypot(...a!) - 1) < 1e-5);
    assert.ok(maxDiff(a!, b!) > 1e-3);
  });

  it("rejects bad inputs with clear errors", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    await assert.rejects(enc.encode([42 as unknown as string]), /input 0 must be a string or an \[instruction, text\] pair/);
    await assert.rejects(enc.encodeIds([[1, 9999]]), /token id 9999, outside \[0, 512\)/);
    await assert.rejects(LLM2Vec.fromPretrained(storiesFolder(), { pooling: "max" as never }), /pooling must be one of/);
    // An empty text is documented: it pools every real token (BOS, instruction) of its row.
    const [empty] = await enc.encode([""]);
    assert.equal(empty!.length, 64);
    assert.ok(empty!.every(Number.isFinite));
  });
});
