/**
 * The pre-norm decoder layer of Llama and the families built like it (Mistral, Qwen2, Qwen3,
 * Gemma): x + attn(norm(x)), then + mlp(norm(·)). A family that differs in its blocks passes other
 * options; one that differs in the wiring (Gemma 2's extra norms) writes its own layer.
 */
import type { Tensor } from "../../tensor/tensor.js";
import type { LinearLayer } from "../linear.js";
import type { LinearModuleName } from "../names.js";
import type { DecoderSpec } from "../spec.js";
import type { WeightBuilder } from "../weight-builder.js";
import { Attention, type AttentionOptions } from "./attention.js";
import type { LayerCall } from "./call.js";
import { GatedMlp, type MlpOptions } from "./mlp.js";
import { RmsNorm, type NormOptions } from "./norm.js";

/** One decoder layer: its forward, and its projections by module name (the live objects LoRA wraps). */
export interface DecoderLayer {
  readonly linears: Partial<Record<LinearModuleName, LinearLayer>>;
  forward(x: Tensor, c: LayerCall): Tensor;
}

export interface LayerOptions {
  norm: NormOptions;
  attention: AttentionOptions;
  mlp: MlpOptions;
}

/** The blocks' options a spec implies; `attention` and `mlp` override what the spec does not say (q/k norms, fused projections). */
export function layerOptions(s: DecoderSpec, attention: Partial<AttentionOptions> = {}, mlp: Partial<MlpOptions> = {}): LayerOptions {
  const norm = { eps: s.rmsNormEps, addOne: s.normAddOne };
  return {
    norm,
    attention: { hiddenSize: s.hiddenSize, numHeads: s.numHeads, numKvHeads: s.numKvHeads, headDim: s.headDim, qkvBias: s.qkvBias, oBias: s.oBias, qkNorm: null, fusedQkv: false, scores: { scale: s.attentionScale, softcap: s.attnLogitSoftcap }, ...attention },
    mlp: { hiddenSize: s.hiddenSize, intermediateSize: s.intermediateSize, activation: s.activation, bias: s.mlpBias, fusedGateUp: false, ...mlp },
  };
}

export class PreNormLayer implements DecoderLayer {
  readonly input_layernorm: RmsNorm;
  readonly post_attention_layernorm: RmsNorm;
  readonly self_attn: Attention;
  readonly mlp: GatedMlp;
  readonly linears: Partial<Record<LinearModuleName, LinearLayer>>;

  constructor(vb: WeightBuilder, o: LayerOptions) {
    // Declaration order is the order of the model's named weights (saved files, fingerprints).
    this.input_layernorm = new RmsNorm(vb.pp("input_layernorm"), o.attention.hiddenSize, o.norm);
    this.post_attention_layernorm = new RmsNorm(vb.pp("post_attention_layernorm"), o.attention.hiddenSize, o.norm);
    this.self_attn = new Attention(vb.pp("self_attn"), o.attention);
    this.mlp = new GatedMlp(vb.pp("mlp"), o.mlp);
    this.linears = { ...this.self_attn.linears, ...this.mlp.linears };
  }

  forward(x: Tensor, c: LayerCall): Tensor {
    const h = c.residual(x, (x) => this.self_attn.forward(this.input_layernorm.forward(x), c));
    return c.residual(h, (h) => this.mlp.forward(this.post_attention_layernorm.forward(h), c));
  }
}

/** The layer of a family whose spec says all there is to say (Llama, Mistral, Qwen2, Gemma). */
export function preNormLayer(vb: WeightBuilder, s: DecoderSpec): DecoderLayer {
  return new PreNormLayer(vb, layerOptions(s));
}
