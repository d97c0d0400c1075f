/**
 * Model families keyed by config.json's model_type: a table, so adding one touches one line.
 * `specFromConfig` is the one interpreter of config.json (the formats layer only reads the file).
 */
import { ConfigError, ConfigReader, type RawConfig } from "./config-fields.js";
import { gemma } from "./families/gemma.js";
import { gemma2 } from "./families/gemma2.js";
import { llama, llamaBidirec } from "./families/llama.js";
import { mistral } from "./families/mistral.js";
import { phi3 } from "./families/phi3.js";
import { qwen2 } from "./families/qwen2.js";
import { qwen3 } from "./families/qwen3.js";
import type { Family } from "./family.js";
import type { DecoderSpec } from "./spec.js";

const FAMILIES: Record<string, Family> = { llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, llama_bidirec: llamaBidirec };

/** Types that look close to a supported one but are different architectures. */
const NOT_LIKE: Record<string, string> = {
  gemma3: "Gemma 3 is a different architecture from Gemma (q/k norms, alternating sliding/global attention, extra norms)",
  gemma3_text: "Gemma 3 is a different architecture from Gemma (q/k norms, alternating sliding/global attention, extra norms)",
};

export const SUPPORTED_MODEL_TYPES = Object.keys(FAMILIES);

/** Build a DecoderSpec from a parsed config.json; `source` (the file) is named in every error. */
export function specFromConfig(raw: RawConfig, source = "config.json"): DecoderSpec {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${source}: not a JSON object`);
  const cfg = new ConfigReader(raw, source);
  const supported = `(supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`;
  const type = cfg.str("model_type");
  if (!type) throw new ConfigError(source, "model_type", `is missing ${supported}`);
  const build = Object.prototype.hasOwnProperty.call(FAMILIES, type) ? FAMILIES[type] : undefined;
  if (!build) {
    const why = Object.prototype.hasOwnProperty.call(NOT_LIKE, type) ? `: ${NOT_LIKE[type]}` : "";
    throw new ConfigError(source, "model_type", `is ${JSON.stringify(type)}, which llm2vec does not support${why} ${supported}`);
  }
  return build.spec(cfg);
}

/** The family that builds a spec's layers (spec.family is a model_type). */
export function familyOf(type: string): Family {
  const f = Object.prototype.hasOwnProperty.call(FAMILIES, type) ? FAMILIES[type] : undefined;
  if (!f) throw new Error(`model family ${JSON.stringify(type)} is not one llm2vec builds (supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`);
  return f;
}
