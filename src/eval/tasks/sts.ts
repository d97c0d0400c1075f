/**
 * STS (MTEB protocol): embed both sentences with the same instruction (symmetric
 * task), cosine similarity per pair, Spearman (main) and Pearson against the gold
 * scores. Gold normalisation (MTEB divides by 5) does not change correlations.
 */
import { pairedCosine } from "../metrics/similarity.js";
import { pearson, spearman } from "../metrics/correlation.js";
import { loadSplit } from "./data.js";
import { encodeTexts, pct, type TaskRunner } from "./context.js";

export const runSts: TaskRunner = async (task, ctx) => {
  const { rows, notes, available } = await loadSplit(task, task.eval_split, "scored-pairs", ctx.dataRoot, ctx.cache);
  if (rows.length < 2) throw new Error(`task ${task.name}: need at least 2 pairs, found ${rows.length}`);
  const v1 = await encodeTexts(ctx, task, "encode sentence1", rows.map((r) => r.sentence1), task.instruction);
  const v2 = await encodeTexts(ctx, task, "encode sentence2", rows.map((r) => r.sentence2), task.instruction);
  const cos = pairedCosine(v1, v2);
  const gold = rows.map((r) => r.score);
  const s = spearman(cos, gold);
  const p = pearson(cos, gold);
  return {
    split: task.eval_split,
    scores: { main_score: pct(s), cosine_spearman: pct(s), cosine_pearson: pct(p) },
    notes,
    stats: { num_pairs: rows.length, available_pairs: available },
  };
};
