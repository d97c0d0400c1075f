/**
 * Shaping embeddings for the reply: `dimensions` (keep the first d values, then re-normalise, the
 * Matryoshka convention OpenAI's text-embedding-3 follows), L2 normalisation (OpenAI's vectors are
 * unit length, so clients compare them with dot products), and base64 (the little-endian float32
 * bytes, which the openai client requests by default and decodes).
 */
import { invalid } from "./errors.js";

export interface OutputOptions {
  dimensions?: number;
  normalize: boolean;
  base64: boolean;
}

export function checkDimensions(dimensions: number | undefined, modelDim: number): void {
  if (dimensions !== undefined && dimensions > modelDim)
    throw invalid(`'dimensions' is ${dimensions}, over this model's embedding size ${modelDim}.`, "dimensions");
}

export function shapeEmbedding(v: Float32Array, o: OutputOptions): number[] | string {
  const out = Float32Array.from(o.dimensions !== undefined ? v.subarray(0, o.dimensions) : v);
  // Truncating a unit vector leaves it shorter, so a truncated vector is always re-normalised.
  if (o.normalize || o.dimensions !== undefined) normalize(out);
  if (o.base64) return Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString("base64");
  return Array.from(out);
}

function normalize(v: Float32Array): void {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i]! * v[i]!;
  const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}
