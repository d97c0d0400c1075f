/**
 * Task files and the data root. The data root comes from an explicit flag value, else the
 * LLM2VEC_DATA environment variable; there is no default, since no folder is right for
 * every working directory.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { TaskFile, TaskSpec } from "./tasks/spec.js";
import { validateTaskFile } from "./tasks/validate.js";

export const DATA_ENV = "LLM2VEC_DATA";

export function resolveDataRoot(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = flag ?? (env[DATA_ENV] || undefined);
  if (root === undefined) throw new Error(`no data root: pass --data DIR (the folder the task file's paths are relative to) or set ${DATA_ENV}`);
  return resolve(root);
}

export async function loadTaskFile(path: string): Promise<TaskFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot load task file ${path}: ${(e as Error).message}`);
  }
  return validateTaskFile(raw, path);
}

/** Keep tasks whose name is listed (error on unknown names, so typos do not silently run nothing). */
export function selectTasks(tasks: TaskSpec[], names?: string[]): TaskSpec[] {
  if (!names || names.length === 0) return tasks;
  const known = new Set(tasks.map((t) => t.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`unknown task(s): ${unknown.join(", ")} (known: ${[...known].join(", ")})`);
  return tasks.filter((t) => names.includes(t.name));
}
