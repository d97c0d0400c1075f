/**
 * Training checkpoints: `<output>/checkpoints/checkpoint-<step>/` holding the adapter (PEFT
 * files), the optimizer moments (optimizer.safetensors) and trainer_state.json (step, RNG and
 * data position, the full config and the model's fingerprint). Each checkpoint is written into a
 * temp folder and renamed into place, so a run killed mid-write (SIGKILL included) leaves the
 * previous checkpoint intact and only a hidden temp folder, which the next run removes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { atomicWriteText, writeFolderAtomically } from "../formats/atomic.js";
import { readLoraAdapter, writeLoraAdapterFiles, type LoraAdapter, type LoraToWrite } from "../formats/peft.js";
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from "../formats/safetensors.js";
import type { AdamWState } from "./optim/adamw.js";

export const TRAINER_STATE = "trainer_state.json";
const OPTIMIZER_FILE = "optimizer.safetensors";
const CHECKPOINT_RE = /^checkpoint-(\d+)$/;

export interface TrainerState {
  format: 1;
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

/** Removes temp folders left by checkpoint writes that were killed. */
export function removeStaleCheckpointTemps(output: string): string[] {
  const dir = checkpointsDir(output);
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const e of fs.readdirSync(dir)) {
    if (/^\.checkpoint-\d+\.tmp-/.test(e)) {
      fs.rmSync(path.join(dir, e), { recursive: true, force: true });
      removed.push(e);
    }
  }
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
    // The state file last: a folder with it is a complete checkpoint.
    atomicWriteText(path.join(tmp, TRAINER_STATE), JSON.stringify(state, null, 2) + "\n");
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
    const doomed = path.join(path.dirname(c.dir), `.${path.basename(c.dir)}.tmp-deleting-${process.pid}`);
    fs.renameSync(c.dir, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  }
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
  let state: TrainerState;
  try {
    state = JSON.parse(fs.readFileSync(stateFile, "utf8")) as TrainerState;
  } catch (e) {
    throw new Error(`${stateFile}: cannot read trainer state: ${(e as Error).message}`);
  }
  if (state.format !== 1 || !Number.isInteger(state.step)) throw new Error(`${stateFile}: not a trainer state of this version`);
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
    return { dir, state, optimizer: { step, expAvg, expAvgSq }, adapter: readLoraAdapter(dir) };
  } finally {
    st.close();
  }
}

/** Options that may change between a run and its resumption (they do not change the result). */
const MAY_DIFFER = new Set(["output", "resume", "saveSteps", "saveTotalLimit", "progress", "logEvery"]);

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
