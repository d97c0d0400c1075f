/** Softmax and log-softmax over the last dim (small matrices: similarity scores, probes). */
import { makeOutput } from "../autograd.js";
import { Tensor } from "../tensor.js";

function rowsOf(x: Tensor): { N: number; V: number } {
  const V = x.shape[x.rank - 1]!;
  return { N: x.size / V, V };
}

/** log Σ exp over one row, shifted by its max so large logits do not overflow. */
function rowLogSumExp(src: Float32Array, off: number, V: number): number {
  let max = -Infinity;
  for (let c = 0; c < V; c++) max = Math.max(max, src[off + c]!);
  let sum = 0;
  for (let c = 0; c < V; c++) sum += Math.exp(src[off + c]! - max);
  return max + Math.log(sum);
}

export function logSoftmax(x: Tensor): Tensor {
  const { N, V } = rowsOf(x);
  const src = x.f32;
  const out = new Float32Array(x.size);
  for (let r = 0; r < N; r++) {
    const lse = rowLogSumExp(src, r * V, V);
    for (let c = 0; c < V; c++) out[r * V + c] = src[r * V + c]! - lse;
  }
  return makeOutput("logSoftmax", out, x.shape, [x], (g) => {
    // d x = g − softmax · Σ g
    const dx = new Float32Array(x.size);
    for (let r = 0; r < N; r++) {
      let gs = 0;
      for (let c = 0; c < V; c++) gs += g[r * V + c]!;
      for (let c = 0; c < V; c++) dx[r * V + c] = g[r * V + c]! - Math.exp(out[r * V + c]!) * gs;
    }
    return [dx];
  });
}

export function softmax(x: Tensor): Tensor {
  const { N, V } = rowsOf(x);
  const src = x.f32;
  const out = new Float32Array(x.size);
  for (let r = 0; r < N; r++) {
    const lse = rowLogSumExp(src, r * V, V);
    for (let c = 0; c < V; c++) out[r * V + c] = Math.exp(src[r * V + c]! - lse);
  }
  return makeOutput("softmax", out, x.shape, [x], (g) => {
    // d x = y ⊙ (g − Σ g⊙y)
    const dx = new Float32Array(x.size);
    for (let r = 0; r < N; r++) {
      let dot = 0;
      for (let c = 0; c < V; c++) dot += g[r * V + c]! * out[r * V + c]!;
      for (let c = 0; c < V; c++) dx[r * V + c] = out[r * V + c]! * (g[r * V + c]! - dot);
    }
    return [dx];
  });
}
