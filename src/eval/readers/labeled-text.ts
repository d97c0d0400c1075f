/**
 * Text-classification readers. Each returns {text, label, line}; a line that does
 * not fit its format is reported (file:line), never dropped.
 *  - generic CSV/TSV with named text and label columns (readLabeledTable);
 *  - Banking77 train.csv (RFC 4180 CSV, header text,category) checked against
 *    categories.json when given: an unknown category is an error;
 *  - Emotion `text;label_name` with a header; split on the LAST ';' so a ';' inside
 *    the text would not shift the label;
 *  - TREC `COARSE:fine question` (coarse labels by default, 6 classes; fine = 50);
 *  - SST-2 `sentence \t 0|1`, no header.
 */
import { IssueCollector } from "./errors.js";
import { readTable } from "./delimited.js";
import { readTextFile, splitLines } from "./text.js";
import type { LabeledText } from "./types.js";

export async function readLabeledTable(
  path: string,
  opts: { delimiter: string; quoting: boolean; textColumn: string; labelColumn: string },
): Promise<LabeledText[]> {
  const rows = await readTable(path, {
    delimiter: opts.delimiter,
    quoting: opts.quoting,
    columns: { text: opts.textColumn, label: opts.labelColumn },
  });
  const issues = new IssueCollector(path);
  const out: LabeledText[] = [];
  for (const r of rows) {
    const label = (r.values.label as string).trim();
    if (label === "") issues.add(r.line, `empty label in column "${opts.labelColumn}"`);
    else out.push({ text: r.values.text as string, label, line: r.line });
  }
  issues.throwIfAny();
  return out;
}

export async function readBanking77(path: string, categoriesPath?: string): Promise<LabeledText[]> {
  const rows = await readLabeledTable(path, { delimiter: ",", quoting: true, textColumn: "text", labelColumn: "category" });
  if (categoriesPath) {
    const cats = JSON.parse((await readTextFile(categoriesPath)).text) as unknown;
    if (!Array.isArray(cats) || !cats.every((c) => typeof c === "string"))
      throw new Error(`${categoriesPath}: expected a JSON array of category names`);
    const known = new Set(cats as string[]);
    const issues = new IssueCollector(path);
    for (const r of rows) if (!known.has(r.label)) issues.add(r.line, `category "${r.label}" is not in ${categoriesPath}`);
    issues.throwIfAny();
  }
  return rows;
}

export async function readEmotion(path: string): Promise<LabeledText[]> {
  const lines = splitLines((await readTextFile(path)).text);
  const issues = new IssueCollector(path);
  const out: LabeledText[] = [];
  const header = lines[0];
  if (header === undefined || header.trim() !== "text;label_name")
    throw new Error(`${path}:1: expected header "text;label_name", found "${header ?? ""}"`);
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i] as string;
    const at = l.lastIndexOf(";");
    if (at < 0) {
      issues.add(i + 1, 'expected "text;label"');
      continue;
    }
    const label = l.slice(at + 1).trim();
    const text = l.slice(0, at);
    if (label === "" || text.trim() === "") issues.add(i + 1, "empty text or label");
    else out.push({ text, label, line: i + 1 });
  }
  issues.throwIfAny();
  return out;
}

export async function readTrec(path: string, granularity: "coarse" | "fine" = "coarse"): Promise<LabeledText[]> {
  const lines = splitLines((await readTextFile(path)).text);
  const issues = new IssueCollector(path);
  const out: LabeledText[] = [];
  lines.forEach((l, i) => {
    const m = /^([A-Z]+):(\S+) (.+)$/.exec(l);
    if (!m) return issues.add(i + 1, 'expected "COARSE:fine question text"');
    const label = granularity === "coarse" ? (m[1] as string) : `${m[1]}:${m[2]}`;
    out.push({ text: (m[3] as string).trim(), label, line: i + 1 });
  });
  issues.throwIfAny();
  return out;
}

export async function readSst2(path: string): Promise<LabeledText[]> {
  const lines = splitLines((await readTextFile(path)).text);
  const issues = new IssueCollector(path);
  const out: LabeledText[] = [];
  lines.forEach((l, i) => {
    const at = l.lastIndexOf("\t");
    const label = at < 0 ? "" : l.slice(at + 1).trim();
    if (label !== "0" && label !== "1") return issues.add(i + 1, 'expected "sentence<TAB>0|1"');
    out.push({ text: l.slice(0, at).trim(), label, line: i + 1 });
  });
  issues.throwIfAny();
  return out;
}
