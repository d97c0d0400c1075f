/**
 * Qwen2: Llama's blocks with biases on q/k/v (not o). Bidirectional mode is truly bidirectional
 * here, unlike the reference's eager/sdpa path (which keeps Qwen2 causal; llm2vec.md §1a).
 *
 * Qwen2Attention always builds q/k/v with a bias and o without (Qwen2Config has no
 * attention_bias); the MLP has none. The window follows Qwen2Config: `sliding_window` (default
 * 4096) applies only when `use_sliding_window` is true (false in released configs), and then only
 * to layers ≥ `max_window_layers` (default 28), or to the "sliding_attention" entries of
 * `layer_types` in newer configs. A spec has one window for all layers, so a config that slides
 * some layers and not others is rejected. The window is only honoured causally.
 */
import type { ConfigReader } from "../config-fields.js";
import type { DecoderSpec } from "../spec.js";
import { baseSpec, siluActivation } from "./llama.js";
import { preNormLayer } from "../blocks/layer.js";
import type { Family } from "../family.js";

/** Which layers `layer_types` (newer configs) marks "sliding_attention", or null when the config has no list (shared with gemma2.ts). */
export function slidingLayerTypes(cfg: ConfigReader, numLayers: number): boolean[] | null {
  const lt = cfg.raw.layer_types;
  if (lt === undefined || lt === null) return null;
  if (!Array.isArray(lt) || lt.length !== numLayers || !lt.every((t) => t === "sliding_attention" || t === "full_attention"))
    throw cfg.error("layer_types", `must list "sliding_attention" / "full_attention" for each of the ${numLayers} layers (num_hidden_layers), got ${JSON.stringify(lt)}`);
  return lt.map((t) => t === "sliding_attention");
}

/** The one window of Qwen2Config / Qwen3Config's sliding fields, or null (shared with qwen3.ts). */
export function slidingWindow(cfg: ConfigReader, numLayers: number): number | null {
  if (!cfg.bool("use_sliding_window", false)) return null;
  const window = cfg.absent("sliding_window") ? 4096 : cfg.has("sliding_window") ? cfg.int("sliding_window") : null;
  if (window === null) return null;
  const fromTypes = slidingLayerTypes(cfg, numLayers);
  let sliding = fromTypes;
  if (!sliding) {
    const first = cfg.count("max_window_layers", 28);
    sliding = Array.from({ length: numLayers }, (_, i) => i >= first);
  }
  if (sliding.every((s) => !s)) return null;
  if (sliding.every((s) => s)) return window;
  const field = fromTypes ? "layer_types" : "max_window_layers";
  throw cfg.error(field, `gives a sliding window to some layers only (use_sliding_window is true); llm2vec supports one window for all layers or none`);
}

export function qwen2Spec(cfg: ConfigReader): DecoderSpec {
  const base = baseSpec(cfg, {
    family: "qwen2",
    activation: siluActivation(cfg),
    maxPositions: 32768,
    tieWordEmbeddings: false,
    numKvHeadsIfAbsent: 32,
    attentionBias: { qkv: true, o: false },
    readsMlpBias: false,
  });
  return { ...base, slidingWindow: slidingWindow(cfg, base.numLayers) };
}

export const qwen2: Family = { spec: qwen2Spec, layer: preNormLayer };
