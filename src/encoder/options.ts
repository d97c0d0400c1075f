/**
 * The encoder's options: one schema (types, checks, defaults), shared by the library API, the CLI
 * flags and llm2vec_config.json (which uses the reference's snake_case keys).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { defaultsOf, fileKeyOf, oneOf, validateOptions as checkSchema, type OptionMeta } from "../train/option-schema.js";
import { CHAT_TEMPLATES, type ChatTemplateName, type TemplateChoice } from "./templates.js";
import { TRUNCATION_MODES } from "./truncate.js";
import type { ComputeDtype } from "../tensor/compute.js";

/** The compute dtype choices (models/compute-mode.ts): "auto" runs bf16 where the weights are 16-bit and this CPU's bf16 kernel is the faster. */
export const COMPUTE_DTYPE_OPTIONS = ["f32", "bf16", "auto"] as const;

export const POOLING_MODES = ["mean", "weighted_mean", "last_token", "eos_token", "bos_token"] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

const TEMPLATE_NAMES = Object.keys(CHAT_TEMPLATES) as ChatTemplateName[];
const nullableString = (meta: { default: null; description: string }) => Type.Union([Type.String(), Type.Null()], meta);

/**
 * The encoder's option set (./option-schema.ts): type, checks and defaults in one place. Defaults
 * are the values when nothing is chosen: chatTemplate "none" is what fromPretrained's "auto" gives
 * when no name rule matches.
 */
export const EncoderSchema = Type.Object({
  pooling: oneOf(POOLING_MODES, { default: "mean", fileKey: "pooling_mode" }),
  maxLength: Type.Integer({ exclusiveMinimum: 0, default: 512, description: "tokens per input after templating, special tokens included (right truncation)" }),
  docMaxLength: Type.Integer({ exclusiveMinimum: 0, default: 400, description: "word-ratio truncation of every text before templating (the reference's doc_max_length)" }),
  skipInstruction: Type.Boolean({ default: true, description: "pool only the text (and template suffix) tokens, not BOS, template prefix or instruction" }),
  bidirectional: Type.Boolean({ default: true, description: "bidirectional attention (LLM2Vec); false gives the causal baseline" }),
  chatTemplate: Type.Union([Type.Literal("auto"), ...TEMPLATE_NAMES.map((n) => Type.Literal(n)), Type.Object({ prefix: Type.String(), suffix: Type.String() }, { additionalProperties: false })], {
    default: "none",
    description: 'template wrapped around "instruction text": "auto" (the reference\'s name rules), a preset, or a custom {prefix, suffix}',
    expected: `"auto", one of ${TEMPLATE_NAMES.join(", ")}, or {"prefix": string, "suffix": string}`,
  }),
  truncation: oneOf(TRUNCATION_MODES, { default: "words", description: "how a text over docMaxLength tokens is cut: the reference's word ratio, or its first tokens" }),
  eosSuffix: nullableString({ default: null, description: "the eos_token pooling suffix; null = the reference's string for the model family" }),
  queryInstruction: nullableString({ default: null, description: "the instruction encodeQueries() gives a query when the call names none (null: queries go plain, as documents)" }),
  // How this machine runs the model, not what the model is: kept out of llm2vec_config.json.
  computeDtype: oneOf(COMPUTE_DTYPE_OPTIONS, {
    default: "f32",
    flag: "--dtype",
    file: false,
    description: "compute dtype of matrix products: f32 (default), bf16 (bf16 operands, f32 accumulation; norms, attention, losses stay f32) or auto (bf16 where the weights are 16-bit and this CPU's bf16 kernel is the faster; says which)",
  }),
});

/** The options as given (by a caller or llm2vec_config.json), before "auto" is resolved. */
export type EncoderOptionsInput = Static<typeof EncoderSchema>;

/** The options an encoder runs with: the template and the compute dtype are always explicit. */
export type EncoderOptions = Omit<EncoderOptionsInput, "chatTemplate" | "computeDtype"> & { chatTemplate: TemplateChoice; computeDtype: ComputeDtype };

export const DEFAULT_OPTIONS: EncoderOptions = defaultsOf<EncoderOptions>(EncoderSchema);

export const CONFIG_FILE = "llm2vec_config.json";

/** Checks the options given (any subset); errors name the source and the field. */
export function validateOptions<T extends Partial<EncoderOptionsInput>>(o: T, source: string): T {
  checkSchema(EncoderSchema, { ...DEFAULT_OPTIONS, ...o }, { source });
  return o;
}

/** Reads llm2vec_config.json from a folder, if present. Unknown keys are ignored on purpose. */
export function readConfigFile(dir: string): Partial<EncoderOptionsInput> {
  const file = path.join(dir, CONFIG_FILE);
  const raw = readJsonObject(file);
  if (!raw) return {};
  const out: Record<string, unknown> = {};
  for (const [k, p] of fileProperties()) if (Object.hasOwn(raw, fileKeyOf(k, p))) out[k] = raw[fileKeyOf(k, p)];
  return validateOptions(out as Partial<EncoderOptionsInput>, file);
}

/** A JSON object file, or null when there is no such file; errors name it. */
export function readJsonObject(file: string): Record<string, unknown> | null {
  if (!fs.existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object`);
  return raw as Record<string, unknown>;
}

export function configFileJson(o: EncoderOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of fileProperties()) out[fileKeyOf(k, p)] = o[k as keyof EncoderOptions];
  return out;
}

/** The options llm2vec_config.json holds (not those marked file: false). */
function fileProperties(): [string, TSchema][] {
  return Object.entries(EncoderSchema.properties).filter(([, p]) => (p as OptionMeta).file !== false);
}
