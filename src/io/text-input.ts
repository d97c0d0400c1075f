/**
 * Reading encoder inputs: .txt (one text a line) or .jsonl ({"text"}, {"instruction","text"} or
 * {"input_ids"} a line). Bytes must be valid UTF-8; a bad line is reported with its number.
 */
import * as fs from "node:fs";
import type { EncodeInput } from "../encoder/prepare.js";
import { firstInvalidUtf8, lineOf } from "./utf8.js";

export type InputRows = { kind: "text"; inputs: EncodeInput[] } | { kind: "ids"; inputs: number[][] };

export function readUtf8(file: string): string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Find the line with the bad sequence so the user can fix it (one pass; see utf8.ts).
    const at = firstInvalidUtf8(bytes);
    if (at < 0) throw new Error(`${file}: not valid UTF-8`);
    throw new Error(`${file}:${lineOf(bytes, at)}: not valid UTF-8 (byte offset ${at})`);
  }
}

/** Lines of a text file; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function readInputs(file: string): InputRows {
  const lines = splitLines(readUtf8(file));
  if (!file.endsWith(".jsonl")) {
    if (!file.endsWith(".txt")) throw new Error(`${file}: input must be .txt (a text a line) or .jsonl`);
    return { kind: "text", inputs: lines };
  }
  const texts: EncodeInput[] = [];
  const ids: number[][] = [];
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() === "") throw new Error(`${where}: empty line (each line must be a JSON object)`);
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: malformed JSON (${(e as Error).message})`);
    }
    if (!o || typeof o !== "object" || Array.isArray(o)) throw new Error(`${where}: expected a JSON object`);
    const r = o as Record<string, unknown>;
    if (r.input_ids !== undefined) {
      if (!Array.isArray(r.input_ids) || !r.input_ids.every((x) => Number.isInteger(x))) throw new Error(`${where}: "input_ids" must be a list of integers`);
      ids.push(r.input_ids as number[]);
    } else {
      if (typeof r.text !== "string") throw new Error(`${where}: needs a string "text" (or "input_ids")`);
      if (r.instruction !== undefined && typeof r.instruction !== "string") throw new Error(`${where}: "instruction" must be a string`);
      texts.push(r.instruction ? [r.instruction as string, r.text] : r.text);
    }
  });
  if (texts.length && ids.length) throw new Error(`${file}: mixes "text" lines and "input_ids" lines; use one kind per file`);
  return ids.length ? { kind: "ids", inputs: ids } : { kind: "text", inputs: texts };
}
