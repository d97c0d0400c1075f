/** Embedding lookup. Ids are validated (an out-of-range id is an error naming it, never garbage). */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { takeF32 } from "../pool.js";
import { ShapeError, Tensor } from "../tensor.js";

export function embedding(table: Tensor, ids: Int32Array, shape: readonly number[] = [ids.length]): Tensor {
  if (table.rank !== 2) throw new ShapeError("embedding", `table must be [vocab, dim], got ${table.label()}`);
  const [V, C] = table.shape as [number, number];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < V)) throw new RangeError(`embedding: token id ${id} at position ${i} is outside the vocabulary [0, ${V})`);
  }
  const out = takeF32(ids.length * C); // every row written (ids checked above)
  backend().embeddingForward(table.data, table.dtype, ids, C, out);
  return makeOutput("embedding", out, [...shape, C], [table], (g) => {
    if (!table.requiresGrad) return [null];
    const dT = new Float32Array(table.size);
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i]! * C;
      for (let c = 0; c < C; c++) dT[row + c] += g[i * C + c]!;
    }
    return [dT];
  });
}
