/**
 * Grouped-query self-attention as Hugging Face's *Attention modules compute it: q/k/v
 * projections (three, or Phi-3's one fused qkv_proj whose output rows are q, k, v in turn),
 * optionally a per-head RMSNorm of q and k (Qwen3's q_norm / k_norm), rotate-half RoPE,
 * softmax(q·kᵀ/√D) over the keys the mode allows (Gemma 2: another scale and soft-capped
 * scores), and the output projection.
 */
import { narrow, reshape } from "../../tensor/ops/index.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { LinearLayer } from "../linear.js";
import type { LinearModuleName } from "../names.js";
import type { WeightBuilder } from "../weight-builder.js";
import type { LayerCall, ScoreOptions } from "./call.js";
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
  /** One stored `qkv_proj` weight [(H + 2·KVH)·D, C] run as one product, split after (Phi-3). */
  fusedQkv: boolean;
  /** The score scale (default 1/√D) and the logit soft-cap (Gemma 2), as c.attend takes them. */
  scores?: ScoreOptions;
}

export class Attention {
  /** The projections by module name (q/k/v or qkv, and o): the live objects LoRA wraps. */
  readonly linears: Partial<Record<LinearModuleName, LinearLayer>>;
  readonly o_proj: LinearLayer;
  readonly q_norm: RmsNorm | null;
  readonly k_norm: RmsNorm | null;
  /** h → q [.., H·D], k, v [.., KVH·D]. */
  private readonly project: (h: Tensor, c: LayerCall) => [Tensor, Tensor, Tensor];

  constructor(vb: WeightBuilder, readonly o: AttentionOptions) {
    const { hiddenSize: C, numHeads: H, numKvHeads: KVH, headDim: D } = o;
    if (o.fusedQkv) {
      const qkv_proj = vb.linear("qkv_proj", C, (H + 2 * KVH) * D, o.qkvBias);
      this.linears = { qkv_proj };
      this.project = (h, c) => {
        const qkv = c.linear("qkv_proj", qkv_proj, h);
        return [narrow(qkv, -1, 0, H * D), narrow(qkv, -1, H * D, KVH * D), narrow(qkv, -1, (H + KVH) * D, KVH * D)];
      };
    } else {
      const q_proj = vb.linear("q_proj", C, H * D, o.qkvBias);
      const k_proj = vb.linear("k_proj", C, KVH * D, o.qkvBias);
      const v_proj = vb.linear("v_proj", C, KVH * D, o.qkvBias);
      this.linears = { q_proj, k_proj, v_proj };
      this.project = (h, c) => [c.linear("q_proj", q_proj, h), c.linear("k_proj", k_proj, h), c.linear("v_proj", v_proj, h)];
    }
    this.o_proj = vb.linear("o_proj", H * D, C, o.oBias);
    this.linears = { ...this.linears, o_proj: this.o_proj };
    this.q_norm = o.qkNorm && new RmsNorm(vb.pp("q_norm"), D, o.qkNorm);
    this.k_norm = o.qkNorm && new RmsNorm(vb.pp("k_norm"), D, o.qkNorm);
  }

  /** h [B, T, C] → [B, T, C]. */
  forward(h: Tensor, c: LayerCall): Tensor {
    const { B, T } = c.run;
    const { numHeads: H, numKvHeads: KVH, headDim: D } = this.o;
    const [qf, kf, vf] = this.project(h, c);
    let q = reshape(qf, [B, T, H, D]);
    let k = reshape(kf, [B, T, KVH, D]);
    const v = reshape(vf, [B, T, KVH, D]);
    if (this.q_norm && this.k_norm) {
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    const a = c.attend(c.rope(q), c.rope(k), v, this.o.scores);
    return c.linear("o_proj", this.o_proj, reshape(a, [B, T, H * D]));
  }
}
