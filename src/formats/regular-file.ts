/**
 * Refuse what is not a regular file before opening it: opening a FIFO for reading blocks until a
 * writer appears (forever, for a weights path), and a directory opens fine on Linux and fails
 * only at the first read with a bare EISDIR.
 */
import * as fs from "node:fs";

function kind(st: fs.Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Throws `${label}: <file> is a directory, not a regular file` and the like; follows symlinks. */
export function requireRegularFile(file: string, label: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${label}: ${code === "ENOENT" ? `${file} does not exist` : `cannot stat ${file}: ${(e as Error).message}`}`);
  }
  if (!st.isFile()) throw new Error(`${label}: ${file} is ${kind(st)}, not a regular file`);
}
