/** Reductions to a scalar (losses). Accumulated in float64. */
import { makeOutput } from "../autograd.js";
import { Tensor } from "../tensor.js";

export function sum(x: Tensor): Tensor {
  const src = x.f32;
  let s = 0;
  for (let i = 0; i < src.length; i++) s += src[i]!;
  return makeOutput("sum", new Float32Array([s]), [], [x], (g) => [new Float32Array(x.size).fill(g[0]!)]);
}

export function mean(x: Tensor): Tensor {
  const src = x.f32;
  let s = 0;
  for (let i = 0; i < src.length; i++) s += src[i]!;
  const n = Math.max(x.size, 1);
  return makeOutput("mean", new Float32Array([s / n]), [], [x], (g) => [new Float32Array(x.size).fill(g[0]! / n)]);
}

/** mean(x²): the synthetic loss of the block benchmark, fused so it costs one pass. */
export function meanSquare(x: Tensor): Tensor {
  const src = x.f32;
  let s = 0;
  for (let i = 0; i < src.length; i++) s += src[i]! * src[i]!;
  const n = Math.max(x.size, 1);
  return makeOutput("meanSquare", new Float32Array([s / n]), [], [x], (g) => {
    const d = new Float32Array(x.size);
    const k = (2 * g[0]!) / n;
    for (let i = 0; i < src.length; i++) d[i] = k * src[i]!;
    return [d];
  });
}
