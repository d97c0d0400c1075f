/**
 * A decoder's architecture, normalised from a Hugging Face config.json by its family
 * (families/*.ts). Everything downstream (weights, forward, encoder, trainers) reads this, never
 * the raw config, so a new family only has to fill it in.
 */
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
export type LinearModule = (typeof LINEAR_MODULES)[number];

/** Every tensor a checkpoint of this spec holds, with its shape (Hugging Face names). */
export function weightShapes(spec: DecoderSpec): Map<string, number[]> {
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: KVH, headDim: D, vocabSize: V } = spec;
  const m = new Map<string, number[]>();
  m.set("model.embed_tokens.weight", [V, C]);
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(`${p}input_layernorm.weight`, [C]);
    m.set(`${p}post_attention_layernorm.weight`, [C]);
    m.set(`${p}self_attn.q_proj.weight`, [H * D, C]);
    m.set(`${p}self_attn.k_proj.weight`, [KVH * D, C]);
    m.set(`${p}self_attn.v_proj.weight`, [KVH * D, C]);
    m.set(`${p}self_attn.o_proj.weight`, [C, H * D]);
    if (spec.qkvBias) {
      m.set(`${p}self_attn.q_proj.bias`, [H * D]);
      m.set(`${p}self_attn.k_proj.bias`, [KVH * D]);
      m.set(`${p}self_attn.v_proj.bias`, [KVH * D]);
    }
    if (spec.oBias) m.set(`${p}self_attn.o_proj.bias`, [C]);
    m.set(`${p}mlp.gate_proj.weight`, [F, C]);
    m.set(`${p}mlp.up_proj.weight`, [F, C]);
    m.set(`${p}mlp.down_proj.weight`, [C, F]);
    if (spec.mlpBias) {
      m.set(`${p}mlp.gate_proj.bias`, [F]);
      m.set(`${p}mlp.up_proj.bias`, [F]);
      m.set(`${p}mlp.down_proj.bias`, [C]);
    }
  }
  m.set("model.norm.weight", [C]);
  if (!spec.tieWordEmbeddings) m.set("lm_head.weight", [V, C]);
  return m;
}

export function parameterCount(spec: DecoderSpec): number {
  let n = 0;
  for (const s of weightShapes(spec).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
