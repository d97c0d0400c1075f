/**
 * CoNLL-2003 (eng.train / eng.testa / eng.testb): one token per line,
 * "word POS chunk NER" separated by single spaces, blank line between sentences.
 * "-DOCSTART- -X- -X- O" lines are document separators, not tokens, and are skipped
 * (as every CoNLL loader does, including the LLM2Vec word-task data); the number
 * skipped is returned. A token line with a column count other than 4 is an error.
 */
import { IssueCollector } from "./errors.js";
import { readTextFile, splitLines } from "./text.js";
import type { TaggedSentence } from "./types.js";

export const CONLL_COLUMNS = ["pos", "chunk", "ner"] as const;

export async function readConll2003(path: string): Promise<{ sentences: TaggedSentence[]; docstarts: number }> {
  const lines = splitLines((await readTextFile(path)).text);
  const issues = new IssueCollector(path);
  const sentences: TaggedSentence[] = [];
  let docstarts = 0;
  let cur: TaggedSentence | undefined;
  const flush = () => {
    if (cur && cur.tokens.length > 0) sentences.push(cur);
    cur = undefined;
  };
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === "") return flush();
    const f = l.split(/\s+/);
    if (f[0] === "-DOCSTART-") {
      docstarts++;
      return flush();
    }
    if (f.length !== 4) return issues.add(i + 1, `expected 4 columns (word POS chunk NER), found ${f.length}`);
    if (!cur) cur = { tokens: [], tags: { pos: [], chunk: [], ner: [] }, line: i + 1 };
    cur.tokens.push(f[0] as string);
    (cur.tags.pos as string[]).push(f[1] as string);
    (cur.tags.chunk as string[]).push(f[2] as string);
    (cur.tags.ner as string[]).push(f[3] as string);
  });
  flush();
  issues.throwIfAny();
  return { sentences, docstarts };
}
