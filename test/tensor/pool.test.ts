/**
 * The float32 buffer pool: recycled (unzeroed) buffers must never change results or clobber a
 * tensor that is still alive. Sizes here are above the pool's threshold so every path is pooled.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ops from "../../src/tensor/ops/index.js";
import { backward } from "../../src/tensor/autograd.js";
import { clearF32Pool, f32Scope, f32SizeClass, giveF32, pooledF32Bytes, releaseIdleF32, setF32Pooling, takeF32 } from "../../src/tensor/pool.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randn } from "../helpers/rng.js";

describe("float32 buffer pool", () => {
  it("a scope gives back what was taken inside it except the result, which its parent then owns", () => {
    const prev = setF32Pooling(true);
    clearF32Pool();
    try {
      let inner: Float32Array | null = null, scratch: Float32Array | null = null;
      const kept = f32Scope(() => {
        const r = f32Scope(() => {
          scratch = takeF32(8192);
          const given = takeF32(8192);
          giveF32(given); // handed back inside: not given twice when the scope ends
          inner = takeF32(8192); // served from `given`'s buffer
          return inner;
        }, (r) => [r]);
        assert.equal(pooledF32Bytes(), 8192 * 4, "the inner scope freed its scratch, not its result");
        return takeF32(4096 * 3) && r;
      }, () => []);
      assert.equal(kept, inner);
      // The outer scope kept nothing: the inner result and its own buffer came back too.
      assert.equal(pooledF32Bytes(), (8192 * 2 + 12288) * 4);
      assert.notEqual(scratch, null);
    } finally {
      clearF32Pool();
      setF32Pooling(prev);
    }
  });

  it("serves requests from size classes and takes back only what it handed out", () => {
    const prev = setF32Pooling(true);
    clearF32Pool();
    // Four classes per octave: 8192 is a class; 8193..10240 share the next one.
    assert.equal(f32SizeClass(8192), 8192);
    assert.equal(f32SizeClass(8193), 10240);
    assert.equal(f32SizeClass(10240), 10240);
    assert.equal(f32SizeClass(16383), 16384);
    const a = takeF32(9000);
    assert.equal(a.length, 9000);
    assert.equal(a.buffer.byteLength, 10240 * 4);
    giveF32(a);
    assert.equal(pooledF32Bytes(), 10240 * 4);
    // Another length of the same class reuses the buffer, as a view of the length asked for.
    const b = takeF32(10000);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.length, 10000);
    assert.equal(pooledF32Bytes(), 0);
    // A sub-view of a handed-out buffer, or a stale view of an earlier length, is not taken back:
    // the buffer may still be in use through the full view.
    giveF32(b.subarray(0, 8192));
    giveF32(a);
    assert.equal(pooledF32Bytes(), 0);
    giveF32(b);
    giveF32(b); // a second give of the same buffer is ignored
    assert.equal(pooledF32Bytes(), 10240 * 4);
    // A whole plain buffer is taken back and serves the largest class it covers.
    clearF32Pool();
    const plain = new Float32Array(9000);
    giveF32(plain);
    assert.equal(takeF32(8192).buffer, plain.buffer);
    // Views into larger plain buffers are ignored.
    const big = new Float32Array(16384);
    giveF32(big.subarray(0, 8192));
    assert.notEqual(takeF32(8192).buffer, big.buffer);
    setF32Pooling(prev);
    clearF32Pool();
  });

  it("drops the classes no recent unit of work asked for", () => {
    const prev = setF32Pooling(true);
    clearF32Pool();
    giveF32(takeF32(20000)); // a long batch's buffer
    const small = takeF32(5000);
    giveF32(small);
    for (let i = 0; i < 3; i++) {
      giveF32(takeF32(5000)); // the traffic since asks for the small size only
      releaseIdleF32(2);
    }
    assert.equal(pooledF32Bytes(), f32SizeClass(5000) * 4, "the long batch's buffer left, the small one stayed");
    assert.equal(takeF32(5000).buffer, small.buffer);
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
