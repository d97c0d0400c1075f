/**
 * Clustering (MTEB protocol): embed the texts with the task instruction, run
 * mini-batch k-means with k = number of distinct gold labels (batch 500, one
 * k-means++ init per run) for n_runs seeds (default 5), and report the mean
 * V-measure (main) with its std, plus homogeneity and completeness.
 */
import { miniBatchKMeans } from "../metrics/kmeans.js";
import { homogeneityCompletenessV } from "../metrics/v-measure.js";
import { loadSplit } from "./data.js";
import { encodeTexts, meanStd, pct, type TaskRunner } from "./context.js";

export const runClustering: TaskRunner = async (task, ctx) => {
  const { rows, notes, available } = await loadSplit(task, task.eval_split, "labeled-texts", ctx.dataRoot, ctx.cache);
  const labels = rows.map((r) => r.label);
  const k = new Set(labels).size;
  if (rows.length < k || k < 1) throw new Error(`task ${task.name}: ${rows.length} texts for ${k} labels`);
  const X = await encodeTexts(ctx, task, "encode", rows.map((r) => r.text), task.instruction);
  const nRuns = task.params?.n_runs ?? 5;
  const batchSize = task.params?.batch_size ?? 500;
  const base = task.seed ?? 42;
  const v: number[] = [];
  const h: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < nRuns; r++) {
    ctx.progress({ task: task.name, phase: "k-means", done: r, total: nRuns });
    const km = miniBatchKMeans(X, { nClusters: k, batchSize, seed: base + r });
    const m = homogeneityCompletenessV(labels, Array.from(km.labels));
    v.push(pct(m.vMeasure));
    h.push(pct(m.homogeneity));
    c.push(pct(m.completeness));
  }
  ctx.progress({ task: task.name, phase: "k-means", done: nRuns, total: nRuns });
  const vm = meanStd(v);
  return {
    split: task.eval_split,
    scores: {
      main_score: vm.mean,
      v_measure: vm.mean,
      v_measure_std: vm.std,
      homogeneity: meanStd(h).mean,
      completeness: meanStd(c).mean,
      v_measures: v,
    },
    notes,
    stats: { num_texts: rows.length, available_texts: available, n_clusters: k, n_runs: nRuns, batch_size: batchSize, first_seed: base },
  };
};
