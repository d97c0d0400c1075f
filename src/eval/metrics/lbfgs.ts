/**
 * A small L-BFGS minimiser (two-loop recursion, memory 10, backtracking Armijo
 * line search). It stands in for scipy's L-BFGS-B that sklearn's
 * LogisticRegression(solver="lbfgs") calls; the objectives here are smooth and
 * convex, so Armijo backtracking is enough to converge. Stops when
 * max|gradient| <= gtol (scipy's pgtol, which sklearn sets to tol=1e-4) or after
 * maxIter iterations (sklearn's max_iter counts L-BFGS iterations too).
 */

export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

export function minimizeLbfgs(
  fg: Objective,
  x0: Float64Array,
  opts: { maxIter?: number; gtol?: number; memory?: number } = {},
): LbfgsResult {
  const maxIter = opts.maxIter ?? 100;
  const gtol = opts.gtol ?? 1e-4;
  const m = opts.memory ?? 10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(m);
  let iter = 0;
  let converged = maxAbs(g) <= gtol;
  while (!converged && iter < maxIter) {
    // Two-loop recursion: d = -H g.
    d.set(g);
    for (let j = S.length - 1; j >= 0; j--) {
      const a = (rho[j] as number) * dot(S[j] as Float64Array, d);
      alpha[j] = a;
      const yj = Y[j] as Float64Array;
      for (let i = 0; i < n; i++) d[i] = (d[i] as number) - a * (yj[i] as number);
    }
    let gamma = 1;
    if (S.length > 0) {
      const sl = S[S.length - 1] as Float64Array;
      const yl = Y[Y.length - 1] as Float64Array;
      gamma = dot(sl, yl) / dot(yl, yl);
    } else {
      // First step: scale so the trial step has unit length (as scipy does).
      gamma = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-12);
    }
    for (let i = 0; i < n; i++) d[i] = (d[i] as number) * gamma;
    for (let j = 0; j < S.length; j++) {
      const b = (rho[j] as number) * dot(Y[j] as Float64Array, d);
      const sj = S[j] as Float64Array;
      const a = alpha[j] as number;
      for (let i = 0; i < n; i++) d[i] = (d[i] as number) + (a - b) * (sj[i] as number);
    }
    for (let i = 0; i < n; i++) d[i] = -(d[i] as number);
    let slope = dot(g, d);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      const s = 1 / Math.max(Math.sqrt(dot(g, g)), 1e-12);
      for (let i = 0; i < n; i++) d[i] = -(g[i] as number) * s;
      slope = dot(g, d);
    }
    // Backtracking Armijo line search.
    let step = 1;
    const xNew = new Float64Array(n);
    const gNew = new Float64Array(n);
    let fNew = Infinity;
    let accepted = false;
    for (let ls = 0; ls < 50; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = (x[i] as number) + step * (d[i] as number);
      fNew = fg(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    iter++;
    if (!accepted) break; // cannot make progress: return the best point so far
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = (xNew[i] as number) - (x[i] as number);
      y[i] = (gNew[i] as number) - (g[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const fOld = f;
    x = xNew;
    g = gNew;
    f = fNew;
    converged = maxAbs(g) <= gtol;
    // scipy's ftol criterion (sklearn passes 64*eps): relative reduction too small.
    if (!converged && (fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= 64 * Number.EPSILON) converged = true;
  }
  return { x, f, iterations: iter, converged };
}
