/**
 * `config.json` of a Hugging Face Llama / Mistral / Qwen2 / Gemma checkpoint, parsed into a
 * typed and validated `ModelConfig`. Defaults follow the transformers config classes
 * (num_key_value_heads = heads, rope_theta 10000, …). Every error names the file and field.
 */
import * as fs from "node:fs";

export type RopeScaling =
  | { ropeType: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | { ropeType: "linear"; factor: number }
  | { ropeType: "dynamic"; factor: number; originalMaxPositionEmbeddings?: number };

export interface ModelConfig {
  modelType: "llama" | "mistral" | "qwen2" | "gemma" | "gemma2";
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Defaults to numAttentionHeads. */
  numKeyValueHeads: number;
  /** Explicit head_dim, else hiddenSize / numAttentionHeads. */
  headDim: number;
  rmsNormEps: number;
  /** Default 10000. */
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | number[] | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | number[] | null;
  /** torch_dtype (older) or dtype (newer transformers), e.g. "bfloat16"; null when absent. */
  torchDtype: string | null;
  /** The MLP activation: hidden_act ("silu"), or for Gemma hidden_activation (default "gelu_pytorch_tanh"). */
  hiddenAct: string;
  /**
   * Bias on the attention projections. Llama/Mistral read `attention_bias` (q/k/v/o). Qwen2 has
   * no such field: its q/k/v always have a bias (o does not), so this defaults to true there.
   */
  attentionBias: boolean;
  /** Null when absent or disabled (Qwen2 with use_sliding_window false). */
  slidingWindow: number | null;
  nameOrPath: string | null;
  /** The parsed JSON as found, for fields not modelled here. */
  raw: Record<string, unknown>;
}

export const SUPPORTED_MODEL_TYPES = ["llama", "mistral", "qwen2", "gemma", "gemma2"] as const;

class Fields {
  constructor(
    readonly file: string,
    readonly o: Record<string, unknown>,
  ) {}
  err(field: string, msg: string): Error {
    return new Error(`${this.file}: field "${field}" ${msg}`);
  }
  has(k: string): boolean {
    return this.o[k] !== undefined && this.o[k] !== null;
  }
  posInt(k: string, dflt?: number): number {
    const v = this.o[k];
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      throw this.err(k, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw this.err(k, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }
  posNum(k: string, dflt?: number): number {
    const v = this.o[k];
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      throw this.err(k, "is missing");
    }
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw this.err(k, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(k: string, dflt: boolean): boolean {
    const v = this.o[k];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== "boolean") throw this.err(k, `must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  }
  str(k: string): string | null {
    const v = this.o[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw this.err(k, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }
  tokenId(k: string): number | number[] | null {
    const v = this.o[k];
    if (v === undefined || v === null) return null;
    const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= 0;
    if (ok(v)) return v as number;
    if (Array.isArray(v) && v.length > 0 && v.every(ok)) return [...(v as number[])];
    throw this.err(k, `must be a token id or a list of token ids, got ${JSON.stringify(v)}`);
  }
}

function parseRopeScaling(f: Fields): RopeScaling | null {
  const v = f.o.rope_scaling;
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) throw f.err("rope_scaling", "must be null or an object");
  const r = new Fields(f.file, v as Record<string, unknown>);
  // transformers accepts both keys; "type" is the older spelling.
  const t = r.str("rope_type") ?? r.str("type");
  const sub = (k: string) => `rope_scaling.${k}`;
  const num = (k: string, dflt?: number) => {
    try {
      return r.posNum(k, dflt);
    } catch {
      throw f.err(sub(k), `must be a positive number, got ${JSON.stringify(r.o[k])}`);
    }
  };
  switch (t) {
    case "default":
      return null;
    case "llama3":
      return {
        ropeType: "llama3",
        factor: num("factor"),
        lowFreqFactor: num("low_freq_factor"),
        highFreqFactor: num("high_freq_factor"),
        originalMaxPositionEmbeddings: num("original_max_position_embeddings"),
      };
    case "linear":
      return { ropeType: "linear", factor: num("factor") };
    case "dynamic": {
      const out: RopeScaling = { ropeType: "dynamic", factor: num("factor") };
      if (r.has("original_max_position_embeddings")) out.originalMaxPositionEmbeddings = num("original_max_position_embeddings");
      return out;
    }
    default:
      throw f.err("rope_scaling.rope_type", `has unsupported value ${JSON.stringify(t)} (supported: llama3, linear, dynamic, default)`);
  }
}

/** Validate an already-parsed config object; `file` is used in error messages. */
export function parseModelConfig(raw: unknown, file = "config.json"): ModelConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${file}: not a JSON object`);
  const f = new Fields(file, raw as Record<string, unknown>);
  const modelType = f.str("model_type");
  if (modelType === null) throw f.err("model_type", "is missing");
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw f.err("model_type", `has unsupported value "${modelType}" (supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`);
  }
  const hiddenSize = f.posInt("hidden_size");
  const numAttentionHeads = f.posInt("num_attention_heads");
  const numKeyValueHeads = f.posInt("num_key_value_heads", numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw f.err("num_key_value_heads", `(${numKeyValueHeads}) must divide num_attention_heads (${numAttentionHeads})`);
  }
  let headDim: number;
  if (f.has("head_dim")) headDim = f.posInt("head_dim");
  else {
    if (hiddenSize % numAttentionHeads !== 0) throw f.err("hidden_size", `(${hiddenSize}) is not divisible by num_attention_heads (${numAttentionHeads}) and no head_dim is given`);
    headDim = hiddenSize / numAttentionHeads;
  }
  if (headDim % 2 !== 0) throw f.err("head_dim", `(${headDim}) must be even for RoPE`);
  const isGemma = modelType.startsWith("gemma");
  // Gemma's MLP reads only `hidden_activation`; when it is absent transformers (≥4.39) ignores
  // `hidden_act` (often "gelu" in the original configs) and uses the tanh approximation.
  const hiddenAct = isGemma
    ? (f.str("hidden_activation") ?? "gelu_pytorch_tanh")
    : (f.str("hidden_act") ?? f.str("hidden_activation") ?? "silu");
  // Qwen2 lists a sliding_window but applies it only when use_sliding_window is true.
  const slidingOn = modelType !== "qwen2" || f.bool("use_sliding_window", false);
  const slidingWindow = slidingOn && f.has("sliding_window") ? f.posInt("sliding_window") : null;
  return {
    modelType: modelType as ModelConfig["modelType"],
    hiddenSize,
    intermediateSize: f.posInt("intermediate_size"),
    numHiddenLayers: f.posInt("num_hidden_layers"),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: f.posNum("rms_norm_eps", 1e-6),
    ropeTheta: f.posNum("rope_theta", 10000),
    ropeScaling: parseRopeScaling(f),
    vocabSize: f.posInt("vocab_size"),
    maxPositionEmbeddings: f.posInt("max_position_embeddings", 2048),
    // The Llama/Mistral/Qwen2 config classes default to untied, Gemma's to tied.
    tieWordEmbeddings: f.bool("tie_word_embeddings", isGemma),
    bosTokenId: f.tokenId("bos_token_id"),
    eosTokenId: f.tokenId("eos_token_id"),
    padTokenId: f.tokenId("pad_token_id"),
    torchDtype: f.str("torch_dtype") ?? f.str("dtype"),
    hiddenAct,
    attentionBias: f.bool("attention_bias", modelType === "qwen2"),
    slidingWindow,
    nameOrPath: f.str("_name_or_path"),
    raw: raw as Record<string, unknown>,
  };
}

export function readModelConfig(file: string): ModelConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read model config: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  return parseModelConfig(raw, file);
}
