/**
 * Storage dtypes. All compute is float32; bf16/f16 exist so that weights can stay in their
 * checkpoint dtype in memory (half the bytes) and be widened inside the kernels.
 */
export type DType = "f32" | "bf16" | "f16";

export type Storage = Float32Array | Uint16Array;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function bf16ToF32(bits: number): number {
  u32Scratch[0] = bits << 16;
  return f32Scratch[0]!;
}

/** Round-to-nearest-even, as torch does when casting to bfloat16. NaN stays NaN. */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Round-to-nearest-even float32 → IEEE half. */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const u = u32Scratch[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Widen a storage buffer to float32 (a copy unless it already is f32). */
export function toFloat32(data: Storage, dtype: DType): Float32Array {
  if (dtype === "f32") return data as Float32Array;
  const src = data as Uint16Array;
  const out = new Float32Array(src.length);
  if (dtype === "bf16") {
    const outU = new Uint32Array(out.buffer);
    for (let i = 0; i < src.length; i++) outU[i] = src[i]! << 16;
  } else {
    for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]!);
  }
  return out;
}

export function fromFloat32(data: Float32Array, dtype: DType): Storage {
  if (dtype === "f32") return data;
  const out = new Uint16Array(data.length);
  const conv = dtype === "bf16" ? f32ToBf16 : f32ToF16;
  for (let i = 0; i < data.length; i++) out[i] = conv(data[i]!);
  return out;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === "f32" ? 4 : 2;
}
