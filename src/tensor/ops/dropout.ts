/** Inverted dropout with the same stateless hash the attention kernels use (reproducible by seed). */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { Tensor } from "../tensor.js";

export function dropout(x: Tensor, p: number, seed: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: probability ${p} outside [0, 1)`);
  if (p === 0) return x;
  const out = new Float32Array(x.size);
  backend().dropout(x.f32, out, p, seed);
  return makeOutput("dropout", out, x.shape, [x], (g) => {
    // The same hash regenerates the mask: nothing was stored.
    const dx = new Float32Array(x.size);
    backend().dropout(g, dx, p, seed);
    return [dx];
  });
}
