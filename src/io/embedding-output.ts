/**
 * Writing embeddings: .jsonl ({"index","embedding"} a line, with the input's "id" and "metadata" when it had them) or .npy (float32 [N, C]), streamed.
 * Rows are appended to `<output>.partial` as they are computed and the file is renamed to its
 * name only when complete, so a reader never sees a half-written output and an interrupted run
 * keeps what it did. The .npy header has a fixed size and its row count is rewritten after each
 * append, so the partial file is itself a valid .npy of the rows so far (a counting pass over
 * the input could size the header up front, but the partial file would then claim rows it lacks).
 * `<output>.partial.json` records how far the partial file is good and what produced it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText, writeAll } from "../formats/atomic.js";

/** The .npy header's fixed size: magic, version, length and the dict, padded so data is 64-aligned. */
const NPY_HEADER = 128;

export function npyHeader(rows: number, dim: number): Buffer {
  // NPY v1.0: magic, version, u16 header length, a Python dict literal padded with spaces and ended by "\n".
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`.padEnd(NPY_HEADER - 10 - 1, " ") + "\n";
  const out = Buffer.alloc(NPY_HEADER);
  out.set([0x93, ...Buffer.from("NUMPY"), 1, 0]);
  out.writeUInt16LE(dict.length, 8);
  out.write(dict, 10, "latin1");
  return out;
}

export const partialPath = (file: string): string => `${file}.partial`;
export const notePath = (file: string): string => `${file}.partial.json`;

/** What `<output>.partial.json` holds: the good part of the partial file and what produced it. */
export interface PartialNote {
  rows: number;
  /** Bytes of the partial file that hold those rows (anything after is an unfinished append). */
  outputBytes: number;
  dim: number;
  input: string;
  /** Input bytes consumed for those rows, their SHA-256, and the line the next row is on. */
  inputBytes: number;
  inputSha256: string;
  nextLine: number;
  kind: "text" | "ids";
  /** The model, flags and options the rows were computed with. */
  settings: Record<string, unknown>;
}

export function writePartialNote(file: string, note: PartialNote): void {
  atomicWriteText(notePath(file), JSON.stringify(note) + "\n");
}

export function readPartialNote(file: string): PartialNote {
  const p = notePath(file);
  let note: PartialNote;
  try {
    note = JSON.parse(fs.readFileSync(p, "utf8")) as PartialNote;
  } catch (e) {
    throw new Error(`${p}: cannot read the note of the interrupted run (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass --overwrite to start over`);
  }
  const counts = [note?.rows, note?.outputBytes, note?.dim, note?.inputBytes, note?.nextLine];
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0) || typeof note.inputSha256 !== "string" || typeof note.input !== "string" || !note.settings)
    throw new Error(`${p}: not a note of an interrupted encode run; pass --overwrite to start over`);
  return note;
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = fs.statSync(a),
      y = fs.statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export interface OutputCheck {
  /** The input file: the output (or its partial file) must not be it. */
  input?: string;
  overwrite?: boolean;
  resume?: boolean;
}

/**
 * Checks an output path before hours of encoding (and before loading the model): a known
 * extension, not the input, not a directory, not an existing file unless overwriting, no
 * interrupted run's partial file unless resuming or overwriting, an existing folder we can
 * create files in. The last is tried for real (a probe file, removed at once): permission bits
 * say nothing to root or on a read-only mount, and the encoding used to fail only at the end.
 */
export function checkEmbeddingOutput(file: string, o: OutputCheck = {}): void {
  const ext = path.extname(file);
  if (ext !== ".npy" && ext !== ".jsonl") throw new Error(`${file}: output must be .jsonl or .npy`);
  for (const target of [file, partialPath(file)])
    if (o.input !== undefined && sameFile(target, o.input))
      throw new Error(`--output ${file} is the --input file ${o.input} (${target === file ? "the same file" : "its partial file"}): writing it would destroy the input; choose another --output`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`cannot write ${file}: it is a directory${o.overwrite ? " (--overwrite replaces files, not folders)" : ""}`);
  if (fs.existsSync(file) && !o.overwrite) throw new Error(`${file} already exists; pass --overwrite to replace it`);
  const partial = partialPath(file);
  if (fs.existsSync(partial) && !o.resume && !o.overwrite)
    throw new Error(`${partial} holds the rows of an interrupted run; pass --resume to continue it, or --overwrite to start over`);
  if (fs.existsSync(partial) && fs.statSync(partial).isDirectory()) throw new Error(`cannot write ${partial}: it is a directory`);
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new Error(`cannot write ${file}: folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`cannot write ${file}: ${dir} is not a folder`);
  const probe = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.closeSync(fs.openSync(probe, "wx"));
    fs.rmSync(probe, { force: true });
  } catch (e) {
    throw new Error(`cannot write ${file}: folder ${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Appends rows to `<file>.partial`; finish() renames it to `file`. */
export class EmbeddingWriter {
  private constructor(
    readonly file: string,
    readonly dim: number,
    private fd: number,
    /** Rows and bytes written so far. */
    public rows: number,
    public bytes: number,
  ) {}

  get partial(): string {
    return partialPath(this.file);
  }

  private get npy(): boolean {
    return path.extname(this.file) === ".npy";
  }

  /** A new partial file (replacing any). */
  static start(file: string, dim: number): EmbeddingWriter {
    const w = new EmbeddingWriter(file, dim, fs.openSync(partialPath(file), "w"), 0, 0);
    if (w.npy) {
      writeAll(w.fd, npyHeader(0, dim));
      w.bytes = NPY_HEADER;
    }
    return w;
  }

  /** The partial file cut back to the `bytes` that hold `rows` (a note's), to append after. */
  static resume(file: string, dim: number, rows: number, bytes: number): EmbeddingWriter {
    const p = partialPath(file);
    const fd = fs.openSync(p, "r+");
    const w = new EmbeddingWriter(file, dim, fd, rows, bytes);
    const size = fs.fstatSync(fd).size;
    const want = w.npy ? NPY_HEADER + rows * dim * 4 : bytes;
    if (size < bytes || want !== bytes) {
      fs.closeSync(fd);
      throw new Error(`${p}: holds ${size} bytes, not the ${bytes} its note records for ${rows} rows; pass --overwrite to start over`);
    }
    fs.ftruncateSync(fd, bytes);
    if (w.npy) fs.writeSync(fd, npyHeader(rows, dim), 0, NPY_HEADER, 0);
    return w;
  }

  /** Appends rows; a .jsonl row also gets its input's `id` and `metadata` (from `keys`), when it had them. */
  append(vecs: readonly Float32Array[], keys?: readonly { id?: string; metadata?: Record<string, unknown> }[]): void {
    let out: Buffer;
    if (this.npy) {
      out = Buffer.alloc(vecs.length * this.dim * 4);
      const body = new Float32Array(out.buffer, out.byteOffset, vecs.length * this.dim);
      vecs.forEach((v, i) => body.set(v, i * this.dim));
    } else out = Buffer.from(vecs.map((v, i) => JSON.stringify({ index: this.rows + i, id: keys?.[i]?.id, metadata: keys?.[i]?.metadata, embedding: Array.from(v) }) + "\n").join(""));
    let done = 0;
    while (done < out.length) done += fs.writeSync(this.fd, out, done, out.length - done, this.bytes + done);
    this.rows += vecs.length;
    this.bytes += out.length;
    // The header says how many rows the file holds: a valid .npy of the rows so far.
    if (this.npy) fs.writeSync(this.fd, npyHeader(this.rows, this.dim), 0, NPY_HEADER, 0);
    fs.fsyncSync(this.fd);
  }

  /** Complete: the partial file becomes the output and the note goes. */
  finish(): void {
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    fs.renameSync(this.partial, this.file);
    fs.rmSync(notePath(this.file), { force: true });
  }

  /** Stop writing; keep the partial file when it holds rows, else remove it. */
  close(): void {
    fs.closeSync(this.fd);
    if (this.rows === 0) {
      fs.rmSync(this.partial, { force: true });
      fs.rmSync(notePath(this.file), { force: true });
    }
  }
}
