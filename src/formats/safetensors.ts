/**
 * Strict safetensors reader and atomic writer.
 *
 * The reader follows the rules of huggingface/safetensors `tensor.rs` (see
 * ../shared/docs/safetensors-and-peft-format.md): a little-endian u64 header length capped at
 * 100 MB, a JSON header that starts with `{`, tensors that tile the byte buffer exactly (no
 * holes, no overlaps, nothing left over) and byte sizes equal to prod(shape) · element size.
 * Every error names the file and, where there is one, the tensor.
 *
 * The file is opened once and its header validated against the real file size before anything
 * large is touched. Tensors then come, by default, as zero-copy views over the whole file mapped
 * into memory by the native addon (file-map.ts): loading costs no read and no copy, 16-bit weights
 * stay 16-bit, and every process or worker mapping the same file shares its pages. A tensor whose
 * offset is not a multiple of its element size (safetensors does not align) is copied out of the
 * mapping alone. Without a mapping (no addon, `{ map: false }`, a big-endian host) tensor bytes are
 * read on demand with `fs.readSync` straight into a fresh typed array: the reference path.
 *
 * The mapping is copy-on-write: writing into a view changes this process's copy of that page only,
 * never the file nor another process's view. It stays valid after `close()` and is unmapped when the
 * last view is collected; a file truncated in place while mapped faults on access (atomic writers,
 * which rename a new file over the old, are safe).
 */
import * as fs from "node:fs";
import type { DType, Storage } from "../tensor/dtype.js";
import { readLfsPointerPrefix, lfsPointerError } from "./lfs.js";
import { scanJson } from "./json-scan.js";
import { requireRegularFile } from "./regular-file.js";
import { mapWholeFile } from "./file-map.js";

/** `MAX_HEADER_SIZE` in safetensors' tensor.rs. */
export const MAX_HEADER_SIZE = 100_000_000;

/** Every dtype string the format defines, with its size in bits (`Dtype::bitsize`). */
export const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

/** The on-disk dtypes we can turn into storage dtypes. */
const TO_STORAGE: Readonly<Record<string, DType>> = { F32: "f32", BF16: "bf16", F16: "f16" };
export const FROM_STORAGE: Readonly<Record<DType, string>> = { f32: "F32", bf16: "BF16", f16: "F16" };

/** A safetensors dtype string (e.g. "BF16", "I64"). */
export type SafetensorsDType = string;

export interface TensorInfo {
  /** The on-disk dtype string, e.g. "BF16". */
  dtype: SafetensorsDType;
  shape: number[];
}

export interface LoadedTensor {
  dtype: DType;
  shape: number[];
  data: Storage;
}

interface Entry extends TensorInfo {
  /** Absolute file offsets [begin, end). */
  begin: number;
  end: number;
}

/** Product of a shape; [] is a scalar (1 element). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isU64(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/**
 * A safetensors header is an object of tensor entries (objects) holding arrays of integers, or
 * `__metadata__` (an object of strings): three levels. Anything deeper is invalid, so the scan
 * can stop at the first bracket past it instead of letting JSON.parse build the whole tree.
 */
const HEADER_MAX_DEPTH = 3;

/**
 * Bytes per read/write call: fs.readSync/writeSync refuse a length of 2 GiB or more, and one
 * tensor can be larger (Llama-3-8B's F32 embedding table is 2.1 GB).
 */
export const IO_CHUNK = 1 << 30;

