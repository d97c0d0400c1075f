/**
 * Training checkpoints: `<output>/checkpoints/checkpoint-<step>/` holding the adapter (PEFT
 * files), the optimizer moments (optimizer.safetensors) and trainer_state.json (step, RNG and
 * data position, the full config and the model's fingerprint). Each checkpoint is written into a
 * temp folder and renamed into place, so a run killed mid-write (SIGKILL included) leaves the
 * previous checkpoint intact and only a hidden temp folder, which the next run removes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { atomicWriteText, writeFolderAtomically } from "../formats/atomic.js";
import { cleanStaleTemps } from "../formats/stale-temps.js";
import { readLoraAdapter, writeLoraAdapterFiles, type LoraAdapter, type LoraToWrite } from "../formats/peft.js";
import { SafetensorsFile } from "../formats/safetensors.js";
import { writeSafetensors, type TensorToWrite } from "../formats/safetensors-write.js";
import type { AdamWState } from "./optim/adamw.js";

export const TRAINER_STATE = "trainer_state.json";
const OPTIMIZER_FILE = "optimizer.safetensors";
const CHECKPOINT_RE = /^checkpoint-(\d+)$/;

export interface TrainerState {
  /** 2: with `files`; 1 (older): without checksums. */
  format: 1 | 2;
  objective: string;
  /** Optimizer steps completed. */
  step: number;
  /** Every option of the run, as recorded at its start (resume compares them). */
  config: Record<string, unknown>;
  /** Identifies the base model (config and sampled weights): resume refuses another model. */
  modelFingerprint: string;
  /** The objective's random state and data position after `step` steps. */
  rng: Record<string, unknown>;
  dataPosition: Record<string, unknown>;
  /** Lines of train_log.jsonl that belong to steps ≤ step (resume truncates the log to them). */
  logLines: number;
  lastLoss: number | null;
  savedAt: string;
  /** sha256 (hex) of every other file of the checkpoint, verified at resume. */
  files?: Record<string, string>;
}

export interface LoadedCheckpoint {
  dir: string;
  state: TrainerState;
  optimizer: AdamWState;
  adapter: LoraAdapter;
}

export function checkpointsDir(output: string): string {
  return path.join(output, "checkpoints");
}

/**
 * Removes what killed checkpoint writes and prunes left behind (`.checkpoint-N.tmp-PID-…`), only
 * those of writers no longer running (cleanStaleTemps checks the pid), and puts back a
 * checkpoint a killed overwrite left only as `.old`.
 */
export function removeStaleCheckpointTemps(output: string): string[] {
  const dir = checkpointsDir(output);
  if (!fs.existsSync(dir)) return [];
  const targets = new Set<string>();
  for (const e of fs.readdirSync(dir)) {
    const m = /^\.(checkpoint-\d+)\.tmp-/.exec(e);
    if (m) targets.add(m[1]!);
  }
  const removed: string[] = [];
  for (const t of targets) removed.push(...cleanStaleTemps(path.join(dir, t)).removed.map((f) => path.basename(f)));
  return removed;
}

export function writeCheckpoint(output: string, adapter: LoraToWrite, optimizer: AdamWState, state: TrainerState, keep: number): string {
  const dir = path.join(checkpointsDir(output), `checkpoint-${state.step}`);
  const moments: Record<string, TensorToWrite> = {};
  for (const [name, m] of optimizer.expAvg) moments[`exp_avg.${name}`] = { dtype: "f32", shape: [m.length], data: m };
  for (const [name, v] of optimizer.expAvgSq) moments[`exp_avg_sq.${name}`] = { dtype: "f32", shape: [v.length], data: v };
  writeFolderAtomically(dir, true, (tmp) => {
    writeLoraAdapterFiles(tmp, adapter);
    writeSafetensors(path.join(tmp, OPTIMIZER_FILE), moments, { format: "pt", step: String(optimizer.step) });
    // Checksums of the files as written, so a resume detects any later change to them.
    const files = Object.fromEntries(fs.readdirSync(tmp).sort().map((f) => [f, sha256File(path.join(tmp, f))]));
    // The state file last: a folder with it is a complete checkpoint.
    atomicWriteText(path.join(tmp, TRAINER_STATE), JSON.stringify({ ...state, format: 2, files }, null, 2) + "\n");
  });
  pruneCheckpoints(output, keep);
  return dir;
}

