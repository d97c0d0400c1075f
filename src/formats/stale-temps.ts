/**
 * Leftovers of killed atomic writes. A write that dies between creating its temp file (or temp
 * folder) and renaming it leaves a hidden `.name.*` entry beside the target, up to the size of
 * what was being written; a folder swap that dies between its two renames leaves the previous
 * folder only as `.name.tmp-PID-XXXXXX.old`. Temp names carry the writer's pid, so the next
 * write to the same target removes the entries of writers that are no longer running (a live
 * writer's, another process writing the same target right now, are left alone) and puts an
 * orphaned `.old` back when the target is missing.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `.base.PID.TIME.tmp` (files) and `.base.tmp-PID-XXXXXX[.old]` (folders) of dead writers. */
function staleEntries(target: string): { file: string; pid: number; old: boolean }[] {
  const dir = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: { file: string; pid: number; old: boolean }[] = [];
  for (const n of names) {
    if (!n.startsWith(`.${base}.`)) continue;
    const rest = n.slice(base.length + 2);
    const m = /^(\d+)\.\d+\.tmp$/.exec(rest) ?? /^tmp-(\d+)-[^.]+(\.old)?$/.exec(rest);
    if (!m) continue;
    const pid = Number(m[1]);
    if (!pidAlive(pid)) out.push({ file: path.join(dir, n), pid, old: m[2] === ".old" });
  }
  return out;
}

/**
 * Cleans up after killed writes to `target`: restores an orphaned `.old` folder when the target
 * is missing (the newest, if several), then removes the other leftovers. Returns what it did.
 */
export function cleanStaleTemps(target: string): { restored: string | null; removed: string[] } {
  const entries = staleEntries(path.resolve(target));
  let restored: string | null = null;
  if (!fs.existsSync(target)) {
    const olds = entries.filter((e) => e.old).sort((a, b) => fs.statSync(b.file).mtimeMs - fs.statSync(a.file).mtimeMs);
    if (olds.length) {
      fs.renameSync(olds[0]!.file, target);
      restored = olds[0]!.file;
    }
  }
  const removed: string[] = [];
  for (const e of entries) {
    if (e.file === restored) continue;
    fs.rmSync(e.file, { recursive: true, force: true });
    removed.push(e.file);
  }
  return { restored, removed };
}