/** Read exactly `length` bytes at `position` into `target`, looping over short reads. */
export function readFully(fd: number, target: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < target.length) {
    const n = fs.readSync(fd, target, done, Math.min(IO_CHUNK, target.length - done), position + done);
    if (n === 0) throw new Error(`${file}: unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

export interface SafetensorsOpenOptions {
  /** Serve tensors as views over the file mapped into memory when the addon can (default true). */
  map?: boolean;
}

export class SafetensorsFile {
  readonly path: string;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  private fd: number | null;
  private readonly entries: Map<string, Entry>;
  /** The whole file mapped (null: read instead; undefined: not tried yet). */
  private mapping: ArrayBuffer | null | undefined;

  private constructor(file: string, fd: number, entries: Map<string, Entry>, metadata: Record<string, string>, private readonly fileSize: number, map: boolean) {
    this.path = file;
    this.fd = fd;
    this.entries = entries;
    this.metadata = metadata;
    this.mapping = map && LITTLE_ENDIAN ? undefined : null;
  }

  /** Open and validate a file. The descriptor stays open until `close()`. */
  static open(file: string, opts: SafetensorsOpenOptions = {}): SafetensorsFile {
    requireRegularFile(file, "cannot open safetensors file");
    let fd: number;
    try {
      fd = fs.openSync(file, "r");
    } catch (e) {
      throw new Error(`${file}: cannot open safetensors file: ${(e as Error).message}`);
    }
    try {
      const { entries, metadata, fileSize } = parseHeader(fd, file);
      return new SafetensorsFile(file, fd, entries, metadata, fileSize, opts.map ?? true);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Tensor names, in the header's order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape] };
  }

  /**
   * One tensor (F32/BF16/F16 only) as an aligned typed array: a view over the mapped file, or a
   * fresh array when the file is not mapped or the tensor's offset is misaligned for its dtype.
   */
  read(name: string): LoadedTensor {
    const e = this.entry(name);
    const dtype = loadableDtype(e.dtype, this.path, name);
    if (this.fd === null) throw new Error(`${this.path}: file is closed (reading "${name}")`);
    const n = numel(e.shape);
    const mapped = n > 0 ? this.mapped() : null;
    if (mapped) {
      const w = dtype === "f32" ? 4 : 2;
      if (e.begin % w === 0) return { dtype, shape: [...e.shape], data: dtype === "f32" ? new Float32Array(mapped, e.begin, n) : new Uint16Array(mapped, e.begin, n) };
    }
    const data = allocStorage(dtype, n);
    const bytes = new Uint8Array(data.buffer, 0, e.end - e.begin);
    if (mapped) bytes.set(new Uint8Array(mapped, e.begin, e.end - e.begin));
    else readFully(this.fd, bytes, e.begin, `${this.path} (tensor "${name}")`);
    fromLittleEndian(data);
    return { dtype, shape: [...e.shape], data };
  }

  /** Whether tensors come as views over the mapped file (maps it on first call). */
  isMapped(): boolean {
    return this.mapped() !== null;
  }

  private mapped(): ArrayBuffer | null {
    if (this.mapping !== undefined) return this.mapping;
    // A file that changed size since its header was checked is read instead, so that the read
    // refuses it naming the file; mapping it would fault past its end.
    const sameSize = this.fd !== null && fs.fstatSync(this.fd).size === this.fileSize;
    return (this.mapping = sameSize ? mapWholeFile(this.fd!, this.fileSize) : null);
  }

  /** Raw little-endian bytes of a tensor of any dtype. */
  readBytes(name: string): Uint8Array {
    const e = this.entry(name);
    if (this.fd === null) throw new Error(`${this.path}: file is closed (reading "${name}")`);
    const out = new Uint8Array(e.end - e.begin);
    readFully(this.fd, out, e.begin, `${this.path} (tensor "${name}")`);
    return out;
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor named "${name}"`);
    return e;
  }
}

/** The storage dtype of a loadable on-disk dtype; the error names the file and tensor. */
export function loadableDtype(dtype: SafetensorsDType, file: string, name: string): DType {
  const d = TO_STORAGE[dtype];
  if (d === undefined) throw new Error(`${file}: tensor "${name}" has dtype ${dtype}, which cannot be loaded (only F32, BF16, F16)`);
  return d;
}

/** A fresh typed array, aligned to its element size whatever file offset its bytes come from. */
export function allocStorage(dtype: DType, n: number): Storage {
  return dtype === "f32" ? new Float32Array(n) : new Uint16Array(n);
}

