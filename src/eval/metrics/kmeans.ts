/**
 * Mini-batch k-means after sklearn.cluster.MiniBatchKMeans, which MTEB's clustering
 * evaluator runs with n_clusters = number of gold labels, batch_size = 500 and
 * n_init = 1 ("auto" with k-means++). Reproduced:
 *  - greedy k-means++ init (2 + floor(ln k) local trials) on a random subset of
 *    init_size = 3 * batch_size points (at least 3k, at most n);
 *  - steps = max_iter * n / batch_size mini-batches drawn with replacement;
 *    per-center running counts, center <- (center*count + sum(batch points)) / (count + m);
 *  - low-count center reassignment (reassignment_ratio 0.01) every 10 * k samples;
 *  - early stop when the exponentially weighted batch inertia has not improved for
 *    max_no_improvement = 10 steps;
 *  - final labels from a full assignment pass (sklearn's labels_).
 * Not reproduced bit-for-bit: numpy's RNG stream and the reassignment sampling
 * (we draw uniformly from the batch, sklearn weights by distance), so cluster
 * assignments differ from sklearn's for the same seed; the V-measure averaged
 * over several seeds is what is comparable.
 */
import { Rng } from "../rng.js";

export interface MiniBatchKMeansOptions {
  nClusters: number;
  batchSize?: number;
  maxIter?: number;
  maxNoImprovement?: number;
  reassignmentRatio?: number;
  seed: number;
}

export interface KMeansResult {
  labels: Int32Array;
  centers: Float64Array[];
  inertia: number;
  steps: number;
}

function sqDist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const t = (a[i] as number) - (b[i] as number);
    s += t * t;
  }
  return s;
}

function nearest(x: ArrayLike<number>, centers: Float64Array[]): [number, number] {
  let best = 0;
  let bd = Infinity;
  for (let c = 0; c < centers.length; c++) {
    const dd = sqDist(x, centers[c] as Float64Array);
    if (dd < bd) {
      bd = dd;
      best = c;
    }
  }
  return [best, bd];
}

/** Greedy k-means++ seeding (sklearn's _kmeans_plusplus). */
export function kmeansPlusPlus(X: ArrayLike<number>[], k: number, rng: Rng): Float64Array[] {
  const n = X.length;
  const trials = 2 + Math.floor(Math.log(k));
  const centers: Float64Array[] = [Float64Array.from(X[rng.int(n)] as ArrayLike<number>)];
  const closest = X.map((x) => sqDist(x, centers[0] as Float64Array));
  let pot = closest.reduce((a, b) => a + b, 0);
  for (let c = 1; c < k; c++) {
    let bestIdx = -1;
    let bestPot = Infinity;
    let bestClosest: number[] = closest;
    for (let t = 0; t < trials; t++) {
      // Sample a candidate with probability proportional to its squared distance.
      let r = rng.next() * pot;
      let idx = 0;
      while (idx < n - 1 && r >= (closest[idx] as number)) {
        r -= closest[idx] as number;
        idx++;
      }
      if (pot === 0) idx = rng.int(n); // all points coincide with centers
      const cand = X[idx] as ArrayLike<number>;
      const newClosest = closest.map((d, i) => Math.min(d, sqDist(X[i] as ArrayLike<number>, cand)));
      const p = newClosest.reduce((a, b) => a + b, 0);
      if (p < bestPot) {
        bestPot = p;
        bestIdx = idx;
        bestClosest = newClosest;
      }
    }
    centers.push(Float64Array.from(X[bestIdx] as ArrayLike<number>));
    for (let i = 0; i < n; i++) closest[i] = bestClosest[i] as number;
    pot = bestPot;
  }
  return centers;
}

