/**
 * A decoder's architecture, normalised from a Hugging Face config.json by its family
 * (families/*.ts). Everything downstream (weights, forward, encoder, trainers) reads this, never
 * the raw config, so a new family only has to fill it in.
 */
import { EMBED_TOKENS, FINAL_NORM, linearTensorName, LM_HEAD, normName, type LinearModuleName } from "./names.js";

export type AttentionMode = "causal" | "bidirectional";

export type RopeScaling =
  | { type: "none" }
  | { type: "linear"; factor: number }
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface DecoderSpec {
  /** The model_type that built this spec (llama, mistral, qwen2, gemma). */
  family: string;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v (Qwen2, Llama attention_bias) and on o (Llama attention_bias only). */
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  activation: "silu" | "gelu_tanh";
  /** Gemma's RMSNorm multiplies by (1 + w). */
  normAddOne: boolean;
  /** Gemma multiplies embeddings by √hidden. */
  embedScale: number;
  /** Only applied in causal mode, as the reference disables it in bidirectional mode. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** Hugging Face's `_name_or_path` (informational: templates are never chosen by it). */
  nameOrPath: string | null;
  /** The checkpoint's declared dtype (torch_dtype / dtype). */
  dtype: string | null;
}

/** The seven projections LLM2Vec puts LoRA on, by their HF module names. */
export const LINEAR_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number] & LinearModuleName;

/** Every tensor a checkpoint of this spec holds, with its shape (Hugging Face names, names.ts). */
export function weightShapes(spec: DecoderSpec): Map<string, number[]> {
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: KVH, headDim: D, vocabSize: V } = spec;
  const m = new Map<string, number[]>();
  // [out, in] of each projection, and whether it carries a bias in this family.
  const proj: Record<LinearModule, [number, number, boolean]> = {
    q_proj: [H * D, C, spec.qkvBias],
    k_proj: [KVH * D, C, spec.qkvBias],
    v_proj: [KVH * D, C, spec.qkvBias],
    o_proj: [C, H * D, spec.oBias],
    gate_proj: [F, C, spec.mlpBias],
    up_proj: [F, C, spec.mlpBias],
    down_proj: [C, F, spec.mlpBias],
  };
  m.set(EMBED_TOKENS, [V, C]);
  for (let i = 0; i < spec.numLayers; i++) {
    m.set(normName(i, "input_layernorm"), [C]);
    m.set(normName(i, "post_attention_layernorm"), [C]);
    for (const name of LINEAR_MODULES) {
      const [out, inp, bias] = proj[name];
      m.set(linearTensorName(i, name, "weight"), [out, inp]);
      if (bias) m.set(linearTensorName(i, name, "bias"), [out]);
    }
  }
  m.set(FINAL_NORM, [C]);
  if (!spec.tieWordEmbeddings) m.set(LM_HEAD, [V, C]);
  return m;
}

export function parameterCount(spec: DecoderSpec): number {
  let n = 0;
  for (const s of weightShapes(spec).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
