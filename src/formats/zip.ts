/**
 * A read-only zip archive index: the central directory (zip64 included, which torch writes past
 * 4 GB), and each entry's data located through its local header so stored (uncompressed)
 * entries can be read in place with `fs.readSync`, never loading the archive. Deflated entries
 * are inflated with node:zlib; encrypted entries and other methods are refused.
 */
import { readFully } from "./safetensors.js";
import * as zlib from "node:zlib";

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute file offset of the entry's (possibly compressed) data. */
  dataOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** The EOCD record is 22 bytes plus a comment of at most 65535. */
const EOCD_SEARCH = 22 + 0xffff;

/** Read exactly `n` bytes at `position` into a fresh array. */
function readAt(fd: number, position: number, n: number, where: string): Uint8Array {
  const out = new Uint8Array(n);
  readFully(fd, out, position, where);
  return out;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function safe(v: bigint, what: string, file: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${file}: zip ${what} ${v} is too large`);
  return Number(v);
}

export class ZipIndex {
  private constructor(
    readonly path: string,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Read the central directory of the open archive `fd` (of `fileSize` bytes). */
  static read(fd: number, fileSize: number, file: string): ZipIndex {
    const tailLen = Math.min(fileSize, EOCD_SEARCH);
    const tail = readAt(fd, fileSize - tailLen, tailLen, file);
    const t = dv(tail);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (t.getUint32(i, true) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${file}: no zip end-of-central-directory record (the file is truncated, or not a zip archive)`);
    let count = t.getUint16(eocd + 10, true);
    let cdSize = t.getUint32(eocd + 12, true);
    let cdOffset = t.getUint32(eocd + 16, true);
    const eocdAbs = fileSize - tailLen + eocd;
    // Zip64: a locator sits right before the EOCD and points at the zip64 EOCD record.
    if (eocdAbs >= 20) {
      const loc = readAt(fd, eocdAbs - 20, 20, file);
      if (dv(loc).getUint32(0, true) === ZIP64_LOCATOR_SIG) {
        const recOffset = safe(dv(loc).getBigUint64(8, true), "zip64 record offset", file);
        const rec = dv(readAt(fd, recOffset, 56, file));
        if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new Error(`${file}: zip64 end-of-central-directory record missing at byte ${recOffset}`);
        count = safe(rec.getBigUint64(32, true), "entry count", file);
        cdSize = safe(rec.getBigUint64(40, true), "central directory size", file);
        cdOffset = safe(rec.getBigUint64(48, true), "central directory offset", file);
      }
    }
    if (cdOffset + cdSize > eocdAbs) {
      throw new Error(`${file}: zip central directory (bytes ${cdOffset}..${cdOffset + cdSize}) runs past its end record at byte ${eocdAbs} (truncated or corrupt)`);
    }
    const cd = readAt(fd, cdOffset, cdSize, file);
    const c = dv(cd);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || c.getUint32(p, true) !== CENTRAL_SIG) throw new Error(`${file}: zip central directory entry ${i} is corrupt`);
      const flags = c.getUint16(p + 8, true);
      const method = c.getUint16(p + 10, true);
      let compressedSize = c.getUint32(p + 20, true);
      let size = c.getUint32(p + 24, true);
      const nameLen = c.getUint16(p + 28, true);
      const extraLen = c.getUint16(p + 30, true);
      const commentLen = c.getUint16(p + 32, true);
      let localOffset = c.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cdSize) throw new Error(`${file}: zip central directory entry ${i} is corrupt`);
      const name = new TextDecoder("utf-8").decode(cd.subarray(p + 46, p + 46 + nameLen));
      // The zip64 extra field (id 1) holds, in this order, only the fields that overflowed.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = c.getUint16(e, true);
        const len = c.getUint16(e + 2, true);
        if (id === 1) {
          let q = e + 4;
          const next = (what: string) => {
            if (q + 8 > e + 4 + len) throw new Error(`${file}: zip64 extra field of "${name}" is too short`);
            const v = safe(c.getBigUint64(q, true), what, file);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next("entry size");
          if (compressedSize === 0xffffffff) compressedSize = next("compressed size");
          if (localOffset === 0xffffffff) localOffset = next("local header offset");
        }
        e += 4 + len;
      }
      p = extraEnd + commentLen;
      if (flags & 1) throw new Error(`${file}: zip entry "${name}" is encrypted`);
      const local = dv(readAt(fd, localOffset, 30, file));
      if (local.getUint32(0, true) !== LOCAL_SIG) throw new Error(`${file}: zip entry "${name}": no local header at byte ${localOffset}`);
      const dataOffset = localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
      if (dataOffset + compressedSize > fileSize) {
        throw new Error(`${file}: truncated: zip entry "${name}" ends at byte ${dataOffset + compressedSize} but the file has ${fileSize} bytes`);
      }
      entries.set(name, { name, method, compressedSize, size, dataOffset });
    }
    return new ZipIndex(file, entries);
  }

  /** Read part of an entry's uncompressed bytes: [start, start + length). */
  readEntry(fd: number, entry: ZipEntry, start = 0, length = entry.size): Uint8Array {
    const where = `${this.path}: zip entry "${entry.name}"`;
    if (start < 0 || start + length > entry.size) throw new Error(`${where}: bytes ${start}..${start + length} are outside its ${entry.size} bytes`);
    if (entry.method === 0) return readAt(fd, entry.dataOffset + start, length, where);
    if (entry.method !== 8) throw new Error(`${where}: compression method ${entry.method} is not supported (only stored and deflated)`);
    let out: Buffer;
    try {
      out = zlib.inflateRawSync(readAt(fd, entry.dataOffset, entry.compressedSize, where));
    } catch (e) {
      throw new Error(`${where}: cannot inflate: ${(e as Error).message}`);
    }
    if (out.length !== entry.size) throw new Error(`${where}: inflated to ${out.length} bytes, the directory says ${entry.size}`);
    return new Uint8Array(out.buffer, out.byteOffset + start, length);
  }
}
