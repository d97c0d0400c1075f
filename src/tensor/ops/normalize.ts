/** L2 normalisation of rows and the cosine-similarity matrix built on it (the contrastive losses' core). */
import { makeOutput } from "../autograd.js";
import { Tensor } from "../tensor.js";
import { matmul } from "./matmul.js";

/** Rows scaled to unit norm; a zero row stays zero (norm clamped at eps, as F.normalize). */
export function l2Normalize(x: Tensor, eps = 1e-12): Tensor {
  const C = x.shape[x.rank - 1]!;
  const N = x.size / C;
  const src = x.f32;
  const out = new Float32Array(x.size);
  const inv = new Float32Array(N);
  for (let r = 0; r < N; r++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += src[r * C + c]! ** 2;
    inv[r] = 1 / Math.max(Math.sqrt(ss), eps);
    for (let c = 0; c < C; c++) out[r * C + c] = src[r * C + c]! * inv[r]!;
  }
  return makeOutput("l2Normalize", out, x.shape, [x], (g) => {
    // dx = (g − y·(g·y)) / ‖x‖
    const dx = new Float32Array(x.size);
    for (let r = 0; r < N; r++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += g[r * C + c]! * out[r * C + c]!;
      for (let c = 0; c < C; c++) dx[r * C + c] = (g[r * C + c]! - out[r * C + c]! * dot) * inv[r]!;
    }
    return [dx];
  });
}

/** cos(a_i, b_j) for a [N, C], b [M, C] → [N, M]. */
export function cosineSimilarity(a: Tensor, b: Tensor): Tensor {
  return matmul(l2Normalize(a), l2Normalize(b), { transB: true });
}
