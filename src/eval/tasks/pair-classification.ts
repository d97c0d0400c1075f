/**
 * Pair classification (MTEB protocol): cosine of the two embeddings (same
 * instruction on both sides), average precision against the 0/1 labels (main, as
 * sklearn's average_precision_score), plus accuracy/F1 at their best thresholds.
 */
import { averagePrecision } from "../metrics/average-precision.js";
import { pairedCosine } from "../metrics/similarity.js";
import { bestAccuracy, bestF1 } from "../metrics/thresholds.js";
import { loadSplit } from "./data.js";
import { encodeTexts, pct, type TaskRunner } from "./context.js";

export const runPairClassification: TaskRunner = async (task, ctx) => {
  const { rows, notes, available } = await loadSplit(task, task.eval_split, "labeled-pairs", ctx.dataRoot, ctx.cache);
  if (rows.length < 2) throw new Error(`task ${task.name}: need at least 2 pairs, found ${rows.length}`);
  const v1 = await encodeTexts(ctx, task, "encode sentence1", rows.map((r) => r.sentence1), task.instruction);
  const v2 = await encodeTexts(ctx, task, "encode sentence2", rows.map((r) => r.sentence2), task.instruction);
  const cos = pairedCosine(v1, v2);
  const labels = rows.map((r) => r.label);
  const ap = averagePrecision(labels, cos);
  const acc = bestAccuracy(labels, cos);
  const f1 = bestF1(labels, cos);
  return {
    split: task.eval_split,
    scores: {
      main_score: pct(ap),
      cosine_ap: pct(ap),
      cosine_accuracy: pct(acc.accuracy),
      cosine_accuracy_threshold: acc.threshold,
      cosine_f1: pct(f1.f1),
      cosine_precision: pct(f1.precision),
      cosine_recall: pct(f1.recall),
      cosine_f1_threshold: f1.threshold,
    },
    notes,
    stats: { num_pairs: rows.length, available_pairs: available, positives: labels.filter((l) => l === 1).length },
  };
};
