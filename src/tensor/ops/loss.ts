/**
 * Cross-entropy over the last dim with an ignore index (−100, as PyTorch), averaged over the
 * rows that count. A batch in which every row is ignored gives 0 (PyTorch gives NaN), so a
 * training step with nothing masked is a no-op rather than a poisoned update.
 */
import { makeOutput } from "../autograd.js";
import { backend } from "../backend/index.js";
import { ShapeError, Tensor } from "../tensor.js";

export const IGNORE_INDEX = -100;

export function crossEntropy(logits: Tensor, targets: Int32Array, ignoreIndex = IGNORE_INDEX): Tensor {
  const V = logits.shape[logits.rank - 1]!;
  const N = logits.size / V;
  if (targets.length !== N) throw new ShapeError("crossEntropy", `${targets.length} targets for ${N} rows of ${logits.label()}`);
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i]!;
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= V) throw new RangeError(`crossEntropy: target ${t} at row ${i} is outside [0, ${V})`);
    count++;
  }
  const be = backend();
  const rowLoss = new Float32Array(N);
  const lse = new Float32Array(N);
  be.crossEntropyForward(logits.f32, targets, ignoreIndex, N, V, rowLoss, lse);
  let total = 0;
  for (let i = 0; i < N; i++) total += rowLoss[i]!;
  const loss = count ? total / count : 0;
  if (!Number.isFinite(loss)) throw new Error(`crossEntropy: loss is ${loss} over ${logits.label()} (non-finite logits)`);
  return makeOutput("crossEntropy", new Float32Array([loss]), [], [logits], (g) => {
    const rowScale = new Float32Array(N).fill(count ? g[0]! / count : 0);
    const d = new Float32Array(logits.size);
    be.crossEntropyBackward(logits.f32, targets, ignoreIndex, lse, rowScale, N, V, d);
    return [d];
  });
}
