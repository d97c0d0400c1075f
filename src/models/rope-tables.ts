/**
 * cos/sin tables for rotate-half RoPE, with the rope_scaling variants Hugging Face applies to
 * inv_freq (linear, llama3). Tables grow on demand, so a 128k-context config costs nothing until
 * long inputs arrive.
 */
import type { RopeTables } from "../tensor/ops/rope.js";
import type { DecoderSpec } from "./spec.js";

/** inv_freq as transformers' modeling_rope_utils computes it (float32 values). */
export function inverseFrequencies(spec: Pick<DecoderSpec, "headDim" | "ropeTheta" | "ropeScaling">): Float64Array {
  const D = spec.headDim;
  const inv = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) inv[i] = Math.fround(1 / Math.fround(spec.ropeTheta ** Math.fround((2 * i) / D)));
  const rs = spec.ropeScaling;
  if (rs.type === "linear") for (let i = 0; i < inv.length; i++) inv[i] = Math.fround(inv[i]! / rs.factor);
  if (rs.type === "llama3") {
    // _compute_llama3_parameters: long wavelengths are divided by factor, short ones kept,
    // and the band between is interpolated smoothly.
    const lowFreqWavelen = rs.originalMaxPositions / rs.lowFreqFactor;
    const highFreqWavelen = rs.originalMaxPositions / rs.highFreqFactor;
    for (let i = 0; i < inv.length; i++) {
      const f = inv[i]!;
      const wavelen = (2 * Math.PI) / f;
      let out = wavelen > lowFreqWavelen ? f / rs.factor : f;
      if (!(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)) {
        const smooth = (rs.originalMaxPositions / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
        out = (1 - smooth) * (out / rs.factor) + smooth * out;
      }
      inv[i] = Math.fround(out);
    }
  }
  return inv;
}

export class RopeCache {
  private tables: RopeTables | null = null;
  private readonly inv: Float64Array;

  constructor(private readonly spec: Pick<DecoderSpec, "headDim" | "ropeTheta" | "ropeScaling">) {
    this.inv = inverseFrequencies(spec);
  }

  /** Tables covering positions [0, needed). */
  get(needed: number): RopeTables {
    if (this.tables && this.tables.maxPositions >= needed) return this.tables;
    const maxPositions = Math.max(needed, 2 * (this.tables?.maxPositions ?? 0), 64);
    const half = this.spec.headDim / 2;
    const cos = new Float32Array(maxPositions * half);
    const sin = new Float32Array(maxPositions * half);
    for (let p = 0; p < maxPositions; p++)
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(p * this.inv[i]!);
        cos[p * half + i] = Math.cos(angle);
        sin[p * half + i] = Math.sin(angle);
      }
    return (this.tables = { cos, sin, maxPositions, headDim: this.spec.headDim });
  }
}
