/**
 * Cranfield collection (SMART distribution): cran.all.1400, cran.qry, cranqrel.
 *
 * Records start with ".I <id>" followed by field markers on their own line
 * (.T title, .A authors, .B bibliographic source, .W text); field text runs until
 * the next marker. Docs keep their .I number as id; .W is the text, .T the title
 * (the .W text of these docs already starts with the title).
 *
 * TRAP: cranqrel numbers queries 1..225 by their POSITION in cran.qry, not by the
 * ".I" numbers (001, 002, 004, 008, ... 365). Query ids here are therefore the
 * ordinal "1".."225"; the original .I is kept in `queryDotI` for reference.
 *
 * Relevance grades in cranqrel (Cleverdon's Cranfield II scale, lower = better):
 *   1 complete answer, 2 high relevance, 3 useful background, 4 minimum interest,
 *   5 no interest (not listed in the file);
 *   -1 marks, once per query, the query's SOURCE document (the paper whose author
 *   wrote the question; e.g. query 1 -> doc 486 "similarity laws for
 *   aerothermoelastic testing").
 * trec_eval (and so MTEB/pytrec_eval) wants larger = more relevant, and treats
 * negative grades as unjudged. We invert: gain = 5 - grade for 1..4 (-> 4,3,2,1),
 * 5 -> 0, and -1 -> `sourceDocGrade` (default 5, the most relevant), which
 * reproduces exactly the QRelsCorrectedforTRECeval file shipped alongside
 * (same counts: 363x1, 734x2, 387x3, 128x4, 225x5). Set sourceDocGrade to 0 to
 * score the source document as non-relevant instead, or null to leave it out.
 */
import { IssueCollector } from "./errors.js";
import { parseNumber } from "./number.js";
import { checkQrelsIds, type UnknownIdPolicy } from "./qrels-check.js";
import { readTextFile, splitLines } from "./text.js";
import type { Qrels } from "../metrics/retrieval.js";
import type { RetrievalData } from "./types.js";

interface SmartRecord {
  id: string;
  line: number;
  fields: Record<string, string>;
}

/** Parse the SMART ".I/.T/.A/.B/.W" record format. */
export function parseSmart(text: string, file: string): SmartRecord[] {
  const issues = new IssueCollector(file);
  const out: SmartRecord[] = [];
  let cur: SmartRecord | undefined;
  let field: string | undefined;
  splitLines(text).forEach((l, i) => {
    const m = /^\.I\s+(\S+)\s*$/.exec(l);
    if (m) {
      cur = { id: m[1] as string, line: i + 1, fields: {} };
      out.push(cur);
      field = undefined;
      return;
    }
    const fm = /^\.([TABW])\s*$/.exec(l);
    if (fm) {
      if (!cur) return issues.add(i + 1, `field marker ${l.trim()} before any .I record`);
      field = fm[1] as string;
      cur.fields[field] = cur.fields[field] ?? "";
      return;
    }
    if (/^\.[A-Z]\b/.test(l)) return issues.add(i + 1, `unknown field marker "${l.trim()}"`);
    if (!cur || field === undefined) {
      if (l.trim() !== "") issues.add(i + 1, "text outside a record field");
      return;
    }
    cur.fields[field] = cur.fields[field] === "" ? l : `${cur.fields[field]}\n${l}`;
  });
  issues.throwIfAny();
  return out;
}

/** Normalise SMART field text: the files hard-wrap lines and put " ." before periods. */
function clean(s: string | undefined): string {
  return (s ?? "").replace(/\s+/g, " ").trim();
}

export interface CranfieldOptions {
  docs: string;
  queries: string;
  qrels: string;
  /** grade given to cranqrel's -1 (source document); null drops those lines (counted in notes) */
  sourceDocGrade?: number | null;
  unknownIds?: UnknownIdPolicy;
}

export async function readCranfield(opts: CranfieldOptions): Promise<RetrievalData & { queryDotI: Map<string, string> }> {
  const notes: string[] = [];
  const docRecords = parseSmart((await readTextFile(opts.docs)).text, opts.docs);
  const docIssues = new IssueCollector(opts.docs);
  const corpus = new Map<string, { title: string; text: string }>();
  let emptyDocs = 0;
  for (const r of docRecords) {
    const id = String(parseNumber(r.id) ?? r.id);
    if (corpus.has(id)) docIssues.add(r.line, `duplicate .I ${r.id}`);
    const text = clean(r.fields.W);
    if (text === "") emptyDocs++;
    corpus.set(id, { title: clean(r.fields.T), text });
  }
  docIssues.throwIfAny();
  if (emptyDocs) notes.push(`${opts.docs}: ${emptyDocs} document(s) have an empty .W text (kept; they embed their title or nothing)`);

  const qRecords = parseSmart((await readTextFile(opts.queries)).text, opts.queries);
  const qIssues = new IssueCollector(opts.queries);
  const queries = new Map<string, string>();
  const queryDotI = new Map<string, string>();
  qRecords.forEach((r, i) => {
    const text = clean(r.fields.W);
    if (text === "") qIssues.add(r.line, `query .I ${r.id} has no .W text`);
    const ordinal = String(i + 1);
    queries.set(ordinal, text);
    queryDotI.set(ordinal, r.id);
  });
  qIssues.throwIfAny();
  notes.push(`${opts.queries}: query ids are the 1-based position in the file (cranqrel convention), not the .I numbers`);

  const sourceGrade = opts.sourceDocGrade === undefined ? 5 : opts.sourceDocGrade;
  const rIssues = new IssueCollector(opts.qrels);
  const qrels: Qrels = {};
  let droppedSource = 0;
  splitLines((await readTextFile(opts.qrels)).text).forEach((l, i) => {
    const f = l.trim().split(/\s+/);
    if (f.length !== 3) return rIssues.add(i + 1, `expected 3 fields (query doc grade), found ${f.length}`);
    const q = parseNumber(f[0] as string);
    const d = parseNumber(f[1] as string);
    const g = parseNumber(f[2] as string);
    if (q === undefined || d === undefined || g === undefined || ![q, d, g].every(Number.isInteger))
      return rIssues.add(i + 1, `non-integer field in "${l.trim()}"`);
    let gain: number;
    if (g >= 1 && g <= 5) gain = 5 - g;
    else if (g === -1) {
      if (sourceGrade === null) {
        droppedSource++;
        return;
      }
      gain = sourceGrade;
    } else return rIssues.add(i + 1, `unknown Cranfield relevance grade ${g} (expected -1 or 1..5)`);
    const qid = String(q);
    const did = String(d);
    const row = (qrels[qid] ??= {});
    if (did in row) return rIssues.add(i + 1, `duplicate judgement for query ${qid}, doc ${did}`);
    row[did] = gain;
  });
  rIssues.throwIfAny();
  notes.push(
    `${opts.qrels}: grades mapped to trec gains 1->4, 2->3, 3->2, 4->1, 5->0, -1 (source doc) -> ` +
      (sourceGrade === null ? `dropped (${droppedSource} lines)` : String(sourceGrade)),
  );
  notes.push(...checkQrelsIds(qrels, queries, corpus, opts.unknownIds ?? "error", opts.qrels));
  return { corpus, queries, qrels, notes, queryDotI };
}
