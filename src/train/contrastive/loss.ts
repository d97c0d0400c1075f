/**
 * The reference's HardNegativeNLLLoss (llm2vec/loss/HardNegativeNLLLoss.py): scores =
 * cos(q_i, d_j)·scale over every candidate d (the batch's positives, then its hard negatives),
 * cross-entropy against the diagonal (q_i's positive is d_i), one direction only. SimCSE uses it
 * with d = the second dropout view and scale 20; supervised training with scale 50.
 */
import { cosineSimilarity, crossEntropy, scale as scaleOp } from "../../tensor/ops/index.js";
import { ShapeError, type Tensor } from "../../tensor/tensor.js";

export function contrastiveLoss(q: Tensor, d: Tensor, scale: number): Tensor {
  const [Bq] = q.shape as [number, number];
  const [Bd] = d.shape as [number, number];
  if (Bd < Bq) throw new ShapeError("contrastiveLoss", `${Bd} candidates for ${Bq} queries (each query needs its positive)`);
  const targets = Int32Array.from({ length: Bq }, (_, i) => i);
  return crossEntropy(scaleOp(cosineSimilarity(q, d), scale), targets);
}
