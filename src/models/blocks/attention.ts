/**
 * Grouped-query self-attention as Hugging Face's *Attention modules compute it: q/k/v
 * projections, optionally a per-head RMSNorm of q and k (Qwen3's q_norm / k_norm), rotate-half
 * RoPE, softmax(q·kᵀ/√D) over the keys the mode allows, and the output projection.
 */
import { reshape } from "../../tensor/ops/index.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { LinearLayer } from "../linear.js";
import type { WeightBuilder } from "../weight-builder.js";
import type { LayerCall } from "./call.js";
import { RmsNorm, type NormOptions } from "./norm.js";

export interface AttentionOptions {
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Biases on q/k/v, and on o. */
  qkvBias: boolean;
  oBias: boolean;
  /** RMSNorm over each head of q and of k before RoPE (weights [headDim]), or none. */
  qkNorm: NormOptions | null;
}

export class Attention {
  readonly q_proj: LinearLayer;
  readonly k_proj: LinearLayer;
  readonly v_proj: LinearLayer;
  readonly o_proj: LinearLayer;
  readonly q_norm: RmsNorm | null;
  readonly k_norm: RmsNorm | null;

  constructor(vb: WeightBuilder, readonly o: AttentionOptions) {
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D } = o;
    this.q_proj = vb.linear("q_proj", C, H * D, o.qkvBias);
    this.k_proj = vb.linear("k_proj", C, KVH * D, o.qkvBias);
    this.v_proj = vb.linear("v_proj", C, KVH * D, o.qkvBias);
    this.o_proj = vb.linear("o_proj", H * D, C, o.oBias);
    this.q_norm = o.qkNorm && new RmsNorm(vb.pp("q_norm"), D, o.qkNorm);
    this.k_norm = o.qkNorm && new RmsNorm(vb.pp("k_norm"), D, o.qkNorm);
  }

  /** h [B, T, C] → [B, T, C]. */
  forward(h: Tensor, c: LayerCall): Tensor {
    const { B, T } = c.run;
    const { numHeads: H, numKvHeads: KVH, headDim: D } = this.o;
    let q = reshape(c.linear("q_proj", this.q_proj, h), [B, T, H, D]);
    let k = reshape(c.linear("k_proj", this.k_proj, h), [B, T, KVH, D]);
    const v = reshape(c.linear("v_proj", this.v_proj, h), [B, T, KVH, D]);
    if (this.q_norm && this.k_norm) {
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    const a = c.attend(c.rope(q), c.rope(k), v);
    return c.linear("o_proj", this.o_proj, reshape(a, [B, T, H * D]));
  }
}
