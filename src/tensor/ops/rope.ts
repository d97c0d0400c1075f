/**
 * Rotary position embedding, Hugging Face "rotate half" convention, on x [B, T, H, D] with one
 * position per (b, t) (so left-padded rows can use whatever positions the reference uses).
 * Its backward is the inverse rotation.
 */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { takeF32 } from "../pool.js";
import { ShapeError, Tensor } from "../tensor.js";

export interface RopeTables {
  /** [maxPositions, D/2] each. */
  cos: Float32Array;
  sin: Float32Array;
  maxPositions: number;
  headDim: number;
}

export function rope(x: Tensor, positions: Int32Array, tables: RopeTables): Tensor {
  if (x.rank !== 4) throw new ShapeError("rope", `expected x [B,T,H,D], got ${x.label()}`);
  const [B, T, H, D] = x.shape as [number, number, number, number];
  if (D !== tables.headDim) throw new ShapeError("rope", `head dim ${D} differs from the tables' ${tables.headDim}`);
  if (positions.length !== B * T) throw new ShapeError("rope", `${positions.length} positions for ${B}×${T} tokens`);
  for (const p of positions)
    if (p < 0 || p >= tables.maxPositions) throw new RangeError(`rope: position ${p} outside [0, ${tables.maxPositions})`);
  const be = backend();
  const out = takeF32(x.size); // every element written
  be.rope(x.f32, positions, tables.cos, tables.sin, B * T, H, D, false, out);
  return makeOutput("rope", out, x.shape, [x], (g) => {
    const dx = new Float32Array(x.size);
    be.rope(g, positions, tables.cos, tables.sin, B * T, H, D, true, dx);
    return [dx];
  });
}
