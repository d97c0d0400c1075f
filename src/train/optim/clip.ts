/**
 * Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_: the L2 norm over every
 * gradient together; if above maxNorm, every gradient is scaled by maxNorm / (norm + 1e-6).
 * Returns the norm before clipping (what the Trainer logs as grad_norm).
 */
import type { Tensor } from "../../tensor/tensor.js";

export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const grads: Float32Array[] = [];
  for (const p of params) if (p.grad) grads.push(p.grad.f32);
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i]! * g[i]!;
  const norm = Math.sqrt(ss);
  if (maxNorm > 0 && Number.isFinite(norm)) {
    const coef = Math.fround(maxNorm / (norm + 1e-6));
    if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = Math.fround(g[i]! * coef);
  }
  return norm;
}
