/**
 * Qwen3: Qwen2's layer with a per-head RMSNorm on q and k before RoPE (`self_attn.q_norm`,
 * `self_attn.k_norm`, weights [head_dim], eps rms_norm_eps), an explicit head_dim, and attention
 * biases only when `attention_bias` (on q/k/v and o alike, as Qwen3Attention builds them).
 *
 * Follows Qwen3Config / modeling_qwen3: absent keys take the config class's defaults (head_dim
 * 128, num_key_value_heads 32, max_position_embeddings 32768, untied embeddings); the MLP has no
 * bias. The sliding-window fields (use_sliding_window, sliding_window, max_window_layers,
 * layer_types) read as Qwen2's do, and the window is only honoured causally: bidirectional mode
 * drops it, as the reference does for Mistral.
 */
import { layerOptions, PreNormLayer } from "../blocks/layer.js";
import type { ConfigReader } from "../config-fields.js";
import type { Family } from "../family.js";
import type { DecoderSpec } from "../spec.js";
import { baseSpec, siluActivation } from "./llama.js";
import { slidingWindow } from "./qwen2.js";

function qwen3Spec(cfg: ConfigReader): DecoderSpec {
  const base = baseSpec(cfg, {
    family: "qwen3",
    activation: siluActivation(cfg),
    maxPositions: 32768,
    tieWordEmbeddings: false,
    numKvHeadsIfAbsent: 32,
    headDim: 128,
    attentionBias: "config",
    readsMlpBias: false,
  });
  return { ...base, slidingWindow: slidingWindow(cfg, base.numLayers) };
}

export const qwen3: Family = {
  spec: qwen3Spec,
  layer: (vb, s) => new PreNormLayer(vb, layerOptions(s, { qkNorm: { eps: s.rmsNormEps, addOne: false } })),
};
