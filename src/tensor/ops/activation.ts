/** Gated MLP activations: SwiGLU's silu(gate)·up and Gemma's gelu_tanh(gate)·up, fused. */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { takeF32 } from "../pool.js";
import type { GatedActivation } from "../backend/types.js";
import { ShapeError, shapeStr, Tensor } from "../tensor.js";

export function gatedActivation(kind: GatedActivation, gate: Tensor, up: Tensor): Tensor {
  if (gate.size !== up.size) throw new ShapeError("gatedActivation", `gate ${shapeStr(gate.shape)} and up ${shapeStr(up.shape)} differ`);
  const be = backend();
  const out = takeF32(gate.size); // every element written
  be.gatedActForward(kind, gate.f32, up.f32, out);
  return makeOutput("gatedActivation", out, gate.shape, [gate, up], (g) => {
    const dGate = new Float32Array(gate.size);
    const dUp = new Float32Array(up.size);
    be.gatedActBackward(kind, gate.f32, up.f32, g, dGate, dUp);
    return [gate.requiresGrad ? dGate : null, up.requiresGrad ? dUp : null];
  });
}

/**
 * A plain activation, silu(x) or gelu_tanh(x): the gated kernel with up = 1, so both backends
 * share one implementation (the families only need the gated form; this serves heads and probes).
 */
export function activation(kind: GatedActivation, x: Tensor): Tensor {
  const be = backend();
  const ones = new Float32Array(x.size).fill(1);
  const out = new Float32Array(x.size);
  be.gatedActForward(kind, x.f32, ones, out);
  return makeOutput(kind, out, x.shape, [x], (g) => {
    const dx = new Float32Array(x.size);
    be.gatedActBackward(kind, x.f32, ones, g, dx, new Float32Array(x.size));
    return [dx];
  });
}

/**
 * Gemma 2's logit soft-cap c·tanh(x / c): values stay within ±c, nearly unchanged well inside it.
 * The backward reuses the output: d/dx = 1 − (y / c)².
 */
export function softcap(x: Tensor, cap: number): Tensor {
  if (!(cap > 0 && Number.isFinite(cap))) throw new RangeError(`softcap: cap must be a positive finite number, got ${cap}`);
  const src = x.f32;
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = cap * Math.tanh(src[i]! / cap);
  return makeOutput("softcap", out, x.shape, [x], (g) => {
    const dx = new Float32Array(x.size);
    for (let i = 0; i < dx.length; i++) dx[i] = g[i]! * (1 - (out[i]! / cap) ** 2);
    return [dx];
  });
}
