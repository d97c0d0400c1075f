/**
 * Central finite differences against the tape's gradients. The loss is Σ out·R for a fixed
 * random R, evaluated in float64 from the op's float32 output; eps is large enough that f32
 * rounding (~1e-7 relative) stays well below the tolerance.
 */
import assert from "node:assert/strict";
import { backward, noGrad } from "../../src/tensor/autograd.js";
import { Tensor } from "../../src/tensor/tensor.js";
import { randn } from "./rng.js";

export interface GradCheckOptions {
  eps?: number;
  tol?: number;
  /** Check at most this many coordinates per input (random subset), to keep tests fast. */
  samples?: number;
}

export function gradCheck(name: string, fn: (xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {}): void {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 2e-3;
  const samples = opts.samples ?? 24;
  for (const x of inputs) x.grad = null;
  const out = fn(inputs);
  const R = randn(out.size, 777);
  const lossOf = (t: Tensor) => {
    let s = 0;
    const d = t.f32;
    for (let i = 0; i < d.length; i++) s += d[i]! * R[i]!;
    return s;
  };
  backward(out, R.slice());
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    assert.ok(x.grad, `${name}: input ${xi} got no gradient`);
    const analytic = x.grad.f32;
    const data = x.f32;
    const idx: number[] = [];
    if (x.size <= samples) for (let i = 0; i < x.size; i++) idx.push(i);
    else for (let s = 0; s < samples; s++) idx.push(Math.floor(((s * 2654435761) % 4294967296) / 4294967296 * x.size));
    let maxAbs = 0;
    for (let i = 0; i < analytic.length; i++) maxAbs = Math.max(maxAbs, Math.abs(analytic[i]!));
    for (const i of idx) {
      const orig = data[i]!;
      data[i] = orig + eps;
      const lp = noGrad(() => lossOf(fn(inputs)));
      data[i] = orig - eps;
      const lm = noGrad(() => lossOf(fn(inputs)));
      data[i] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]!);
      assert.ok(
        err <= tol * Math.max(1, maxAbs, Math.abs(numeric)),
        `${name}: d/d input${xi}[${i}] analytic ${analytic[i]} vs numeric ${numeric} (err ${err.toExponential(2)})`,
      );
    }
  });
}

export function param(values: Float32Array, shape: readonly number[]): Tensor {
  return new Tensor(values, shape, { requiresGrad: true });
}