export function miniBatchKMeans(X: ArrayLike<number>[], opts: MiniBatchKMeansOptions): KMeansResult {
  const n = X.length;
  const k = opts.nClusters;
  if (k < 1) throw new Error(`miniBatchKMeans: nClusters must be >= 1, got ${k}`);
  if (n < k) throw new Error(`miniBatchKMeans: ${n} samples < ${k} clusters`);
  const batchSize = Math.min(opts.batchSize ?? 500, n);
  const maxIter = opts.maxIter ?? 100;
  const maxNoImprovement = opts.maxNoImprovement ?? 10;
  const reassignmentRatio = opts.reassignmentRatio ?? 0.01;
  const rng = new Rng(opts.seed);
  const d = (X[0] as ArrayLike<number>).length;

  let initSize = 3 * (opts.batchSize ?? 500);
  if (initSize < k) initSize = 3 * k;
  initSize = Math.min(initSize, n);
  const initIdx = rng.permutation(n).slice(0, initSize);
  const centers = kmeansPlusPlus(
    initIdx.map((i) => X[i] as ArrayLike<number>),
    k,
    rng,
  );
  const counts = new Float64Array(k);
  const steps = Math.floor((maxIter * n) / batchSize);
  let ewa: number | undefined;
  let ewaMin = Infinity;
  let noImprovement = 0;
  let sinceReassign = 0;
  const alpha = Math.min(1, (batchSize * 2) / (n + 1));
  const sums = Array.from({ length: k }, () => new Float64Array(d));
  const m = new Float64Array(k);
  let step = 0;
  for (; step < steps; step++) {
    const batch = Array.from({ length: batchSize }, () => rng.int(n));
    for (let c = 0; c < k; c++) {
      (sums[c] as Float64Array).fill(0);
      m[c] = 0;
    }
    let inertia = 0;
    for (const i of batch) {
      const x = X[i] as ArrayLike<number>;
      const [c, dd] = nearest(x, centers);
      inertia += dd;
      const s = sums[c] as Float64Array;
      for (let j = 0; j < d; j++) s[j] = (s[j] as number) + (x[j] as number);
      m[c] = (m[c] as number) + 1;
    }
    for (let c = 0; c < k; c++) {
      const mc = m[c] as number;
      if (mc === 0) continue;
      const cc = counts[c] as number;
      const center = centers[c] as Float64Array;
      const s = sums[c] as Float64Array;
      for (let j = 0; j < d; j++) center[j] = ((center[j] as number) * cc + (s[j] as number)) / (cc + mc);
      counts[c] = cc + mc;
    }
    // Reassign starving centers to random batch points so no cluster stays empty.
    sinceReassign += batchSize;
    let minCount = Infinity;
    let maxCount = 0;
    for (let c = 0; c < k; c++) {
      minCount = Math.min(minCount, counts[c] as number);
      maxCount = Math.max(maxCount, counts[c] as number);
    }
    if (minCount === 0 || sinceReassign >= 10 * k) {
      sinceReassign = 0;
      const low = [];
      for (let c = 0; c < k; c++) if ((counts[c] as number) < reassignmentRatio * maxCount) low.push(c);
      if (low.length > 0.5 * batchSize) low.length = Math.floor(0.5 * batchSize);
      let keepMin = Infinity;
      for (let c = 0; c < k; c++) if (!low.includes(c)) keepMin = Math.min(keepMin, counts[c] as number);
      for (const c of low) {
        centers[c] = Float64Array.from(X[batch[rng.int(batch.length)] as number] as ArrayLike<number>);
        counts[c] = Number.isFinite(keepMin) ? keepMin : 0;
      }
    }
    // Early stopping on the smoothed batch inertia (sklearn's _mini_batch_convergence).
    const batchInertia = inertia / batchSize;
    ewa = ewa === undefined ? batchInertia : ewa * (1 - alpha) + batchInertia * alpha;
    if (ewa < ewaMin) {
      ewaMin = ewa;
      noImprovement = 0;
    } else if (++noImprovement >= maxNoImprovement) {
      step++;
      break;
    }
  }
  const labels = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [c, dd] = nearest(X[i] as ArrayLike<number>, centers);
    labels[i] = c;
    total += dd;
  }
  return { labels, centers, inertia: total, steps: step };
}
