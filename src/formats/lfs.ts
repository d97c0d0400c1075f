/**
 * Git LFS pointer detection. A checkout made without `git lfs pull` leaves ~130-byte text files
 * ("version https://git-lfs.github.com/spec/v1 …") where the weights should be. Read as
 * safetensors they give a nonsense header length, so we recognise them first and say what
 * actually went wrong.
 */
import * as fs from "node:fs";

const PREFIX = "version https://git-lfs";

/** True when the open file starts with the LFS pointer prefix. */
export function readLfsPointerPrefix(fd: number): boolean {
  const buf = new Uint8Array(PREFIX.length);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  return n === buf.length && Buffer.from(buf).toString("latin1") === PREFIX;
}

/** True when the file at `file` is an LFS pointer (false if it cannot be read). */
export function isLfsPointer(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return false;
  }
  try {
    return readLfsPointerPrefix(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function lfsPointerError(file: string): Error {
  return new Error(`weights not downloaded (Git LFS pointer): ${file}`);
}
