/**
 * Weighted pooling over the sequence: out[b] = Σ_t w[b,t]·h[b,t,:]. Mean, weighted-mean,
 * last-token and BOS pooling are all this op with different (constant) weights, which the
 * encoder builds from its masks.
 */
import { makeOutput } from "../autograd.js";
import { ShapeError, Tensor } from "../tensor.js";

export function weightedPool(h: Tensor, weights: Float32Array): Tensor {
  if (h.rank !== 3) throw new ShapeError("weightedPool", `expected h [B,T,C], got ${h.label()}`);
  const [B, T, C] = h.shape as [number, number, number];
  if (weights.length !== B * T) throw new ShapeError("weightedPool", `${weights.length} weights for ${B}×${T} positions`);
  const src = h.f32;
  const out = new Float32Array(B * C);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const w = weights[b * T + t]!;
      if (w === 0) continue;
      const off = (b * T + t) * C;
      for (let c = 0; c < C; c++) out[b * C + c] += w * src[off + c]!;
    }
  return makeOutput("weightedPool", out, [B, C], [h], (g) => {
    const dh = new Float32Array(h.size);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const w = weights[b * T + t]!;
        if (w === 0) continue;
        const off = (b * T + t) * C;
        for (let c = 0; c < C; c++) dh[off + c] = w * g[b * C + c]!;
      }
    return [dh];
  });
}
