/**
 * A Linear layer with a LoRA branch, fused: y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ.
 * Composed from matmul/add/scale the branch would keep three full [M, out] temporaries per
 * layer for the backward; fused, it keeps only u = drop(x)·Aᵀ ([M, r]) and accumulates the
 * low-rank product straight into y (GEMM beta = 1). Backward, with g = dy and gB = g·B ([M, r]):
 *   dx = g·W + s·gB·A (through the dropout mask), dA = s·gBᵀ·drop(x), dB = s·gᵀ·u,
 *   dW = gᵀ·x (only if W trains), db = Σ_rows g.
 * The composed version stays the oracle in the tests.
 */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { linearProduct, weightOperand } from "../packed-weights.js";
import { giveF32, takeF32 } from "../pool.js";
import type { ComputeDtype, GemmArgs } from "../backend/types.js";
import { computeDtype } from "../compute.js";
import { ShapeError, shapeStr, type Tensor } from "../tensor.js";

export interface LoraBranch {
  A: Tensor;
  B: Tensor;
  scaling: number;
  dropoutP: number;
  seed: number;
  /** Added to each element's dropout index (a chunk of a larger batch draws that batch's mask). */
  dropoutIndexOffset?: number;
}

/** C[M,N] = alpha·op(A)·op(B) + beta·C on plain row-major buffers, in the layer's compute dtype. */
function gemm2(M: number, N: number, K: number, A: Float32Array, transA: boolean, B: GemmArgs["B"], bDtype: GemmArgs["bDtype"], transB: boolean, C: Float32Array, alpha: number, beta: number, compute: ComputeDtype): void {
  backend().gemm({
    batch: 1, M, N, K, transA, transB,
    A, lda: transA ? M : K, strideA: 0,
    B, bDtype, ldb: transB ? K : N, strideB: 0,
    C, ldc: N, strideC: 0, alpha, beta, compute,
  });
}

export function loraLinear(x: Tensor, weight: Tensor, bias: Tensor | null, lora: LoraBranch): Tensor {
  const [out, inp] = weight.shape as [number, number];
  const r = lora.A.shape[0]!;
  if (x.shape[x.rank - 1] !== inp || lora.A.shape[1] !== inp || lora.B.shape[0] !== out || lora.B.shape[1] !== r)
    throw new ShapeError("loraLinear", `x ${shapeStr(x.shape)}, W ${shapeStr(weight.shape)}, A ${shapeStr(lora.A.shape)}, B ${shapeStr(lora.B.shape)} do not chain`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== out)) throw new ShapeError("loraLinear", `bias ${shapeStr(bias.shape)} does not match ${out} outputs`);
  const M = x.size / inp;
  const X = x.f32;
  const cd = computeDtype(); // captured: the backward multiplies in the forward's dtype
  const p = lora.dropoutP;
  // Dropout on the branch's input. The mask is a hash of (seed, index), so the dropped input is
  // not kept for the backward (a full copy of x per projection): it is recomputed there from x.
  const dropped = (): Float32Array => {
    const d = takeF32(X.length);
    backend().dropout(X, d, p, lora.seed, lora.dropoutIndexOffset ?? 0);
    return d;
  };
  const Xd = p > 0 ? dropped() : X;
  const y = new Float32Array(M * out);
  linearProduct(weight, X, M, y, 1, 0, cd);
  const u = new Float32Array(M * r);
  gemm2(M, r, inp, Xd, false, lora.A.f32, "f32", true, u, 1, 0, cd);
  if (Xd !== X) giveF32(Xd);
  gemm2(M, out, r, u, false, lora.B.f32, "f32", true, y, lora.scaling, 1, cd);
  if (bias) {
    const b = bias.f32;
    for (let m = 0; m < M; m++) backend().add(y.subarray(m * out, (m + 1) * out), b, y.subarray(m * out, (m + 1) * out));
  }
  const shape = [...x.shape.slice(0, -1), out];
  const inputs = bias ? [x, weight, lora.A, lora.B, bias] : [x, weight, lora.A, lora.B];
  return makeOutput("loraLinear", y, shape, inputs, (g) => {
    const s = lora.scaling;
    const gB = new Float32Array(M * r);
    gemm2(M, r, out, g, false, lora.B.f32, "f32", false, gB, 1, 0, cd);
    let dx: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = new Float32Array(M * inp);
      const w = weightOperand(weight);
      gemm2(M, inp, out, g, false, w.B, w.bDtype, false, dx, 1, 0, cd);
      if (p === 0) gemm2(M, inp, r, gB, false, lora.A.f32, "f32", false, dx, s, 1, cd);
      else {
        const t = new Float32Array(M * inp);
        gemm2(M, inp, r, gB, false, lora.A.f32, "f32", false, t, s, 0, cd);
        backend().dropout(t, t, p, lora.seed, lora.dropoutIndexOffset ?? 0);
        backend().axpy(1, t, dx);
      }
    }
    let dA: Float32Array | null = null;
    if (lora.A.requiresGrad) {
      dA = new Float32Array(r * inp);
      const xd = p > 0 ? dropped() : X;
      gemm2(r, inp, M, gB, true, xd, "f32", false, dA, s, 0, cd);
      if (xd !== X) giveF32(xd);
    }
    let dB: Float32Array | null = null;
    if (lora.B.requiresGrad) {
      dB = new Float32Array(out * r);
      gemm2(out, r, M, g, true, u, "f32", false, dB, s, 0, cd);
    }
    let dW: Float32Array | null = null;
    if (weight.requiresGrad) {
      if (weight.dtype !== "f32" || weight.quant) throw new TypeError(`loraLinear: ${weight.label()} requires grad but is stored as ${weight.quant?.kind ?? weight.dtype}`);
      dW = new Float32Array(out * inp);
      gemm2(out, inp, M, g, true, X, "f32", false, dW, 1, 0, cd);
    }
    let db: Float32Array | null = null;
    if (bias?.requiresGrad) {
      db = new Float32Array(out);
      for (let m = 0; m < M; m++) for (let o = 0; o < out; o++) db[o] += g[m * out + o]!;
    }
    return bias ? [dx, dW, dA, dB, db] : [dx, dW, dA, dB];
  });
}
