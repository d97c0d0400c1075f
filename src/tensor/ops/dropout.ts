/** Inverted dropout with the same stateless hash the attention kernels use (reproducible by seed). */
import { makeOutput } from "../autograd.js";
import { dropoutKeep } from "../backend/types.js";
import { Tensor } from "../tensor.js";

export function dropout(x: Tensor, p: number, seed: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: probability ${p} outside [0, 1)`);
  if (p === 0) return x;
  const src = x.f32;
  const keep = new Uint8Array(x.size);
  const k = 1 / (1 - p);
  const out = new Float32Array(x.size);
  for (let i = 0; i < src.length; i++) if ((keep[i] = dropoutKeep(seed, i, p) ? 1 : 0)) out[i] = src[i]! * k;
  return makeOutput("dropout", out, x.shape, [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let i = 0; i < g.length; i++) if (keep[i]) dx[i] = g[i]! * k;
    return [dx];
  });
}
