/**
 * The float32 buffer pool: recycled (unzeroed) buffers must never change results or clobber a
 * tensor that is still alive. Sizes here are above the pool's threshold so every path is pooled.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ops from "../../src/tensor/ops/index.js";
import { backward } from "../../src/tensor/autograd.js";
import { clearF32Pool, giveF32, setF32Pooling, takeF32 } from "../../src/tensor/pool.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randn } from "../helpers/rng.js";

describe("float32 buffer pool", () => {
  it("hands back given buffers by exact length and ignores views", () => {
    const prev = setF32Pooling(true);
    clearF32Pool();
    const a = new Float32Array(8192);
    giveF32(a);
    assert.equal(takeF32(8192), a);
    assert.notEqual(takeF32(8192), a);
    const big = new Float32Array(16384);
    giveF32(big.subarray(0, 8192));
    assert.notEqual(takeF32(8192).buffer, big.buffer);
    setF32Pooling(prev);
    clearF32Pool();
  });

  it("repeated training steps give bit-identical gradients and leave live outputs intact", () => {
    clearF32Pool();
    const [B, T, C, F] = [2, 48, 64, 64]; // F = C: equal sizes make a wrongly recycled buffer show
    const w1 = new Tensor(randn(F * C, 1, 0.2), [F, C], { requiresGrad: true });
    const w2 = new Tensor(randn(F * C, 2, 0.2), [F, C], { requiresGrad: true });
    const w3 = new Tensor(randn(C * F, 3, 0.2), [C, F], { requiresGrad: true });
    const nw = new Tensor(randn(C, 4, 0.1), [C], { requiresGrad: true });
    const x = new Tensor(randn(B * T * C, 5), [B, T, C], { requiresGrad: true });
    const step = () => {
      const h = ops.rmsnorm(x, nw, 1e-5);
      const g = ops.matmul(h, w1, { transB: true });
      const u = ops.matmul(h, w2, { transB: true });
      const y = ops.add(ops.matmul(ops.gatedActivation("silu", g, u), w3, { transB: true }), x);
      // A batched activation × activation product (transposed A) on top.
      const s = ops.matmul(y, y, { transA: true });
      backward(ops.add(ops.meanSquare(y), ops.meanSquare(s)));
      const grads = [w1, w2, w3, nw, x].map((p) => Float32Array.from(p.grad!.f32));
      for (const p of [w1, w2, w3, nw, x]) p.grad = null;
      return { y, ySnap: Float32Array.from(y.f32), grads };
    };
    // Ground truth without the pool, then pooled steps (the pool fills up after the first).
    const prev = setF32Pooling(false);
    const first = step();
    setF32Pooling(true);
    for (let i = 0; i < 3; i++) {
      const next = step();
      next.grads.forEach((g, j) => assert.deepEqual(g, first.grads[j], `gradient ${j} differs on step ${i + 2}`));
      assert.deepEqual(first.y.f32, first.ySnap, "a live output was overwritten by a recycled buffer");
      assert.deepEqual(next.y.f32, first.ySnap);
    }
    setF32Pooling(prev);
    clearF32Pool();
  });
});
