/**
 * Qwen2: Llama's blocks with biases on q/k/v (not o). Bidirectional mode is truly bidirectional
 * here, unlike the reference's eager/sdpa path (which keeps Qwen2 causal; llm2vec.md §1a).
 * Qwen2's use_sliding_window is false in released configs; a true value is only honoured causally.
 */
import type { ConfigReader } from "../config-fields.js";
import type { DecoderSpec } from "../spec.js";
import { llamaSpec } from "./llama.js";

export function qwen2Spec(cfg: ConfigReader): DecoderSpec {
  const useSw = cfg.bool("use_sliding_window", false);
  return {
    ...llamaSpec(cfg),
    family: "qwen2",
    qkvBias: true,
    oBias: false,
    slidingWindow: useSw && cfg.has("sliding_window") ? cfg.int("sliding_window") : null,
  };
}
