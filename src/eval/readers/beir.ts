/**
 * MTEB/BEIR retrieval files: corpus.jsonl ({_id, title?, text}), queries.jsonl
 * ({_id, text}), qrels TSV with header "query-id corpus-id score", plus plain TREC
 * qrels ("qid iter docid rel", no header). Duplicate ids are errors (which one would
 * win is arbitrary), as are non-integer grades.
 */
import { IssueCollector } from "./errors.js";
import { parseNumber } from "./number.js";
import { checkQrelsIds, type UnknownIdPolicy } from "./qrels-check.js";
import { readTextFile, splitLines } from "./text.js";
import type { Qrels } from "../metrics/retrieval.js";
import type { RetrievalData } from "./types.js";

function parseJsonl(path: string, text: string, issues: IssueCollector): Array<{ line: number; obj: Record<string, unknown> }> {
  const out: Array<{ line: number; obj: Record<string, unknown> }> = [];
  splitLines(text).forEach((l, i) => {
    if (l.trim() === "") return issues.add(i + 1, "empty line");
    try {
      const obj = JSON.parse(l) as unknown;
      if (typeof obj !== "object" || obj === null || Array.isArray(obj)) issues.add(i + 1, "expected a JSON object");
      else out.push({ line: i + 1, obj: obj as Record<string, unknown> });
    } catch (e) {
      issues.add(i + 1, `invalid JSON (${(e as Error).message})`);
    }
  });
  return out;
}

function idOf(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}

export async function readBeirCorpus(path: string): Promise<Map<string, { title: string; text: string }>> {
  const issues = new IssueCollector(path);
  const corpus = new Map<string, { title: string; text: string }>();
  for (const { line, obj } of parseJsonl(path, (await readTextFile(path)).text, issues)) {
    const id = idOf(obj._id);
    if (id === undefined) issues.add(line, 'missing "_id"');
    else if (typeof obj.text !== "string") issues.add(line, 'missing string "text"');
    else if (obj.title !== undefined && obj.title !== null && typeof obj.title !== "string") issues.add(line, '"title" is not a string');
    else if (corpus.has(id)) issues.add(line, `duplicate _id "${id}"`);
    else corpus.set(id, { title: typeof obj.title === "string" ? obj.title : "", text: obj.text });
  }
  issues.throwIfAny();
  return corpus;
}

export async function readBeirQueries(path: string): Promise<Map<string, string>> {
  const issues = new IssueCollector(path);
  const queries = new Map<string, string>();
  for (const { line, obj } of parseJsonl(path, (await readTextFile(path)).text, issues)) {
    const id = idOf(obj._id);
    if (id === undefined) issues.add(line, 'missing "_id"');
    else if (typeof obj.text !== "string") issues.add(line, 'missing string "text"');
    else if (queries.has(id)) issues.add(line, `duplicate _id "${id}"`);
    else queries.set(id, obj.text);
  }
  issues.throwIfAny();
  return queries;
}

function addJudgement(qrels: Qrels, q: string, d: string, g: number, line: number, issues: IssueCollector): void {
  const row = (qrels[q] ??= {});
  if (d in row) issues.add(line, `duplicate judgement for query "${q}", doc "${d}"`);
  else row[d] = g;
}

/** BEIR qrels TSV with a header line (query-id, corpus-id, score). */
export async function readQrelsTsv(path: string): Promise<Qrels> {
  const lines = splitLines((await readTextFile(path)).text);
  const issues = new IssueCollector(path);
  const header = (lines[0] ?? "").split("\t").map((s) => s.trim());
  if (header[0] !== "query-id" || header[1] !== "corpus-id" || header[2] !== "score")
    throw new Error(`${path}:1: expected header "query-id\\tcorpus-id\\tscore", found "${lines[0] ?? ""}"`);
  const qrels: Qrels = {};
  for (let i = 1; i < lines.length; i++) {
    const f = (lines[i] as string).split("\t");
    if (f.length !== 3) {
      issues.add(i + 1, `expected 3 tab-separated fields, found ${f.length}`);
      continue;
    }
    const g = parseNumber(f[2] as string);
    if (g === undefined || !Number.isInteger(g)) issues.add(i + 1, `score "${f[2]}" is not an integer`);
    else addJudgement(qrels, (f[0] as string).trim(), (f[1] as string).trim(), g, i + 1, issues);
  }
  issues.throwIfAny();
  return qrels;
}

/** TREC qrels: "qid iteration docid relevance", whitespace-separated, no header. */
export async function readTrecQrels(path: string): Promise<Qrels> {
  const lines = splitLines((await readTextFile(path)).text);
  const issues = new IssueCollector(path);
  const qrels: Qrels = {};
  lines.forEach((l, i) => {
    const f = l.trim().split(/\s+/);
    if (f.length !== 4) return issues.add(i + 1, `expected 4 fields (qid iter docid rel), found ${f.length}`);
    const g = parseNumber(f[3] as string);
    if (g === undefined || !Number.isInteger(g)) return issues.add(i + 1, `relevance "${f[3]}" is not an integer`);
    addJudgement(qrels, f[0] as string, f[2] as string, g, i + 1, issues);
  });
  issues.throwIfAny();
  return qrels;
}

export async function readBeir(paths: {
  corpus: string;
  queries: string;
  qrels: string;
  unknownIds?: UnknownIdPolicy;
}): Promise<RetrievalData> {
  const corpus = await readBeirCorpus(paths.corpus);
  const queries = await readBeirQueries(paths.queries);
  const qrels = await readQrelsTsv(paths.qrels);
  const notes = checkQrelsIds(qrels, queries, corpus, paths.unknownIds ?? "error", paths.qrels);
  return { corpus, queries, qrels, notes };
}
