/**
 * NaN propagation in the TypeScript ops that run outside the kernel table (softmax, log-softmax,
 * pooling): a NaN in a row makes that row NaN; a NaN at a position pooling gives zero weight
 * (padding, the instruction) is not read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tensor } from "../../src/tensor/tensor.js";
import { logSoftmax, softmax, weightedPool } from "../../src/tensor/ops/index.js";

test("softmax and log-softmax: a NaN logit makes its row NaN, other rows untouched", () => {
  const x = Tensor.from([1, NaN, 3, 0.5, 1, 2], [2, 3]);
  for (const op of [softmax, logSoftmax]) {
    const y = Array.from(op(x).f32);
    assert.ok(y.slice(0, 3).every(Number.isNaN), `${op.name} row 0: ${y.slice(0, 3)}`);
    assert.ok(y.slice(3).every(Number.isFinite), `${op.name} row 1: ${y.slice(3)}`);
  }
});

test("pooling: a NaN in a pooled position reaches the embedding, one at a zero weight does not", () => {
  // B = 1, T = 3, C = 2; position 0 is padding (weight 0).
  const h = Tensor.from([NaN, NaN, 1, 2, 3, NaN], [1, 3, 2]);
  const out = Array.from(weightedPool(h, new Float32Array([0, 0.5, 0.5])).f32);
  assert.equal(out[0], 2);
  assert.ok(Number.isNaN(out[1]!));
});
