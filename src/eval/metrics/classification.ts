/**
 * Classification scores as sklearn.metrics computes them for MTEB:
 * accuracy_score, f1_score(average="macro") and f1_score(average="weighted").
 * The label set for the F1 averages is the union of true and predicted labels
 * (sklearn's unique_labels); a label never predicted has precision 0/0 -> 0
 * (sklearn's zero_division="warn" behaviour), so its F1 is 0.
 */

export function accuracy<T>(yTrue: readonly T[], yPred: readonly T[]): number {
  if (yTrue.length !== yPred.length) throw new Error(`accuracy: ${yTrue.length} vs ${yPred.length} labels`);
  if (yTrue.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) ok++;
  return ok / yTrue.length;
}

export interface F1Scores {
  macro: number;
  weighted: number;
  perLabel: Map<unknown, { precision: number; recall: number; f1: number; support: number }>;
}

export function f1Scores<T>(yTrue: readonly T[], yPred: readonly T[]): F1Scores {
  if (yTrue.length !== yPred.length) throw new Error(`f1: ${yTrue.length} vs ${yPred.length} labels`);
  const labels = new Set<T>([...yTrue, ...yPred]);
  const tp = new Map<T, number>();
  const predCount = new Map<T, number>();
  const trueCount = new Map<T, number>();
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as T;
    const p = yPred[i] as T;
    trueCount.set(t, (trueCount.get(t) ?? 0) + 1);
    predCount.set(p, (predCount.get(p) ?? 0) + 1);
    if (t === p) tp.set(t, (tp.get(t) ?? 0) + 1);
  }
  const perLabel = new Map<unknown, { precision: number; recall: number; f1: number; support: number }>();
  let macro = 0;
  let weighted = 0;
  for (const l of labels) {
    const t = tp.get(l) ?? 0;
    const pc = predCount.get(l) ?? 0;
    const sc = trueCount.get(l) ?? 0;
    const precision = pc ? t / pc : 0;
    const recall = sc ? t / sc : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perLabel.set(l, { precision, recall, f1, support: sc });
    macro += f1;
    weighted += f1 * sc;
  }
  return {
    macro: labels.size ? macro / labels.size : NaN,
    weighted: yTrue.length ? weighted / yTrue.length : NaN,
    perLabel,
  };
}
