/**
 * Mistral: Llama's blocks plus a sliding window. The reference's bidirectional Mistral drops the
 * window (its all-zero mask multiplies it away), so the window only applies to causal runs.
 * MistralConfig defaults: sliding_window 4096 when the key is absent (null disables it),
 * num_key_value_heads 8 when absent, max_position_embeddings 4096 * 32; no biases anywhere
 * (MistralAttention / MistralMLP are built with bias=False, attention_bias / mlp_bias are ignored).
 */
import type { ConfigReader } from "../config-fields.js";
import type { DecoderSpec } from "../spec.js";
import { baseSpec, siluActivation } from "./llama.js";
import { preNormLayer } from "../blocks/layer.js";
import type { Family } from "../family.js";

export function mistralSpec(cfg: ConfigReader): DecoderSpec {
  const slidingWindow = cfg.absent("sliding_window") ? 4096 : cfg.has("sliding_window") ? cfg.int("sliding_window") : null;
  const base = baseSpec(cfg, {
    family: "mistral",
    activation: siluActivation(cfg),
    maxPositions: 4096 * 32,
    tieWordEmbeddings: false,
    numKvHeadsIfAbsent: 8,
    attentionBias: { qkv: false, o: false },
    readsMlpBias: false,
  });
  return { ...base, slidingWindow };
}

export const mistral: Family = { spec: mistralSpec, layer: preNormLayer };
