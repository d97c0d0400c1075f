/**
 * One batch of already-prepared rows through an LLM2Vec encoder, as `LLM2Vec.encode` runs each of
 * its batches (left padding, the model's attention mode, the configured pooling): for callers that
 * tokenise somewhere else and batch by their own rule, such as the HTTP server (tokenising on the
 * main thread, computing in a worker). Built on the encoder's public fields only, so the class's
 * internals can change; test/serve/ checks that the vectors equal `encode`'s.
 */
import { noGrad } from "../tensor/autograd.js";
import { weightedPool } from "../tensor/ops/index.js";
import type { LLM2Vec } from "./llm2vec.js";
import { poolingWeights } from "./pooling.js";
import type { PreparedRow } from "./prepare.js";

/** Pooled, unnormalised embeddings of `rows` in their given order, as one [B·C] buffer. */
export function encodePreparedBatch(enc: LLM2Vec, rows: readonly PreparedRow[]): Float32Array {
  if (rows.length === 0) throw new Error("encodePreparedBatch: no rows");
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length));
  if (T === 0) throw new Error("encodePreparedBatch: every row is empty");
  const pad = enc.tokenizer.padTokenId ?? 0;
  const ids = new Int32Array(B * T).fill(pad);
  const mask = new Uint8Array(B * T);
  rows.forEach((r, b) => {
    ids.set(r.ids, b * T + T - r.ids.length);
    mask.fill(1, b * T + T - r.ids.length, (b + 1) * T);
  });
  const weights = poolingWeights(
    enc.options.pooling,
    rows.map((r, b) => ({ length: r.ids.length, textTokens: r.textTokens, ids: ids.subarray(b * T, (b + 1) * T) })),
    T,
    enc.options.skipInstruction,
    enc.tokenizer.bosTokenId,
  );
  const mode = enc.options.bidirectional ? "bidirectional" : "causal";
  return noGrad(() => weightedPool(enc.model.forward(ids, B, T, { mode, attentionMask: mask }), weights).f32);
}
