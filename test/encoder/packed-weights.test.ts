/**
 * Packing the frozen projections once (LLM2Vec.fromPretrained's packWeightsMB, on by default)
 * changes no bit of the embeddings, merged or with adapters attached, and never serves a stale
 * or a trainable weight: a merge builds a new weight (no pack), a weight that trains reads as stored.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { mergeInto } from "../../src/models/lora.js";
import { packFrozenWeights } from "../../src/models/pack-weights.js";
import { backend } from "../../src/tensor/backend/index.js";
import { packedWeight } from "../../src/tensor/packed-weights.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { storiesFolder } from "../helpers/stories.js";
import { randn } from "../helpers/rng.js";

// Enough rows per batch (> 16 tokens) that products take the packed path, not the few-row one.
const TEXTS = [
  "Lily saw a big dog in the park and she ran to it.",
  "Tom had a red ball. He threw it high into the sky.",
  "The little bird sang a happy song every morning.",
  "Once upon a time there was a girl who loved the sea.",
];
const skip = backend().packB ? undefined : "the active backend does not pack (reference or an old addon)";

describe("packed frozen weights", { skip }, () => {
  it("embeddings are bit-identical with and without packing", async () => {
    const packed = await LLM2Vec.fromPretrained(storiesFolder());
    const plain = await LLM2Vec.fromPretrained(storiesFolder(), { packWeightsMB: 0 });
    const [, lin] = packed.model.linearModules().next().value!;
    assert.ok(packedWeight(lin.weight, "f32"), "default load packs the projections");
    assert.equal(packedWeight(packed.model.lmHead, "f32"), null, "the LM head is not packed: encoding never uses it");
    const [, lin0] = plain.model.linearModules().next().value!;
    assert.equal(packedWeight(lin0.weight, "f32"), null, "packWeightsMB: 0 packs nothing");
    const a = await packed.encode(TEXTS, { batchSize: 4 });
    const b = await plain.encode(TEXTS, { batchSize: 4 });
    a.forEach((v, i) => assert.deepEqual(v, b[i]));
  });

  it("a budget packs the first layers only; a merged or trainable weight is never read through a pack", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder(), { packWeightsMB: 0 });
    const lins = [...enc.model.linearModules()].map(([, l]) => l);
    const first = lins[0]!.weight.size * 4;
    const r = packFrozenWeights(enc.model, "f32", first * 2); // q [64,64] + k, v [32,64]
    // The budget counts packs as made (edge padding included): q and k fit, and the rest is left.
    assert.ok(r.packed >= 2 && r.packed < 5, `packed ${r.packed}`);
    assert.equal(r.packed + r.skipped, lins.length);
    lins.forEach((l, i) => assert.equal(packedWeight(l.weight, "f32") !== null, i < r.packed, `projection ${i}: the packed ones are a prefix`));
    assert.equal(packedWeight(lins[0]!.weight, "bf16"), null, "a pack holds one compute dtype");
    assert.equal(packedWeight(lins[5]!.weight, "f32"), null);
    const lin = lins[1]!;
    const [out, inp] = lin.weight.shape as [number, number];
    mergeInto(lin, new Tensor(randn(4 * inp, 1), [4, inp]), new Tensor(randn(out * 4, 2), [out, 4]), 0.5);
    assert.equal(packedWeight(lin.weight, "f32"), null, "the merged weight is a new tensor without a pack");
    const w0 = lins[0]!.weight;
    w0.requiresGrad = true;
    assert.equal(packedWeight(w0, "f32"), null, "a trainable weight is read as stored");
    w0.requiresGrad = false;
  });
});
