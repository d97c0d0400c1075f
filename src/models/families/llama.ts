/**
 * Llama (1/2/3, incl. Llama-3 rope_scaling "llama3"), and the base every other family extends:
 * RMSNorm, rotate-half RoPE, grouped-query attention, gated MLP. Field meanings and defaults
 * follow transformers' LlamaConfig / modeling_llama / modeling_rope_utils; the other families
 * pass their own config-class defaults through `FamilyDefaults`.
 */
import { ConfigError, type ConfigReader } from "../config-fields.js";
import type { DecoderSpec, RopeScaling } from "../spec.js";
import { preNormLayer } from "../blocks/layer.js";
import type { Family } from "../family.js";

const SUPPORTED_ROPE = '"default", "linear", "llama3"';

/**
 * rope_scaling (transformers ≤ 4.x) or rope_parameters (transformers 5, which also holds
 * rope_theta). The type is `rope_type`, or the older spelling `type`; the keys each type needs
 * are required, as transformers' rope validation requires them.
 */
export function ropeScaling(rs: ConfigReader | null): RopeScaling {
  if (!rs) return { type: "none" };
  const typeKey = rs.has("rope_type") || !rs.has("type") ? "rope_type" : "type";
  const type = rs.str(typeKey);
  if (type === null) throw rs.error("rope_type", `is missing (supported: ${SUPPORTED_ROPE})`);
  const partial = rs.num("partial_rotary_factor", 1);
  if (partial !== 1) throw rs.error("partial_rotary_factor", `is ${partial}; llm2vec rotates the whole head (1.0 only)`);
  switch (type) {
    case "default":
      return { type: "none" };
    case "linear":
      return { type: "linear", factor: rs.num("factor") };
    case "llama3": {
      const lowFreqFactor = rs.num("low_freq_factor");
      const highFreqFactor = rs.num("high_freq_factor");
      // _compute_llama3_parameters divides by (high - low): equal values would give NaN tables.
      if (!(highFreqFactor > lowFreqFactor)) throw rs.error("high_freq_factor", `(${highFreqFactor}) must be greater than low_freq_factor (${lowFreqFactor})`);
      return { type: "llama3", factor: rs.num("factor"), lowFreqFactor, highFreqFactor, originalMaxPositions: rs.int("original_max_position_embeddings") };
    }
    case "dynamic":
      // HF's dynamic NTK recomputes inv_freq per sequence length beyond the original context;
      // our RoPE tables are static, so accepting it would silently give other numbers.
      throw rs.error(typeKey, `is "dynamic" (dynamic NTK scaling), which llm2vec's RoPE tables do not implement (supported: ${SUPPORTED_ROPE})`);
    default:
      throw rs.error(typeKey, `is ${JSON.stringify(type)}, which llm2vec does not support (supported: ${SUPPORTED_ROPE})`);
  }
}

/** What differs between the config classes of the families built on this base. */
export interface FamilyDefaults {
  family: string;
  activation: DecoderSpec["activation"];
  /** max_position_embeddings when absent. */
  maxPositions: number;
  /** tie_word_embeddings when absent. */
  tieWordEmbeddings: boolean;
  /**
   * num_key_value_heads when the key is absent (the config class's default); an explicit null
   * always means num_attention_heads. Undefined: num_attention_heads in both cases (Llama).
   */
  numKvHeadsIfAbsent?: number;
  /** head_dim when absent / null; undefined: hidden_size / num_attention_heads. */
  headDim?: number;
  /** Attention biases: "config" reads attention_bias (q/k/v/o); otherwise fixed. */
  attentionBias: "config" | { qkv: boolean; o: boolean };
  /** Whether the family reads mlp_bias (only Llama does; the others have bias-free MLPs). */
  readsMlpBias: boolean;
  /** rms_norm_eps when absent (default 1e-6). */
  rmsNormEps?: number;
  /** The family's reading of rope_parameters / rope_scaling (default: `ropeScaling`). */
  ropeScaling?: (rs: ConfigReader | null, cfg: ConfigReader) => RopeScaling;
}

