/**
 * cos/sin tables for rotate-half RoPE, with the rope_scaling variants Hugging Face applies to
 * inv_freq (linear, llama3). Tables grow on demand, so a 128k-context config costs nothing until
 * long inputs arrive.
 */
import type { RopeTables } from "../tensor/ops/rope.js";
import type { DecoderSpec } from "./spec.js";

/**
 * inv_freq as transformers' modeling_rope_utils computes it (float32 values). `long` picks
 * LongRoPE's long factors (a forward reaching past originalMaxPositions).
 */
export function inverseFrequencies(spec: Pick<DecoderSpec, "headDim" | "ropeTheta" | "ropeScaling">, long = false): Float64Array {
  const D = spec.headDim;
  const inv = new Float64Array(D / 2);
  const rs = spec.ropeScaling;
  // _compute_longrope_parameters: 1 / (ext_factors · base^(2i/D)), all float32.
  const ext = rs.type === "longrope" ? (long ? rs.longFactor : rs.shortFactor) : null;
  for (let i = 0; i < D / 2; i++) {
    const pow = Math.fround(spec.ropeTheta ** Math.fround((2 * i) / D));
    inv[i] = Math.fround(1 / (ext ? Math.fround(Math.fround(ext[i]!) * pow) : pow));
  }
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

/** One set of growing tables over one inv_freq, cos and sin multiplied by `scale`. */
class TableSet {
  private tables: RopeTables | null = null;

  constructor(
    private readonly inv: Float64Array,
    private readonly headDim: number,
    private readonly scale: number,
  ) {}

  get(needed: number): RopeTables {
    if (this.tables && this.tables.maxPositions >= needed) return this.tables;
    const maxPositions = Math.max(needed, 2 * (this.tables?.maxPositions ?? 0), 64);
    const half = this.headDim / 2;
    const cos = new Float32Array(maxPositions * half);
    const sin = new Float32Array(maxPositions * half);
    for (let p = 0; p < maxPositions; p++)
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(p * this.inv[i]!);
        cos[p * half + i] = this.scale === 1 ? Math.cos(angle) : Math.fround(Math.cos(angle)) * this.scale;
        sin[p * half + i] = this.scale === 1 ? Math.sin(angle) : Math.fround(Math.sin(angle)) * this.scale;
      }
    return (this.tables = { cos, sin, maxPositions, headDim: this.headDim });
  }
}

export class RopeCache {
  private readonly short: TableSet;
  /** LongRoPE's tables past the original context, and where they start; null for other scalings. */
  private readonly long: { set: TableSet; after: number } | null = null;

  constructor(spec: Pick<DecoderSpec, "headDim" | "ropeTheta" | "ropeScaling">) {
    const rs = spec.ropeScaling;
    const scale = rs.type === "longrope" ? rs.attentionFactor : 1;
    this.short = new TableSet(inverseFrequencies(spec), spec.headDim, scale);
    if (rs.type === "longrope") this.long = { set: new TableSet(inverseFrequencies(spec, true), spec.headDim, scale), after: rs.originalMaxPositions };
  }

  /**
   * Tables covering positions [0, needed), `needed` being the forward's largest position + 1.
   * LongRoPE switches the whole forward to its long factors when that passes the original
   * context, as transformers' longrope_frequency_update does per call (keys already in a KV
   * cache keep the rotation they were stored with, as in transformers' cache).
   */
  get(needed: number): RopeTables {
    return this.long && needed > this.long.after ? this.long.set.get(needed) : this.short.get(needed);
  }
}
