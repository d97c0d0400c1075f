/**
 * What the native-vs-reference cases share: the two backends, a seeded random stream, and the
 * elementwise comparison with NaN/±inf matched exactly.
 */
import assert from "node:assert/strict";
import { referenceBackend } from "../../src/tensor/backend/reference.js";
import { loadNativeBackend, nativeInfo } from "../../src/tensor/backend/native.js";
import type { Backend } from "../../src/tensor/backend/types.js";
import { fromFloat32, type DType } from "../../src/tensor/dtype.js";
import { rng } from "./rng.js";

export const loaded = loadNativeBackend();
export const native = loaded.backend as Backend;
export const info = nativeInfo();
export const tag = info ? `[${info.isa}, ${info.threads} threads]` : "[native missing]";
export const ref = referenceBackend;

const rand = rng(12345);
export function randn(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}
export function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo));
}

/**
 * |a − e| ≤ rtol·(|e| + rms(e)) + atol elementwise; NaN/±inf must match exactly. The inputs are
 * O(1), so the small absolute term only matters where the exact result is 0 and the float64
 * reference is left with rounding noise (e.g. the gradient through a one-key softmax).
 */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let ss = 0,
    cnt = 0;
  for (let i = 0; i < expected.length; i++)
    if (Number.isFinite(expected[i]!)) {
      ss += expected[i]! ** 2;
      cnt++;
    }
  const rms = cnt ? Math.sqrt(ss / cnt) : 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const tol = rtol * (Math.abs(e) + rms) + atol;
    if (Math.abs(a - e) > tol) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
  }
}

export function storageOf(data: Float32Array, dtype: DType) {
  return fromFloat32(data, dtype);
}
