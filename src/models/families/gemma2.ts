/**
 * Gemma 2: Gemma's (1 + w) RMSNorm, √hidden embedding scale, GELU-tanh gated MLP, explicit
 * head_dim and tied head, plus scores scaled by query_pre_attn_scalar^−0.5, attention logits
 * soft-capped (c·tanh(s / c), before the mask), the LM head's logits soft-capped, and four norms
 * per layer: the attention's and the MLP's outputs are normed before their residual adds.
 *
 * Follows Gemma2Config / modeling_gemma2 (Gemma2Attention, Gemma2DecoderLayer, Gemma2ForCausalLM):
 * absent keys take the config class's defaults (head_dim 256, query_pre_attn_scalar 256,
 * attn_logit_softcapping 50, final_logit_softcapping 30, sliding_window 4096, 4 kv heads); an
 * explicit null turns a soft-cap off, as HF's `is not None` checks do. Even layers (0, 2, …) are
 * local (a causal sliding window of `sliding_window` keys), odd ones global, or as `layer_types`
 * lists them (spec.layerWindows); bidirectional mode drops the window, as the reference does for
 * Mistral.
 */
import { PreNormLayer, layerOptions, type DecoderLayer, type LayerOptions } from "../blocks/layer.js";
import { RmsNorm } from "../blocks/norm.js";
import type { LayerCall } from "../blocks/call.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { ConfigReader } from "../config-fields.js";
import type { Family } from "../family.js";
import type { DecoderSpec } from "../spec.js";
import type { WeightBuilder } from "../weight-builder.js";
import { gemmaSpec } from "./gemma.js";
import { slidingLayerTypes } from "./qwen2.js";

/** A soft-cap field: the default when absent, none when null, else a positive number (0 or negative refused). */
function capField(cfg: ConfigReader, field: string, fallback: number): number | undefined {
  if (cfg.absent(field)) return fallback;
  if (cfg.raw[field] === null) return undefined;
  const v = cfg.raw[field];
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw cfg.error(field, `must be a positive number (the soft-cap c in c·tanh(x / c)) or null for none, got ${JSON.stringify(v)}`);
  return v;
}

/** Each layer's window (null: global) of Gemma2Config's alternating local/global layers, or undefined when none slides. */
function layerWindows(cfg: ConfigReader, numLayers: number): (number | null)[] | undefined {
  // Gemma2Attention: `config.sliding_window if not bool(layer_idx % 2)`: layers 0, 2, … slide.
  const sliding = slidingLayerTypes(cfg, numLayers) ?? Array.from({ length: numLayers }, (_, i) => i % 2 === 0);
  const window = cfg.absent("sliding_window") ? 4096 : cfg.has("sliding_window") ? cfg.int("sliding_window") : null;
  if (window === null || !sliding.some((s) => s)) return undefined;
  return sliding.map((s) => (s ? window : null));
}

function gemma2Spec(cfg: ConfigReader): DecoderSpec {
  // Newer Gemma2Config has use_bidirectional_attention; what HF's masks then do is not modelled here.
  if (cfg.bool("use_bidirectional_attention", false)) throw cfg.error("use_bidirectional_attention", "is true, which llm2vec does not support for gemma2 (run it with the bidirectional mode instead)");
  const base = gemmaSpec(cfg, { family: "gemma2", numKvHeadsIfAbsent: 4 });
  return {
    ...base,
    attentionScale: cfg.num("query_pre_attn_scalar", 256) ** -0.5,
    attnLogitSoftcap: capField(cfg, "attn_logit_softcapping", 50),
    finalLogitSoftcap: capField(cfg, "final_logit_softcapping", 30),
    layerWindows: layerWindows(cfg, base.numLayers),
  };
}

/** Gemma2DecoderLayer: x + post_attn_norm(attn(input_norm(x))), then + post_ffw_norm(mlp(pre_ffw_norm(·))). */
class Gemma2Layer implements DecoderLayer {
  readonly inner: PreNormLayer;
  readonly pre_feedforward_layernorm: RmsNorm;
  readonly post_feedforward_layernorm: RmsNorm;
  readonly linears: DecoderLayer["linears"];

  constructor(vb: WeightBuilder, o: LayerOptions) {
    // input_layernorm, post_attention_layernorm, self_attn and mlp as the pre-norm layer declares them.
    this.inner = new PreNormLayer(vb, o);
    this.pre_feedforward_layernorm = new RmsNorm(vb.pp("pre_feedforward_layernorm"), o.attention.hiddenSize, o.norm);
    this.post_feedforward_layernorm = new RmsNorm(vb.pp("post_feedforward_layernorm"), o.attention.hiddenSize, o.norm);
    this.linears = this.inner.linears;
  }

  forward(x: Tensor, c: LayerCall): Tensor {
    const { input_layernorm, post_attention_layernorm, self_attn, mlp } = this.inner;
    const h = c.residual(x, (x) => post_attention_layernorm.forward(self_attn.forward(input_layernorm.forward(x), c)));
    return c.residual(h, (h) => this.post_feedforward_layernorm.forward(mlp.forward(this.pre_feedforward_layernorm.forward(h), c)));
  }
}

export const gemma2: Family = { spec: gemma2Spec, layer: (vb, s) => new Gemma2Layer(vb, layerOptions(s)) };
