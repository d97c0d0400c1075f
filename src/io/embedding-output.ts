/** Writing embeddings: .jsonl ({"index","embedding"} a line) or .npy (float32 [N, C]), atomically. */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWrite, writeAll } from "../formats/atomic.js";

export function npyBytes(rows: Float32Array[], dim: number): Uint8Array {
  // NPY v1.0: magic, version, u16 header length, a Python dict literal padded so data is 64-aligned.
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${dim}), }`;
  const pre = 10;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, " ") + "\n";
  const out = new Uint8Array(total + rows.length * dim * 4);
  out.set([0x93, ...Buffer.from("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, "latin1"), pre);
  const body = new Float32Array(out.buffer, total, rows.length * dim);
  rows.forEach((r, i) => body.set(r, i * dim));
  return out;
}

/**
 * Checks an output path before hours of encoding (and before loading the model): a known
 * extension, not a directory, an existing folder we can create files in. The last is tried for
 * real (a probe file, removed at once): permission bits say nothing to root or on a read-only
 * mount, and the encoding used to fail only at the final write.
 */
export function checkEmbeddingOutput(file: string): void {
  const ext = path.extname(file);
  if (ext !== ".npy" && ext !== ".jsonl") throw new Error(`${file}: output must be .jsonl or .npy`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`cannot write ${file}: it is a directory`);
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

export function writeEmbeddings(file: string, rows: Float32Array[], dim: number): void {
  const ext = path.extname(file);
  if (ext === ".npy") return atomicWrite(file, (fd) => writeAll(fd, npyBytes(rows, dim)));
  if (ext !== ".jsonl") throw new Error(`${file}: output must be .jsonl or .npy`);
  atomicWrite(file, (fd) => {
    rows.forEach((r, i) => writeAll(fd, Buffer.from(JSON.stringify({ index: i, embedding: Array.from(r) }) + "\n")));
  });
}
