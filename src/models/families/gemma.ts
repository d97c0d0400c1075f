/**
 * Gemma (1): RMSNorm with (1 + w), embeddings scaled by √hidden, GELU-tanh gated MLP, an
 * explicit head_dim (256 in gemma-2b/7b, not hidden/heads), tied embeddings.
 */
import { ConfigError, type ConfigReader } from "../config-fields.js";
import type { DecoderSpec } from "../spec.js";
import { llamaSpec } from "./llama.js";

const GELU_TANH = new Set(["gelu_pytorch_tanh", "gelu_tanh", "gelu"]);

export function gemmaSpec(cfg: ConfigReader): DecoderSpec {
  // HF Gemma reads hidden_activation (falling back to hidden_act) and always uses the tanh GELU.
  const act = cfg.str("hidden_activation") ?? cfg.str("hidden_act", "gelu_pytorch_tanh");
  if (!GELU_TANH.has(act!)) throw new ConfigError(cfg.source, "hidden_activation", `is ${JSON.stringify(act)}; Gemma supports gelu_pytorch_tanh`);
  const base = llamaSpec(new (cfg.constructor as typeof ConfigReader)({ ...cfg.raw, hidden_act: "silu" }, cfg.source));
  // Gemma computes √hidden in the activation dtype (float32 here): Math.fround mirrors that.
  return {
    ...base,
    family: "gemma",
    activation: "gelu_tanh",
    normAddOne: true,
    embedScale: Math.fround(Math.sqrt(base.hiddenSize)),
    tieWordEmbeddings: cfg.bool("tie_word_embeddings", true),
  };
}
