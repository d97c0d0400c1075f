/**
 * An exclusive lock on an output folder, so two runs never write the same folder: the file
 * `<dir>/.llm2vec.lock` holds the owner's pid, host, start time and a random token. It is created
 * complete and atomically (written under a temp name, then hard-linked to the lock name, which
 * fails if a lock exists), so a reader never sees a half-written lock. A lock whose owner is on
 * this host and no longer running (a killed run) is stale and taken over: renamed aside, checked
 * to be the very lock judged stale (the token), and removed. A lock from another host, or one
 * that cannot be read, is never taken over: the error names the file to delete by hand.
 * Released when the run ends, and on process exit.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cleanStaleTemps, pidAlive } from "./stale-temps.js";

export const LOCK_FILE = ".llm2vec.lock";

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  token: string;
  purpose: string;
}

export interface FolderLock {
  readonly file: string;
  release(): void;
}

/** Takes the lock of folder `dir` (which must exist) for `purpose` (e.g. "train mntp"), or throws naming the holder. */
export function lockFolder(dir: string, purpose: string): FolderLock {
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: randomBytes(12).toString("hex"), purpose };
  const text = JSON.stringify(info) + "\n";
  cleanStaleTemps(file);
  // A few rounds: each either takes the lock, finds a live holder (error), or clears a stale one.
  for (let round = 0; round < 8; round++) {
    if (createExclusive(file, text)) return holding(file, info.token);
    let seen: string;
    try {
      seen = fs.readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // released meanwhile
      throw new Error(`${dir}: cannot read the lock file ${file}: ${(e as Error).message}`);
    }
    const held = parseLock(seen);
    if (!held) throw new Error(`${dir}: the lock file ${file} is unreadable; if no run is using this folder, delete it`);
    if (held.host !== os.hostname() || pidAlive(held.pid)) {
      const where = held.host === os.hostname() ? `pid ${held.pid}` : `pid ${held.pid} on host ${held.host}`;
      throw new Error(`${dir}: in use by another run (${held.purpose}, ${where}, started ${held.startedAt}; lock file ${file}); wait for it or choose another output folder (delete the lock file only if that run is gone)`);
    }
    takeOverStale(file, seen);
  }
  throw new Error(`${dir}: could not take the lock ${file}: other processes keep taking it`);
}

function createExclusive(file: string, text: string): boolean {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  fs.writeFileSync(tmp, text, { flag: "wx" });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new Error(`cannot create the lock file ${file}: ${(e as Error).message}`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const o = JSON.parse(text) as LockInfo;
    if (Number.isInteger(o.pid) && typeof o.host === "string" && typeof o.token === "string") return { ...o, purpose: String(o.purpose ?? "a run"), startedAt: String(o.startedAt ?? "?") };
  } catch {
    // falls through
  }
  return null;
}

/** Moves a lock judged stale aside; if another process replaced it in between, puts that one back. */
function takeOverStale(file: string, seen: string): void {
  const aside = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-stale`);
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (fs.readFileSync(aside, "utf8") !== seen) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process created a lock meanwhile: it holds the folder.
    }
  }
  fs.rmSync(aside, { force: true });
}

function holding(file: string, token: string): FolderLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off("exit", release);
    try {
      // Only our own lock: never remove one a later run took over.
      if (parseLock(fs.readFileSync(file, "utf8"))?.token === token) fs.rmSync(file, { force: true });
    } catch {
      // Gone already.
    }
  };
  process.on("exit", release);
  return { file, release };
}
