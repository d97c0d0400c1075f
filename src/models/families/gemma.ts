/**
 * Gemma (1): RMSNorm with (1 + w), embeddings scaled by √hidden, GELU-tanh gated MLP, an
 * explicit head_dim (256 in gemma-2b/7b, not hidden/heads), tied embeddings.
 *
 * Follows GemmaConfig / modeling_gemma: the MLP reads only `hidden_activation` (default
 * "gelu_pytorch_tanh"); `hidden_act` — "gelu" in the original configs — is ignored. Attention
 * biases follow attention_bias (q/k/v/o); the MLP has none. Absent keys take GemmaConfig's
 * defaults: head_dim 256, num_key_value_heads 16, max_position_embeddings 8192, tied embeddings.
 * Gemma 2 (gemma2.ts) reads its config the same way, with its own family name and defaults.
 */
import type { ConfigReader } from "../config-fields.js";
import type { DecoderSpec } from "../spec.js";
import { baseSpec, type FamilyDefaults } from "./llama.js";
import { preNormLayer } from "../blocks/layer.js";
import type { Family } from "../family.js";

// ACT2FN names whose function is the tanh-approximated GELU (same formula). Plain "gelu" is the
// exact erf GELU in transformers, which llm2vec does not implement.
const GELU_TANH = new Set(["gelu_pytorch_tanh", "gelu_new"]);

export function gemmaSpec(cfg: ConfigReader, own: Partial<Pick<FamilyDefaults, "family" | "numKvHeadsIfAbsent">> = {}): DecoderSpec {
  const act = cfg.str("hidden_activation", "gelu_pytorch_tanh")!;
  if (!GELU_TANH.has(act)) {
    const why = act === "gelu" ? " (transformers' exact erf GELU, which llm2vec does not implement)" : "";
    throw cfg.error("hidden_activation", `is ${JSON.stringify(act)}${why}; Gemma supports "gelu_pytorch_tanh"`);
  }
  const base = baseSpec(cfg, {
    family: "gemma",
    activation: "gelu_tanh",
    maxPositions: 8192,
    tieWordEmbeddings: true,
    numKvHeadsIfAbsent: 16,
    headDim: 256,
    attentionBias: "config",
    readsMlpBias: false,
    ...own,
  });
  // Gemma computes √hidden in the activation dtype (float32 here): Math.fround mirrors that.
  return { ...base, normAddOne: true, embedScale: Math.fround(Math.sqrt(base.hiddenSize)) };
}

export const gemma: Family = { spec: (cfg) => gemmaSpec(cfg), layer: preNormLayer };
