/**
 * Pooling weights per position for a left-padded batch (llm2vec.md §2.7). Every mode is a
 * weighted sum over positions, so one op (weightedPool) serves them all.
 *  - mean: the last L positions, L = text tokens (skipInstruction) or real tokens.
 *  - weighted_mean: weights 1..L over those positions, normalised (later tokens weigh more).
 *  - last_token / eos_token: the last position (the last real token under left padding).
 *  - bos_token: the position holding BOS (exactly one per row is required).
 * A row whose text tokenises to nothing pools all its real tokens instead of the reference's
 * whole padded row, so its embedding does not depend on what it was batched with.
 */
import type { PoolingMode } from "./options.js";

export interface PoolingRow {
  /** Real tokens in the row (they are the last `length` positions). */
  length: number;
  /** Trailing positions that belong to the text. */
  textTokens: number;
  ids: Int32Array;
}

export function poolingWeights(mode: PoolingMode, rows: PoolingRow[], T: number, skipInstruction: boolean, bosId: number | null): Float32Array {
  const w = new Float32Array(rows.length * T);
  rows.forEach((r, b) => {
    const base = b * T;
    if (mode === "last_token" || mode === "eos_token") {
      w[base + T - 1] = 1;
      return;
    }
    if (mode === "bos_token") {
      const at: number[] = [];
      for (let t = T - r.length; t < T; t++) if (r.ids[t] === bosId) at.push(t);
      if (at.length !== 1) throw new Error(`bos_token pooling needs exactly one BOS token per input; input row ${b} has ${at.length}`);
      w[base + at[0]!] = 1;
      return;
    }
    let L = skipInstruction ? r.textTokens : r.length;
    // No text tokens (or a count that is not one): pool the real tokens, never an empty set.
    if (!(L > 0)) L = r.length;
    L = Math.min(L, r.length);
    if (mode === "mean") for (let t = T - L; t < T; t++) w[base + t] = 1 / L;
    else {
      const total = (L * (L + 1)) / 2;
      for (let i = 0; i < L; i++) w[base + T - L + i] = (i + 1) / total;
    }
  });
  return w;
}

/** L2-normalises a row in place (then a dot product is the cosine); a zero row stays zero. */
export function normalizeInPlace(v: Float32Array): void {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!;
  const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}
