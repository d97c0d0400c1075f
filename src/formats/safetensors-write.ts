/**
 * Writing safetensors files (the reader is safetensors.ts): tensors sorted as the reference writer
 * sorts them, the header padded to 8 bytes, the file written atomically.
 */
import type { DType, Storage } from "../tensor/dtype.js";
import { atomicWrite, writeAll } from "./atomic.js";
import { DTYPE_BITS, FROM_STORAGE, numel, type SafetensorsDType } from "./safetensors.js";

export interface TensorToWrite {
  /** Storage dtype ("f32" | "bf16" | "f16") or any safetensors dtype string with raw bytes. */
  dtype: DType | SafetensorsDType;
  shape: number[];
  data: Storage | Uint8Array | ArrayBufferView;
}

/** Dtype order of the reference writer (descending `Dtype` enum order, then by name). */
const WRITE_ORDER = ["F64", "I64", "U64", "C64", "F32", "I32", "U32", "F16", "BF16", "I16", "U16"];

/** One tensor of a streamed write: its bytes are asked for only when they are written. */
export interface TensorSpec {
  name: string;
  /** Storage dtype ("f32" | "bf16" | "f16") or any safetensors dtype string. */
  dtype: DType | SafetensorsDType;
  shape: number[];
}

/**
 * Write a safetensors file atomically: a temp file in the same folder, fsync, then rename, so a
 * crash never leaves a half-written file under the final name. The header is padded with
 * spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function writeSafetensors(
  file: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  writeSafetensorsStreaming(file, specs, (name) => {
    const d = tensors[name]!.data;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }, metadata);
}

/**
 * `writeSafetensors` from specs, fetching each tensor's little-endian bytes with `bytesOf` just
 * before writing them, so memory holds one tensor at a time whatever the file's size.
 */
export function writeSafetensorsStreaming(
  file: string,
  specs: readonly TensorSpec[],
  bytesOf: (name: string) => Uint8Array,
  metadata?: Record<string, string>,
): void {
  const items = specs.map((t) => {
    const dtype = (FROM_STORAGE as Record<string, string>)[t.dtype] ?? t.dtype;
    const bits = DTYPE_BITS[dtype];
    if (bits === undefined) throw new Error(`${file}: tensor "${t.name}": unknown dtype "${t.dtype}"`);
    return { name: t.name, dtype, shape: t.shape, size: (numel(t.shape) * bits) / 8 };
  });
  const rank = (d: string) => {
    const i = WRITE_ORDER.indexOf(d);
    return i < 0 ? WRITE_ORDER.length : i;
  };
  items.sort((a, b) => rank(a.dtype) - rank(b.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== "string") throw new Error(`${file}: __metadata__ value for "${k}" must be a string`);
  }
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const it of items) {
    header[it.name] = { dtype: it.dtype, shape: it.shape, data_offsets: [offset, offset + it.size] };
    offset += it.size;
  }
  let headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) headerBytes = Buffer.concat([headerBytes, Buffer.alloc(padded - headerBytes.length, 0x20)]);
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(headerBytes.length));

  atomicWrite(file, (fd) => {
    writeAll(fd, lenBuf);
    writeAll(fd, headerBytes);
    for (const it of items) {
      const bytes = bytesOf(it.name);
      if (bytes.length !== it.size) {
        throw new Error(`${file}: tensor "${it.name}": ${bytes.length} bytes of data but shape ${JSON.stringify(it.shape)} × ${it.dtype} needs ${it.size}`);
      }
      writeAll(fd, bytes);
    }
  });
}
