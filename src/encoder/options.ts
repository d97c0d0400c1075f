/**
 * The encoder's options: one definition with defaults, shared by the library API, the CLI flags
 * and llm2vec_config.json (which uses the reference's snake_case keys).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CHAT_TEMPLATES, isTemplateChoice, type TemplateChoice, type TemplateOption } from "./templates.js";
import { TRUNCATION_MODES, type TruncationMode } from "./truncate.js";

export const POOLING_MODES = ["mean", "weighted_mean", "last_token", "eos_token", "bos_token"] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export interface EncoderOptions {
  pooling: PoolingMode;
  /** Tokens per input after templating, special tokens included (right truncation). */
  maxLength: number;
  /** Word-ratio truncation of every text before templating (the reference's doc_max_length). */
  docMaxLength: number;
  /** Pool only the text (and template suffix) tokens, not BOS, template prefix or instruction. */
  skipInstruction: boolean;
  /** Bidirectional attention (LLM2Vec); false gives the causal baseline. */
  bidirectional: boolean;
  /**
   * Template wrapped around "instruction text": a preset or a custom {prefix, suffix}. What runs is
   * always explicit here; fromPretrained's default "auto" picks it by the reference's name rules.
   */
  chatTemplate: TemplateChoice;
  /** How a text over docMaxLength tokens is cut: the reference's word ratio, or its first tokens. */
  truncation: TruncationMode;
  /** The eos_token pooling suffix; null = the reference's string for the model family. */
  eosSuffix: string | null;
  /** The instruction encodeQueries() gives a query when the call names none (null: queries go plain, as documents). */
  queryInstruction: string | null;
}

/** The options as given (by a caller or llm2vec_config.json), before "auto" is resolved. */
export type EncoderOptionsInput = Omit<EncoderOptions, "chatTemplate"> & { chatTemplate: TemplateOption };

/** The values when nothing is chosen ("none": the template "auto" gives when no name rule matches). */
export const DEFAULT_OPTIONS: EncoderOptions = {
  pooling: "mean",
  maxLength: 512,
  docMaxLength: 400,
  skipInstruction: true,
  bidirectional: true,
  chatTemplate: "none",
  truncation: "words",
  eosSuffix: null,
  queryInstruction: null,
};

export const CONFIG_FILE = "llm2vec_config.json";

/** llm2vec_config.json keys ↔ option names. The first four are the reference's own keys. */
const FILE_KEYS: Record<string, keyof EncoderOptions> = {
  pooling_mode: "pooling",
  max_length: "maxLength",
  doc_max_length: "docMaxLength",
  skip_instruction: "skipInstruction",
  bidirectional: "bidirectional",
  chat_template: "chatTemplate",
  truncation: "truncation",
  eos_suffix: "eosSuffix",
  query_instruction: "queryInstruction",
};

export function validateOptions<T extends Partial<EncoderOptionsInput>>(o: T, source: string): T {
  const fail = (field: string, detail: string) => {
    throw new Error(`${source}: ${field} ${detail}`);
  };
  if (o.pooling !== undefined && !POOLING_MODES.includes(o.pooling)) fail("pooling", `must be one of ${POOLING_MODES.join(", ")}, got ${JSON.stringify(o.pooling)}`);
  for (const k of ["maxLength", "docMaxLength"] as const)
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || o[k]! <= 0)) fail(k, `must be a positive integer, got ${JSON.stringify(o[k])}`);
  for (const k of ["skipInstruction", "bidirectional"] as const)
    if (o[k] !== undefined && typeof o[k] !== "boolean") fail(k, `must be true or false, got ${JSON.stringify(o[k])}`);
  if (o.chatTemplate !== undefined && o.chatTemplate !== "auto" && !isTemplateChoice(o.chatTemplate))
    fail("chatTemplate", `must be "auto", one of ${Object.keys(CHAT_TEMPLATES).join(", ")}, or {"prefix": string, "suffix": string}, got ${JSON.stringify(o.chatTemplate)}`);
  if (o.truncation !== undefined && !TRUNCATION_MODES.includes(o.truncation))
    fail("truncation", `must be one of ${TRUNCATION_MODES.join(", ")}, got ${JSON.stringify(o.truncation)}`);
  for (const k of ["eosSuffix", "queryInstruction"] as const)
    if (o[k] !== undefined && o[k] !== null && typeof o[k] !== "string") fail(k, `must be a string or null, got ${JSON.stringify(o[k])}`);
  return o;
}

/** Reads llm2vec_config.json from a folder, if present. Unknown keys are ignored on purpose. */
export function readConfigFile(dir: string): Partial<EncoderOptionsInput> {
  const file = path.join(dir, CONFIG_FILE);
  const raw = readJsonObject(file);
  if (!raw) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (FILE_KEYS[k]) out[FILE_KEYS[k]!] = v;
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
  for (const [k, name] of Object.entries(FILE_KEYS)) out[k] = o[name];
  return out;
}
