/**
 * A decoder's sizes and options, normalised from a Hugging Face config.json by its family
 * (families/*.ts). Everything downstream (weights, forward, encoder, trainers) reads this, never
 * the raw config; the family's layer builder turns it into blocks.
 */
import { declaredShapes } from "./build.js";
import { LINEAR_MODULES, type LinearModuleName } from "./names.js";

export type AttentionMode = "causal" | "bidirectional";

export type RopeScaling =
  | { type: "none" }
  | { type: "linear"; factor: number }
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }
  /**
   * Phi-3's LongRoPE: inv_freq divided per frequency by shortFactor while a forward's positions
   * stay within originalMaxPositions, by longFactor beyond; cos and sin scaled by attentionFactor.
   */
  | { type: "longrope"; shortFactor: number[]; longFactor: number[]; attentionFactor: number; originalMaxPositions: number };

export interface DecoderSpec {
  /** The model_type that built this spec (llama, mistral, qwen2, qwen3, gemma, gemma2, phi3): registry.ts's family that builds its layers. */
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
  /** The attention's score scale; absent: 1/√headDim (Gemma 2: query_pre_attn_scalar^−0.5). */
  attentionScale?: number;
  /** Gemma 2's attention-logit soft-cap c: scaled scores become c·tanh(score / c) before the mask. */
  attnLogitSoftcap?: number;
  /** Gemma 2's final-logit soft-cap c: the LM head's logits become c·tanh(logit / c). */
  finalLogitSoftcap?: number;
  /**
   * The attention its authors trained it with: "bidirectional" for checkpoints whose config.json
   * says `is_causal: false` or whose model_type is `llama_bidirec` (NVIDIA-style encoders).
   * Generation refuses such a model unless forced (DecodeOptions.forceCausal).
   */
  trainedAttention: AttentionMode;
  /**
   * One window for every layer, only applied in causal mode (the reference disables it in
   * bidirectional mode); causal inputs longer than it are refused (decoder.ts).
   */
  slidingWindow: number | null;
  /**
   * Each layer's own sliding window (null: global attention), applied by the attention kernels in
   * causal mode and dropped in bidirectional mode: Gemma 2's alternating local and global layers.
   */
  layerWindows?: (number | null)[];
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** Hugging Face's `_name_or_path` (informational: templates are never chosen by it). */
  nameOrPath: string | null;
  /** The checkpoint's declared dtype (torch_dtype / dtype). */
  dtype: string | null;
}

export { LINEAR_MODULES };
export type LinearModule = LinearModuleName;

/** Every tensor a checkpoint of this spec holds, with its shape (as its family declares them; build.ts). */
export function weightShapes(spec: DecoderSpec): Map<string, number[]> {
  return declaredShapes(spec);
}

export function parameterCount(spec: DecoderSpec): number {
  let n = 0;
  for (const s of weightShapes(spec).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
