/**
 * Gradient caching (GradCache, Gao et al. 2021) for contrastive losses: a batch of 128 or 512
 * trains in the memory of one chunk, with the whole batch's gradient.
 *   1. every chunk of every group is encoded without a graph → representations R;
 *   2. the loss on R (cheap: [B, C] rows) is back-propagated to R only → dL/dR;
 *   3. each chunk is encoded again with a graph and dL/dR's rows for it are back-propagated.
 * Step 1 keeps no graph, so its memory is one layer's activations, not the chunk's: it runs in
 * chunks several times larger (`NO_GRAPH_CHUNK_FACTOR`), where the products have more rows and run
 * nearer the GEMM's peak. Rows are independent, so the representations are those of the graph
 * chunks (up to the GEMM's summation order on some small products, ~1e-7).
 * The re-run must reproduce the first pass exactly, dropout included: a chunk is the rows
 * c0.. of its group, padded to the group's length and run with the group's seed and
 * `dropoutBatchOffset = c0`, so it draws the very masks the whole group would. The gradient
 * therefore equals that of the whole batch run at once (a test checks 1e-5).
 */
import { batchPoolingWeights, type EncoderPass, type PaddedBatch, type PoolingChoice } from "../../encoder/forward.js";
import { hiddenStates, padLeft } from "../../encoder/forward.js";
import type { PreparedRow } from "../../encoder/prepare.js";
import type { DecoderModel } from "../../models/decoder.js";
import { backward, noGrad } from "../../tensor/autograd.js";
import { weightedPool } from "../../tensor/ops/index.js";
import { Tensor } from "../../tensor/tensor.js";

/** One set of texts whose pooled representations the loss needs (e.g. queries, or one dropout view). */
export interface RepGroup {
  batch: PaddedBatch;
  /** [B·T] pooling weights for `batch`. */
  weights: Float32Array;
  /** Dropout seed of this group's pass. */
  seed: number;
}

export function makeGroup(rows: readonly PreparedRow[], padTokenId: number, choice: PoolingChoice, seed: number): RepGroup {
  const batch = padLeft(rows.map((r) => r.ids), padTokenId);
  return { batch, weights: batchPoolingWeights(rows, batch, choice), seed };
}

function chunkOf(g: RepGroup, c0: number, c1: number): { batch: PaddedBatch; weights: Float32Array } {
  const { T } = g.batch;
  return {
    batch: { ids: g.batch.ids.subarray(c0 * T, c1 * T), mask: g.batch.mask.subarray(c0 * T, c1 * T), B: c1 - c0, T },
    weights: g.weights.subarray(c0 * T, c1 * T),
  };
}

function encodeChunk(model: DecoderModel, g: RepGroup, c0: number, c1: number, pass: EncoderPass): Tensor {
  const { batch, weights } = chunkOf(g, c0, c1);
  return weightedPool(hiddenStates(model, batch, { ...pass, seed: g.seed, dropoutBatchOffset: c0 }), weights);
}

/** Step 1's chunks are this many graph chunks (see the header). */
export const NO_GRAPH_CHUNK_FACTOR = 4;

export interface StepOutcome {
  loss: number;
}

/**
 * Forward + backward of `loss(reps)` over the groups, accumulating parameter gradients scaled by
 * `lossScale`. `chunkSize` ≥ every group's size runs each group whole (no caching).
 */
export function contrastiveStep(
  model: DecoderModel,
  groups: readonly RepGroup[],
  pass: EncoderPass,
  loss: (reps: Tensor[]) => Tensor,
  chunkSize: number,
  lossScale = 1,
): StepOutcome {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`gradient-cache chunk size must be a positive integer, got ${chunkSize}`);
  const C = model.spec.hiddenSize;
  const whole = groups.every((g) => g.batch.B <= chunkSize);
  if (whole) {
    const reps = groups.map((g) => encodeChunk(model, g, 0, g.batch.B, pass));
    const l = loss(reps);
    const v = l.f32[0]!;
    if (l.requiresGrad && Number.isFinite(v)) backward(l, Float32Array.of(lossScale));
    return { loss: v };
  }
  // 1. Representations without a graph, in larger chunks.
  const noGraphChunk = chunkSize * NO_GRAPH_CHUNK_FACTOR;
  const cached = groups.map((g) => {
    const out = new Float32Array(g.batch.B * C);
    for (let c0 = 0; c0 < g.batch.B; c0 += noGraphChunk) {
      const c1 = Math.min(g.batch.B, c0 + noGraphChunk);
      out.set(noGrad(() => encodeChunk(model, g, c0, c1, pass)).f32, c0 * C);
    }
    return new Tensor(out, [g.batch.B, C], { requiresGrad: true });
  });
  // 2. The loss and its gradient with respect to the representations.
  const l = loss(cached);
  const v = l.f32[0]!;
  if (!Number.isFinite(v)) return { loss: v };
  backward(l, Float32Array.of(lossScale));
  // 3. Each chunk again, with a graph, fed its rows of dL/dR.
  groups.forEach((g, gi) => {
    const dR = cached[gi]!.grad?.f32;
    if (!dR) return;
    for (let c0 = 0; c0 < g.batch.B; c0 += chunkSize) {
      const c1 = Math.min(g.batch.B, c0 + chunkSize);
      const reps = encodeChunk(model, g, c0, c1, pass);
      if (reps.requiresGrad) backward(reps, dR.subarray(c0 * C, c1 * C));
    }
  });
  return { loss: v };
}
