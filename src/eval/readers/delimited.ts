/**
 * Delimited text: CSV (RFC 4180 quoting: "a, b", doubled "" quotes, newlines inside
 * quotes) and raw TSV/SSV where quote characters are ordinary text (STS-B, SICK and
 * MRPC put unbalanced " in sentences, so they must NOT be parsed with quoting).
 * Every record keeps the 1-based line number where it starts.
 */
import { IssueCollector } from "./errors.js";
import { readTextFile, splitLines } from "./text.js";

export interface RawRecord {
  line: number;
  fields: string[];
}

export interface DelimitedOptions {
  delimiter: string;
  /** true: RFC 4180 quotes; false: split on the delimiter only */
  quoting: boolean;
}

/** Parse text into records; unterminated quotes are reported with the line they started on. */
export function parseDelimited(text: string, file: string, opts: DelimitedOptions): RawRecord[] {
  const out: RawRecord[] = [];
  if (!opts.quoting) {
    splitLines(text).forEach((l, i) => out.push({ line: i + 1, fields: l.split(opts.delimiter) }));
    return out;
  }
  const issues = new IssueCollector(file);
  const delim = opts.delimiter;
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let inQuotes = false;
    let quotedField = false;
    let recordDone = false;
    while (i < n && !recordDone) {
      const ch = text[i] as string;
      if (inQuotes) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            inQuotes = false;
            i++;
          }
        } else {
          if (ch === "\n") line++;
          field += ch;
          i++;
        }
      } else if (ch === '"' && field === "" && !quotedField) {
        inQuotes = true;
        quotedField = true;
        i++;
      } else if (ch === delim) {
        fields.push(field);
        field = "";
        quotedField = false;
        i++;
      } else if (ch === "\n" || ch === "\r") {
        if (ch === "\r" && text[i + 1] === "\n") i++;
        i++;
        line++;
        recordDone = true;
      } else {
        if (quotedField) {
          issues.add(line, `text after closing quote in field ${fields.length + 1}`);
          quotedField = false;
        }
        field += ch;
        i++;
      }
    }
    if (inQuotes) issues.add(startLine, "unterminated quoted field");
    fields.push(field);
    out.push({ line: startLine, fields });
  }
  issues.throwIfAny();
  return out;
}

export interface TableOptions extends DelimitedOptions {
  /** header column names to extract, keyed by the name the caller wants */
  columns: Record<string, string>;
  /** rows may have more fields than the header (STS-B appends source columns) */
  allowExtraFields?: boolean;
}

export interface TableRow {
  line: number;
  values: Record<string, string>;
}

/** Read a delimited file with a header row and return the requested named columns. */
export async function readTable(path: string, opts: TableOptions): Promise<TableRow[]> {
  const { text } = await readTextFile(path);
  const records = parseDelimited(text, path, opts);
  const issues = new IssueCollector(path);
  const header = records.shift();
  if (!header) throw new Error(`${path}: empty file, expected a header row`);
  const index: Record<string, number> = {};
  for (const [key, col] of Object.entries(opts.columns)) {
    const at = header.fields.indexOf(col);
    if (at < 0) throw new Error(`${path}:${header.line}: header has no column "${col}" (found: ${header.fields.join(", ")})`);
    index[key] = at;
  }
  const rows: TableRow[] = [];
  for (const r of records) {
    if (r.fields.length === 1 && r.fields[0] === "") {
      issues.add(r.line, "empty line");
      continue;
    }
    const ok = opts.allowExtraFields ? r.fields.length >= header.fields.length : r.fields.length === header.fields.length;
    if (!ok) {
      issues.add(r.line, `expected ${header.fields.length} fields, found ${r.fields.length}`);
      continue;
    }
    const values: Record<string, string> = {};
    for (const [key, at] of Object.entries(index)) values[key] = r.fields[at] as string;
    rows.push({ line: r.line, values });
  }
  issues.throwIfAny();
  return rows;
}
