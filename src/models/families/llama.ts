/**
 * Llama (1/2/3, incl. Llama-3 rope_scaling "llama3"), and the base every other family extends:
 * RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU MLP.
 */
import { ConfigError, type ConfigReader } from "../config-fields.js";
import type { DecoderSpec, RopeScaling } from "../spec.js";

function ropeScaling(cfg: ConfigReader): RopeScaling {
  const rs = cfg.object("rope_scaling");
  if (!rs) return { type: "none" };
  const type = (rs.rope_type ?? rs.type) as unknown;
  const num = (k: string, fallback?: number): number => {
    const v = rs[k] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(cfg.source, `rope_scaling.${k}`, `must be a number, got ${JSON.stringify(rs[k])}`);
    return v;
  };
  if (type === "default") return { type: "none" };
  if (type === "linear") return { type: "linear", factor: num("factor") };
  if (type === "llama3")
    return {
      type: "llama3",
      factor: num("factor"),
      lowFreqFactor: num("low_freq_factor", 1),
      highFreqFactor: num("high_freq_factor", 4),
      originalMaxPositions: num("original_max_position_embeddings", 8192),
    };
  throw new ConfigError(cfg.source, "rope_scaling", `has type ${JSON.stringify(type)}, which llm2vec does not support (supported: "default", "linear", "llama3")`);
}

export function llamaSpec(cfg: ConfigReader): DecoderSpec {
  const hiddenSize = cfg.int("hidden_size");
  const numHeads = cfg.int("num_attention_heads");
  const headDim = cfg.int("head_dim", Math.floor(hiddenSize / numHeads));
  const numKvHeads = cfg.int("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) throw new ConfigError(cfg.source, "num_key_value_heads", `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  if (headDim % 2 !== 0) throw new ConfigError(cfg.source, "head_dim", `must be even for RoPE, got ${headDim}`);
  const act = cfg.str("hidden_act", "silu");
  if (act !== "silu") throw new ConfigError(cfg.source, "hidden_act", `is ${JSON.stringify(act)}; this family supports "silu"`);
  const attentionBias = cfg.bool("attention_bias", false);
  const pad = cfg.ids("pad_token_id");
  const bos = cfg.ids("bos_token_id");
  return {
    family: "llama",
    hiddenSize,
    intermediateSize: cfg.int("intermediate_size"),
    numLayers: cfg.int("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: cfg.int("vocab_size"),
    rmsNormEps: cfg.num("rms_norm_eps", 1e-6),
    ropeTheta: cfg.num("rope_theta", 10000),
    ropeScaling: ropeScaling(cfg),
    maxPositions: cfg.int("max_position_embeddings", 2048),
    tieWordEmbeddings: cfg.bool("tie_word_embeddings", false),
    qkvBias: attentionBias,
    oBias: attentionBias,
    mlpBias: cfg.bool("mlp_bias", false),
    activation: "silu",
    normAddOne: false,
    embedScale: 1,
    slidingWindow: null,
    bosTokenId: bos[0] ?? null,
    eosTokenIds: cfg.ids("eos_token_id"),
    padTokenId: pad[0] ?? null,
    nameOrPath: cfg.str("_name_or_path"),
    dtype: cfg.str("torch_dtype") ?? cfg.str("dtype"),
  };
}
