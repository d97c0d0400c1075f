/**
 * A Linear layer as Hugging Face stores it (weight [out, in], optional bias), optionally wrapped
 * by a LoRA adapter: y = x·Wᵀ + b + scaling · (dropout(x)·Aᵀ)·Bᵀ. The base weight may stay in its
 * 16-bit checkpoint dtype and frozen; only A and B train.
 */
import { add, linear, loraLinear, matmul, scale } from "../tensor/ops/index.js";
import type { Tensor } from "../tensor/tensor.js";

export interface LoraWeights {
  /** [r, in] */
  A: Tensor;
  /** [out, r] */
  B: Tensor;
  scaling: number;
  dropoutP: number;
}

export interface LinearLayer {
  weight: Tensor;
  bias: Tensor | null;
  /** The outermost attached adapter (the trainable one during training). */
  lora: LoraWeights | null;
  /**
   * Adapters attached before `lora`, unmerged (MNTP under SimCSE when both are kept apart): each
   * adds its own low-rank term, so stacking unmerged equals merging in order.
   */
  loraStack?: LoraWeights[];
}

export interface LinearContext {
  /** Dropout (LoRA's) is active only when training. */
  training: boolean;
  seed: number;
  /** Token rows before this batch in the dropout index space (GradCache chunks draw the whole batch's masks). */
  dropoutRowOffset?: number;
  /**
   * Run these adapters (outermost last) instead of the attached ones; [] = the bare base
   * projection. Inference only: no dropout.
   */
  loras?: readonly LoraWeights[];
}

export function applyLinear(layer: LinearLayer, x: Tensor, ctx?: LinearContext): Tensor {
  if (ctx?.loras) return applyChosenLoras(layer, x, ctx.loras);
  const lora = layer.lora;
  if (!lora) return linear(x, layer.weight, layer.bias);
  let y: Tensor | null = null;
  for (const below of layer.loraStack ?? []) {
    // Frozen earlier adapters: x·Aᵀ·Bᵀ·s each, without dropout (they do not train).
    const t = scale(matmul(matmul(x, below.A, { transB: true }), below.B, { transB: true }), below.scaling);
    y = y ? add(y, t) : t;
  }
  // Fused: the low-rank branch accumulates into the base product (see ops/lora-linear.ts).
  const dropoutP = ctx?.training ? lora.dropoutP : 0;
  const inDim = layer.weight.shape[1]!;
  const top = loraLinear(x, layer.weight, layer.bias, { A: lora.A, B: lora.B, scaling: lora.scaling, dropoutP, seed: ctx?.seed ?? 0, dropoutIndexOffset: (ctx?.dropoutRowOffset ?? 0) * inDim });
  return y ? add(top, y) : top;
}

/** y = x·Wᵀ + b + Σ s·(x·Aᵀ)·Bᵀ over the chosen adapters (the last one fused into the base product). */
function applyChosenLoras(layer: LinearLayer, x: Tensor, loras: readonly LoraWeights[]): Tensor {
  const top = loras[loras.length - 1];
  if (!top) return linear(x, layer.weight, layer.bias);
  let y = loraLinear(x, layer.weight, layer.bias, { A: top.A, B: top.B, scaling: top.scaling, dropoutP: 0, seed: 0, dropoutIndexOffset: 0 });
  for (let i = 0; i < loras.length - 1; i++) {
    const l = loras[i]!;
    y = add(y, scale(matmul(matmul(x, l.A, { transB: true }), l.B, { transB: true }), l.scaling));
  }
  return y;
}
