/**
 * STS readers:
 *  - STS Benchmark csv (tab-separated, no header: genre, file, year, id, score 0-5,
 *    sentence1, sentence2, and on some lines two extra source columns, which are
 *    allowed and ignored). Quotes are literal text.
 *  - SICK (tab-separated with header; relatedness_score 1-5).
 *  - SentEval STS12-16 style: STS.input.*.txt (sentence1 \t sentence2) paired line by
 *    line with STS.gs.*.txt (score). SentEval drops pairs whose gold line is empty
 *    (unscored pairs); we do the same but COUNT them and return the count so the
 *    task result reports it.
 */
import { IssueCollector } from "./errors.js";
import { readTable } from "./delimited.js";
import { parseNumber } from "./number.js";
import { readTextFile, splitLines } from "./text.js";
import type { ScoredPair } from "./types.js";

export async function readStsBenchmark(path: string): Promise<ScoredPair[]> {
  const { text } = await readTextFile(path);
  const issues = new IssueCollector(path);
  const out: ScoredPair[] = [];
  splitLines(text).forEach((l, i) => {
    const line = i + 1;
    const f = l.split("\t");
    if (f.length < 7) return issues.add(line, `expected at least 7 tab-separated fields, found ${f.length}`);
    const score = parseNumber(f[4] as string);
    if (score === undefined) return issues.add(line, `score "${f[4]}" is not a number`);
    out.push({ sentence1: f[5] as string, sentence2: f[6] as string, score, line });
  });
  issues.throwIfAny();
  return out;
}

export async function readSick(path: string): Promise<ScoredPair[]> {
  const rows = await readTable(path, {
    delimiter: "\t",
    quoting: false,
    columns: { a: "sentence_A", b: "sentence_B", score: "relatedness_score" },
  });
  const issues = new IssueCollector(path);
  const out: ScoredPair[] = [];
  for (const r of rows) {
    const score = parseNumber(r.values.score as string);
    if (score === undefined) issues.add(r.line, `relatedness_score "${r.values.score}" is not a number`);
    else out.push({ sentence1: r.values.a as string, sentence2: r.values.b as string, score, line: r.line });
  }
  issues.throwIfAny();
  return out;
}

export async function readSentEvalSts(
  inputPath: string,
  gsPath: string,
): Promise<{ pairs: ScoredPair[]; unscored: number }> {
  const inLines = splitLines((await readTextFile(inputPath)).text);
  const gsLines = splitLines((await readTextFile(gsPath)).text);
  if (inLines.length !== gsLines.length)
    throw new Error(`${inputPath} has ${inLines.length} lines but ${gsPath} has ${gsLines.length}`);
  const issues = new IssueCollector(inputPath);
  const gsIssues = new IssueCollector(gsPath);
  const pairs: ScoredPair[] = [];
  let unscored = 0;
  inLines.forEach((l, i) => {
    const f = l.split("\t");
    if (f.length < 2) return issues.add(i + 1, `expected 2 tab-separated sentences, found ${f.length} field(s)`);
    const g = (gsLines[i] as string).trim();
    if (g === "") {
      unscored++;
      return;
    }
    const score = parseNumber(g);
    if (score === undefined) return gsIssues.add(i + 1, `score "${g}" is not a number`);
    pairs.push({ sentence1: f[0] as string, sentence2: f[1] as string, score, line: i + 1 });
  });
  issues.throwIfAny();
  gsIssues.throwIfAny();
  return { pairs, unscored };
}
