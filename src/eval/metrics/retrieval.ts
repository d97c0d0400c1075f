/**
 * Ranking metrics computed the way MTEB gets them from pytrec_eval (trec_eval 9.x):
 * `ndcg_cut.k`, `map_cut.k`, `recall.k`, `P.k`.
 *
 * trec_eval semantics reproduced here (see form_res_rels.c / m_ndcg_cut.c):
 *  - the run for a query is sorted by score descending, ties broken by doc id in
 *    DEcreasing string order (strcmp(b, a)), not by insertion order;
 *  - graded relevance: the DCG gain is the qrels grade itself (linear, not 2^g-1),
 *    discount log2(rank + 1); only grades > 0 add gain;
 *  - the ideal DCG is built from the qrels (all judged docs of the query, retrieved
 *    or not), so missing relevant docs lower nDCG;
 *  - a doc is "relevant" for MAP/recall/precision when grade >= 1; negative grades
 *    mean "in pool but unjudged" and count as neither relevant nor as a level;
 *  - a query whose qrels hold no relevant doc scores 0 on every measure (trec_eval
 *    guards the division by num_rel / ideal DCG and leaves 0).
 *
 * Query coverage, as in MTEB: pytrec_eval only evaluates queries that appear in
 * BOTH the qrels and the run, and MTEB averages over exactly those (len(scores)).
 * MTEB/BEIR also drop queries without any qrels line before retrieval, so such
 * queries are excluded from the average rather than counted as 0. A query that has
 * qrels lines but none with grade >= 1 is kept and scores 0.
 */

/** qid -> docid -> grade (pytrec_eval's qrels dict). */
export type Qrels = Record<string, Record<string, number>>;
/** qid -> docid -> score (pytrec_eval's run dict). */
export type Run = Record<string, Record<string, number>>;

export interface QueryScores {
  ndcg: Record<number, number>;
  map: Record<number, number>;
  recall: Record<number, number>;
  precision: Record<number, number>;
}

/** Sort a query's run like trec_eval: score desc, then docid desc. */
export function rankRun(run: Record<string, number>): string[] {
  return Object.keys(run).sort((a, b) => {
    const sa = run[a] as number;
    const sb = run[b] as number;
    if (sa !== sb) return sb - sa;
    return a < b ? 1 : a > b ? -1 : 0;
  });
}

/** trec_eval measures for one query at each cutoff in ks. */
export function scoreQuery(qrels: Record<string, number>, run: Record<string, number>, ks: number[]): QueryScores {
  const ranked = rankRun(run);
  const gains = ranked.map((d) => (d in qrels ? (qrels[d] as number) : -1));
  // Ideal ranking: judged grades > 0, best first.
  const ideal = Object.values(qrels)
    .filter((g) => g > 0)
    .sort((a, b) => b - a);
  const numRel = Object.values(qrels).filter((g) => g >= 1).length;
  const out: QueryScores = { ndcg: {}, map: {}, recall: {}, precision: {} };
  for (const k of ks) {
    let dcg = 0;
    let idcg = 0;
    let relRet = 0;
    let apSum = 0;
    const n = Math.min(k, gains.length);
    for (let i = 0; i < n; i++) {
      const g = gains[i] as number;
      if (g > 0) dcg += g / Math.log2(i + 2);
      if (g >= 1) {
        relRet++;
        apSum += relRet / (i + 1);
      }
    }
    for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += (ideal[i] as number) / Math.log2(i + 2);
    out.ndcg[k] = idcg > 0 ? dcg / idcg : 0;
    out.map[k] = numRel > 0 ? apSum / numRel : 0;
    out.recall[k] = numRel > 0 ? relRet / numRel : 0;
    // trec_eval's P.k divides by k even when fewer than k docs were retrieved.
    out.precision[k] = relRet / k;
  }
  return out;
}

export interface RetrievalScores {
  /** mean over evaluated queries, keyed by cutoff */
  ndcg: Record<number, number>;
  map: Record<number, number>;
  recall: Record<number, number>;
  precision: Record<number, number>;
  /** queries present in both qrels and run (the averaging denominator) */
  evaluatedQueries: number;
  /** run queries without any qrels line (excluded, as in MTEB) */
  queriesWithoutQrels: number;
  /** evaluated queries whose qrels contain no grade >= 1 (scored 0) */
  queriesWithoutRelevant: number;
}

/** Average trec_eval measures over the queries MTEB would average over. */
export function evaluateRetrieval(qrels: Qrels, run: Run, ks: number[]): RetrievalScores {
  const acc: RetrievalScores = {
    ndcg: {},
    map: {},
    recall: {},
    precision: {},
    evaluatedQueries: 0,
    queriesWithoutQrels: 0,
    queriesWithoutRelevant: 0,
  };
  for (const k of ks) acc.ndcg[k] = acc.map[k] = acc.recall[k] = acc.precision[k] = 0;
  for (const qid of Object.keys(run)) {
    const qr = qrels[qid];
    if (qr === undefined) {
      acc.queriesWithoutQrels++;
      continue;
    }
    if (!Object.values(qr).some((g) => g >= 1)) acc.queriesWithoutRelevant++;
    const s = scoreQuery(qr, run[qid] as Record<string, number>, ks);
    acc.evaluatedQueries++;
    for (const k of ks) {
      acc.ndcg[k] = (acc.ndcg[k] as number) + (s.ndcg[k] as number);
      acc.map[k] = (acc.map[k] as number) + (s.map[k] as number);
      acc.recall[k] = (acc.recall[k] as number) + (s.recall[k] as number);
      acc.precision[k] = (acc.precision[k] as number) + (s.precision[k] as number);
    }
  }
  const n = acc.evaluatedQueries;
  for (const k of ks) {
    // No evaluable query: MTEB would divide by zero; report 0 and let the caller flag it.
    acc.ndcg[k] = n ? (acc.ndcg[k] as number) / n : 0;
    acc.map[k] = n ? (acc.map[k] as number) / n : 0;
    acc.recall[k] = n ? (acc.recall[k] as number) / n : 0;
    acc.precision[k] = n ? (acc.precision[k] as number) / n : 0;
  }
  return acc;
}
