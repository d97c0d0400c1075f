/**
 * The KV-cache decoder against (1) the independent PyTorch reference's next-token logits, step
 * by step (scripts/reference/make_generation_fixtures.py: full recompute, one unpadded prompt at
 * a time), alone and batched with left padding, and (2) the no-cache decoder's tokens.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { SafetensorsFile } from "../../src/formats/safetensors.js";
import { DecodeSession, generate, generateBatch, generateNoCache, GenerationInterrupted } from "../../src/models/generate.js";
import { loadModelFolder } from "../../src/models/load.js";
import type { DecoderModel } from "../../src/models/decoder.js";
import { backend, referenceBackend, setBackend } from "../../src/tensor/backend/index.js";
import { relErr } from "../helpers/compare.js";
import { FIXTURES, storiesFolder } from "../helpers/stories.js";

const CASES = ["llama", "llama-bf16", "mistral", "qwen2", "qwen3", "qwen3-bias", "gemma", "gemma2", "phi3", "stories260K"];
const TOL = 1e-4;

interface Fixture {
  model: string;
  prompts: number[][];
  tokens: number[][];
  steps: number;
}

function load(name: string): { fx: Fixture; model: DecoderModel; logits: Float32Array[] } {
  const base = path.join(FIXTURES, "generation", name);
  const fx = JSON.parse(fs.readFileSync(`${base}.json`, "utf8")) as Fixture;
  const model = loadModelFolder(name === "stories260K" ? storiesFolder() : path.join(FIXTURES, fx.model));
  const st = SafetensorsFile.open(`${base}.safetensors`);
  const logits = fx.prompts.map((_, r) => st.read(`logits.${r}`).data as Float32Array);
  st.close();
  return { fx, model, logits };
}

/** Worst relative error of each step's logits row against the reference's. */
function worstStep(ours: Float32Array[], ref: Float32Array, V: number): number {
  let worst = 0;
  ours.forEach((row, s) => (worst = Math.max(worst, relErr(row, ref.subarray(s * V, (s + 1) * V)))));
  return worst;
}

const active = backend();
const RUNS: [string, typeof active][] = CASES.map((c) => [c, active]);
if (active.name !== referenceBackend.name) RUNS.push(["llama", referenceBackend], ["gemma", referenceBackend], ["gemma2", referenceBackend]);

describe("KV-cache decoding equals the PyTorch reference step by step", () => {
  for (const [name, be] of RUNS) {
    it(`${name} (${be.name} kernels): each prompt alone, then all batched with left padding`, () => {
      setBackend(be);
      try {
        const { fx, model, logits } = load(name);
        const V = model.spec.vocabSize;
        fx.prompts.forEach((p, r) => {
          const steps: Float32Array[] = [];
          const ids = generate(model, p, { maxTokens: fx.steps, greedy: true, onLogits: (l) => steps.push(l.slice()) });
          assert.deepEqual(ids, fx.tokens[r], `${name} prompt ${r}: greedy tokens`);
          const e = worstStep(steps, logits[r]!, V);
          assert.ok(e < TOL, `${name} prompt ${r}: logits relative error ${e.toExponential(2)}`);
        });
        const perRow: Float32Array[][] = fx.prompts.map(() => []);
        const rows = generateBatch(model, fx.prompts, {
          maxTokens: fx.steps,
          greedy: true,
          onLogits: (l) => fx.prompts.forEach((_, b) => perRow[b]!.push(l.slice(b * V, (b + 1) * V))),
        });
        rows.forEach((row, r) => {
          assert.deepEqual(row.ids, fx.tokens[r], `${name} batched row ${r}: greedy tokens`);
          const e = worstStep(perRow[r]!, logits[r]!, V);
          assert.ok(e < TOL, `${name} batched row ${r}: logits relative error ${e.toExponential(2)}`);
        });
      } finally {
        setBackend(active);
      }
    });
  }
});

// From ../shared/data/README.md: greedy decoding from BOS (id 1), causal attention.
const GOLDEN = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433];

