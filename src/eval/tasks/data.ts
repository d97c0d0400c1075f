/**
 * Loads a task split: reads the source with the matching reader (cached per run,
 * since train and held-out parts come from the same file), then applies the seeded
 * holdout partition and the seeded max_examples cap. Reports what it did in
 * `notes` so the result file documents every selection.
 */
import { resolve } from "node:path";
import { Rng, sampleIndices } from "../rng.js";
import {
  readBanking77,
  readBeir,
  readConll2003,
  readCranfield,
  readEmotion,
  readLabeledTable,
  readMrpc,
  readSentEvalSts,
  readSick,
  readSst2,
  readStsBenchmark,
  readTable,
  readTrec,
} from "../readers/index.js";
import type { LabeledPair, LabeledText, RetrievalData, ScoredPair, TaggedSentence } from "../readers/types.js";
import { parseNumber } from "../readers/number.js";
import { decodingNote } from "../readers/text.js";
import type { SourceSpec, SplitSpec, TaskSpec } from "./spec.js";

export type SourceData =
  | { kind: "scored-pairs"; rows: ScoredPair[]; notes: string[] }
  | { kind: "labeled-pairs"; rows: LabeledPair[]; notes: string[] }
  | { kind: "labeled-texts"; rows: LabeledText[]; notes: string[] }
  | { kind: "tagged"; rows: TaggedSentence[]; notes: string[] }
  | { kind: "retrieval"; data: RetrievalData; notes: string[] };

export type SourceCache = Map<string, Promise<SourceData>>;

async function readSource(src: SourceSpec, root: string): Promise<SourceData> {
  const p = (x: string) => resolve(root, x);
  switch (src.format) {
    case "stsb":
      return { kind: "scored-pairs", rows: await readStsBenchmark(p(src.path)), notes: [] };
    case "sick":
      return { kind: "scored-pairs", rows: await readSick(p(src.path)), notes: [] };
    case "senteval-sts": {
      const { pairs, unscored } = await readSentEvalSts(p(src.input), p(src.gs));
      const notes = unscored ? [`${src.gs}: ${unscored} pair(s) without a gold score excluded (SentEval convention)`] : [];
      return { kind: "scored-pairs", rows: pairs, notes };
    }
    case "sts-table": {
      const rows = await readTable(p(src.path), {
        delimiter: src.delimiter,
        quoting: src.quoting ?? false,
        columns: { a: src.sentence1, b: src.sentence2, s: src.score },
      });
      const out: ScoredPair[] = rows.map((r) => {
        const score = parseNumber(r.values.s as string);
        if (score === undefined) throw new Error(`${p(src.path)}:${r.line}: score "${r.values.s}" is not a number`);
        return { sentence1: r.values.a as string, sentence2: r.values.b as string, score, line: r.line };
      });
      return { kind: "scored-pairs", rows: out, notes: [] };
    }
    case "mrpc":
      return { kind: "labeled-pairs", rows: await readMrpc(p(src.path)), notes: [] };
    case "beir": {
      const data = await readBeir({ corpus: p(src.corpus), queries: p(src.queries), qrels: p(src.qrels), unknownIds: src.unknown_ids });
      return { kind: "retrieval", data, notes: data.notes };
    }
    case "cranfield": {
      const data = await readCranfield({
        docs: p(src.docs),
        queries: p(src.queries),
        qrels: p(src.qrels),
        sourceDocGrade: src.source_doc_grade,
        unknownIds: src.unknown_ids,
      });
      return { kind: "retrieval", data, notes: data.notes };
    }
    case "banking77":
      return { kind: "labeled-texts", rows: await readBanking77(p(src.path), src.categories ? p(src.categories) : undefined), notes: [] };
    case "emotion":
      return { kind: "labeled-texts", rows: await readEmotion(p(src.path)), notes: [] };
    case "trec":
      return { kind: "labeled-texts", rows: await readTrec(p(src.path), src.granularity), notes: [] };
    case "sst2":
      return { kind: "labeled-texts", rows: await readSst2(p(src.path)), notes: [] };
    case "text-table":
      return {
        kind: "labeled-texts",
        rows: await readLabeledTable(p(src.path), {
          delimiter: src.delimiter,
          quoting: src.quoting ?? false,
          textColumn: src.text,
          labelColumn: src.label,
        }),
        notes: [],
      };
    case "conll2003": {
      const { sentences, docstarts } = await readConll2003(p(src.path));
      return { kind: "tagged", rows: sentences, notes: docstarts ? [`${src.path}: ${docstarts} -DOCSTART- separator line(s) skipped`] : [] };
    }
    default:
      throw new Error(`unknown source format "${(src as { format: string }).format}"`);
  }
}

/** Seeded partition: indices of the held-out fraction, or of the rest. */
export function holdoutIndices(n: number, fraction: number, seed: number, part: "held_out" | "rest"): number[] {
  const perm = new Rng(seed).permutation(n);
  const nHeld = Math.round(fraction * n);
  const chosen = part === "held_out" ? perm.slice(0, nHeld) : perm.slice(nHeld);
  return chosen.sort((a, b) => a - b);
}

