/**
 * Keys and values of every layer for a batch of rows decoded together, so that each new token
 * runs one position through the stack instead of the whole prefix. Rows are left-padded to one
 * common length (padding is masked out of attention and does not advance a row's positions), so
 * a row decodes exactly as it would alone.
 *
 * Layout per layer: k, v [B, capacity, KVH, D] float32; mask [B, capacity], 1 = a real token.
 */
import { attentionOverKv } from "../tensor/ops/attention.js";
import type { Tensor } from "../tensor/tensor.js";
import type { DecoderSpec } from "./spec.js";

export class KvCache {
  readonly k: Float32Array[] = [];
  readonly v: Float32Array[] = [];
  readonly mask: Uint8Array;
  /** Positions filled so far (the same for every row). */
  length = 0;
  /** Each row's next RoPE position: the real tokens it holds. */
  readonly nextPosition: Int32Array;
  /** Whether any filled slot is padding (else attention needs no key mask). */
  private padded = false;
  private readonly rowFloats: number;

  constructor(
    spec: DecoderSpec,
    readonly B: number,
    /** Positions allocated per row: prompt plus the tokens to generate. */
    readonly capacity: number,
  ) {
    if (!Number.isInteger(B) || B < 1) throw new RangeError(`KvCache: batch size must be a positive integer, got ${B}`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`KvCache: capacity must be a positive integer, got ${capacity}`);
    this.rowFloats = spec.numKvHeads * spec.headDim;
    for (let i = 0; i < spec.numLayers; i++) {
      this.k.push(new Float32Array(B * capacity * this.rowFloats));
      this.v.push(new Float32Array(B * capacity * this.rowFloats));
    }
    this.mask = new Uint8Array(B * capacity);
    this.nextPosition = new Int32Array(B);
  }

  /** Bytes held by the keys and values. */
  get bytes(): number {
    return 2 * this.k.length * this.B * this.capacity * this.rowFloats * 4;
  }

  /**
   * Registers T new tokens per row ([B·T] mask, 1 = real; null = all real) and returns their RoPE
   * positions [B·T]. A padded slot gets position 0 (it is never attended to). Call once per
   * forward, before the layers; `commit` then advances the length.
   */
  reserve(T: number, tokenMask: Uint8Array | null): Int32Array {
    if (this.length + T > this.capacity) throw new RangeError(`KvCache: ${this.length} + ${T} positions exceed its capacity of ${this.capacity}`);
    if (tokenMask && tokenMask.length !== this.B * T) throw new RangeError(`KvCache: token mask has ${tokenMask.length} entries for ${this.B}×${T} tokens`);
    const pos = new Int32Array(this.B * T);
    for (let b = 0; b < this.B; b++)
      for (let t = 0; t < T; t++) {
        const real = tokenMask ? tokenMask[b * T + t]! : 1;
        this.mask[b * this.capacity + this.length + t] = real;
        if (real) pos[b * T + t] = this.nextPosition[b]!++;
        else this.padded = true;
      }
    return pos;
  }

  commit(T: number): void {
    this.length += T;
  }

  /**
   * Layer `layer`'s attention for the T tokens being added: their k, v [B, T, KVH, D] are
   * written at the current length, then q [B, T, H, D] attends causally over everything held.
   */
  attend(layer: number, q: Tensor, k: Tensor, v: Tensor, scores: { scale?: number; softcap?: number; window?: number } = {}): Tensor {
    const [B, T] = q.shape as [number, number];
    const row = this.rowFloats;
    const kb = this.k[layer]!, vb = this.v[layer]!;
    const ks = k.f32, vs = v.f32;
    for (let b = 0; b < B; b++) {
      const dst = (b * this.capacity + this.length) * row;
      kb.set(ks.subarray(b * T * row, (b + 1) * T * row), dst);
      vb.set(vs.subarray(b * T * row, (b + 1) * T * row), dst);
    }
    return attentionOverKv(q, {
      k: kb,
      v: vb,
      S: this.length + T,
      stride: this.capacity,
      KVH: k.shape[2]!,
      keyMask: this.padded ? this.mask : null,
    }, { causal: true, ...scores });
  }
}
