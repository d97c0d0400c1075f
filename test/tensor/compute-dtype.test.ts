/**
 * The compute-dtype scope: products built under withComputeDtype("bf16") multiply bf16-rounded
 * operands, their backward does too wherever it runs, a checkpointed layer recomputes in the
 * forward's dtype, and f32 (the default) is unchanged. Checked on the active backend and on the
 * TypeScript reference.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as ops from "../../src/tensor/ops/index.js";
import { backward, checkpoint } from "../../src/tensor/autograd.js";
import { backend, referenceBackend, setBackend } from "../../src/tensor/backend/index.js";
import { computeDtype, withComputeDtype } from "../../src/tensor/compute.js";
import { bf16ToF32, f32ToBf16 } from "../../src/tensor/dtype.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { param } from "../helpers/gradcheck.js";
import { randn } from "../helpers/rng.js";

const round = (a: Float32Array) => a.map((x) => bf16ToF32(f32ToBf16(x)));

function block(x: Tensor, w1: Tensor, w2: Tensor, nw: Tensor): Tensor {
  const h = ops.rmsnorm(x, nw, 1e-5);
  return ops.add(x, ops.matmul(ops.gatedActivation("silu", ops.matmul(h, w1, { transB: true }), ops.matmul(h, w1, { transB: true })), w2, { transB: true }));
}

const active = backend();
for (const be of active.name === referenceBackend.name ? [active] : [active, referenceBackend])
  describe(`compute dtype (${be.name} kernels)`, () => {
    it("bf16 products equal f32 products of the rounded operands; f32 is the default", () => {
      setBackend(be);
      const a = new Tensor(randn(7 * 33, 1), [7, 33]),
        w = new Tensor(randn(19 * 33, 2), [19, 33]);
      assert.equal(computeDtype(), "f32");
      const y16 = withComputeDtype("bf16", () => ops.linear(a, w)).f32;
      const yR = ops.linear(new Tensor(round(a.f32), [7, 33]), new Tensor(round(w.f32), [19, 33])).f32;
      const y32 = ops.linear(a, w).f32;
      let d16 = 0,
        d32 = 0;
      for (let i = 0; i < y16.length; i++) {
        d16 = Math.max(d16, Math.abs(y16[i]! - yR[i]!));
        d32 = Math.max(d32, Math.abs(y16[i]! - y32[i]!));
      }
      assert.ok(d16 < 1e-5, `bf16 vs rounded-f32: ${d16}`);
      assert.ok(d32 > 1e-3, `bf16 should differ from f32, max diff ${d32}`);
      assert.throws(() => withComputeDtype("f16" as "bf16", () => 0), /compute dtype must be one of f32, bf16, got "f16"/);
      setBackend(active);
    });

    it("the backward runs in the forward's dtype, also through checkpointed layers", () => {
      setBackend(be);
      const C = 16;
      const mk = (s: number) => [param(randn(C * C, s, 0.3), [C, C]), param(randn(C * C, s + 1, 0.3), [C, C]), param(randn(C, s + 2, 0.1), [C])] as const;
      const layers = [mk(10), mk(20)];
      const x = param(randn(2 * 4 * C, 3), [2, 4, C]);
      const all = [x, ...layers.flat()];
      const grads = (dtype: "f32" | "bf16", ckpt: boolean, backwardInside: boolean) => {
        const loss = withComputeDtype(dtype, () => {
          let h: Tensor = x;
          for (const [w1, w2, nw] of layers) h = ckpt ? checkpoint((t) => block(t, w1, w2, nw), [h], [w1, w2, nw]) : block(h, w1, w2, nw);
          const l = ops.meanSquare(h);
          if (backwardInside) backward(l);
          return l;
        });
        if (!backwardInside) backward(loss); // outside the scope: the products remember bf16
        const g = all.map((p) => Float32Array.from(p.grad!.f32));
        for (const p of all) p.grad = null;
        return g;
      };
      const inside = grads("bf16", false, true);
      const outside = grads("bf16", false, false);
      const ck = grads("bf16", true, false);
      const f32 = grads("f32", false, false);
      inside.forEach((g, i) => {
        assert.deepEqual(Array.from(outside[i]!), Array.from(g), `gradient ${i}: backward outside the scope`);
        assert.deepEqual(Array.from(ck[i]!), Array.from(g), `gradient ${i}: checkpointed`);
      });
      // bf16 gradients differ from f32 ones, by about bf16 precision.
      let rel = 0;
      f32.forEach((g, i) => {
        let num = 0,
          den = 0;
        for (let j = 0; j < g.length; j++) {
          num = Math.max(num, Math.abs(g[j]! - inside[i]![j]!));
          den = Math.max(den, Math.abs(g[j]!));
        }
        rel = Math.max(rel, num / den);
      });
      assert.ok(rel > 1e-4 && rel < 5e-2, `bf16 vs f32 gradients: max relative diff ${rel}`);
      setBackend(active);
    });
  });
