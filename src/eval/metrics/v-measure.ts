/**
 * Homogeneity, completeness and V-measure as sklearn.metrics.homogeneity_completeness_v_measure
 * (natural-log entropies; the base cancels in the ratios):
 *   h = MI / H(C)   (1 when H(C) = 0),   c = MI / H(K)   (1 when H(K) = 0),
 *   v = (1 + beta) h c / (beta h + c)    (0 when h + c = 0), beta = 1.
 * Empty input gives 1, 1, 1 like sklearn.
 */

function entropy<T>(labels: readonly T[]): number {
  const n = labels.length;
  if (n === 0) return 1;
  const counts = new Map<T, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / n) * Math.log(c / n);
  return h;
}

function mutualInfo<A, B>(a: readonly A[], b: readonly B[]): number {
  const n = a.length;
  const joint = new Map<A, Map<B, number>>();
  const ca = new Map<A, number>();
  const cb = new Map<B, number>();
  for (let i = 0; i < n; i++) {
    const x = a[i] as A;
    const y = b[i] as B;
    let row = joint.get(x);
    if (!row) joint.set(x, (row = new Map()));
    row.set(y, (row.get(y) ?? 0) + 1);
    ca.set(x, (ca.get(x) ?? 0) + 1);
    cb.set(y, (cb.get(y) ?? 0) + 1);
  }
  let mi = 0;
  for (const [x, row] of joint) {
    for (const [y, nij] of row) {
      mi += (nij / n) * Math.log((nij * n) / ((ca.get(x) as number) * (cb.get(y) as number)));
    }
  }
  return Math.max(0, mi);
}

export function homogeneityCompletenessV<A, B>(
  labelsTrue: readonly A[],
  labelsPred: readonly B[],
  beta = 1,
): { homogeneity: number; completeness: number; vMeasure: number } {
  if (labelsTrue.length !== labelsPred.length)
    throw new Error(`v-measure: ${labelsTrue.length} true vs ${labelsPred.length} predicted labels`);
  if (labelsTrue.length === 0) return { homogeneity: 1, completeness: 1, vMeasure: 1 };
  const hC = entropy(labelsTrue);
  const hK = entropy(labelsPred);
  const mi = mutualInfo(labelsTrue, labelsPred);
  const homogeneity = hC ? mi / hC : 1;
  const completeness = hK ? mi / hK : 1;
  const vMeasure =
    homogeneity + completeness === 0 ? 0 : ((1 + beta) * homogeneity * completeness) / (beta * homogeneity + completeness);
  return { homogeneity, completeness, vMeasure };
}

export function vMeasure<A, B>(labelsTrue: readonly A[], labelsPred: readonly B[]): number {
  return homogeneityCompletenessV(labelsTrue, labelsPred).vMeasure;
}
