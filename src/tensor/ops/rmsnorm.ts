/** RMSNorm over the last dim: Llama's x·rstd·w, or Gemma's x·rstd·(1+w) with addOne. */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { takeF32 } from "../pool.js";
import { ShapeError, Tensor } from "../tensor.js";

export function rmsnorm(x: Tensor, weight: Tensor, eps: number, addOne = false): Tensor {
  const C = x.shape[x.rank - 1]!;
  if (weight.rank !== 1 || weight.shape[0] !== C) throw new ShapeError("rmsnorm", `weight ${weight.label()} does not match the last dim of ${x.label()}`);
  const N = x.size / C;
  const be = backend();
  const out = takeF32(x.size); // every element written: a recycled buffer is fine
  const rstd = new Float32Array(N);
  be.rmsnormForward(x.f32, weight.data, weight.dtype, addOne, eps, N, C, out, rstd);
  return makeOutput("rmsnorm", out, x.shape, [x, weight], (g) => {
    const dx = x.requiresGrad ? new Float32Array(x.size) : new Float32Array(0);
    const dw = weight.requiresGrad ? new Float32Array(C) : null;
    // The kernel always produces dx; when x needs none we still pay one pass (rare: x is an activation).
    be.rmsnormBackward(x.f32, weight.data, weight.dtype, addOne, rstd, g, N, C, x.requiresGrad ? dx : new Float32Array(x.size), dw);
    return [x.requiresGrad ? dx : null, dw];
  });
}
