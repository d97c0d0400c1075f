/**
 * Mistral: Llama's blocks plus a sliding window. The reference's bidirectional Mistral drops the
 * window (its all-zero mask multiplies it away), so the window only applies to causal runs.
 */
import type { ConfigReader } from "../config-fields.js";
import type { DecoderSpec } from "../spec.js";
import { llamaSpec } from "./llama.js";

export function mistralSpec(cfg: ConfigReader): DecoderSpec {
  const sw = cfg.has("sliding_window") ? cfg.int("sliding_window") : null;
  return { ...llamaSpec(cfg), family: "mistral", slidingWindow: sw, qkvBias: false, oBias: false };
}
