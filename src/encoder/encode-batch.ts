/**
 * One batch of already-prepared rows through an LLM2Vec encoder, as `LLM2Vec.encode` runs each of
 * its batches (left padding, the model's attention mode, the configured pooling): for callers that
 * tokenise somewhere else and batch by their own rule, such as the HTTP server (tokenising on the
 * main thread, computing in a worker). The one encoder path (forward.ts) does the work, so the
 * vectors are `encode`'s; test/serve/ checks that.
 */
import { noGrad } from "../tensor/autograd.js";
import { packedEmbeddings, pooledEmbeddings } from "./forward.js";
import type { LLM2Vec } from "./llm2vec.js";
import type { PreparedRow } from "./prepare.js";

/**
 * Pooled, unnormalised embeddings of `rows` in their given order, as one [B·C] buffer. Padded
 * (default) is `encode`'s own batch; packed runs the rows without padding (forward.ts
 * packedEmbeddings), equal within float rounding and cheaper when lengths are mixed.
 */
export function encodePreparedBatch(enc: LLM2Vec, rows: readonly PreparedRow[], layout: "padded" | "packed" = "padded"): Float32Array {
  if (rows.length === 0) throw new Error("encodePreparedBatch: no rows");
  if (rows.every((r) => r.ids.length === 0)) throw new Error("encodePreparedBatch: every row is empty");
  const run = layout === "packed" ? packedEmbeddings : pooledEmbeddings;
  return noGrad(() => run(enc.model, rows, enc.encoderPass(), enc.poolingChoice()).f32);
}
