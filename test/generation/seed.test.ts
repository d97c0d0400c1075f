/** Sampling without a seed: each generation draws a fresh one and reports it, so texts vary and any one can be redrawn. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { storiesFolder } from "../helpers/stories.js";

describe("generate: the seed", () => {
  it("no seed: a fresh one per call, reported; the reported seed redraws the text; greedy ignores it", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const o = { maxTokens: 24, temperature: 1 };
    const runs = await Promise.all(Array.from({ length: 4 }, () => enc.generate("Once upon a time", o)));
    const seeds = runs.map((r) => r.seed);
    for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0, `seed ${s}`);
    assert.equal(new Set(seeds).size, 4, `seeds ${seeds}`);
    assert.ok(new Set(runs.map((r) => r.text)).size > 1, "four unseeded samples all drew the same text");
    const again = await enc.generate("Once upon a time", { ...o, seed: runs[0]!.seed });
    assert.equal(again.text, runs[0]!.text);
    assert.equal(again.seed, runs[0]!.seed);
    // Row b of a batch reports seed + b, which redraws that row alone.
    const batch = await enc.generateBatch(["Once upon a time", "The dog"], { ...o, seed: 41 });
    assert.deepEqual(batch.map((r) => r.seed), [41, 42]);
    assert.equal((await enc.generate("The dog", { ...o, seed: 42 })).text, batch[1]!.text);
    const greedy = await Promise.all([1, 2].map(() => enc.generate("Once upon a time", { maxTokens: 24, greedy: true })));
    assert.equal(greedy[0]!.text, greedy[1]!.text);
  });
});
