/**
 * File decoding and line splitting shared by all readers.
 * Some evaluation files are not valid UTF-8 (TREC's train_5500.label has a Latin-1
 * no-break space). Decoding the whole file as Latin-1 then garbled every UTF-8 character in it
 * ("café" became "cafÃ©") without a word. Now each valid UTF-8 sequence is decoded as UTF-8 and
 * only the bytes that are not UTF-8 are read as Latin-1 (for TREC, the same text as before), and
 * the file is recorded (`decodingNote`) so that the task's result notes say so.
 */
import { readFile } from "node:fs/promises";
import { firstInvalidUtf8, lineOf } from "../../io/utf8.js";

export interface TextFile {
  path: string;
  text: string;
  /** "utf-8+latin1": some bytes were not UTF-8 and were read as Latin-1 (see `note`). */
  encoding: "utf-8" | "utf-8+latin1";
  note?: string;
}

const notes = new Map<string, string>();

/** The note recorded when `path` was read with non-UTF-8 bytes, if it was. */
export function decodingNote(path: string): string | undefined {
  return notes.get(path);
}

/** UTF-8 where the bytes are UTF-8, Latin-1 for each byte that is not. */
function decodeMixed(buf: Uint8Array): { text: string; bad: number; first: number } {
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const parts: string[] = [];
  let pos = 0,
    bad = 0,
    first = -1;
  while (pos < buf.length) {
    const at = firstInvalidUtf8(buf.subarray(pos));
    if (at < 0) {
      parts.push(utf8.decode(buf.subarray(pos)));
      break;
    }
    parts.push(utf8.decode(buf.subarray(pos, pos + at)), String.fromCharCode(buf[pos + at]!));
    if (first < 0) first = pos + at;
    bad++;
    pos += at + 1;
  }
  return { text: parts.join(""), bad, first };
}

export async function readTextFile(path: string): Promise<TextFile> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === "ENOENT" ? `data file not found: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  let text: string;
  let encoding: TextFile["encoding"] = "utf-8";
  let note: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    const m = decodeMixed(buf);
    text = m.text;
    encoding = "utf-8+latin1";
    note = `${path}: ${m.bad} byte(s) that are not UTF-8 read as Latin-1 (first at byte ${m.first}, line ${lineOf(buf, m.first)})`;
    notes.set(path, note);
  }
  // MRPC starts with a byte-order mark that would otherwise end up in the first header name.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { path, text, encoding, ...(note ? { note } : {}) };
}

/** Lines without terminators (CRLF or LF); a final newline does not create an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
