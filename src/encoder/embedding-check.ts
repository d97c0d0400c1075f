/**
 * What makes a pooled embedding unusable as an answer: a non-finite value (the weights or an op
 * blew up) or a zero norm (nothing was pooled, or everything cancelled). A zero vector has no
 * direction, so "normalising" it still returns zeros and its cosine with anything is undefined;
 * every caller that hands out vectors refuses both, naming the input.
 */
export function embeddingFault(v: Float32Array): string | null {
  let ss = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isFinite(x)) return "a non-finite embedding (check the model weights; LLM2VEC_CHECK_FINITE=1 names the op)";
    ss += x * x;
  }
  return ss > 0 ? null : "an all-zero embedding, which has no direction (nothing was pooled; check the pooling mode and the input's truncation)";
}
