/**
 * Word-level probe on CoNLL-2003 (LLM2Vec paper §D.1.3 / test_word_task.py):
 * frozen encoder, per-word features = mean of the word's sub-token last-layer
 * vectors (from WordFeatureEncoder, shifted one position for MNTP models), a
 * linear softmax classifier on top, metric = token accuracy over all labelled
 * words (micro precision in the reference). Deviation, to stay CPU-sized: the
 * reference trains linear+dropout with AdamW for 1,500 steps on the full train
 * set; we fit an L2-regularised multinomial logistic regression (L-BFGS) on a
 * seeded sentence sample — same model class (linear softmax), different optimiser.
 */
import { accuracy, f1Scores } from "../metrics/classification.js";
import { LogisticRegression } from "../metrics/logistic-regression.js";
import type { TaggedSentence } from "../readers/types.js";
import { loadSplit } from "./data.js";
import { pct, type TaskContext, type TaskRunner } from "./context.js";
import type { TaskSpec } from "./spec.js";

async function features(ctx: TaskContext, task: TaskSpec, split: string, rows: TaggedSentence[], shift: boolean): Promise<Float32Array[][]> {
  const enc = ctx.wordEncoder;
  if (!enc) throw new Error(`task ${task.name}: WordProbe needs a WordFeatureEncoder`);
  // POS, chunk and NER probes read the same sentences: compute their features once.
  const key = JSON.stringify([task.splits[split], shift]);
  let pending = ctx.wordFeatureCache.get(key);
  if (!pending) {
    ctx.progress({ task: task.name, phase: `word features (${split})`, done: 0, total: rows.length });
    pending = enc.wordFeatures(rows.map((r) => r.tokens), { shift });
    ctx.wordFeatureCache.set(key, pending);
  }
  const feats = await pending;
  ctx.progress({ task: task.name, phase: `word features (${split})`, done: rows.length, total: rows.length });
  if (feats.length !== rows.length) throw new Error(`task ${task.name}: ${feats.length} feature rows for ${rows.length} sentences`);
  feats.forEach((f, i) => {
    const want = (rows[i] as TaggedSentence).tokens.length;
    if (f.length !== want)
      throw new Error(`task ${task.name}: sentence ${i} (line ${(rows[i] as TaggedSentence).line}) has ${want} words but ${f.length} feature vectors`);
  });
  return feats;
}

export const runWordProbe: TaskRunner = async (task, ctx) => {
  const label = task.params?.label as "pos" | "chunk" | "ner";
  const shift = task.params?.shift ?? ctx.wordShift;
  const trainName = task.train_split as string;
  const train = await loadSplit(task, trainName, "tagged", ctx.dataRoot, ctx.cache);
  const test = await loadSplit(task, task.eval_split, "tagged", ctx.dataRoot, ctx.cache);
  const fTrain = await features(ctx, task, trainName, train.rows, shift);
  const fTest = await features(ctx, task, task.eval_split, test.rows, shift);
  const flat = (rows: TaggedSentence[], f: Float32Array[][]) => {
    const X: Float32Array[] = [];
    const y: string[] = [];
    rows.forEach((r, i) => {
      const tags = r.tags[label] as string[];
      tags.forEach((t, j) => {
        X.push((f[i] as Float32Array[])[j] as Float32Array);
        y.push(t);
      });
    });
    return { X, y };
  };
  const tr = flat(train.rows, fTrain);
  const te = flat(test.rows, fTest);
  const maxIter = task.params?.max_iter ?? 100;
  ctx.progress({ task: task.name, phase: "fit linear probe", done: 0, total: 1 });
  const clf = new LogisticRegression<string>({ C: task.params?.C ?? 1.0, maxIter }).fit(tr.X, tr.y);
  ctx.progress({ task: task.name, phase: "fit linear probe", done: 1, total: 1 });
  const pred = clf.predict(te.X);
  const acc = accuracy(te.y, pred);
  const notes = [...train.notes, ...test.notes];
  if (!clf.converged) notes.push(`linear probe hit max_iter=${maxIter}`);
  return {
    split: task.eval_split,
    scores: { main_score: pct(acc), accuracy: pct(acc), f1: pct(f1Scores(te.y, pred).macro) },
    notes,
    stats: {
      label_column: label,
      shift: String(shift),
      train_sentences: train.rows.length,
      train_tokens: tr.y.length,
      eval_sentences: test.rows.length,
      eval_tokens: te.y.length,
      train_labels: new Set(tr.y).size,
    },
  };
};
