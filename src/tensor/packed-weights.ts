/**
 * Frozen weights packed once for the GEMM. Per call the GEMM copies every panel of its right
 * operand into the kernel's layout; for a Linear layer that is the whole weight, which costs as
 * much as a few dozen rows of the product, so small batches (a server's requests, short texts)
 * spend a large share of their time re-packing weights that never change. A packed copy is made
 * once and handed to every product of that weight.
 *
 * Safety: packs are keyed by the storage array itself, so a weight whose data is replaced (a
 * merge builds a new tensor) never meets a stale pack, and a weight that trains (requiresGrad)
 * is never read through one. Code that writes a packed weight's array in place must call
 * `dropPackedWeight` (nothing in the project does).
 *
 * A weight may also be stored quantized (`Tensor.quant`, made at load by models/pack-weights.ts):
 * that storage is its own pack, multiplied by `Backend.gemmQ`. `linearProduct` and `weightOperand`
 * are the one place the ops ask which storage a weight has.
 */
import { backend } from "./backend/index.js";
import type { ComputeDtype, GemmArgs, PackedB } from "./backend/types.js";
import type { Storage } from "./dtype.js";
import type { Tensor } from "./tensor.js";

const packs = new WeakMap<Storage, PackedB>();

/** The pack of a Linear weight [out, in] (the GEMM's transposed B) for this compute dtype, or null. */
export function packedWeight(w: Tensor, compute: ComputeDtype): PackedB | null {
  if (w.requiresGrad) return null;
  const p = packs.get(w.data);
  return p !== undefined && p.compute === compute ? p : null;
}

/**
 * Packs a Linear weight [out, in] for products x·Wᵀ in this compute dtype, on the active
 * backend. Returns the bytes the pack takes (0 when the backend cannot pack or W is not 2-D).
 */
export function packWeight(w: Tensor, compute: ComputeDtype): number {
  const be = backend();
  if (w.quant) return 0;
  if (!be.packB || w.rank !== 2 || w.size === 0) return 0;
  const had = packedWeight(w, compute);
  if (had) return had.words.byteLength;
  const [N, K] = w.shape as [number, number];
  const p = be.packB({ B: w.data, bDtype: w.dtype, N, K, ldb: K, transB: true, compute });
  packs.set(w.data, p);
  return p.words.byteLength;
}

/** Forgets W's pack (its memory goes with the next GC). */
export function dropPackedWeight(w: Tensor): void {
  packs.delete(w.data);
}

/**
 * C[M,N] = alpha·X[M,K]·Wᵀ + beta·C for a Linear weight W [N, K], on whatever W's storage is:
 * quantized blocks (integer products), a pack made ahead, or the stored array.
 */
export function linearProduct(w: Tensor, X: Float32Array, M: number, C: Float32Array, alpha: number, beta: number, compute: ComputeDtype): void {
  const [N, K] = w.shape as [number, number];
  if (w.quant) return backend().gemmQ({ M, A: X, W: w.quant, C, alpha, beta });
  backend().gemm({
    batch: 1, M, N, K, transA: false, transB: true,
    A: X, lda: K, strideA: 0,
    B: w.data, bDtype: w.dtype, ldb: K, strideB: 0,
    C, ldc: N, strideC: 0, alpha, beta, compute, packedB: packedWeight(w, compute),
  });
}

/**
 * W as a plain GEMM operand (the backward's dX = dY·W): as stored, or dequantized to f32 for a
 * quantized weight (a temporary as large as an f32 weight, made per call).
 */
export function weightOperand(w: Tensor): Pick<GemmArgs, "B" | "bDtype"> {
  const s = w.quant ? w.toF32() : w;
  return { B: s.data, bDtype: s.dtype };
}
