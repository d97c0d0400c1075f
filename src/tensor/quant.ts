/**
 * Block quantization of frozen weights (llama.cpp's Q8_0, Q4_0 and Q4_1 layouts): each row of a
 * weight [N, K] is cut into blocks of 32 along K, each block stored as small integers and one f16
 * scale. Q8_0: q = round(x/d), d = max|x|/127. Q4_0: d = m/−8 with m the block's value of largest
 * magnitude, q = round(x/d) in −8…7 (the extreme lands exactly on −8). Q4_1 (int4): x ≈ q·d + m,
 * q in 0…15, starting from d = (max−min)/15, m = min, then one least-squares refit of (d, m) to
 * the integers that start gives (all 16 levels are used, where Q4_0's symmetric grid leaves one
 * side's levels idle; the refit moves the grid onto the block's bulk rather than its extremes). The scale is rounded to f16 first and the values quantized against the rounded scale,
 * so the scale's rounding is absorbed into the integers instead of adding to their error.
 */
import type { QuantKind, QuantWeight } from "./backend/types.js";
import { f16ToF32, f32ToF16, type DType, type Storage, toFloat32 } from "./dtype.js";

/** Values per block, along K. */
export const QBLOCK = 32;

/** The user-facing names of the kinds (LLM2Vec.fromPretrained's `quantize`, `--quantize`). */
export type QuantizeOption = "int8" | "int4";
export const QUANT_KINDS: Record<QuantizeOption, QuantKind> = { int8: "q8_0", int4: "q4_1" };

/** Bytes a quantized weight takes (integers and scales). */
export function quantBytes(w: QuantWeight): number {
  return w.qs.byteLength + w.d.byteLength + (w.m?.byteLength ?? 0);
}

/** Half away from zero, on a value already in f32 (the C++ kernels' roundf). */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

const F16_MAX = 65504;

/** The refusals of quantizeWeight (shared with the native twin, which reports where and why). */
export const quantRefusal = {
  shape: (name: string, length: number, N: number, K: number) => new Error(`quantize ${name}: ${length} values for shape [${N},${K}]`),
  nonFinite: (name: string, v: number, n: number, k: number) => new Error(`quantize ${name}: non-finite value ${v} at [${n},${k}]; refusing to quantize it`),
  scaleRange: (name: string, amax: number, n: number) => new Error(`quantize ${name}: |value| ${amax} at row ${n} is beyond the f16 block scale's range`),
};

/**
 * Quantizes a weight [N, K] stored in `dtype`. Refuses NaN/Inf and scales beyond f16, naming the
 * tensor and the element. This is the definition; `Backend.quantizeWeight` (the addon's twin)
 * gives the same bits faster and is used at load where the addon has it (models/pack-weights.ts).
 */
export function quantizeWeight(data: Storage, dtype: DType, N: number, K: number, kind: QuantKind, name: string): QuantWeight {
  if (data.length !== N * K) throw quantRefusal.shape(name, data.length, N, K);
  const x = toFloat32(data, dtype);
  const nb = Math.ceil(K / QBLOCK);
  const Kp = nb * QBLOCK;
  const d = new Uint16Array(N * nb);
  const q8 = kind === "q8_0" ? new Int8Array(N * Kp) : null;
  const q4 = kind === "q8_0" ? null : new Uint8Array((N * Kp) / 2);
  const mins = kind === "q4_1" ? new Uint16Array(N * nb) : undefined;
  const vals = new Float32Array(QBLOCK);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const k0 = b * QBLOCK;
      let amax = 0,
        m = 0;
      for (let j = 0; j < QBLOCK; j++) {
        const k = k0 + j;
        const v = k < K ? x[n * K + k]! : 0;
        if (!Number.isFinite(v)) throw quantRefusal.nonFinite(name, v, n, k);
        vals[j] = v;
        if (Math.abs(v) > amax) (amax = Math.abs(v)), (m = v);
      }
      const base = n * Kp + k0;
      if (mins) {
        const fit = fitQ41(vals, Math.min(QBLOCK, K - k0));
        if (Math.abs(fit.d) > F16_MAX || Math.abs(fit.m) > F16_MAX) throw quantRefusal.scaleRange(name, amax, n);
        const dh = f32ToF16(fit.d),
          mh = f32ToF16(fit.m);
        d[n * nb + b] = dh;
        mins[n * nb + b] = mh;
        const df = f16ToF32(dh),
          mf = f16ToF32(mh);
        const id = df === 0 ? 0 : Math.fround(1 / df);
        const q = (j: number) => (k0 + j < K ? Math.max(0, Math.min(15, roundHalfAway(Math.fround(Math.fround(vals[j]! - mf) * id)))) : 0);
        for (let j = 0; j < QBLOCK / 2; j++) q4![base / 2 + j] = q(j) | (q(j + 16) << 4);
        continue;
      }
      const scale = q8 ? amax / 127 : m / -8;
      if (Math.abs(scale) > F16_MAX) throw quantRefusal.scaleRange(name, amax, n);
      const dh = f32ToF16(scale);
      d[n * nb + b] = dh;
      const df = f16ToF32(dh);
      const id = df === 0 ? 0 : Math.fround(1 / df);
      if (q8) for (let j = 0; j < QBLOCK; j++) q8[base + j] = Math.max(-127, Math.min(127, roundHalfAway(Math.fround(vals[j]! * id))));
      else
        for (let j = 0; j < QBLOCK / 2; j++) {
          const lo = Math.max(0, Math.min(15, roundHalfAway(Math.fround(vals[j]! * id)) + 8));
          const hi = Math.max(0, Math.min(15, roundHalfAway(Math.fround(vals[j + 16]! * id)) + 8));
          q4![base / 2 + j] = lo | (hi << 4);
        }
    }
  }
  return { kind, N, K, Kp, qs: (q8 ?? q4)!, d, ...(mins ? { m: mins } : {}) };
}

