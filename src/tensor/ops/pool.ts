/**
 * Weighted pooling over the sequence: out[b] = Σ_t w[b,t]·h[b,t,:]. Mean, weighted-mean,
 * last-token and BOS pooling are all this op with different (constant) weights, which the
 * encoder builds from its masks. A packed batch (rows back to back without padding, h
 * [1, N, C]) pools each row over its own span when given the rows' lengths.
 */
import { makeOutput } from "../autograd.js";
import { ShapeError, Tensor } from "../tensor.js";

/**
 * h [B,T,C] and weights [B·T] → [B, C]; or, with `packedLengths`, h [1,N,C] holding rows of
 * those lengths and weights [N] (each row's weights over its own tokens) → [rows, C].
 */
export function weightedPool(h: Tensor, weights: Float32Array, packedLengths?: Int32Array): Tensor {
  if (h.rank !== 3) throw new ShapeError("weightedPool", `expected h [B,T,C], got ${h.label()}`);
  const [B, T, C] = h.shape as [number, number, number];
  if (weights.length !== B * T) throw new ShapeError("weightedPool", `${weights.length} weights for ${B}×${T} positions`);
  // Row r spans positions start[r]..start[r + 1) of the flattened [B·T] sequence.
  let start: Int32Array;
  if (packedLengths) {
    start = new Int32Array(packedLengths.length + 1);
    packedLengths.forEach((L, r) => (start[r + 1] = start[r]! + L));
    if (B !== 1 || start[packedLengths.length] !== T) throw new ShapeError("weightedPool", `packed rows of ${start[packedLengths.length]} tokens in all against h ${h.label()}`);
  } else start = Int32Array.from({ length: B + 1 }, (_, b) => b * T);
  const rows = start.length - 1;
  const src = h.f32;
  const out = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++)
    for (let p = start[r]!; p < start[r + 1]!; p++) {
      const w = weights[p]!;
      if (w === 0) continue;
      const off = p * C;
      for (let c = 0; c < C; c++) out[r * C + c] += w * src[off + c]!;
    }
  return makeOutput("weightedPool", out, [rows, C], [h], (g) => {
    const dh = new Float32Array(h.size);
    for (let r = 0; r < rows; r++)
      for (let p = start[r]!; p < start[r + 1]!; p++) {
        const w = weights[p]!;
        if (w === 0) continue;
        const off = p * C;
        for (let c = 0; c < C; c++) dh[off + c] = w * g[r * C + c]!;
      }
    return [dh];
  });
}
