/**
 * Packed batches (rows back to back, no padding; what the server runs): attention stays within
 * each row, every pooling mode pools each row over its own tokens, and the vectors equal the
 * padded batch's (LLM2Vec's own path, checked against PyTorch elsewhere) within float rounding,
 * bidirectional and causal, with instructions left out of the pooling.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LLM2Vec } from "../../src/encoder/llm2vec.js";
import { encodePreparedBatch } from "../../src/encoder/encode-batch.js";
import { packedEmbeddings } from "../../src/encoder/forward.js";
import type { PoolingMode } from "../../src/encoder/options.js";
import { noGrad } from "../../src/tensor/autograd.js";
import { attention, attentionPacked } from "../../src/tensor/ops/index.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { storiesFolder } from "../helpers/stories.js";
import { randn } from "../helpers/rng.js";

// Mixed lengths, as concurrent clients send them; one instruction pair.
const INPUTS = [
  "Lily saw a big dog in the park and she ran to it because she wanted to play with it all day.",
  "Tom had a red ball.",
  ["Retrieve a story about the sea", "Once upon a time there was a girl who loved the sea."] as const,
  "The bird sang.",
  "A cat sat on the warm mat by the door and looked at the rain.",
];

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe("packed batches", () => {
  it("attention of packed rows is each row's own attention, bit for bit, and the masked padded batch's within rounding", () => {
    const [H, KVH, D] = [4, 2, 8];
    const lengths = Int32Array.of(5, 1, 9, 3);
    const N = lengths.reduce((a, b) => a + b, 0);
    const T = Math.max(...lengths);
    const q = new Tensor(randn(N * H * D, 1), [1, N, H, D]);
    const k = new Tensor(randn(N * KVH * D, 2), [1, N, KVH, D]);
    const v = new Tensor(randn(N * KVH * D, 3), [1, N, KVH, D]);
    for (const causal of [false, true]) {
      const packed = attentionPacked(q, k, v, lengths, { causal }).f32;
      let at = 0;
      for (const L of lengths) {
        const view = (t: Tensor, heads: number) => new Tensor(t.f32.slice(at * heads * D, (at + L) * heads * D), [1, L, heads, D]);
        const alone = attention(view(q, H), view(k, KVH), view(v, KVH), { causal }).f32;
        assert.deepEqual(packed.subarray(at * H * D, (at + L) * H * D), alone, `row at ${at}, causal ${causal}`);
        // The same row left-padded to T inside a batch, its pads masked out (the padded path).
        const pad = (t: Tensor, heads: number) => {
          const x = new Float32Array(T * heads * D);
          x.set(t.f32.subarray(at * heads * D, (at + L) * heads * D), (T - L) * heads * D);
          return new Tensor(x, [1, T, heads, D]);
        };
        const mask = new Uint8Array(T).fill(1, T - L);
        const padded = attention(pad(q, H), pad(k, KVH), pad(v, KVH), { causal, keyMask: mask }).f32.subarray((T - L) * H * D);
        assert.ok(maxDiff(padded, alone) < 1e-6, `padded row at ${at}: ${maxDiff(padded, alone)}`);
        at += L;
      }
    }
  });

  it("refuses gradients, lengths that do not cover the batch, and shapes that do not fit", () => {
    const q = new Tensor(randn(6 * 2 * 4, 4), [1, 6, 2, 4]);
    const k = new Tensor(randn(6 * 2 * 4, 5), [1, 6, 2, 4]);
    assert.throws(() => attentionPacked(q, k, k, Int32Array.of(2, 3), { causal: false }), /sum to 5, the packed batch holds 6/);
    assert.throws(() => attentionPacked(new Tensor(q.f32, [2, 3, 2, 4]), k, k, Int32Array.of(6), { causal: false }), /B = 1/);
    const g = new Tensor(q.f32, q.shape);
    g.requiresGrad = true;
    assert.throws(() => attentionPacked(g, k, k, Int32Array.of(6), { causal: false }), /inference only/);
  });

  for (const pooling of ["mean", "weighted_mean", "last_token", "bos_token"] as PoolingMode[])
    for (const bidirectional of [true, false])
      it(`${pooling}, ${bidirectional ? "bidirectional" : "causal"}: packed vectors equal the padded batch's`, async () => {
        const enc = await LLM2Vec.fromPretrained(storiesFolder(), { pooling, bidirectional });
        const rows = enc.prepare(INPUTS);
        assert.ok(new Set(rows.map((r) => r.ids.length)).size === rows.length, "the rows have different lengths");
        const packed = encodePreparedBatch(enc, rows, "packed");
        const padded = encodePreparedBatch(enc, rows, "padded");
        const C = enc.dimension;
        for (let b = 0; b < rows.length; b++) {
          const p = packed.subarray(b * C, (b + 1) * C);
          const q = padded.subarray(b * C, (b + 1) * C);
          const scale = Math.max(...q.map(Math.abs));
          assert.ok(maxDiff(p, q) <= 2e-5 * scale, `row ${b}: ${maxDiff(p, q)} (scale ${scale})`);
        }
        // One row packed is that row encoded alone.
        const alone = encodePreparedBatch(enc, rows.slice(1, 2), "padded");
        assert.deepEqual(encodePreparedBatch(enc, rows.slice(1, 2), "packed"), alone);
      });

  it("a packed batch is inference only", async () => {
    const enc = await LLM2Vec.fromPretrained(storiesFolder());
    const rows = enc.prepare(["a dog", "a big cat"]);
    assert.throws(() => noGrad(() => packedEmbeddings(enc.model, rows, enc.encoderPass({ training: true }), enc.poolingChoice())), /inference only/);
    assert.throws(() => noGrad(() => packedEmbeddings(enc.model, rows, enc.encoderPass(), { ...enc.poolingChoice(), wholePaddedRow: true })), /whole-row pooling/);
  });
});