describe("KV-cache decoding equals the no-cache decoder", () => {
  it("stories260K: the golden story, and greedy tokens of other prompts, cached == no cache", () => {
    const model = loadModelFolder(storiesFolder());
    assert.deepEqual(generate(model, [1], { maxTokens: GOLDEN.length, greedy: true }), GOLDEN);
    assert.deepEqual(generateNoCache(model, [1], { maxTokens: GOLDEN.length, greedy: true }), GOLDEN);
    for (const p of [[1, 403, 407], [1, 500, 20, 7, 9], [1, 306]])
      assert.deepEqual(generate(model, p, { maxTokens: 20, greedy: true }), generateNoCache(model, p, { maxTokens: 20, greedy: true }), `prompt ${p}`);
  });

  it("sampling with a seed draws the same tokens with and without the cache, and alone or batched", () => {
    const model = loadModelFolder(storiesFolder());
    const o = { maxTokens: 16, temperature: 0.9, topK: 40, topP: 0.95, seed: 7 };
    const cached = generate(model, [1, 403], o);
    assert.deepEqual(cached, generateNoCache(model, [1, 403], o));
    assert.deepEqual(generate(model, [1, 403], o), cached, "the same seed redraws the same tokens");
    assert.notDeepEqual(generate(model, [1, 403], { ...o, seed: 8 }), cached, "another seed draws other tokens");
    // Row b of a batch draws with seed + b.
    const rows = generateBatch(model, [[1, 500, 20], [1, 403]], { ...o, seed: 6 });
    assert.deepEqual(rows[1]!.ids, cached);
  });
});

describe("decode limits", () => {
  it("maxTokens 0 generates nothing; stop ids end a row with finish 'stop' and are not returned", () => {
    const model = loadModelFolder(storiesFolder());
    const s = new DecodeSession(model, [[1]], { maxTokens: 0 });
    assert.ok(s.done);
    assert.deepEqual(s.rows, [{ ids: [], finishReason: "length" }]);
    const rows = generateBatch(model, [[1], [1, 403]], { maxTokens: 30, greedy: true, stopIds: [GOLDEN[5]!] });
    assert.deepEqual(rows[0], { ids: GOLDEN.slice(0, 5), finishReason: "stop" });
    assert.equal(rows[1]!.finishReason === "stop" || rows[1]!.ids.length === 30, true);
  });

  it("a huge maxTokens stops at the context ('length'); a prompt over the context is refused", () => {
    const model = loadModelFolder(storiesFolder());
    const ctx = model.spec.maxPositions;
    const prompt = [1, ...Array.from({ length: ctx - 3 }, (_, i) => 3 + (i % 400))];
    const [row] = generateBatch(model, [prompt], { maxTokens: 1e9, greedy: true });
    assert.equal(row!.finishReason, "length");
    assert.equal(prompt.length + row!.ids.length, ctx + 1, "the last forward fills the context");
    assert.throws(() => generate(model, [...prompt, 5, 5, 5, 5], { maxTokens: 1 }), /prompt 0 has 514 tokens, over the model's context of 512/);
    assert.throws(() => generate(model, [1, 9999], { maxTokens: 1 }), /token id 9999, outside \[0, 512\)/);
    assert.throws(() => generate(model, [1], { maxTokens: -1 }), /maxTokens must be an integer ≥ 0/);
    assert.throws(() => generate(model, [1], { maxTokens: 3, topP: 0 }), /topP must be in \(0, 1\]/);
  });
  it("interrupted stops a prefill between layers (not after the whole forward)", () => {
    const model = loadModelFolder(storiesFolder());
    let asked = 0;
    // The prefill asks before each of the model's layers; a cancel seen at the second ask ends it there.
    const s = new DecodeSession(model, [[1, 403, 20], [1, 500]], { maxTokens: 8, greedy: true, interrupted: () => ++asked >= 2 });
    assert.throws(() => s.step(), GenerationInterrupted);
    assert.equal(asked, 2, `asked ${asked} times of ${model.spec.numLayers} layers`);
    assert.ok(model.spec.numLayers > 2);
    // Not interrupted: it asks once per layer per step and generates as without it.
    let calls = 0;
    const free = new DecodeSession(model, [[1]], { maxTokens: 3, greedy: true, interrupted: () => (calls++, false) });
    while (!free.done) free.step();
    assert.deepEqual(free.rows[0]!.ids, GOLDEN.slice(0, 3));
    assert.equal(calls, 3 * model.spec.numLayers);
  });
});