/** Complete checkpoints of a run, oldest first. */
export function listCheckpoints(output: string): { step: number; dir: string }[] {
  const dir = checkpointsDir(output);
  if (!fs.existsSync(dir)) return [];
  const out: { step: number; dir: string }[] = [];
  for (const e of fs.readdirSync(dir)) {
    const m = CHECKPOINT_RE.exec(e);
    if (m && fs.existsSync(path.join(dir, e, TRAINER_STATE))) out.push({ step: Number(m[1]), dir: path.join(dir, e) });
  }
  return out.sort((a, b) => a.step - b.step);
}

function pruneCheckpoints(output: string, keep: number): void {
  if (keep <= 0) return;
  const all = listCheckpoints(output);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) {
    // Renamed away first: a deletion killed halfway must not leave a folder that still looks
    // like a complete checkpoint (its state file present, its optimizer file gone).
    const doomed = path.join(path.dirname(c.dir), `.${path.basename(c.dir)}.tmp-${process.pid}-deleting`);
    fs.renameSync(c.dir, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  }
}

/**
 * Refuses a fresh run (no resume) into a folder holding an earlier run's checkpoints: the new
 * run's checkpoints would be pruned among the old ones, and a later resume would mix the runs.
 */
export function refuseEarlierCheckpoints(output: string): void {
  const all = listCheckpoints(output);
  if (all.length) throw new Error(`${output}: holds checkpoints of an earlier run (up to ${path.basename(all.at(-1)!.dir)}); pass --resume ${output} to continue it, or --overwrite to start over`);
}

/** Removes a run's checkpoints/ folder (renamed away first, so a killed removal leaves no half checkpoint under its name). */
export function removeCheckpoints(output: string): void {
  const dir = checkpointsDir(output);
  if (!fs.existsSync(dir)) return;
  const doomed = path.join(output, `.checkpoints.tmp-${process.pid}-deleting`);
  fs.renameSync(dir, doomed);
  fs.rmSync(doomed, { recursive: true, force: true });
}

/** `dir` is a checkpoint folder, or a run's output folder (its latest checkpoint). */
export function resolveCheckpoint(dir: string): string {
  if (fs.existsSync(path.join(dir, TRAINER_STATE))) return dir;
  const all = listCheckpoints(dir);
  if (all.length === 0) throw new Error(`--resume ${dir}: no checkpoint there (expected ${TRAINER_STATE} or checkpoints/checkpoint-N/)`);
  return all[all.length - 1]!.dir;
}

