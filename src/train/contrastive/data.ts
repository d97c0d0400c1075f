/**
 * Contrastive training data. SimCSE: a sentence a line (`.txt`, or `.jsonl` with `text`), each
 * stripped line its own positive (the reference's Wiki1M loader). Supervised: JSONL rows
 * `{query, positive, negative?, instruction?}` (the reference's E5 data), one file per task.
 */
import * as fs from "node:fs";
import { readCorpus } from "../data/corpus.js";

export function readSentences(files: readonly string[], opts: { dedupe: boolean }): { sentences: string[]; duplicates: number } {
  const docs = readCorpus(files).map((d) => d.text.trim());
  const seen = new Set<string>();
  let duplicates = 0;
  const sentences: string[] = [];
  for (const s of docs) {
    if (seen.has(s)) {
      duplicates++;
      if (opts.dedupe) continue;
    }
    seen.add(s);
    sentences.push(s);
  }
  return { sentences, duplicates };
}

export interface PairRow {
  query: string;
  positive: string;
  negative: string | null;
  instruction: string | null;
  source: string;
}

export interface PairFile {
  file: string;
  rows: PairRow[];
  /** Rows whose negative equalled the positive (the negative was dropped). */
  negativesDropped: number;
}

export function readPairFile(file: string): PairFile {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: cannot read as UTF-8 text (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const rows: PairRow[] = [];
  let negativesDropped = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${file}:${i + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) throw new Error(`${where}: expected a JSON object`);
    const str = (k: string, required: boolean): string | null => {
      const v = o[k];
      if (v === undefined || v === null) {
        if (required) throw new Error(`${where}: missing "${k}"`);
        return null;
      }
      if (typeof v !== "string") throw new Error(`${where}: "${k}" must be a string`);
      if (required && !v.trim()) throw new Error(`${where}: "${k}" is empty`);
      return v;
    };
    const query = str("query", true)!;
    const positive = str("positive", true)!;
    let negative = str("negative", false);
    if (negative !== null && negative.trim() === positive.trim()) {
      negative = null;
      negativesDropped++;
    }
    rows.push({ query, positive, negative: negative && negative.trim() ? negative : null, instruction: str("instruction", false), source: where });
  });
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  return { file, rows, negativesDropped };
}
