/**
 * Phi-3 (and Phi-3.5-mini, the same architecture): Llama's layer with one fused `qkv_proj`
 * (rows q, k, v) and one fused `gate_up_proj` (rows gate, up), each loaded as stored and run as
 * one product whose output is split; no biases. RoPE is plain, or LongRoPE.
 *
 * Follows Phi3Config / modeling_phi3 (transformers main, read 2026): absent keys take the config
 * class's defaults (rms_norm_eps 1e-5, max_position_embeddings and original_max_position_embeddings
 * 4096, untied embeddings); `sliding_window` applies causally (causal inputs longer than it are
 * refused) and is dropped bidirectionally. Phi3Config renames the rope types "su" and "yarn" to
 * "longrope"; _compute_longrope_parameters takes factor = max_position_embeddings /
 * original_max_position_embeddings and, unless `attention_factor` is given,
 * attention_factor = √(1 + ln factor / ln original) (1 when factor ≤ 1). resid_pdrop and
 * embd_pdrop (0 in released configs) are not applied in training.
 */
import { layerOptions, PreNormLayer } from "../blocks/layer.js";
import type { ConfigReader } from "../config-fields.js";
import type { Family } from "../family.js";
import type { DecoderSpec, RopeScaling } from "../spec.js";
import { baseSpec, ropeScaling, siluActivation } from "./llama.js";

const LONGROPE_NAMES = new Set(["longrope", "su", "yarn"]);
const SUPPORTED = 'Phi-3 supports "longrope" (or its older names "su", "yarn") and default RoPE';

function phi3Rope(rs: ConfigReader | null, cfg: ConfigReader): RopeScaling {
  if (!rs) return { type: "none" };
  const type = rs.str("rope_type") ?? rs.str("type");
  // Phi3Config's validation needs a type too; Llama's message would list Llama's types.
  if (type === null) throw rs.error("rope_type", `is missing; ${SUPPORTED}`);
  if (!LONGROPE_NAMES.has(type)) {
    if (type !== "default") throw rs.error(rs.has("rope_type") ? "rope_type" : "type", `is ${JSON.stringify(type)}; ${SUPPORTED}`);
    return ropeScaling(rs);
  }
  const headDim = cfg.has("head_dim") ? cfg.int("head_dim") : cfg.int("hidden_size") / cfg.int("num_attention_heads");
  const factors = (field: string): number[] => {
    const v = rs.raw[field];
    if (!Array.isArray(v) || v.length !== headDim / 2 || !v.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0))
      throw rs.error(field, `must list ${headDim / 2} positive numbers (head_dim / 2), got ${JSON.stringify(v)?.slice(0, 80)}`);
    return v as number[];
  };
  const original = cfg.int("original_max_position_embeddings", 4096);
  const factor = cfg.int("max_position_embeddings", 4096) / original;
  const attentionFactor = rs.has("attention_factor") ? rs.num("attention_factor") : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
  return { type: "longrope", shortFactor: factors("short_factor"), longFactor: factors("long_factor"), attentionFactor, originalMaxPositions: original };
}

function phi3Spec(cfg: ConfigReader): DecoderSpec {
  const base = baseSpec(cfg, {
    family: "phi3",
    activation: siluActivation(cfg),
    maxPositions: 4096,
    tieWordEmbeddings: false,
    attentionBias: { qkv: false, o: false },
    readsMlpBias: false,
    rmsNormEps: 1e-5,
    ropeScaling: phi3Rope,
  });
  return { ...base, slidingWindow: cfg.has("sliding_window") ? cfg.int("sliding_window") : null };
}

export const phi3: Family = {
  spec: phi3Spec,
  layer: (vb, s) => new PreNormLayer(vb, layerOptions(s, { fusedQkv: true }, { fusedGateUp: true })),
};
