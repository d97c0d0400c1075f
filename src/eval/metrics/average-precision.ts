/**
 * sklearn.metrics.average_precision_score for binary labels:
 *   AP = sum_n (R_n - R_{n-1}) * P_n
 * over the DISTINCT score thresholds in decreasing order (precision_recall_curve
 * groups tied scores into one threshold, so a tie block is taken all at once —
 * no interpolation, no arbitrary order inside the tie).
 * With no positive label sklearn warns and yields 0 (recall undefined); we return 0.
 */
export function averagePrecision(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  if (n !== scores.length) throw new Error(`averagePrecision: ${n} labels vs ${scores.length} scores`);
  let totalPos = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i] as number;
    if (l !== 0 && l !== 1) throw new Error(`averagePrecision: label ${l} at ${i} is not 0/1`);
    totalPos += l;
  }
  if (totalPos === 0) return 0;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let tp = 0;
  let seen = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < n) {
    const s = scores[order[i] as number] as number;
    // Consume the whole tie block before evaluating the threshold.
    while (i < n && (scores[order[i] as number] as number) === s) {
      tp += labels[order[i] as number] as number;
      seen++;
      i++;
    }
    const recall = tp / totalPos;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
  }
  return ap;
}
