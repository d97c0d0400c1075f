/**
 * The encoder's one differentiable path: prepared token rows → left-padded batch → decoder →
 * hidden states [B, T, C] → pooled embeddings [B, C]. Inference (`LLM2Vec.encode`, under
 * noGrad) and training (MNTP reads the hidden states; SimCSE, supervised training and gradient
 * caching read the pooled rows with dropout on) run exactly this code, so what is trained is what
 * is used.
 */
import type { AdapterChoice, DecoderModel } from "../models/decoder.js";
import type { AttentionMode } from "../models/spec.js";
import { needsGrad } from "../tensor/autograd.js";
import { weightedPool } from "../tensor/ops/index.js";
import { giveF32 } from "../tensor/pool.js";
import type { Tensor } from "../tensor/tensor.js";
import type { PoolingMode } from "./options.js";
import { poolingWeights } from "./pooling.js";
import type { PreparedRow } from "./prepare.js";

export interface PaddedBatch {
  /** [B·T] token ids, rows left-padded with the pad id (the reference's padding side). */
  ids: Int32Array;
  /** [B·T], 1 = real token. */
  mask: Uint8Array;
  B: number;
  T: number;
}

/** Left-pads rows into one [B·T] id buffer and its attention mask. */
export function padLeft(rows: readonly Int32Array[], padId: number): PaddedBatch {
  const B = rows.length;
  let T = 0;
  for (const r of rows) T = Math.max(T, r.length);
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Uint8Array(B * T);
  rows.forEach((r, b) => {
    ids.set(r, b * T + T - r.length);
    mask.fill(1, b * T + T - r.length, (b + 1) * T);
  });
  return { ids, mask, B, T };
}

export interface EncoderPass {
  mode: AttentionMode;
  padTokenId: number;
  /** Dropout (attention probabilities and LoRA) is on only when training. */
  training?: boolean;
  attentionDropout?: number;
  /** Seeds every dropout mask of the pass; the same seed redraws the same masks (GradCache). */
  seed?: number;
  checkpointLayers?: boolean;
  /** See ForwardOptions.dropoutBatchOffset (GradCache chunks). */
  dropoutBatchOffset?: number;
  /** Which adapters run (default: those attached to the model). */
  adapters?: AdapterChoice;
}

export interface PoolingChoice {
  pooling: PoolingMode;
  skipInstruction: boolean;
  bosTokenId: number | null;
  /**
   * Pool every position of the padded row, pads and BOS included: what the reference's SimCSE
   * training does by accident (llm2vec.md §1c caveat). Off by default (pool as inference does).
   */
  wholePaddedRow?: boolean;
}

/** Last hidden states [B, T, C] of a padded batch. */
export function hiddenStates(model: DecoderModel, batch: PaddedBatch, pass: EncoderPass): Tensor {
  return model.forward(batch.ids, batch.B, batch.T, {
    mode: pass.mode,
    attentionMask: batch.mask,
    training: pass.training,
    attentionDropout: pass.attentionDropout,
    seed: pass.seed,
    checkpointLayers: pass.checkpointLayers,
    dropoutBatchOffset: pass.dropoutBatchOffset,
    adapters: pass.adapters,
  });
}

/** Per-position pooling weights [B·T] for prepared rows padded as `batch`. */
export function batchPoolingWeights(rows: readonly PreparedRow[], batch: PaddedBatch, choice: PoolingChoice): Float32Array {
  const { T } = batch;
  if (choice.wholePaddedRow) {
    if (choice.pooling !== "mean") throw new Error(`whole-row pooling is the reference's SimCSE quirk for mean pooling, not ${choice.pooling}`);
    return new Float32Array(batch.B * T).fill(1 / T);
  }
  return poolingWeights(
    choice.pooling,
    rows.map((r, b) => ({ length: r.ids.length, textTokens: r.textTokens, ids: batch.ids.subarray(b * T, (b + 1) * T) })),
    T,
    choice.skipInstruction,
    choice.bosTokenId,
  );
}

/**
 * Pooled embeddings [B, C] of prepared rows packed back to back without padding (inference): one
 * forward over their real tokens, each row attending to itself only and positioned 0..L−1, as it
 * would be alone. A mixed-length batch then costs its real tokens, not B × its longest row; the
 * vectors equal the padded path's within float rounding (RoPE sees the same relative positions).
 */
export function packedEmbeddings(model: DecoderModel, rows: readonly PreparedRow[], pass: EncoderPass, choice: PoolingChoice): Tensor {
  if (pass.training) throw new Error("packedEmbeddings: inference only; training batches are padded");
  if (choice.wholePaddedRow) throw new Error("packedEmbeddings: whole-row pooling pools padding, which a packed batch has none of");
  const lengths = Int32Array.from(rows, (r) => r.ids.length);
  const ids = new Int32Array(lengths.reduce((n, L) => n + L, 0));
  const weights = new Float32Array(ids.length);
  let at = 0;
  for (const r of rows) {
    const L = r.ids.length;
    ids.set(r.ids, at);
    // Each row's weights as a batch of that row alone (T = L, no padding) would have them.
    weights.set(poolingWeights(choice.pooling, [{ length: L, textTokens: r.textTokens, ids: r.ids }], L, choice.skipInstruction, choice.bosTokenId), at);
    at += L;
  }
  const hidden = model.forward(ids, 1, ids.length, { mode: pass.mode, packedLengths: lengths, adapters: pass.adapters });
  const pooled = weightedPool(hidden, weights, lengths);
  // The hidden states are this forward's last intermediate: back to the pool for the next batch.
  if (!needsGrad(hidden)) giveF32(hidden.f32);
  return pooled;
}

/** Pooled embeddings [B, C] of prepared rows (differentiable when the model has trainable weights). */
export function pooledEmbeddings(model: DecoderModel, rows: readonly PreparedRow[], pass: EncoderPass, choice: PoolingChoice): Tensor {
  const batch = padLeft(rows.map((r) => r.ids), pass.padTokenId);
  const weights = batchPoolingWeights(rows, batch, choice);
  return weightedPool(hiddenStates(model, batch, pass), weights);
}
