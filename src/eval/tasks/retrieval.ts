/**
 * Retrieval (MTEB protocol): queries are encoded WITH the task instruction, corpus
 * documents WITHOUT one ("title text" when titles are used, as MTEB's corpus
 * encoding does). Each query keeps its top max(k) documents by cosine; the run is
 * scored with trec_eval semantics (metrics/retrieval.ts): nDCG@10 main, MAP@100,
 * Recall@100 and the other cutoffs. Query and doc ids live in separate spaces, so
 * MTEB's ignore_identical_ids (which would drop doc "5" for query "5") is not applied.
 */
import { evaluateRetrieval, type Run } from "../metrics/retrieval.js";
import { dot, l2normalize } from "../metrics/similarity.js";
import { loadRetrieval } from "./data.js";
import { encodeTexts, pct, type TaskRunner } from "./context.js";

const DEFAULT_K = [1, 3, 5, 10, 100];

export const runRetrieval: TaskRunner = async (task, ctx) => {
  const { data, queryIds, notes, queriesWithQrels, queriesWithoutQrels } = await loadRetrieval(
    task,
    task.eval_split,
    ctx.dataRoot,
    ctx.cache,
  );
  const ks = [...new Set(task.params?.k_values ?? DEFAULT_K)].sort((a, b) => a - b);
  if (!ks.includes(10)) ks.push(10);
  const topK = Math.max(...ks);
  const useTitle = task.params?.use_title ?? true;
  const docIds = [...data.corpus.keys()];
  const docTexts = docIds.map((id) => {
    const d = data.corpus.get(id) as { title: string; text: string };
    return useTitle && d.title ? `${d.title} ${d.text}`.trim() : d.text;
  });
  const qTexts = queryIds.map((q) => data.queries.get(q) as string);
  const qv = (await encodeTexts(ctx, task, "encode queries", qTexts, task.instruction)).map(l2normalize);
  const dv = (await encodeTexts(ctx, task, "encode corpus", docTexts, "")).map(l2normalize);
  const run: Run = {};
  for (let qi = 0; qi < queryIds.length; qi++) {
    const q = qv[qi] as Float64Array;
    const scored = dv.map((d, di) => [dot(q, d), di] as [number, number]);
    scored.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const hits: Record<string, number> = {};
    for (const [s, di] of scored.slice(0, topK)) hits[docIds[di] as string] = s;
    run[queryIds[qi] as string] = hits;
  }
  // Only the evaluated (possibly capped) queries' qrels take part.
  const qrels = Object.fromEntries(queryIds.map((q) => [q, data.qrels[q] as Record<string, number>]));
  const r = evaluateRetrieval(qrels, run, ks);
  const scores: Record<string, number> & { main_score: number } = { main_score: pct(r.ndcg[10] as number) };
  for (const k of ks) scores[`ndcg_at_${k}`] = pct(r.ndcg[k] as number);
  for (const k of ks) scores[`map_at_${k}`] = pct(r.map[k] as number);
  for (const k of ks) scores[`recall_at_${k}`] = pct(r.recall[k] as number);
  for (const k of ks) scores[`precision_at_${k}`] = pct(r.precision[k] as number);
  if (r.queriesWithoutRelevant)
    notes.push(`${r.queriesWithoutRelevant} evaluated quer(y/ies) have qrels but no doc with grade >= 1: they score 0 (trec_eval)`);
  return {
    split: task.eval_split,
    scores,
    notes,
    stats: {
      num_queries: r.evaluatedQueries,
      queries_with_qrels: queriesWithQrels,
      queries_without_qrels: queriesWithoutQrels,
      queries_without_relevant: r.queriesWithoutRelevant,
      num_docs: docIds.length,
    },
  };
};
