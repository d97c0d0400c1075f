/** Model families keyed by config.json's model_type: a table, so adding one touches one line. */
import { ConfigError, ConfigReader, type RawConfig } from "./config-fields.js";
import { gemmaSpec } from "./families/gemma.js";
import { llamaSpec } from "./families/llama.js";
import { mistralSpec } from "./families/mistral.js";
import { qwen2Spec } from "./families/qwen2.js";
import type { DecoderSpec } from "./spec.js";

const FAMILIES: Record<string, (cfg: ConfigReader) => DecoderSpec> = {
  llama: llamaSpec,
  mistral: mistralSpec,
  qwen2: qwen2Spec,
  gemma: gemmaSpec,
};

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES);

export function specFromConfig(raw: RawConfig, source = "config.json"): DecoderSpec {
  const cfg = new ConfigReader(raw, source);
  const type = cfg.str("model_type");
  if (!type) throw new ConfigError(source, "model_type", `is missing (supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`);
  const build = FAMILIES[type];
  if (!build) throw new ConfigError(source, "model_type", `is ${JSON.stringify(type)}, which llm2vec does not support (supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`);
  return build(cfg);
}
