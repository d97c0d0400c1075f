/**
 * The MNTP loss (llm2vec.md §1b): the output at position i−1 predicts the original token at a
 * masked position i, cross-entropy over the masked positions only (the reference's
 * `CE(logits[:, :-1], labels[:, 1:])`). Logits are computed only at the rows that predict a
 * masked token (gatherRows): the full [B·T, V] logits would be most of the step's memory.
 */
import { hiddenStates, type EncoderPass } from "../../encoder/forward.js";
import type { DecoderModel } from "../../models/decoder.js";
import { crossEntropy, gatherRows, IGNORE_INDEX, reshape } from "../../tensor/ops/index.js";
import type { Tensor } from "../../tensor/tensor.js";

export interface MntpBatch {
  /** [B·T] ids after masking. */
  inputIds: Int32Array;
  /** [B·T] unshifted labels: the original id at masked positions, −100 elsewhere. */
  labels: Int32Array;
  /** [B·T] attention mask (1 = real); omitted = full blocks. */
  attentionMask?: Uint8Array;
  B: number;
  T: number;
}

export interface MntpOutput {
  loss: Tensor;
  /** Masked positions that count (position 0 of a row cannot be predicted: nothing precedes it). */
  predicted: number;
  /** Of those, how many the argmax gets right. */
  correct: number;
}

/** Rows (b·T + i − 1) that predict each counted masked position i, and their targets. */
export function shiftedTargets(labels: Int32Array, B: number, T: number): { rows: Int32Array; targets: Int32Array } {
  const rows: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < B; b++)
    for (let i = 1; i < T; i++) {
      const l = labels[b * T + i]!;
      if (l === IGNORE_INDEX) continue;
      rows.push(b * T + i - 1);
      targets.push(l);
    }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets) };
}

export function mntpLoss(model: DecoderModel, batch: MntpBatch, pass: EncoderPass): MntpOutput {
  const { B, T } = batch;
  const mask = batch.attentionMask ?? new Uint8Array(B * T).fill(1);
  const h = hiddenStates(model, { ids: batch.inputIds, mask, B, T }, pass);
  const { rows, targets } = shiftedTargets(batch.labels, B, T);
  const C = model.spec.hiddenSize;
  const logits = model.logits(gatherRows(reshape(h, [B * T, C]), rows));
  const loss = crossEntropy(logits, targets);
  const V = model.spec.vocabSize;
  const L = logits.f32;
  let correct = 0;
  for (let r = 0; r < targets.length; r++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (L[r * V + v]! > L[r * V + best]!) best = v;
    if (best === targets[r]) correct++;
  }
  return { loss, predicted: targets.length, correct };
}
