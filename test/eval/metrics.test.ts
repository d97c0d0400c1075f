import { test } from "node:test";
import assert from "node:assert/strict";
import {
  accuracy,
  averagePrecision,
  bestAccuracy,
  bestF1,
  cosine,
  evaluateRetrieval,
  f1Scores,
  homogeneityCompletenessV,
  LogisticRegression,
  miniBatchKMeans,
  pearson,
  rankAverage,
  rankRun,
  scoreQuery,
  spearman,
  vMeasure,
} from "../../src/eval/metrics/index.js";
import { Rng, sampleIndices } from "../../src/eval/rng.js";

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("rankAverage gives tied values the mean of their ranks", () => {
  assert.deepEqual(Array.from(rankAverage([10, 20, 20, 30])), [1, 2.5, 2.5, 4]);
  assert.deepEqual(Array.from(rankAverage([3, 3, 3])), [2, 2, 2]);
});

test("spearman with ties = pearson of average ranks (hand-computed 3/sqrt(10))", () => {
  close(spearman([1, 2, 2, 3], [1, 2, 3, 4]), 3 / Math.sqrt(10));
  close(spearman([1, 2, 3], [30, 20, 10]), -1);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])), "constant input is undefined (NaN) like scipy");
});

test("pearson on tiny inputs", () => {
  close(pearson([1, 2, 3], [2, 4, 6]), 1);
  // x=[1,2,3], y=[1,3,2]: sxy=1, sxx=2, syy=2 -> 0.5
  close(pearson([1, 2, 3], [1, 3, 2]), 0.5);
});

test("cosine", () => {
  close(cosine([1, 0], [0, 1]), 0);
  close(cosine([1, 1], [2, 2]), 1);
  close(cosine([0, 0], [1, 2]), 0);
});

test("retrieval: trec_eval tie-break is by doc id descending", () => {
  assert.deepEqual(rankRun({ a: 0.5, c: 0.5, b: 0.9 }), ["b", "c", "a"]);
});

test("retrieval: graded nDCG/MAP/recall/P by hand", () => {
  // Ranking: b(1) c(0) d(unjudged) a(2).
  const s = scoreQuery({ a: 2, b: 1, c: 0 }, { a: 0.1, b: 0.9, c: 0.5, d: 0.3 }, [1, 10]);
  const dcg = 1 / Math.log2(2) + 2 / Math.log2(5);
  const idcg = 2 + 1 / Math.log2(3);
  close(s.ndcg[10] as number, dcg / idcg);
  close(s.ndcg[1] as number, 1 / 2); // dcg@1 = 1, idcg@1 = 2
  close(s.map[10] as number, (1 + 2 / 4) / 2);
  close(s.map[1] as number, 1 / 2);
  close(s.recall[1] as number, 0.5);
  close(s.recall[10] as number, 1);
  close(s.precision[1] as number, 1);
  close(s.precision[10] as number, 2 / 10);
});

test("retrieval: query without relevant docs scores 0; query without qrels is excluded", () => {
  const qrels = { q1: { a: 1 }, q2: { b: 0 } };
  const run = { q1: { a: 1, b: 0.5 }, q2: { a: 1, b: 0.5 }, q3: { a: 1 } };
  const r = evaluateRetrieval(qrels, run, [10]);
  assert.equal(r.evaluatedQueries, 2);
  assert.equal(r.queriesWithoutQrels, 1);
  assert.equal(r.queriesWithoutRelevant, 1);
  close(r.ndcg[10] as number, 0.5); // (1 + 0) / 2
  close(r.recall[10] as number, 0.5);
  const empty = evaluateRetrieval({}, { q: { a: 1 } }, [10]);
  assert.equal(empty.evaluatedQueries, 0);
  close(empty.ndcg[10] as number, 0);
});

test("retrieval: negative grades are unjudged, not relevant", () => {
  const s = scoreQuery({ a: -1, b: 1 }, { a: 0.9, b: 0.8 }, [10]);
  close(s.map[10] as number, 1 / 2); // b at rank 2 -> precision 1/2, num_rel 1
  close(s.ndcg[10] as number, 1 / Math.log2(3));
});

