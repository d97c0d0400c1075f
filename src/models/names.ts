/**
 * Hugging Face tensor and module names of a decoder. A model's own names come from what its
 * blocks declare through the weight builder (weight-builder.ts); these spell the shared ones
 * for code that names tensors without a model (the llama2.c importer, PEFT adapter paths).
 *
 * Names are rooted at the *ForCausalLM level (`model.layers.0…`, `lm_head.weight`), as HF
 * checkpoints store them. LLM2Vec trains LoRA on the inner model (`*BiModel`, the reference's
 * `model.model`), so its PEFT adapters name modules without the leading `model.`: see
 * `peftModulePath`.
 */
/** The seven projections LLM2Vec puts LoRA on, by their HF module names. */
export const LINEAR_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
/**
 * Fused projections (Phi-3): one stored weight for several of the above, under PEFT's names for
 * them, with the parts they stand for (in their row order).
 */
export const FUSED_MODULES = { qkv_proj: ["q_proj", "k_proj", "v_proj"], gate_up_proj: ["gate_proj", "up_proj"] } as const;
/** Every projection name a family may declare (LoRA targets, adapter modules). */
export const PROJECTION_NAMES = [...LINEAR_MODULES, ...(Object.keys(FUSED_MODULES) as (keyof typeof FUSED_MODULES)[])] as const;
export type LinearModuleName = (typeof PROJECTION_NAMES)[number];
export type LayerNormName = "input_layernorm" | "post_attention_layernorm";

export const EMBED_TOKENS = "model.embed_tokens.weight";
export const FINAL_NORM = "model.norm.weight";
export const LM_HEAD = "lm_head.weight";

/** `model.layers.<i>` */
export function layerPrefix(layer: number): string {
  return `model.layers.${layer}`;
}

/** The module path of a projection inside layer i: `model.layers.i.self_attn.q_proj`. */
export function modulePath(layer: number, m: LinearModuleName): string {
  const group = m === "gate_proj" || m === "up_proj" || m === "down_proj" || m === "gate_up_proj" ? "mlp" : "self_attn";
  return `${layerPrefix(layer)}.${group}.${m}`;
}

export function normName(layer: number, which: LayerNormName): string {
  return `${layerPrefix(layer)}.${which}.weight`;
}

/** A projection's weight or bias tensor name. */
export function linearTensorName(layer: number, m: LinearModuleName, part: "weight" | "bias"): string {
  return `${modulePath(layer, m)}.${part}`;
}

/**
 * The module path as LLM2Vec's PEFT adapters spell it: LoRA wraps the inner decoder, so PEFT
 * saves `base_model.model.layers.0.self_attn.q_proj.lora_A.weight` (no `model.` before `layers`).
 */
export function peftModulePath(path: string): string {
  return path.startsWith("model.") ? path.slice("model.".length) : path;
}

/**
 * The part of a module path from `layers.` on: what adapters trained on the bare decoder
 * (`layers.0…`) and on a *ForCausalLM (`model.layers.0…`) have in common.
 */
export function layerKey(path: string): string | null {
  const i = path.indexOf("layers.");
  return i < 0 ? null : path.slice(i);
}
