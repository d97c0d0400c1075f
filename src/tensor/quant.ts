/**
 * Block quantization of frozen weights (llama.cpp's Q8_0 and Q4_0 layouts): each row of a weight
 * [N, K] is cut into blocks of 32 along K, each block stored as small integers and one f16 scale.
 * Q8_0: q = round(x/d), d = max|x|/127. Q4_0: d = m/−8 with m the block's value of largest
 * magnitude, q = round(x/d) in −8…7 (the extreme lands exactly on −8). The scale is rounded to f16
 * first and the values quantized against the rounded scale, so the scale's rounding is absorbed
 * into the integers instead of adding to their error.
 */
import type { QuantKind, QuantWeight } from "./backend/types.js";
import { f16ToF32, f32ToF16, type DType, type Storage, toFloat32 } from "./dtype.js";

/** Values per block, along K. */
export const QBLOCK = 32;

/** The user-facing names of the kinds (LLM2Vec.fromPretrained's `quantize`, `--quantize`). */
export type QuantizeOption = "int8" | "int4";
export const QUANT_KINDS: Record<QuantizeOption, QuantKind> = { int8: "q8_0", int4: "q4_0" };

/** Bytes a quantized weight takes (integers and scales). */
export function quantBytes(w: QuantWeight): number {
  return w.qs.byteLength + w.d.byteLength;
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
  const q4 = kind === "q4_0" ? new Uint8Array((N * Kp) / 2) : null;
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
      const scale = q8 ? amax / 127 : m / -8;
      if (Math.abs(scale) > F16_MAX) throw quantRefusal.scaleRange(name, amax, n);
      const dh = f32ToF16(scale);
      d[n * nb + b] = dh;
      const df = f16ToF32(dh);
      const id = df === 0 ? 0 : Math.fround(1 / df);
      const base = n * Kp + k0;
      if (q8) for (let j = 0; j < QBLOCK; j++) q8[base + j] = Math.max(-127, Math.min(127, roundHalfAway(Math.fround(vals[j]! * id))));
      else
        for (let j = 0; j < QBLOCK / 2; j++) {
          const lo = Math.max(0, Math.min(15, roundHalfAway(Math.fround(vals[j]! * id)) + 8));
          const hi = Math.max(0, Math.min(15, roundHalfAway(Math.fround(vals[j + 16]! * id)) + 8));
          q4![base / 2 + j] = lo | (hi << 4);
        }
    }
  }
  return { kind, N, K, Kp, qs: (q8 ?? q4)!, d };
}

/** The integer of element k (0 ≤ k < Kp) of row n. */
export function quantValue(w: QuantWeight, n: number, k: number): number {
  const i = n * w.Kp + k;
  if (w.kind === "q8_0") return w.qs[i]!;
  const j = k % QBLOCK;
  const byte = w.qs[(i - j) / 2 + (j % 16)]!;
  return (j < 16 ? byte & 15 : byte >> 4) - 8;
}

/** The weight as float32 [N, K]: each integer times its block's scale (the dequantize-then-f32 reference). */
export function dequantizeWeight(w: QuantWeight): Float32Array {
  const out = new Float32Array(w.N * w.K);
  const nb = w.Kp / QBLOCK;
  for (let n = 0; n < w.N; n++)
    for (let k = 0; k < w.K; k++) out[n * w.K + k] = quantValue(w, n, k) * f16ToF32(w.d[n * nb + ((k / QBLOCK) | 0)]!);
  return out;
}

/**
 * Activation rows [M, K] quantized to int8 blocks as the kernels do: scale max|x|/127 in f32,
 * q = round(x·(1/scale)) half away from zero. A block holding NaN/Inf gets a NaN scale, so the
 * product stays NaN as an f32 one would.
 */
export function quantizeRows(A: Float32Array, M: number, K: number): { q: Int8Array; s: Float32Array; Kp: number } {
  const nb = Math.ceil(K / QBLOCK);
  const Kp = nb * QBLOCK;
  const q = new Int8Array(M * Kp);
  const s = new Float32Array(M * nb);
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
      if (bad || d === 0) continue;
      const id = Math.fround(1 / d);
      for (let k = k0; k < k1; k++) q[m * Kp + k] = roundHalfAway(Math.fround(A[m * K + k]! * id));
    }
  return { q, s, Kp };
}