test("average precision groups tied scores (sklearn)", () => {
  // thresholds 0.9 (P=1,R=.5), 0.5 tie block (P=2/3,R=1)
  close(averagePrecision([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1]), 0.5 * 1 + 0.5 * (2 / 3));
  close(averagePrecision([1, 1, 0], [0.9, 0.8, 0.1]), 1);
  close(averagePrecision([0, 1], [0.9, 0.1]), 0.5);
  close(averagePrecision([0, 1, 1], [0.5, 0.5, 0.5]), 2 / 3);
  assert.equal(averagePrecision([0, 0], [0.3, 0.2]), 0);
});

test("best accuracy / F1 thresholds (MTEB sweep)", () => {
  const a = bestAccuracy([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1]);
  close(a.accuracy, 1);
  close(a.threshold, 0.55);
  const f = bestF1([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]);
  close(f.f1, 0.8); // cut after 3: P=2/3, R=1
  close(f.threshold, 0.4);
});

test("accuracy and macro/weighted F1", () => {
  close(accuracy(["a", "a", "b"], ["a", "b", "b"]), 2 / 3);
  const f = f1Scores(["a", "a", "b"], ["a", "b", "b"]);
  close(f.macro, 2 / 3);
  close(f.weighted, 2 / 3);
  // a label never predicted gets F1 0; predicted-only labels count too (union)
  close(f1Scores(["a", "b"], ["a", "c"]).macro, (1 + 0 + 0) / 3);
});

test("logistic regression: separable data, multiclass, and single-class training", () => {
  const X = [
    [0, 0],
    [0.1, 0.2],
    [5, 5],
    [5.2, 4.9],
    [-5, 5],
    [-4.8, 5.1],
  ];
  const y = ["a", "a", "b", "b", "c", "c"];
  const clf = new LogisticRegression({ maxIter: 100 }).fit(X, y);
  assert.deepEqual(clf.predict(X), y);
  assert.deepEqual(clf.classes, ["a", "b", "c"]);
  const single = new LogisticRegression().fit([[1], [2]], ["only", "only"]);
  assert.deepEqual(single.predict([[0], [9]]), ["only", "only"]);
  // single-class training scored on two-class eval: accuracy 1/2, macro-F1 over {only, other}
  const pred = single.predict([[0], [1]]);
  close(accuracy(["only", "other"], pred), 0.5);
  close(f1Scores(["only", "other"], pred).macro, (2 / 3 + 0) / 2);
});

test("logistic regression matches the L2 optimum (1-D, symmetric data)", () => {
  // Symmetric two-class data: the optimum has zero intercept for both classes; check convergence.
  const clf = new LogisticRegression({ C: 1, maxIter: 200, tol: 1e-8 }).fit([[-1], [1]], ["n", "p"]);
  assert.equal(clf.converged, true);
  assert.deepEqual(clf.predict([[-0.2], [0.3]]), ["n", "p"]);
});

test("v-measure: perfect, trivial, random and a hand-computed case", () => {
  close(vMeasure([0, 0, 1, 1], [1, 1, 0, 0]), 1);
  close(vMeasure([0, 0, 1, 1], [0, 0, 0, 0]), 0);
  close(vMeasure([0, 0, 1, 1], [0, 1, 0, 1]), 0);
  const m = homogeneityCompletenessV([0, 0, 1, 1], [0, 0, 1, 2]);
  close(m.homogeneity, 1);
  const hk = -(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25));
  close(m.completeness, Math.log(2) / hk);
  close(m.vMeasure, (2 * m.completeness) / (1 + m.completeness));
  close(vMeasure([], []), 1);
});

test("mini-batch k-means separates two blobs and is seed-deterministic", () => {
  const rng = new Rng(1);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 60; i++) {
    const c = i % 2;
    X.push([c * 10 + rng.next(), c * 10 + rng.next()]);
    y.push(c);
  }
  const a = miniBatchKMeans(X, { nClusters: 2, batchSize: 16, seed: 7 });
  const b = miniBatchKMeans(X, { nClusters: 2, batchSize: 16, seed: 7 });
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  close(vMeasure(y, Array.from(a.labels)), 1);
});

test("seeded RNG is reproducible", () => {
  assert.deepEqual(new Rng(5).permutation(10), new Rng(5).permutation(10));
  assert.notDeepEqual(new Rng(5).permutation(10), new Rng(6).permutation(10));
  assert.deepEqual(sampleIndices(5, 10, 1), [0, 1, 2, 3, 4]);
  const s = sampleIndices(100, 10, 3);
  assert.equal(s.length, 10);
  assert.deepEqual(s, [...s].sort((p, q) => p - q));
});
