/**
 * MRPC (msr_paraphrase_*.txt): tab-separated with a header
 * "Quality, #1 ID, #2 ID, #1 String, #2 String" (file starts with a BOM, removed on
 * decoding). Quality 1 = paraphrase. Quotes are literal text.
 */
import { IssueCollector } from "./errors.js";
import { readTable } from "./delimited.js";
import type { LabeledPair } from "./types.js";

export async function readMrpc(path: string): Promise<LabeledPair[]> {
  const rows = await readTable(path, {
    delimiter: "\t",
    quoting: false,
    columns: { q: "Quality", a: "#1 String", b: "#2 String" },
  });
  const issues = new IssueCollector(path);
  const out: LabeledPair[] = [];
  for (const r of rows) {
    const q = (r.values.q as string).trim();
    if (q !== "0" && q !== "1") issues.add(r.line, `Quality "${q}" is not 0 or 1`);
    else out.push({ sentence1: r.values.a as string, sentence2: r.values.b as string, label: q === "1" ? 1 : 0, line: r.line });
  }
  issues.throwIfAny();
  return out;
}
