/**
 * Classification (MTEB protocol, AbsTaskClassification + logistic-regression
 * evaluator): embed the train pool and the eval split with the task instruction;
 * for each of n_experiments (default 10) re-shuffle the train indices with the task
 * RNG and take the first samples_per_label (default 8) examples of each label
 * (MTEB's _undersample_data), fit logistic regression (max_iter 100), score the
 * eval split. Reported: mean accuracy (main), macro-F1, weighted-F1, their std
 * over experiments, and the per-experiment scores.
 */
import { accuracy, f1Scores } from "../metrics/classification.js";
import { LogisticRegression } from "../metrics/logistic-regression.js";
import { Rng } from "../rng.js";
import { loadSplit } from "./data.js";
import { encodeTexts, meanStd, pct, type TaskRunner } from "./context.js";

/** MTEB's _undersample_data: shuffle the (persistent) index order, keep up to n per label. */
export function undersample(labels: readonly string[], perLabel: number, idxs: number[], rng: Rng): number[] {
  rng.shuffle(idxs);
  const count = new Map<string, number>();
  const out: number[] = [];
  for (const i of idxs) {
    const l = labels[i] as string;
    const c = count.get(l) ?? 0;
    if (c < perLabel) {
      out.push(i);
      count.set(l, c + 1);
    }
  }
  return out;
}

export const runClassification: TaskRunner = async (task, ctx) => {
  const trainName = task.train_split as string;
  const train = await loadSplit(task, trainName, "labeled-texts", ctx.dataRoot, ctx.cache);
  const evalSplit = await loadSplit(task, task.eval_split, "labeled-texts", ctx.dataRoot, ctx.cache);
  if (train.rows.length === 0) throw new Error(`task ${task.name}: train split "${trainName}" is empty`);
  if (evalSplit.rows.length === 0) throw new Error(`task ${task.name}: eval split "${task.eval_split}" is empty`);
  const nExp = task.params?.n_experiments ?? 10;
  const perLabel = task.params?.samples_per_label ?? 8;
  const maxIter = task.params?.max_iter ?? 100;
  const C = task.params?.C ?? 1.0;
  const Xtr = await encodeTexts(ctx, task, "encode train", train.rows.map((r) => r.text), task.instruction);
  const Xte = await encodeTexts(ctx, task, "encode eval", evalSplit.rows.map((r) => r.text), task.instruction);
  const ytr = train.rows.map((r) => r.label);
  const yte = evalSplit.rows.map((r) => r.label);
  const rng = new Rng(task.seed ?? 42);
  const idxs = Array.from({ length: ytr.length }, (_, i) => i);
  const perExp: Array<{ accuracy: number; f1: number; f1_weighted: number; n_train: number; converged: boolean }> = [];
  for (let e = 0; e < nExp; e++) {
    ctx.progress({ task: task.name, phase: "fit logistic regression", done: e, total: nExp });
    const pick = undersample(ytr, perLabel, idxs, rng);
    const clf = new LogisticRegression<string>({ C, maxIter }).fit(
      pick.map((i) => Xtr[i] as Float32Array),
      pick.map((i) => ytr[i] as string),
    );
    const pred = clf.predict(Xte);
    const f1 = f1Scores(yte, pred);
    perExp.push({
      accuracy: pct(accuracy(yte, pred)),
      f1: pct(f1.macro),
      f1_weighted: pct(f1.weighted),
      n_train: pick.length,
      converged: clf.converged,
    });
  }
  ctx.progress({ task: task.name, phase: "fit logistic regression", done: nExp, total: nExp });
  const acc = meanStd(perExp.map((s) => s.accuracy));
  const f1 = meanStd(perExp.map((s) => s.f1));
  const f1w = meanStd(perExp.map((s) => s.f1_weighted));
  const notConverged = perExp.filter((s) => !s.converged).length;
  const notes = [...train.notes, ...evalSplit.notes];
  if (notConverged) notes.push(`logistic regression hit max_iter=${maxIter} in ${notConverged} of ${nExp} experiment(s) (as sklearn would warn)`);
  return {
    split: task.eval_split,
    scores: {
      main_score: acc.mean,
      accuracy: acc.mean,
      accuracy_stderr: acc.std,
      f1: f1.mean,
      f1_stderr: f1.std,
      f1_weighted: f1w.mean,
      scores_per_experiment: perExp,
    },
    notes,
    stats: {
      train_pool: train.rows.length,
      eval_examples: evalSplit.rows.length,
      train_labels: new Set(ytr).size,
      eval_labels: new Set(yte).size,
      n_experiments: nExp,
      samples_per_label: perLabel,
      max_iter: maxIter,
    },
  };
};
