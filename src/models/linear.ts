/**
 * A Linear layer as Hugging Face stores it (weight [out, in], optional bias), optionally wrapped
 * by a LoRA adapter: y = x·Wᵀ + b + scaling · (dropout(x)·Aᵀ)·Bᵀ. The base weight may stay in its
 * 16-bit checkpoint dtype and frozen; only A and B train.
 */
import { add, dropout, linear, scale } from "../tensor/ops/index.js";
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
  lora: LoraWeights | null;
}

export interface LinearContext {
  /** Dropout (LoRA's) is active only when training. */
  training: boolean;
  seed: number;
}

export function applyLinear(layer: LinearLayer, x: Tensor, ctx?: LinearContext): Tensor {
  const y = linear(x, layer.weight, layer.bias);
  const lora = layer.lora;
  if (!lora) return y;
  const xIn = ctx?.training && lora.dropoutP > 0 ? dropout(x, lora.dropoutP, ctx.seed) : x;
  const delta = linear(linear(xIn, lora.A), lora.B);
  return add(y, lora.scaling === 1 ? delta : scale(delta, lora.scaling));
}