/** Byte size of `n` elements of an on-disk dtype (whole-byte dtypes). */
export function dtypeBytes(dtype: SafetensorsDType): number {
  const bits = DTYPE_BITS[dtype];
  if (bits === undefined || bits % 8 !== 0) throw new Error(`dtype ${dtype} has no whole-byte element size`);
  return bits / 8;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** File data is little-endian; every platform Node supports in practice is too. Guard anyway. */
export function fromLittleEndian(data: Storage): void {
  if (LITTLE_ENDIAN) return;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
}

function parseHeader(fd: number, file: string): { entries: Map<string, Entry>; metadata: Record<string, string>; fileSize: number } {
  const fileSize = fs.fstatSync(fd).size;
  // An un-fetched LFS file is a small text file; say so instead of "header too large".
  if (readLfsPointerPrefix(fd)) throw lfsPointerError(file);
  if (fileSize < 8) throw new Error(`${file}: truncated safetensors file (${fileSize} bytes, need at least 8)`);
  const lenBuf = new Uint8Array(8);
  readFully(fd, lenBuf, 0, file);
  const n64 = new DataView(lenBuf.buffer).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) {
    throw new Error(`${file}: safetensors header length ${n64} exceeds the maximum ${MAX_HEADER_SIZE}`);
  }
  const n = Number(n64);
  if (8 + n > fileSize) {
    throw new Error(`${file}: safetensors header length ${n} goes beyond the end of the file (${fileSize} bytes)`);
  }
  const headerBytes = new Uint8Array(n);
  readFully(fd, headerBytes, 8, file);
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so the '{' check below refuses it as the
    // reference does (by default TextDecoder drops it silently).
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new Error(`${file}: safetensors header is not valid UTF-8`);
  }
  if (text[0] !== "{") throw new Error(`${file}: safetensors header does not start with '{'${text.charCodeAt(0) === 0xfeff ? " (it starts with a byte-order mark)" : ""}`);
  scanJson(text, HEADER_MAX_DEPTH, `${file}: safetensors header`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: safetensors header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error(`${file}: safetensors header is not a JSON object`);
  }

  const dataStart = 8 + n;
  const metadata: Record<string, string> = {};
  const list: Array<{ name: string; info: TensorInfo; rel: [number, number] }> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new Error(`${file}: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") throw new Error(`${file}: __metadata__ value for "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `${file}: tensor "${name}"`;
    if (typeof raw !== "object" || raw === null) throw new Error(`${where}: entry is not an object`);
    const { dtype, shape, data_offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== "string") throw new Error(`${where}: missing dtype`);
    const bits = DTYPE_BITS[dtype];
    if (bits === undefined) throw new Error(`${where}: unknown dtype "${dtype}"`);
    if (!Array.isArray(shape) || !shape.every(isU64)) throw new Error(`${where}: shape must be a list of non-negative integers`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isU64)) {
      throw new Error(`${where}: data_offsets must be [begin, end] non-negative integers`);
    }
    const [b, e] = data_offsets as [number, number];
    if (e < b) throw new Error(`${where}: data_offsets end ${e} < begin ${b}`);
    const totalBits = numel(shape as number[]) * bits;
    if (!Number.isSafeInteger(totalBits)) throw new Error(`${where}: shape ${JSON.stringify(shape)} is too large`);
    if (totalBits % 8 !== 0) throw new Error(`${where}: shape ${JSON.stringify(shape)} × ${dtype} is not a whole number of bytes`);
    if (e - b !== totalBits / 8) {
      throw new Error(`${where}: ${e - b} bytes in data_offsets but shape ${JSON.stringify(shape)} × ${dtype} needs ${totalBits / 8}`);
    }
    list.push({ name, info: { dtype, shape: shape as number[] }, rel: [b, e] });
  }

  // Sorted by offset, the tensors must tile [0, bufferLength) exactly.
  const sorted = [...list].sort((x, y) => x.rel[0] - y.rel[0] || x.rel[1] - y.rel[1]);
  let cursor = 0;
  for (const t of sorted) {
    if (t.rel[0] < cursor) throw new Error(`${file}: tensor "${t.name}" overlaps the previous tensor (begins at ${t.rel[0]}, previous ends at ${cursor})`);
    if (t.rel[0] > cursor) throw new Error(`${file}: hole in the byte buffer before tensor "${t.name}" (begins at ${t.rel[0]}, previous ends at ${cursor})`);
    cursor = t.rel[1];
  }
  if (dataStart + cursor !== fileSize) {
    const last = sorted.length ? `tensor "${sorted[sorted.length - 1]!.name}"` : "no tensors";
    if (dataStart + cursor > fileSize) {
      throw new Error(`${file}: truncated: data ends at byte ${dataStart + cursor} (${last}) but the file has ${fileSize} bytes`);
    }
    throw new Error(`${file}: ${fileSize - dataStart - cursor} trailing bytes after the last tensor (${last})`);
  }

  const entries = new Map<string, Entry>();
  for (const t of list) {
    entries.set(t.name, { ...t.info, begin: dataStart + t.rel[0], end: dataStart + t.rel[1] });
  }
  return { entries, metadata, fileSize };
}
