/**
 * The graph autograd: saved tensors are released as each node runs, nothing leaks when a forward
 * is never back-propagated, a backward can run inside a backward, and activation checkpointing
 * gives the same gradients as the plain graph. Plus the row-gather op MNTP uses.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import * as ops from "../../src/tensor/ops/index.js";
import { backward, checkpoint, noGrad } from "../../src/tensor/autograd.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { gradCheck, param } from "../helpers/gradcheck.js";
import { randn } from "../helpers/rng.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

function block(x: Tensor, w1: Tensor, w2: Tensor, nw: Tensor): Tensor {
  const h = ops.rmsnorm(x, nw, 1e-5);
  const u = ops.gatedActivation("silu", ops.matmul(h, w1, { transB: true }), ops.matmul(h, w1, { transB: true }));
  return ops.add(x, ops.matmul(u, w2, { transB: true }));
}

describe("graph autograd", () => {
  it("gatherRows: values, repeated rows, finite differences", () => {
    const x = param(randn(5 * 3, 1), [5, 3]);
    const y = noGrad(() => ops.gatherRows(x, Int32Array.from([4, 0, 4])));
    assert.deepEqual(Array.from(y.f32.subarray(0, 3)), Array.from(x.f32.subarray(12, 15)));
    gradCheck("gatherRows", ([t]) => ops.gatherRows(t!, Int32Array.from([4, 0, 4, 2])), [x]);
    assert.throws(() => ops.gatherRows(x, Int32Array.from([5])), /index 5 at position 0 is outside the 5 rows/);
  });

  it("checkpointed blocks give the plain graph's gradients (input and weights)", () => {
    const C = 16;
    const mk = (s: number) => [param(randn(C * C, s, 0.3), [C, C]), param(randn(C * C, s + 1, 0.3), [C, C]), param(randn(C, s + 2, 0.1), [C])] as const;
    const layers = [mk(10), mk(20)];
    const x = param(randn(2 * 4 * C, 3), [2, 4, C]);
    const run = (ckpt: boolean) => {
      let h: Tensor = x;
      for (const [w1, w2, nw] of layers) h = ckpt ? checkpoint((t) => block(t, w1, w2, nw), [h], [w1, w2, nw]) : block(h, w1, w2, nw);
      backward(ops.meanSquare(h));
      const grads = [x, ...layers.flat()].map((p) => Float32Array.from(p.grad!.f32));
      for (const p of [x, ...layers.flat()]) p.grad = null;
      return grads;
    };
    const plain = run(false);
    const ck = run(true);
    plain.forEach((g, i) => assert.deepEqual(Array.from(ck[i]!), Array.from(g), `gradient ${i}`));
  });

  it("checkpoint records when only parameters inside it train (first layer under LoRA)", () => {
    const C = 8;
    const w = param(randn(C * C, 4, 0.3), [C, C]);
    const x = new Tensor(randn(3 * C, 5), [3, C]); // frozen input
    const out = checkpoint((t) => ops.matmul(t, w, { transB: true }), [x], [w]);
    assert.ok(out.requiresGrad);
    backward(ops.meanSquare(out));
    assert.ok(w.grad && w.grad.f32.some((v) => v !== 0));
  });

  it("a graph is consumed by its backward; a second backward is refused", () => {
    const w = param(randn(4, 6), [4]);
    const loss = ops.meanSquare(ops.scale(w, 2));
    backward(loss);
    assert.throws(() => backward(loss), /already back-propagated/);
  });

  it("a forward that is never back-propagated leaves nothing behind", async () => {
    const C = 64;
    const w = param(randn(C * C, 7, 0.1), [C, C]);
    let ref: WeakRef<Float32Array> | null = null;
    (() => {
      const x = new Tensor(randn(32 * C, 8), [32, C]);
      // The activation saved for the backward of the second matmul.
      const h = ops.matmul(x, w, { transB: true });
      ref = new WeakRef(h.f32);
      ops.matmul(h, w, { transB: true });
    })();
    // A WeakRef keeps its target alive until the current job ends: let it end before each GC.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    assert.equal(ref!.deref(), undefined, "the saved activation is still reachable");
  });
});
