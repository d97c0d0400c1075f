/**
 * Qrels that name queries or documents absent from the loaded collection are a data
 * error by default. With policy "warn" they are kept (pytrec_eval counts an unknown
 * relevant doc in num_rel, so it lowers recall/nDCG exactly as it would in MTEB) and
 * the counts are returned as notes for the result file.
 */
import type { Qrels } from "../metrics/retrieval.js";

export type UnknownIdPolicy = "error" | "warn";

export function checkQrelsIds(
  qrels: Qrels,
  queries: Map<string, string>,
  corpus: Map<string, unknown>,
  policy: UnknownIdPolicy,
  source: string,
): string[] {
  const unknownQueries = Object.keys(qrels).filter((q) => !queries.has(q));
  let unknownDocs = 0;
  const examples: string[] = [];
  for (const [q, docs] of Object.entries(qrels)) {
    for (const d of Object.keys(docs)) {
      if (!corpus.has(d)) {
        unknownDocs++;
        if (examples.length < 5) examples.push(`${q}->${d}`);
      }
    }
  }
  if (unknownQueries.length === 0 && unknownDocs === 0) return [];
  const msg =
    `${source}: qrels name ${unknownQueries.length} unknown query id(s)` +
    (unknownQueries.length ? ` (e.g. ${unknownQueries.slice(0, 5).join(", ")})` : "") +
    ` and ${unknownDocs} judgement(s) of unknown doc id(s)` +
    (examples.length ? ` (e.g. ${examples.join(", ")})` : "");
  if (policy === "error") throw new Error(`${msg}; set unknown_ids: "warn" to keep them`);
  return [`${msg}; kept (unknown_ids: "warn")`];
}
