/**
 * Vector similarity helpers. Encoders return unnormalised vectors (LLM2Vec does
 * not L2-normalise), so cosine is computed explicitly, in float64 to keep
 * rankings stable for large dimensions.
 */

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; 0 when either vector is all zeros (sklearn's paired_cosine_distances gives 1 - 0 there too). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine: dimension mismatch ${a.length} vs ${b.length}`);
  const na = norm(a);
  const nb = norm(b);
  if (na === 0 || nb === 0) return 0;
  return dot(a, b) / (na * nb);
}

/** L2-normalised float64 copy (zero vectors stay zero). */
export function l2normalize(a: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(a as ArrayLike<number>);
  const n = norm(out);
  if (n > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / n;
  return out;
}

/** Row-wise cosine of paired lists (STS, pair classification). */
export function pairedCosine(a: ArrayLike<number>[], b: ArrayLike<number>[]): Float64Array {
  if (a.length !== b.length) throw new Error(`pairedCosine: ${a.length} vs ${b.length} vectors`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = cosine(a[i] as ArrayLike<number>, b[i] as ArrayLike<number>);
  return out;
}
