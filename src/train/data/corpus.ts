/**
 * Unlabelled training text: `.txt` (a document a line) and `.jsonl` (a `text` field a line),
 * any number of files. Blank lines are skipped (they carry no tokens but a BOS). WikiText's
 * tokenised release (`@-@`, `@,@`, `@.@`, ` <unk>`, heading lines `= Title =`) can be undone on
 * the fly, since the paper's MNTP data is WikiText-103 and users bring its raw or tokenised form.
 */
import * as fs from "node:fs";
import { readLines } from "../../io/line-reader.js";

export interface CorpusOptions {
  /** Undo WikiText's tokenisation artifacts and drop its `= heading =` lines. */
  detokenizeWikitext?: boolean;
}

export interface Document {
  text: string;
  /** `file:line`, for error messages. */
  source: string;
}

const WIKITEXT_HEADING = /^\s*=( =)*[^=].*[^=]( =)*=\s*$/;

export function detokenizeWikitext(line: string): string {
  return line
    .replace(/ @([-,.])@ /g, "$1")
    .replace(/ <unk>/g, "")
    .replace(/ ([.,;:!?')\]}])/g, "$1")
    .replace(/([(\[{]) /g, "$1")
    .replace(/ n't\b/g, "n't")
    .replace(/ 's\b/g, "'s")
    .trim();
}

/** Reads every document of the files, in order. Throws naming the file (and line) on bad input. */
export function readCorpus(files: readonly string[], opts: CorpusOptions = {}): Document[] {
  if (files.length === 0) throw new Error("training data: no data file given");
  const docs: Document[] = [];
  for (const file of files) {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      throw new Error(`${file}: training data file not found`);
    }
    if (!st.isFile()) throw new Error(`${file}: training data must be a regular file`);
    const jsonl = /\.jsonl$/i.test(file);
    if (!jsonl && !/\.(txt|tokens|raw)$/i.test(file)) throw new Error(`${file}: unsupported training data format (use .txt, a document a line, or .jsonl with a "text" field)`);
    const before = docs.length;
    // Line by line (line-reader.ts): no whole-file string, whose limit (about 512 MB) a large
    // corpus passes; the documents themselves are held, since training samples from all of them.
    for (const line of readLines(file)) {
      const where = `${file}:${line.number}`;
      let text = line.text;
      if (jsonl) {
        if (!text.trim()) continue;
        let row: unknown;
        try {
          row = JSON.parse(text);
        } catch (e) {
          throw new Error(`${where}: invalid JSON (${(e as Error).message})`);
        }
        const t = (row as { text?: unknown } | null)?.text;
        if (typeof t !== "string") throw new Error(`${where}: expected an object with a string "text" field`);
        text = t;
      } else if (opts.detokenizeWikitext) {
        if (WIKITEXT_HEADING.test(text)) continue;
        text = detokenizeWikitext(text);
      }
      if (!text.trim()) continue;
      docs.push({ text, source: where });
    }
    if (docs.length === before) throw new Error(`${file}: no text in the training data file (empty or only whitespace)`);
  }
  return docs;
}

/** Seeded split of documents into train and held-out parts (whole documents, so no text is in both). */
export function splitDocuments<T>(docs: readonly T[], evalFraction: number, permutation: readonly number[]): { train: T[]; held: T[] } {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new Error(`eval fraction must be in [0, 1), got ${evalFraction}`);
  const nHeld = evalFraction > 0 ? Math.max(1, Math.round(docs.length * evalFraction)) : 0;
  if (nHeld >= docs.length) throw new Error(`eval fraction ${evalFraction} of ${docs.length} documents leaves none to train on`);
  const heldIdx = new Set(permutation.slice(0, nHeld));
  const train: T[] = [];
  const held: T[] = [];
  docs.forEach((d, i) => (heldIdx.has(i) ? held : train).push(d));
  return { train, held };
}