export function baseSpec(cfg: ConfigReader, d: FamilyDefaults): DecoderSpec {
  const hiddenSize = cfg.int("hidden_size");
  const numHeads = cfg.int("num_attention_heads");
  let headDim: number;
  if (cfg.has("head_dim")) headDim = cfg.int("head_dim");
  else if (d.headDim !== undefined) headDim = d.headDim;
  else {
    if (hiddenSize % numHeads !== 0) throw cfg.error("hidden_size", `(${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and no head_dim is given`);
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) throw cfg.error("head_dim", `must be even for RoPE, got ${headDim}`);
  const numKvHeads = cfg.absent("num_key_value_heads") && d.numKvHeadsIfAbsent !== undefined ? d.numKvHeadsIfAbsent : cfg.int("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) throw cfg.error("num_key_value_heads", `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  const bias = d.attentionBias === "config" ? { qkv: cfg.bool("attention_bias", false), o: cfg.bool("attention_bias", false) } : d.attentionBias;
  // transformers 5 moves rope_theta and the scaling into rope_parameters; older configs have
  // top-level rope_theta and rope_scaling.
  const ropeParams = cfg.sub("rope_parameters");
  const ropeTheta = ropeParams?.has("rope_theta") ? ropeParams.num("rope_theta") : cfg.num("rope_theta", 10000);
  const partial = cfg.num("partial_rotary_factor", 1);
  if (partial !== 1) throw cfg.error("partial_rotary_factor", `is ${partial}; llm2vec rotates the whole head (1.0 only)`);
  const numLayers = cfg.int("num_hidden_layers");
  // Newer configs list each layer's attention kind; PretrainedConfig checks its length too.
  const layerTypes = cfg.raw.layer_types;
  if (layerTypes !== undefined && layerTypes !== null && (!Array.isArray(layerTypes) || layerTypes.length !== numLayers))
    throw cfg.error("layer_types", `must list one entry for each of the ${numLayers} layers (num_hidden_layers), got ${Array.isArray(layerTypes) ? `${layerTypes.length} entries` : JSON.stringify(layerTypes)}`);
  const pad = cfg.ids("pad_token_id");
  const bos = cfg.ids("bos_token_id");
  return {
    family: d.family,
    hiddenSize,
    intermediateSize: cfg.int("intermediate_size"),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: cfg.int("vocab_size"),
    rmsNormEps: cfg.num("rms_norm_eps", d.rmsNormEps ?? 1e-6),
    ropeTheta,
    ropeScaling: (d.ropeScaling ?? ropeScaling)(ropeParams ?? cfg.sub("rope_scaling"), cfg),
    maxPositions: cfg.int("max_position_embeddings", d.maxPositions),
    tieWordEmbeddings: cfg.bool("tie_word_embeddings", d.tieWordEmbeddings),
    qkvBias: bias.qkv,
    oBias: bias.o,
    mlpBias: d.readsMlpBias ? cfg.bool("mlp_bias", false) : false,
    activation: d.activation,
    normAddOne: false,
    embedScale: 1,
    // transformers ≥ 5.2 reads is_causal (default true) to run a decoder bidirectionally.
    trainedAttention: cfg.bool("is_causal", true) ? "causal" : "bidirectional",
    slidingWindow: null,
    bosTokenId: bos[0] ?? null,
    eosTokenIds: cfg.ids("eos_token_id"),
    padTokenId: pad[0] ?? null,
    nameOrPath: cfg.str("_name_or_path"),
    // transformers ≥ 4.56 writes `dtype`; when both are present it keeps `dtype`.
    dtype: cfg.str("dtype") ?? cfg.str("torch_dtype"),
  };
}

const SILU = new Set(["silu", "swish"]); // ACT2FN maps both to SiLU

/** hidden_act of the SiLU-gated families (Llama, Mistral, Qwen2); default "silu". */
export function siluActivation(cfg: ConfigReader): "silu" {
  const act = cfg.str("hidden_act", "silu")!;
  if (!SILU.has(act)) throw new ConfigError(cfg.source, cfg.name("hidden_act"), `is ${JSON.stringify(act)}; this family supports "silu"`);
  return "silu";
}

export function llamaSpec(cfg: ConfigReader): DecoderSpec {
  return baseSpec(cfg, {
    family: "llama",
    activation: siluActivation(cfg),
    maxPositions: 2048,
    tieWordEmbeddings: false,
    attentionBias: "config",
    readsMlpBias: true,
  });
}

export const llama: Family = { spec: llamaSpec, layer: preNormLayer };

/**
 * NVIDIA-style bidirectional Llama (`model_type: llama_bidirec`, LlamaBidirectionalConfig): Llama's
 * tensors and config, trained without the causal mask. Built as a Llama whose trained attention
 * is bidirectional (an explicit `is_causal: true` is a contradiction, refused).
 */
export const llamaBidirec: Family = {
  spec(cfg) {
    if (cfg.bool("is_causal", false)) throw cfg.error("is_causal", `is true, but model_type "llama_bidirec" is a bidirectional model`);
    return { ...llamaSpec(cfg), trainedAttention: "bidirectional" };
  },
  layer: preNormLayer,
};