/**
 * Q4_1's (d, m) for the first `len` values of a block (the rest is padding, left out of the fit),
 * in f64: the min/max grid, its integers, then the least-squares line through (q, x) when it has a
 * positive slope. The C++ twin (quant.cc) does the same operations in the same order.
 */
function fitQ41(v: Float32Array, len: number): { d: number; m: number } {
  let lo = v[0]!,
    hi = v[0]!;
  for (let j = 1; j < len; j++) (lo = Math.min(lo, v[j]!)), (hi = Math.max(hi, v[j]!));
  const d = (hi - lo) / 15;
  if (!(d > 0)) return { d: 0, m: lo };
  let sq = 0,
    sx = 0,
    sqq = 0,
    sqx = 0;
  for (let j = 0; j < len; j++) {
    const q = Math.min(15, Math.floor((v[j]! - lo) / d + 0.5));
    sq += q;
    sx += v[j]!;
    sqq += q * q;
    sqx += q * v[j]!;
  }
  const den = len * sqq - sq * sq;
  const d1 = den > 0 ? (len * sqx - sq * sx) / den : 0;
  return d1 > 0 ? { d: d1, m: (sx - d1 * sq) / len } : { d, m: lo };
}

/** The integer of element k (0 ≤ k < Kp) of row n (q4_1: 0…15, before its block's minimum is added). */
export function quantValue(w: QuantWeight, n: number, k: number): number {
  const i = n * w.Kp + k;
  if (w.kind === "q8_0") return w.qs[i]!;
  const j = k % QBLOCK;
  const byte = w.qs[(i - j) / 2 + (j % 16)]!;
  return (j < 16 ? byte & 15 : byte >> 4) - (w.kind === "q4_0" ? 8 : 0);
}

/** The weight as float32 [N, K]: each integer times its block's scale, plus its minimum for q4_1 (the dequantize-then-f32 reference). */
export function dequantizeWeight(w: QuantWeight): Float32Array {
  const out = new Float32Array(w.N * w.K);
  const nb = w.Kp / QBLOCK;
  for (let n = 0; n < w.N; n++)
    for (let k = 0; k < w.K; k++) {
      const b = n * nb + ((k / QBLOCK) | 0);
      out[n * w.K + k] = quantValue(w, n, k) * f16ToF32(w.d[b]!) + (w.m ? f16ToF32(w.m[b]!) : 0);
    }
  return out;
}

/**
 * Activation rows [M, K] quantized to int8 blocks as the kernels do: scale max|x|/127 in f32,
 * q = round(x·(1/scale)) half away from zero, and per block `sum` = scale·Σq in f32 (llama.cpp's
 * Q8_1, which Q4_1's minimum multiplies). A block holding NaN/Inf gets a NaN scale and sum, so the
 * product stays NaN as an f32 one would.
 */
export function quantizeRows(A: Float32Array, M: number, K: number): { q: Int8Array; s: Float32Array; sum: Float32Array; Kp: number } {
  const nb = Math.ceil(K / QBLOCK);
  const Kp = nb * QBLOCK;
  const q = new Int8Array(M * Kp);
  const s = new Float32Array(M * nb);
  const sum = new Float32Array(M * nb);
  for (let m = 0; m < M; m++)
    for (let b = 0; b < nb; b++) {
      const k0 = b * QBLOCK,
        k1 = Math.min(K, k0 + QBLOCK);
      let amax = 0,
        bad = false;
      for (let k = k0; k < k1; k++) {
        const v = A[m * K + k]!;
        if (!Number.isFinite(v)) bad = true;
        else if (Math.abs(v) > amax) amax = Math.abs(v);
      }
      const d = Math.fround(amax / 127);
      s[m * nb + b] = bad ? NaN : d;
      if (bad) sum[m * nb + b] = NaN;
      if (bad || d === 0) continue;
      const id = Math.fround(1 / d);
      let isum = 0;
      for (let k = k0; k < k1; k++) isum += q[m * Kp + k] = roundHalfAway(Math.fround(A[m * K + k]! * id));
      sum[m * nb + b] = Math.fround(d * isum);
    }
  return { q, s, sum, Kp };
}
