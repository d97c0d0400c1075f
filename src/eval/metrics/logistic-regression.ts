/**
 * Multinomial logistic regression with L2 penalty, matching the objective of
 * sklearn's LogisticRegression(solver="lbfgs", C=1.0, fit_intercept=True) that
 * MTEB's classification evaluator fits (max_iter=100):
 *
 *   L(W, b) = (1/n) * sum_i CE(softmax(W x_i + b), y_i) + ||W||^2 / (2 C n)
 *
 * (sklearn >= 1.2 scales the loss by 1/sum(sample_weight); the intercept is not
 * penalised). One weight vector per class (full softmax parametrisation), as sklearn
 * does for multi-class and — a small deviation — also for two classes, where sklearn
 * fits a single logistic vector; the decision rule is equivalent and the penalty
 * differs by a constant factor, which only matters for tiny C.
 * Single-class training data: sklearn raises; we instead predict that class
 * (documented, so a degenerate sub-sample gives a score instead of a crash).
 */
import { minimizeLbfgs } from "./lbfgs.js";

export interface LogisticRegressionOptions {
  /** inverse regularisation strength (sklearn default 1.0) */
  C?: number;
  /** L-BFGS iterations (MTEB: 100) */
  maxIter?: number;
  /** gradient tolerance (sklearn default 1e-4) */
  tol?: number;
}

export class LogisticRegression<L extends string | number = string> {
  classes: L[] = [];
  /** K x d weights, row-major */
  private W = new Float64Array(0);
  private b = new Float64Array(0);
  private dim = 0;
  iterations = 0;
  converged = false;
  readonly C: number;
  readonly maxIter: number;
  readonly tol: number;

  constructor(opts: LogisticRegressionOptions = {}) {
    this.C = opts.C ?? 1.0;
    this.maxIter = opts.maxIter ?? 100;
    this.tol = opts.tol ?? 1e-4;
  }

  fit(X: ArrayLike<number>[], y: readonly L[]): this {
    if (X.length !== y.length) throw new Error(`LogisticRegression.fit: ${X.length} rows vs ${y.length} labels`);
    if (X.length === 0) throw new Error("LogisticRegression.fit: no training data");
    const n = X.length;
    const d = (X[0] as ArrayLike<number>).length;
    this.dim = d;
    // Sorted classes, like sklearn's np.unique.
    this.classes = [...new Set(y)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const K = this.classes.length;
    const index = new Map<L, number>(this.classes.map((c, i) => [c, i]));
    if (K === 1) {
      this.W = new Float64Array(d);
      this.b = new Float64Array(1);
      this.iterations = 0;
      this.converged = true;
      return this;
    }
    // Copy to one contiguous float64 matrix for cache-friendly loops.
    const Xm = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const row = X[i] as ArrayLike<number>;
      if (row.length !== d) throw new Error(`LogisticRegression.fit: row ${i} has dim ${row.length}, expected ${d}`);
      for (let j = 0; j < d; j++) Xm[i * d + j] = row[j] as number;
    }
    const yi = Int32Array.from(y, (l) => index.get(l) as number);
    const P = K * d;
    const penalty = 1 / (this.C * n);
    const Z = new Float64Array(K);
    const fg = (theta: Float64Array, grad: Float64Array): number => {
      grad.fill(0);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const off = i * d;
        let zmax = -Infinity;
        for (let k = 0; k < K; k++) {
          let z = theta[P + k] as number;
          const wo = k * d;
          for (let j = 0; j < d; j++) z += (theta[wo + j] as number) * (Xm[off + j] as number);
          Z[k] = z;
          if (z > zmax) zmax = z;
        }
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const e = Math.exp((Z[k] as number) - zmax);
          Z[k] = e;
          sum += e;
        }
        const t = yi[i] as number;
        loss += Math.log(sum) - Math.log(Z[t] as number);
        for (let k = 0; k < K; k++) {
          // dL/dz_k = p_k - [k == y]
          const r = (Z[k] as number) / sum - (k === t ? 1 : 0);
          if (r === 0) continue;
          const wo = k * d;
          for (let j = 0; j < d; j++) grad[wo + j] = (grad[wo + j] as number) + r * (Xm[off + j] as number);
          grad[P + k] = (grad[P + k] as number) + r;
        }
      }
      let sq = 0;
      for (let p = 0; p < P; p++) {
        const w = theta[p] as number;
        sq += w * w;
        grad[p] = (grad[p] as number) / n + penalty * w;
      }
      for (let k = 0; k < K; k++) grad[P + k] = (grad[P + k] as number) / n;
      return loss / n + 0.5 * penalty * sq;
    };
    const res = minimizeLbfgs(fg, new Float64Array(P + K), { maxIter: this.maxIter, gtol: this.tol });
    this.W = res.x.slice(0, P);
    this.b = res.x.slice(P);
    this.iterations = res.iterations;
    this.converged = res.converged;
    return this;
  }

  /** Raw scores W x + b per class. */
  decisionFunction(x: ArrayLike<number>): Float64Array {
    const K = this.classes.length;
    const out = new Float64Array(K);
    if (K === 1) return out;
    const d = this.dim;
    for (let k = 0; k < K; k++) {
      let z = this.b[k] as number;
      for (let j = 0; j < d; j++) z += (this.W[k * d + j] as number) * (x[j] as number);
      out[k] = z;
    }
    return out;
  }

  predict(X: ArrayLike<number>[]): L[] {
    if (this.classes.length === 0) throw new Error("LogisticRegression.predict before fit");
    return X.map((x) => {
      const z = this.decisionFunction(x);
      let best = 0;
      for (let k = 1; k < z.length; k++) if ((z[k] as number) > (z[best] as number)) best = k;
      return this.classes[best] as L;
    });
  }
}
