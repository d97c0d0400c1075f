/**
 * Full validation of a parsed task file against spec.ts's schema, with messages naming the file,
 * the task, the split and the field. Every field the runners read is checked, because a wrong
 * value did not fail: a typo in `holdout.part` evaluated the training part, `n_experiments: 0`
 * gave a null score with exit 0, an empty task list ran nothing and succeeded. The schema gives
 * the field checks; this file adds what a schema cannot say well: which source format a split
 * names, the fields that format needs, unique task names and splits that refer to defined ones.
 */
import type { TObject } from "@sinclair/typebox";
import { fieldError } from "../../train/option-schema.js";
import { SOURCE_SCHEMAS, TASK_TYPES, TaskFileSchema, TaskSchema, SplitSchema, type TaskFile, type TaskSpec } from "./spec.js";

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const SOURCES = new Map<string, TObject>(SOURCE_SCHEMAS.map((s) => [s.properties.format.const, s]));

/** The first problem of one split's source, as "field detail". */
function sourceError(src: Record<string, unknown>): string | undefined {
  const schema = SOURCES.get(src.format as string);
  if (!schema) return `source.format must be one of ${[...SOURCES.keys()].join(", ")}, got ${JSON.stringify(src.format)}`;
  const needs = (schema.required ?? []).filter((f) => f !== "format");
  const missing = needs.find((f) => typeof src[f] !== "string" || src[f] === "");
  if (missing !== undefined) return `source.${missing} is missing (format "${src.format}" needs ${needs.map((x) => `"${x}"`).join(", ")})`;
  return fieldError(schema, src, "source.");
}

function splitError(s: unknown): string | undefined {
  if (!isRecord(s) || !isRecord(s.source)) return 'source is missing (a split needs a "source" with a "format")';
  return sourceError(s.source) ?? fieldError(SplitSchema, s, "", ["source"]);
}

export function validateTaskFile(raw: unknown, source = "task file"): TaskFile {
  if (!isRecord(raw) || !Array.isArray(raw.tasks)) throw new Error(`${source}: expected an object with a "tasks" array`);
  if (raw.tasks.length === 0) throw new Error(`${source}: "tasks" is empty: nothing to evaluate`);
  const top = fieldError(TaskFileSchema, raw, "", ["tasks"]);
  if (top !== undefined) throw new Error(`${source}: ${top}`);
  const names = new Set<string>();
  for (const [i, t] of (raw.tasks as unknown[]).entries()) {
    const where = `${source}: task #${i + 1}${isRecord(t) && typeof t.name === "string" ? ` (${t.name})` : ""}`;
    if (!isRecord(t)) throw new Error(`${where}: not an object`);
    if (typeof t.name !== "string" || t.name === "") throw new Error(`${where}: missing "name"`);
    if (names.has(t.name)) throw new Error(`${where}: duplicate task name`);
    names.add(t.name);
    if (!TASK_TYPES.includes(t.type as TaskSpec["type"])) throw new Error(`${where}: "type" must be one of ${TASK_TYPES.join(", ")}`);
    if (!isRecord(t.splits)) throw new Error(`${where}: missing "splits"`);
    checkSplitName(t.splits, t.eval_split, "eval_split", where);
    if (t.type === "Classification" || t.type === "WordProbe") checkSplitName(t.splits, t.train_split, "train_split", where);
    for (const [name, s] of Object.entries(t.splits)) {
      const e = splitError(s);
      if (e !== undefined) throw new Error(`${where}: split "${name}" ${e}`);
    }
    const e = fieldError(TaskSchema, t, "", ["splits"]);
    if (e !== undefined) throw new Error(`${where}: ${e}`);
    const label = isRecord(t.params) ? t.params.label : undefined;
    if (t.type === "WordProbe" && !["pos", "chunk", "ner"].includes(label as string)) throw new Error(`${where}: WordProbe needs params.label = pos | chunk | ner`);
  }
  return raw as TaskFile;
}

function checkSplitName(splits: Record<string, unknown>, name: unknown, field: string, where: string): void {
  if (typeof name !== "string") throw new Error(`${where}: missing "${field}"`);
  if (!Object.hasOwn(splits, name)) throw new Error(`${where}: ${field} "${name}" is not a defined split (defined: ${Object.keys(splits).join(", ") || "none"})`);
}