export function readCheckpoint(dir: string): LoadedCheckpoint {
  const stateFile = path.join(dir, TRAINER_STATE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(stateFile, "utf8"));
  } catch (e) {
    throw new Error(`${stateFile}: cannot read trainer state: ${(e as Error).message}`);
  }
  const state = validateTrainerState(raw, stateFile);
  for (const [f, sum] of Object.entries(state.files ?? {})) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) throw new Error(`${file}: missing from the checkpoint (${TRAINER_STATE} lists it)`);
    if (sha256File(file) !== sum) throw new Error(`${file}: changed since the checkpoint was written (its sha256 differs from the one in ${TRAINER_STATE}); resume from another checkpoint`);
  }
  const st = SafetensorsFile.open(path.join(dir, OPTIMIZER_FILE));
  try {
    const expAvg = new Map<string, Float32Array>();
    const expAvgSq = new Map<string, Float32Array>();
    for (const name of st.names()) {
      const t = st.read(name);
      if (t.dtype !== "f32") throw new Error(`${dir}/${OPTIMIZER_FILE}: tensor "${name}" is ${t.dtype}, expected F32`);
      if (name.startsWith("exp_avg_sq.")) expAvgSq.set(name.slice("exp_avg_sq.".length), t.data as Float32Array);
      else if (name.startsWith("exp_avg.")) expAvg.set(name.slice("exp_avg.".length), t.data as Float32Array);
      else throw new Error(`${dir}/${OPTIMIZER_FILE}: unexpected tensor "${name}"`);
    }
    const step = Number(st.metadata?.step ?? state.step);
    if (!Number.isInteger(step) || step < 0) throw new Error(`${dir}/${OPTIMIZER_FILE}: metadata "step" must be a non-negative integer, got ${JSON.stringify(st.metadata?.step)}`);
    return { dir, state, optimizer: { step, expAvg, expAvgSq }, adapter: readLoraAdapter(dir) };
  } finally {
    st.close();
  }
}

function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks every field of a parsed trainer_state.json, naming the file and field of the first bad one. */
export function validateTrainerState(raw: unknown, file: string): TrainerState {
  if (!isObject(raw)) throw new Error(`${file}: not a JSON object`);
  const bad = (field: string, want: string) => new Error(`${file}: field "${field}" must be ${want}, got ${JSON.stringify(raw[field]) ?? "nothing"}`);
  if (raw.format !== 1 && raw.format !== 2) throw bad("format", "1 or 2 (a trainer state of this version)");
  if (typeof raw.objective !== "string") throw bad("objective", "a string");
  if (!isObject(raw.config)) throw bad("config", "an object");
  const maxSteps = raw.config.maxSteps;
  const top = Number.isInteger(maxSteps) && (maxSteps as number) >= 0 ? (maxSteps as number) : Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(raw.step) || (raw.step as number) < 0 || (raw.step as number) > top)
    throw bad("step", top === Number.MAX_SAFE_INTEGER ? "a non-negative integer" : `an integer from 0 to the run's ${top} steps`);
  if (typeof raw.modelFingerprint !== "string") throw bad("modelFingerprint", "a string");
  if (!isObject(raw.rng)) throw bad("rng", "an object");
  if (!isObject(raw.dataPosition)) throw bad("dataPosition", "an object");
  if (!Number.isInteger(raw.logLines) || (raw.logLines as number) < 0) throw bad("logLines", "a non-negative integer");
  if (raw.lastLoss !== null && typeof raw.lastLoss !== "number") throw bad("lastLoss", "a number or null");
  if (raw.format === 2) {
    const files = raw.files;
    const listed = isObject(files) && Object.values(files).every((v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v));
    if (!listed || [OPTIMIZER_FILE, "adapter_model.safetensors", "adapter_config.json"].some((f) => !(f in files)) || Object.keys(files).some((f) => !/^[^/\\]+$/.test(f) || f === "." || f === ".." || f === TRAINER_STATE))
      throw bad("files", `the sha256 of ${OPTIMIZER_FILE}, adapter_model.safetensors and adapter_config.json`);
  }
  return raw as unknown as TrainerState;
}

/** Options that may change between a run and its resumption (they do not change the result). */
const MAY_DIFFER = new Set(["output", "resume", "overwrite", "saveSteps", "saveTotalLimit", "progress", "logEvery"]);

/** Names every recorded option whose value differs: resuming with other settings would not continue the same run. */
export function configDifferences(saved: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(saved), ...Object.keys(now)]);
  const diffs: string[] = [];
  for (const k of keys) {
    if (MAY_DIFFER.has(k)) continue;
    const a = JSON.stringify(saved[k] ?? null);
    const b = JSON.stringify(now[k] ?? null);
    if (a !== b) diffs.push(`${k}: checkpoint ${a}, now ${b}`);
  }
  return diffs;
}
