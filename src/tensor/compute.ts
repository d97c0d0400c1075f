/**
 * The compute dtype of matrix products, as a scope: `withComputeDtype("bf16", fn)` runs every
 * matmul / linear that `fn` builds with bf16 operands (rounded once, f32 accumulation, f32
 * results: PyTorch's bf16 autocast with f32 outputs). Norms, softmax, attention, activations and
 * losses are f32 either way. A product captures the dtype when it is built, so its backward (and
 * a checkpointed layer's recomputation) runs in the same dtype wherever it is called from.
 */
import type { ComputeDtype } from "./backend/types.js";

export type { ComputeDtype };

export const COMPUTE_DTYPES: readonly ComputeDtype[] = ["f32", "bf16"];

let current: ComputeDtype = "f32";

/** The compute dtype of products built now. */
export function computeDtype(): ComputeDtype {
  return current;
}

export function withComputeDtype<T>(dtype: ComputeDtype, fn: () => T): T {
  if (!COMPUTE_DTYPES.includes(dtype)) throw new Error(`compute dtype must be one of ${COMPUTE_DTYPES.join(", ")}, got ${JSON.stringify(dtype)}`);
  const prev = current;
  current = dtype;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