export interface LoadedSplit<T> {
  rows: T[];
  notes: string[];
  /** rows available before the cap (after holdout) */
  available: number;
}

function select<T>(rows: T[], split: SplitSpec, splitName: string, taskSeed: number, notes: string[]): LoadedSplit<T> {
  let out = rows;
  if (split.holdout) {
    const h = split.holdout;
    out = holdoutIndices(rows.length, h.fraction, h.seed, h.part).map((i) => rows[i] as T);
    notes.push(
      `split "${splitName}": ${h.part === "held_out" ? "held-out" : "remaining"} part of a seeded ${Math.round(h.fraction * 100)}% hold-out ` +
        `(seed ${h.seed}): ${out.length} of ${rows.length} rows`,
    );
  }
  const available = out.length;
  if (split.max_examples !== undefined && out.length > split.max_examples) {
    const seed = split.sample_seed ?? taskSeed;
    out = sampleIndices(out.length, split.max_examples, seed).map((i) => out[i] as T);
    notes.push(`split "${splitName}": capped to ${out.length} of ${available} (seeded random sample, seed ${seed})`);
  }
  return { rows: out, notes, available };
}

function splitOf(task: TaskSpec, splitName: string): TaskSpec["splits"][string] {
  const split = task.splits[splitName];
  if (!split) throw new Error(`task ${task.name}: split "${splitName}" is not defined (defined: ${Object.keys(task.splits).join(", ")})`);
  return split;
}

/** Adds a note for every file of the source that was not valid UTF-8 (readers/text.ts). */
function withDecodingNotes(d: SourceData, source: SourceSpec, root: string): SourceData {
  const extra: string[] = [];
  for (const v of Object.values(source)) {
    const note = typeof v === "string" ? decodingNote(resolve(root, v)) : undefined;
    if (note && !extra.includes(note)) extra.push(note);
  }
  return extra.length ? { ...d, notes: [...d.notes, ...extra] } : d;
}

/** Reads a source once per run: tasks sharing a file (train/eval splits, clustering) share the parse. */
function readCached(source: SourceSpec, dataRoot: string, cache: SourceCache): Promise<SourceData> {
  const key = JSON.stringify([dataRoot, source]);
  let pending = cache.get(key);
  if (!pending) {
    pending = readSource(source, dataRoot).then((d) => withDecodingNotes(d, source, dataRoot));
    cache.set(key, pending);
  }
  return pending;
}

/** Read (with cache) and select one split of a task, checking the format fits the task. */
export async function loadSplit<K extends SourceData["kind"]>(
  task: TaskSpec,
  splitName: string,
  kind: K,
  dataRoot: string,
  cache: SourceCache,
): Promise<LoadedSplit<Extract<SourceData, { kind: K }> extends { rows: (infer R)[] } ? R : never>> {
  const split = splitOf(task, splitName);
  const src = await readCached(split.source, dataRoot, cache);
  if (src.kind !== kind)
    throw new Error(`task ${task.name}: split "${splitName}" format "${split.source.format}" gives ${src.kind}, but a ${task.type} task needs ${kind}`);
  if (src.kind === "retrieval") throw new Error("loadSplit: use loadRetrieval for retrieval data");
  const rows = (src as { rows: unknown[] }).rows;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return select(rows as any[], split, splitName, task.seed ?? 42, [...src.notes]);
}

/** Retrieval split: the collection plus the seeded query cap (max_examples = max queries). */
export async function loadRetrieval(
  task: TaskSpec,
  splitName: string,
  dataRoot: string,
  cache: SourceCache,
): Promise<{ data: RetrievalData; queryIds: string[]; notes: string[]; queriesWithQrels: number; queriesWithoutQrels: number }> {
  const split = splitOf(task, splitName);
  if (split.holdout) throw new Error(`task ${task.name}: holdout is not supported for retrieval splits`);
  const src = await readCached(split.source, dataRoot, cache);
  if (src.kind !== "retrieval") throw new Error(`task ${task.name}: split "${splitName}" is not a retrieval collection`);
  const notes = [...src.notes];
  // As MTEB/BEIR: only queries that have qrels are searched and scored.
  const all = [...src.data.queries.keys()];
  let ids = all.filter((q) => q in src.data.qrels);
  const without = all.length - ids.length;
  if (without) notes.push(`${without} quer(y/ies) without any qrels line excluded (MTEB/BEIR convention)`);
  const withQrels = ids.length;
  if (split.max_examples !== undefined && ids.length > split.max_examples) {
    const seed = split.sample_seed ?? task.seed ?? 42;
    ids = sampleIndices(ids.length, split.max_examples, seed).map((i) => ids[i] as string);
    notes.push(`split "${splitName}": queries capped to ${ids.length} of ${withQrels} (seeded random sample, seed ${seed})`);
  }
  return { data: src.data, queryIds: ids, notes, queriesWithQrels: withQrels, queriesWithoutQrels: without };
}
