/**
 * One batch of already-prepared rows through an LLM2Vec encoder, as `LLM2Vec.encode` runs each of
 * its batches (left padding, the model's attention mode, the configured pooling): for callers that
 * tokenise somewhere else and batch by their own rule, such as the HTTP server (tokenising on the
 * main thread, computing in a worker). The one encoder path (forward.ts) does the work, so the
 * vectors are `encode`'s; test/serve/ checks that.
 */
import { noGrad } from "../tensor/autograd.js";
import { pooledEmbeddings } from "./forward.js";
import type { LLM2Vec } from "./llm2vec.js";
import type { PreparedRow } from "./prepare.js";

/** Pooled, unnormalised embeddings of `rows` in their given order, as one [B·C] buffer. */
export function encodePreparedBatch(enc: LLM2Vec, rows: readonly PreparedRow[]): Float32Array {
  if (rows.length === 0) throw new Error("encodePreparedBatch: no rows");
  if (rows.every((r) => r.ids.length === 0)) throw new Error("encodePreparedBatch: every row is empty");
  return noGrad(() => pooledEmbeddings(enc.model, rows, enc.encoderPass(), enc.poolingChoice()).f32);
}
