/**
 * Full validation of a parsed task file, with messages naming the task and the field. Every
 * field the runners read is checked here, because a wrong value did not fail: a typo in
 * `holdout.part` evaluated the training part, `n_experiments: 0` gave a null score with exit 0,
 * an empty task list ran nothing and succeeded, a source without `path` failed in a reader
 * naming no field.
 */
import type { SourceSpec, SplitSpec, TaskFile, TaskSpec, TaskType } from "./spec.js";

const TYPES: TaskType[] = ["STS", "Retrieval", "Classification", "Clustering", "PairClassification", "WordProbe"];

/** Required string fields of each source format (optional fields are checked below). */
const SOURCE_FIELDS: Record<SourceSpec["format"], string[]> = {
  stsb: ["path"],
  sick: ["path"],
  "senteval-sts": ["input", "gs"],
  "sts-table": ["path", "delimiter", "sentence1", "sentence2", "score"],
  mrpc: ["path"],
  beir: ["corpus", "queries", "qrels"],
  cranfield: ["docs", "queries", "qrels"],
  banking77: ["path"],
  emotion: ["path"],
  trec: ["path"],
  sst2: ["path"],
  "text-table": ["path", "delimiter", "text", "label"],
  conll2003: ["path"],
};

type Fail = (field: string, detail: string) => never;

const isPosInt = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x > 0;
const isInt = (x: unknown) => typeof x === "number" && Number.isInteger(x);

function oneOf(fail: Fail, field: string, v: unknown, allowed: readonly unknown[]): void {
  if (v !== undefined && !allowed.includes(v)) fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${JSON.stringify(v)}`);
}

function checkSource(src: Record<string, unknown>, fail: Fail): void {
  const format = src.format as SourceSpec["format"];
  const fields = SOURCE_FIELDS[format];
  if (!fields) fail("source.format", `must be one of ${Object.keys(SOURCE_FIELDS).join(", ")}, got ${JSON.stringify(src.format)}`);
  for (const f of fields) if (typeof src[f] !== "string" || src[f] === "") fail(`source.${f}`, `is missing (format "${format}" needs ${fields.map((x) => `"${x}"`).join(", ")})`);
  for (const f of ["categories"]) if (src[f] !== undefined && typeof src[f] !== "string") fail(`source.${f}`, "must be a path string");
  if (src.quoting !== undefined && typeof src.quoting !== "boolean") fail("source.quoting", "must be true or false");
  oneOf(fail, "source.unknown_ids", src.unknown_ids, ["error", "warn"]);
  oneOf(fail, "source.granularity", src.granularity, ["coarse", "fine"]);
  if (src.source_doc_grade !== undefined && src.source_doc_grade !== null && typeof src.source_doc_grade !== "number") fail("source.source_doc_grade", "must be a number or null");
}

function checkSplit(s: SplitSpec, fail: Fail): void {
  if (!s || typeof s !== "object" || !s.source || typeof s.source !== "object") fail("source", 'is missing (a split needs a "source" with a "format")');
  checkSource(s.source as unknown as Record<string, unknown>, fail);
  if (s.holdout !== undefined) {
    const h = s.holdout;
    if (!h || typeof h !== "object") fail("holdout", "must be an object { fraction, seed, part }");
    if (!(typeof h.fraction === "number" && h.fraction > 0 && h.fraction < 1)) fail("holdout.fraction", `must be in (0, 1), got ${JSON.stringify(h.fraction)}`);
    if (!isInt(h.seed)) fail("holdout.seed", `must be an integer, got ${JSON.stringify(h.seed)}`);
    if (h.part !== "held_out" && h.part !== "rest") fail("holdout.part", `must be "held_out" or "rest", got ${JSON.stringify(h.part)}`);
  }
  if (s.max_examples !== undefined && !isPosInt(s.max_examples)) fail("max_examples", `must be a positive integer, got ${JSON.stringify(s.max_examples)}`);
  if (s.sample_seed !== undefined && !isInt(s.sample_seed)) fail("sample_seed", `must be an integer, got ${JSON.stringify(s.sample_seed)}`);
}

function checkParams(t: TaskSpec, fail: Fail): void {
  const p = t.params;
  if (p === undefined) return;
  if (!p || typeof p !== "object" || Array.isArray(p)) fail("params", "must be an object");
  for (const k of ["n_experiments", "samples_per_label", "max_iter", "n_runs", "batch_size"] as const)
    if (p[k] !== undefined && !isPosInt(p[k])) fail(`params.${k}`, `must be a positive integer, got ${JSON.stringify(p[k])}`);
  if (p.C !== undefined && !(typeof p.C === "number" && p.C > 0 && Number.isFinite(p.C))) fail("params.C", `must be a positive number, got ${JSON.stringify(p.C)}`);
  if (p.k_values !== undefined && !(Array.isArray(p.k_values) && p.k_values.length > 0 && p.k_values.every(isPosInt)))
    fail("params.k_values", `must be a non-empty list of positive integers, got ${JSON.stringify(p.k_values)}`);
  for (const k of ["use_title", "shift"] as const) if (p[k] !== undefined && typeof p[k] !== "boolean") fail(`params.${k}`, "must be true or false");
  oneOf(fail, "params.label", p.label, ["pos", "chunk", "ner"]);
}

export function validateTaskFile(raw: unknown, source = "task file"): TaskFile {
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as TaskFile).tasks))
    throw new Error(`${source}: expected an object with a "tasks" array`);
  const file = raw as TaskFile;
  if (file.tasks.length === 0) throw new Error(`${source}: "tasks" is empty: nothing to evaluate`);
  const names = new Set<string>();
  for (const [i, t] of file.tasks.entries()) {
    const where = `${source}: task #${i + 1}${t && typeof t.name === "string" ? ` (${t.name})` : ""}`;
    if (typeof t !== "object" || t === null) throw new Error(`${where}: not an object`);
    const fail: Fail = (field, detail) => {
      throw new Error(`${where}: ${field} ${detail}`);
    };
    if (typeof t.name !== "string" || t.name === "") throw new Error(`${where}: missing "name"`);
    if (names.has(t.name)) throw new Error(`${where}: duplicate task name`);
    names.add(t.name);
    if (!TYPES.includes(t.type)) throw new Error(`${where}: "type" must be one of ${TYPES.join(", ")}`);
    if (typeof t.splits !== "object" || t.splits === null) throw new Error(`${where}: missing "splits"`);
    checkSplitName(t, t.eval_split, "eval_split", where);
    if (t.type === "Classification" || t.type === "WordProbe") checkSplitName(t, t.train_split, "train_split", where);
    for (const [name, s] of Object.entries(t.splits))
      checkSplit(s, (field, detail) => {
        throw new Error(`${where}: split "${name}" ${field} ${detail}`);
      });
    if (t.seed !== undefined && !isInt(t.seed)) fail("seed", `must be an integer, got ${JSON.stringify(t.seed)}`);
    if (t.instruction !== undefined && typeof t.instruction !== "string") fail("instruction", "must be a string");
    checkParams(t, fail);
    if (t.type === "WordProbe" && !["pos", "chunk", "ner"].includes(t.params?.label ?? ""))
      throw new Error(`${where}: WordProbe needs params.label = pos | chunk | ner`);
  }
  return file;
}

function checkSplitName(t: TaskSpec, name: string | undefined, field: string, where: string): void {
  if (typeof name !== "string") throw new Error(`${where}: missing "${field}"`);
  if (!(name in t.splits))
    throw new Error(`${where}: ${field} "${name}" is not a defined split (defined: ${Object.keys(t.splits).join(", ") || "none"})`);
}
