/**
 * Matrix products. `matmul` covers both shapes a transformer needs:
 *  - activations × a 2-D weight ([..., M, K] · [K, N], or [N, K] with transB: a Linear layer),
 *    run as one GEMM over all leading rows;
 *  - batched activations × activations ([...b, M, K] · [...b, K, N]) with either operand transposed.
 * The backward is the usual pair dA = dC·op(B)ᵀ, dB = op(A)ᵀ·dC, expressed through the same GEMM
 * flags so no transpose is ever materialised.
 */
import { makeOutput, needsGrad } from "../autograd.js";
import { backend } from "../backend/index.js";
import { computeDtype } from "../compute.js";
import { linearProduct, weightOperand } from "../packed-weights.js";
import { takeF32 } from "../pool.js";
import { numel, ShapeError, shapeStr, Tensor } from "../tensor.js";
import { add } from "./elementwise.js";

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

interface Plan {
  batch: number;
  M: number;
  N: number;
  K: number;
  sharedB: boolean;
  outShape: number[];
}

function plan(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Plan {
  const op = "matmul";
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(op, `operands need rank ≥ 2, got a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const M = transA ? ac : ar;
  const Ka = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (Ka !== Kb)
    throw new ShapeError(op, `inner dimensions differ: a ${shapeStr(a.shape)}${transA ? "ᵀ" : ""} · b ${shapeStr(b.shape)}${transB ? "ᵀ" : ""} (${Ka} vs ${Kb})`);
  const aBatch = a.shape.slice(0, -2);
  if (b.rank === 2) {
    return { batch: numel(aBatch), M, N, K: Ka, sharedB: true, outShape: [...aBatch, M, N] };
  }
  const bBatch = b.shape.slice(0, -2);
  if (aBatch.length !== bBatch.length || aBatch.some((d, i) => d !== bBatch[i]))
    throw new ShapeError(op, `batch dimensions differ: a ${shapeStr(a.shape)} vs b ${shapeStr(b.shape)}`);
  return { batch: numel(aBatch), M, N, K: Ka, sharedB: false, outShape: [...aBatch, M, N] };
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const p = plan(a, b, transA, transB);
  const be = backend();
  const compute = computeDtype(); // forward and backward products alike
  // Every GEMM below runs with beta = 0 first, so a recycled (unzeroed) buffer is fully overwritten.
  const out = takeF32(p.batch * p.M * p.N);
  const lda = transA ? p.M : p.K;
  const ldb = transB ? p.K : p.N;
  // A weight shared by every batch row with an untransposed A is one tall GEMM: fewer, bigger calls.
  const fold = p.sharedB && !transA;
  if (b.quant && !(fold && transB)) throw new ShapeError("matmul", `${b.label()} is quantized: only products x·Wᵀ read it`);
  // A frozen weight (x·Wᵀ) may be packed ahead or quantized (packed-weights.ts).
  if (fold && transB) linearProduct(b, a.f32, p.batch * p.M, out, 1, 0, compute);
  else be.gemm({
    batch: fold ? 1 : p.batch,
    M: fold ? p.batch * p.M : p.M,
    N: p.N,
    K: p.K,
    transA,
    transB,
    A: a.f32,
    lda,
    strideA: p.M * p.K,
    B: b.data,
    bDtype: b.dtype,
    ldb,
    strideB: p.sharedB ? 0 : p.K * p.N,
    C: out,
    ldc: p.N,
    strideC: p.M * p.N,
    alpha: 1,
    beta: 0,
    compute,
  });
  if (!needsGrad(a, b)) return makeOutput("matmul", out, p.outShape, [], () => []);
  return makeOutput("matmul", out, p.outShape, [a, b], (g) => {
    let dA: Float32Array | null = null;
    let dB: Float32Array | null = null;
    if (a.requiresGrad) {
      dA = takeF32(a.size);
      if (!transA) {
        // dA[M,K] = dC[M,N] · op(B)ᵀ
        const w = weightOperand(b);
        be.gemm({
          batch: fold ? 1 : p.batch, M: fold ? p.batch * p.M : p.M, N: p.K, K: p.N,
          transA: false, transB: !transB, A: g, lda: p.N, strideA: p.M * p.N,
          B: w.B, bDtype: w.bDtype, ldb, strideB: p.sharedB ? 0 : p.K * p.N,
          C: dA, ldc: p.K, strideC: p.M * p.K, alpha: 1, beta: 0, compute,
        });
      } else {
        // dA stored [K,M] = op(B) · dCᵀ; op(B) becomes the left operand, which must be float32.
        const bF = b.toF32().f32;
        be.gemm({
          batch: p.batch, M: p.K, N: p.M, K: p.N,
          transA: transB, transB: true, A: bF, lda: ldb, strideA: p.sharedB ? 0 : p.K * p.N,
          B: g, bDtype: "f32", ldb: p.N, strideB: p.M * p.N,
          C: dA, ldc: p.M, strideC: p.M * p.K, alpha: 1, beta: 0, compute,
        });
      }
    }
    if (b.requiresGrad) {
      if (b.dtype !== "f32" || b.quant) throw new TypeError(`matmul: ${b.label()} requires grad but is stored as ${b.quant?.kind ?? b.dtype}`);
      dB = takeF32(b.size);
      const dBOut = dB;
      // One product of `rows` rows of A/dC (at the given buffers) into dB, accumulating if beta = 1.
      const gradB = (nb: number, rows: number, aBuf: Float32Array, gBuf: Float32Array, beta: number, strideDB: number) => {
        if (!transB)
          // dB[K,N] = op(A)ᵀ · dC
          be.gemm({
            batch: nb, M: p.K, N: p.N, K: rows, transA: !transA, transB: false,
            A: aBuf, lda, strideA: p.M * p.K, B: gBuf, bDtype: "f32", ldb: p.N, strideB: p.M * p.N,
            C: dBOut, ldc: p.N, strideC: strideDB, alpha: 1, beta, compute,
          });
        else
          // dB[N,K] = dCᵀ · op(A)
          be.gemm({
            batch: nb, M: p.N, N: p.K, K: rows, transA: true, transB: transA,
            A: gBuf, lda: p.N, strideA: p.M * p.N, B: aBuf, bDtype: "f32", ldb: lda, strideB: p.M * p.K,
            C: dBOut, ldc: p.K, strideC: strideDB, alpha: 1, beta, compute,
          });
      };
      if (!p.sharedB) gradB(p.batch, p.M, a.f32, g, 0, p.K * p.N);
      else if (fold) gradB(1, p.batch * p.M, a.f32, g, 0, 0);
      else
        // A shared weight under transposed A: sum the per-batch products (beta = 1 after the first).
        for (let i = 0; i < p.batch; i++)
          gradB(1, p.M, a.f32.subarray(i * p.M * p.K, (i + 1) * p.M * p.K), g.subarray(i * p.M * p.N, (i + 1) * p.M * p.N), i > 0 ? 1 : 0, 0);
    }
    return [dA, dB];
  });
}

/** y = x · Wᵀ (+ bias): a Hugging Face Linear, with W stored [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(x, weight, { transB: true });
  return bias ? addBias(y, bias) : y;
}

function addBias(y: Tensor, bias: Tensor): Tensor {
  return add(y, bias.dtype === "f32" ? bias : bias.toF32());
}
