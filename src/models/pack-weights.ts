/**
 * Packs a model's frozen projection weights once for the GEMM (tensor/packed-weights.ts), within
 * a memory budget: a pack is a float32 copy of the weight in the kernel's layout (as large as an
 * f32 weight, twice a bf16 one on the f32 kernels), so a model too big for the budget gets its
 * first layers packed and the rest packed per call as before. The LM head is left alone: encoding
 * never uses it and decoding multiplies it a few rows at a time, which reads weights as stored.
 */
import type { ComputeDtype } from "../tensor/compute.js";
import { packWeight } from "../tensor/packed-weights.js";
import type { DecoderModel } from "./decoder.js";

export interface PackReport {
  packed: number;
  /** Projections left to per-call packing because the budget ran out. */
  skipped: number;
  bytes: number;
}

/** Default budget of `packFrozenWeights` (and of LLM2Vec.fromPretrained's packWeightsMB). */
export const DEFAULT_PACK_BUDGET_MB = 2048;

export function packFrozenWeights(model: DecoderModel, compute: ComputeDtype, budgetBytes: number): PackReport {
  const r: PackReport = { packed: 0, skipped: 0, bytes: 0 };
  let full = false;
  for (const [, lin] of model.linearModules()) {
    const w = lin.weight;
    // f32 words per element (a bf16-pair kernel needs half): a conservative estimate before packing.
    // Once one does not fit, none after it is packed: the packed layers are a prefix.
    full ||= r.bytes + w.size * 4 > budgetBytes;
    if (full || w.requiresGrad) {
      r.skipped++;
      continue;
    }
    const b = packWeight(w, compute);
    if (b === 0) return r; // this backend cannot pack (the TypeScript reference)
    r.bytes += b;
    r.packed++;
  }
  return r;
}
