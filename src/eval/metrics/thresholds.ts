/**
 * Best-threshold accuracy and F1 for pair classification, following MTEB's
 * PairClassificationEvaluator (find_best_acc_and_threshold / find_best_f1_and_threshold):
 * sort by score (higher = more similar), sweep the cut after each position except
 * the last, threshold = midpoint between neighbours. Cheap, so reported alongside AP.
 */

function sortedPairs(labels: ArrayLike<number>, scores: ArrayLike<number>): Array<[number, number]> {
  const rows: Array<[number, number]> = [];
  for (let i = 0; i < labels.length; i++) rows.push([scores[i] as number, labels[i] as number]);
  // Python's sorted(..., reverse=True) is stable: equal scores keep input order.
  return rows.map((r, i) => [r, i] as const).sort((a, b) => b[0][0] - a[0][0] || a[1] - b[1]).map((x) => x[0]);
}

export function bestAccuracy(labels: ArrayLike<number>, scores: ArrayLike<number>): { accuracy: number; threshold: number } {
  const rows = sortedPairs(labels, scores);
  let maxAcc = 0;
  let best = -1;
  let pos = 0;
  let remainingNeg = 0;
  for (const [, l] of rows) if (l === 0) remainingNeg++;
  for (let i = 0; i < rows.length - 1; i++) {
    const [, l] = rows[i] as [number, number];
    if (l === 1) pos++;
    else remainingNeg--;
    const acc = (pos + remainingNeg) / rows.length;
    if (acc > maxAcc) {
      maxAcc = acc;
      best = ((rows[i] as [number, number])[0] + (rows[i + 1] as [number, number])[0]) / 2;
    }
  }
  return { accuracy: maxAcc, threshold: best };
}

export function bestF1(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): { f1: number; precision: number; recall: number; threshold: number } {
  const rows = sortedPairs(labels, scores);
  let totalPos = 0;
  for (const [, l] of rows) totalPos += l;
  let extracted = 0;
  let correct = 0;
  const best = { f1: 0, precision: 0, recall: 0, threshold: 0 };
  for (let i = 0; i < rows.length - 1; i++) {
    const [, l] = rows[i] as [number, number];
    extracted++;
    if (l === 1) correct++;
    if (correct > 0) {
      const p = correct / extracted;
      const r = correct / totalPos;
      const f1 = (2 * p * r) / (p + r);
      if (f1 > best.f1) {
        best.f1 = f1;
        best.precision = p;
        best.recall = r;
        best.threshold = ((rows[i] as [number, number])[0] + (rows[i + 1] as [number, number])[0]) / 2;
      }
    }
  }
  return best;
}
