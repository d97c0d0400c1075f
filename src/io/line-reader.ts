/**
 * Lines of a file, read in fixed-size chunks: memory holds one chunk and the current line, never
 * the file, so a file of any size can be read (decoding a whole file as one string fails past
 * V8's string limit, about 512 MB). Each line is decoded on its own, so bad UTF-8 is reported
 * with its line number and byte offset. A line must still fit in one string: a longer one is
 * refused as soon as it passes the limit, saying so. "\r\n" ends a line like "\n"; a final
 * newline does not make an extra empty line; a byte-order mark at the start of the file is
 * dropped (as a whole-file decode drops it).
 */
import * as fs from "node:fs";
import { constants as bufferConstants } from "node:buffer";
import { firstInvalidUtf8 } from "./utf8.js";

/** The longest line accepted, in bytes: a UTF-8 line of more bytes can decode to more UTF-16 units than a string holds. */
export const MAX_LINE_BYTES = bufferConstants.MAX_STRING_LENGTH;

export interface Line {
  text: string;
  /** 1-based line number in the file. */
  number: number;
  /** Byte offset just after the line and its newline. */
  end: number;
}

export interface ReadLinesOptions {
  /** Start at this byte offset, which begins line `startLine` (resuming). */
  startByte?: number;
  startLine?: number;
  chunkBytes?: number;
  maxLineBytes?: number;
  /** Every byte consumed, in order (the lines with their newlines). */
  onBytes?: (b: Buffer) => void;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function openForReading(file: string): number {
  try {
    return fs.openSync(file, "r");
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function readChunk(file: string, fd: number, buf: Buffer, pos: number): number {
  try {
    return fs.readSync(fd, buf, 0, buf.length, pos);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function* readLines(file: string, opts: ReadLinesOptions = {}): Generator<Line> {
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const fd = openForReading(file);
  const buf = Buffer.allocUnsafe(opts.chunkBytes ?? 1 << 20);
  let pos = opts.startByte ?? 0;
  let lineNo = opts.startLine ?? 1;
  let lineStart = pos;
  let parts: Buffer[] = [];
  let pending = 0;
  const emit = (raw: Buffer, end: number): Line => {
    opts.onBytes?.(raw);
    let body = raw[raw.length - 1] === 0x0a ? raw.subarray(0, raw.length - 1) : raw;
    if (body[body.length - 1] === 0x0d) body = body.subarray(0, body.length - 1);
    if (lineStart === 0 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      const at = firstInvalidUtf8(body);
      throw new Error(`${file}:${lineNo}: not valid UTF-8 (byte offset ${lineStart + (body.byteOffset - raw.byteOffset) + Math.max(at, 0)})`);
    }
    return { text, number: lineNo, end };
  };
  try {
    for (;;) {
      const n = readChunk(file, fd, buf, pos);
      if (n === 0) break;
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, from);
        if (nl < 0 || nl >= n) break;
        const piece = buf.subarray(from, nl + 1);
        if (pending + piece.length - 1 > maxLine) throw tooLong(file, lineNo, maxLine);
        const raw = parts.length ? Buffer.concat([...parts, piece]) : piece;
        const line = emit(raw, pos + nl + 1);
        parts = [];
        pending = 0;
        lineNo++;
        lineStart = pos + nl + 1;
        from = nl + 1;
        yield line;
      }
      if (from < n) {
        // The rest of the chunk starts the next line: copied, since the buffer is reused.
        parts.push(Buffer.from(buf.subarray(from, n)));
        pending += n - from;
        if (pending > maxLine) throw tooLong(file, lineNo, maxLine);
      }
      pos += n;
    }
    if (pending > 0) yield emit(Buffer.concat(parts), pos);
  } finally {
    fs.closeSync(fd);
  }
}

function tooLong(file: string, line: number, max: number): Error {
  return new Error(`${file}:${line}: line longer than ${max} bytes: each line is one text, and one text must fit in a JavaScript string (at most ${MAX_LINE_BYTES} characters)`);
}

/** Lines in a file (as readLines counts them), by counting newlines in chunks. */
export function countLines(file: string, chunkBytes = 1 << 20): number {
  const fd = openForReading(file);
  const buf = Buffer.allocUnsafe(chunkBytes);
  let lines = 0,
    pos = 0,
    last = 0x0a;
  try {
    for (let n; (n = readChunk(file, fd, buf, pos)) > 0; pos += n) {
      for (let at = buf.indexOf(0x0a, 0); at >= 0 && at < n; at = buf.indexOf(0x0a, at + 1)) lines++;
      last = buf[n - 1]!;
    }
  } finally {
    fs.closeSync(fd);
  }
  return last === 0x0a ? lines : lines + 1;
}

/** The first `bytes` bytes of a file, in chunks, to `onBytes`. */
export function readPrefix(file: string, bytes: number, onBytes: (b: Buffer) => void, chunkBytes = 1 << 20): void {
  const fd = openForReading(file);
  const buf = Buffer.allocUnsafe(chunkBytes);
  try {
    for (let pos = 0, n; pos < bytes && (n = readChunk(file, fd, buf, pos)) > 0; pos += n) onBytes(buf.subarray(0, Math.min(n, bytes - pos)));
  } finally {
    fs.closeSync(fd);
  }
}
