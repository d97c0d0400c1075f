/**
 * Atomic writes: readers never see a half-written file or folder under its final name, even if
 * the process dies mid-write. Files go through a same-folder temp file + fsync + rename;
 * folders are filled under a temp name next to the target and renamed into place. Leftovers of
 * killed writes are cleaned up by the next write to the same target (stale-temps.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { cleanStaleTemps } from "./stale-temps.js";

/** Bytes per write call: fs.writeSync refuses a length of 2 GiB or more. */
const WRITE_CHUNK = 1 << 30;

/** Write all of `bytes`, in chunks under 2 GiB, looping over short writes. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, Math.min(WRITE_CHUNK, bytes.length - done));
}

/** Write `file` through a same-folder temp file + fsync + rename. */
export function atomicWrite(file: string, write: (fd: number) => void): void {
  const dir = path.dirname(path.resolve(file));
  cleanStaleTemps(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, "w");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot write ${file}: ${code === "ENOENT" ? `folder ${dir} does not exist` : (e as Error).message}`);
  }
  try {
    write(fd);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/** Atomically write a text file (JSON configs etc.). */
export function atomicWriteText(file: string, text: string): void {
  atomicWrite(file, (fd) => writeAll(fd, Buffer.from(text, "utf8")));
}

/**
 * Create folder `output` atomically: `fill(tmpDir)` writes the contents into a temp folder next
 * to it, which is then renamed to `output`. An existing `output` is an error unless
 * `overwrite`, in which case it is moved aside first and removed only after the rename.
 */
export function writeFolderAtomically(output: string, overwrite: boolean, fill: (tmpDir: string) => void): void {
  const out = path.resolve(output);
  // First, put back a folder a killed swap left only as .old, and drop dead writers' temps.
  cleanStaleTemps(out);
  if (fs.existsSync(out) && !overwrite) throw new Error(`${out}: output folder already exists`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // The pid in the name lets a later write tell a dead writer's leftovers from a live one's.
  const tmp = fs.mkdtempSync(path.join(path.dirname(out), `.${path.basename(out)}.tmp-${process.pid}-`));
  try {
    fill(tmp);
    if (fs.existsSync(out)) {
      // The old folder is kept until the new one is in place. Node has no atomic exchange of two
      // folders, so between these renames the target is briefly missing; a crash there leaves
      // the old folder as `.old`, which the next write to the target restores before anything.
      const old = `${tmp}.old`;
      fs.renameSync(out, old);
      try {
        fs.renameSync(tmp, out);
      } catch (e) {
        fs.renameSync(old, out);
        throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, out);
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
