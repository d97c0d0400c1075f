/**
 * Reading encoder inputs: .txt (one text a line) or .jsonl ({"text"}, {"instruction","text"} or
 * {"input_ids"} a line, each with an optional "id" and "metadata" object carried to the output). Read as a stream of chunks (line-reader.ts), so an input of any size is
 * encoded in bounded memory; bytes must be valid UTF-8; a bad line is reported with its number.
 */
import type { EncodeInput } from "../encoder/prepare.js";
import { readLines, type ReadLinesOptions } from "./line-reader.js";

export type InputRows = { kind: "text"; inputs: EncodeInput[] } | { kind: "ids"; inputs: number[][] };

/** What a .jsonl line carries beside its input: its `id` and `metadata`, passed through to outputs and stores. */
export interface RowKeys {
  /** The line's number in the file. */
  line: number;
  id?: string;
  metadata?: Record<string, unknown>;
}

export interface InputChunk {
  rows: InputRows;
  /** One per row, in order. */
  keys: RowKeys[];
  /** Byte offset and line number just after the chunk's last line (where a resumed read starts). */
  endByte: number;
  nextLine: number;
}

export interface ChunkOptions extends Pick<ReadLinesOptions, "startByte" | "startLine" | "onBytes" | "maxLineBytes"> {
  /** Texts per chunk, and text bytes after which a chunk ends early (long lines). */
  maxTexts?: number;
  maxBytes?: number;
  /** The kind the rows already read had (resuming a .jsonl input). */
  kind?: InputRows["kind"];
}

export function checkInputName(file: string): void {
  if (!file.endsWith(".jsonl") && !file.endsWith(".txt")) throw new Error(`${file}: input must be .txt (a text a line) or .jsonl`);
}

/** One .jsonl line as an input: a text (with its instruction) or token ids. */
function parseJsonLine(line: string, where: string): ({ kind: "text"; input: EncodeInput } | { kind: "ids"; input: number[] }) & Omit<RowKeys, "line"> {
  if (line.trim() === "") throw new Error(`${where}: empty line (each line must be a JSON object)`);
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new Error(`${where}: malformed JSON (${(e as Error).message})`);
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new Error(`${where}: expected a JSON object`);
  const r = o as Record<string, unknown>;
  const keys = rowKeys(r, where);
  if (r.input_ids !== undefined) {
    if (!Array.isArray(r.input_ids) || !r.input_ids.every((x) => Number.isInteger(x))) throw new Error(`${where}: "input_ids" must be a list of integers`);
    return { kind: "ids", input: r.input_ids as number[], ...keys };
  }
  if (typeof r.text !== "string") throw new Error(`${where}: needs a string "text" (or "input_ids")`);
  if (r.instruction !== undefined && typeof r.instruction !== "string") throw new Error(`${where}: "instruction" must be a string`);
  return { kind: "text", input: r.instruction ? [r.instruction as string, r.text] : r.text, ...keys };
}

function rowKeys(r: Record<string, unknown>, where: string): Omit<RowKeys, "line"> {
  const out: Omit<RowKeys, "line"> = {};
  if (r.id !== undefined) {
    if (typeof r.id !== "string" && !Number.isSafeInteger(r.id)) throw new Error(`${where}: "id" must be a string or an integer`);
    out.id = String(r.id);
    if (out.id === "") throw new Error(`${where}: "id" is empty`);
  }
  if (r.metadata !== undefined) {
    if (!r.metadata || typeof r.metadata !== "object" || Array.isArray(r.metadata)) throw new Error(`${where}: "metadata" must be a JSON object`);
    out.metadata = r.metadata as Record<string, unknown>;
  }
  return out;
}

/** The input in chunks of at most maxTexts rows (default 256) or maxBytes of text (default 1 MiB). */
export function* readInputChunks(file: string, opts: ChunkOptions = {}): Generator<InputChunk> {
  checkInputName(file);
  const jsonl = file.endsWith(".jsonl");
  const maxTexts = opts.maxTexts ?? 256;
  const maxBytes = opts.maxBytes ?? 1 << 20;
  let kind: InputRows["kind"] | undefined = opts.kind;
  let texts: EncodeInput[] = [];
  let ids: number[][] = [];
  let keys: RowKeys[] = [];
  let bytes = 0;
  let end = { endByte: opts.startByte ?? 0, nextLine: opts.startLine ?? 1 };
  const take = (): InputChunk => {
    const rows: InputRows = kind === "ids" ? { kind, inputs: ids } : { kind: "text", inputs: texts };
    const k = keys;
    texts = [];
    ids = [];
    keys = [];
    bytes = 0;
    return { rows, keys: k, ...end };
  };
  for (const line of readLines(file, opts)) {
    end = { endByte: line.end, nextLine: line.number + 1 };
    if (!jsonl) {
      kind = "text";
      texts.push(line.text);
      keys.push({ line: line.number });
    } else {
      const r = parseJsonLine(line.text, `${file}:${line.number}`);
      if (kind !== undefined && r.kind !== kind) throw new Error(`${file}:${line.number}: mixes "text" lines and "input_ids" lines; use one kind per file`);
      kind = r.kind;
      keys.push({ line: line.number, id: r.id, metadata: r.metadata });
      if (r.kind === "ids") ids.push(r.input);
      else texts.push(r.input);
    }
    bytes += line.text.length;
    if (texts.length + ids.length >= maxTexts || bytes >= maxBytes) yield take();
  }
  if (texts.length + ids.length > 0) yield take();
}

/** The whole input at once (small files; `llm2vec encode` streams readInputChunks instead). */
export function readInputs(file: string): InputRows {
  const texts: EncodeInput[] = [];
  const ids: number[][] = [];
  for (const c of readInputChunks(file)) {
    if (c.rows.kind === "ids") ids.push(...c.rows.inputs);
    else texts.push(...c.rows.inputs);
  }
  return ids.length ? { kind: "ids", inputs: ids } : { kind: "text", inputs: texts };
}
