/**
 * File decoding and line splitting shared by all readers.
 * Some evaluation files are not valid UTF-8 (TREC's train_5500.label has a Latin-1
 * no-break space), so decoding tries strict UTF-8 and falls back to Latin-1,
 * reporting which one it used instead of producing U+FFFD silently.
 */
import { readFile } from "node:fs/promises";

export interface TextFile {
  path: string;
  text: string;
  encoding: "utf-8" | "latin1";
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
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    text = new TextDecoder("latin1").decode(buf);
    encoding = "latin1";
  }
  // MRPC starts with a byte-order mark that would otherwise end up in the first header name.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { path, text, encoding };
}

/** Lines without terminators (CRLF or LF); a final newline does not create an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
